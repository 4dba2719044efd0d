// POST /v1/chat/completions/render and /v1/completions/render: vLLM's render routes, which gateways such as llm-d
// call to learn a request's prompt token ids (chat template applied, tools included) without generating; the answer
// is vLLM's GenerateRequest shape: request_id, token_ids, sampling_params, model.
import { randomUUID } from "node:crypto";
import { Hono } from "hono";
import type { SamplingParams } from "../../sampling-params.js";
import type { Routing } from "../../routing/routing.js";
import { readJson } from "../body.js";
import { promptsOf, toChatInput } from "./prompts.js";
import { toSamplingParams } from "./sampling.js";
import { ChatCompletionRequest, CompletionRequest } from "./schemas.js";

function wireSamplingParams(p: SamplingParams) {
  return {
    n: p.n,
    temperature: p.temperature,
    top_p: p.topP,
    top_k: p.topK,
    min_p: p.minP,
    seed: p.seed ?? null,
    presence_penalty: p.presencePenalty,
    frequency_penalty: p.frequencyPenalty,
    repetition_penalty: p.repetitionPenalty,
    max_tokens: Number.isFinite(p.maxTokens) ? p.maxTokens : null,
    stop: p.stop,
    stop_token_ids: p.stopTokenIds,
    ignore_eos: p.ignoreEos,
  };
}

/** A route renders as its primary target does, as the tokenizer routes do. */
export function renderRoutes(routing: Routing): Hono {
  return new Hono()
    .post("/v1/chat/completions/render", async (c) => {
      const body = await readJson(c, ChatCompletionRequest);
      const { serving } = routing.primary(body.model);
      const rendered = serving.renderChat(toChatInput(body));
      const params = toSamplingParams(body, serving, {
        maxTokens: body.max_completion_tokens ?? body.max_tokens,
        logprobs: null,
      });
      return c.json({
        request_id: `chatcmpl-${randomUUID()}`,
        token_ids: [...rendered.promptTokens],
        sampling_params: { ...wireSamplingParams(params), stop: [...params.stop, ...rendered.stops] },
        model: body.model,
        stream: false,
      });
    })
    .post("/v1/completions/render", async (c) => {
      const body = await readJson(c, CompletionRequest);
      const { serving } = routing.primary(body.model);
      const params = wireSamplingParams(
        toSamplingParams(body, serving, { maxTokens: body.max_tokens ?? 16, logprobs: null }),
      );
      const id = `cmpl-${randomUUID()}`;
      return c.json(
        promptsOf(body.prompt, serving).map((tokens, k) => {
          serving.checkPrompt(tokens, { param: "prompt" });
          return {
            request_id: `${id}-${k}`,
            token_ids: [...tokens],
            sampling_params: params,
            model: body.model,
            stream: false,
          };
        }),
      );
    });
}
