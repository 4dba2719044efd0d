// POST /v1/chat/completions
import { randomUUID } from "node:crypto";
import { Hono } from "hono";
import { collectGeneration } from "../../serving/llm/collect.js";
import type { ModelRegistry } from "../../serving/llm/registry.js";
import { readJson } from "../body.js";
import { chatLogprobs, wireFinishReason, wireUsage } from "./format.js";
import { toTemplateMessages } from "./prompts.js";
import { generationTarget, includeUsage, refuseUnsupported, responseHead, toSamplingParams } from "./sampling.js";
import { ChatCompletionRequest } from "./schemas.js";
import { type ChunkFormat, streamGeneration } from "./stream.js";

export function chatRoutes(registry: ModelRegistry): Hono {
  return new Hono().post("/v1/chat/completions", async (c) => {
    const body = await readJson(c, ChatCompletionRequest);
    refuseUnsupported([
      [body.tools, "tools"],
      [body.functions, "functions"],
      [body.audio, "audio"],
      [body.modalities?.filter((m) => m !== "text"), "modalities"],
    ]);
    const { serving, fields } = generationTarget(c, registry, body);
    const promptTokens = serving.chatPrompt(toTemplateMessages(body.messages));
    const params = toSamplingParams(body, serving, promptTokens, {
      maxTokens: body.max_completion_tokens ?? body.max_tokens,
      logprobs: body.logprobs ? (body.top_logprobs ?? 0) : null,
    });
    const id = `chatcmpl-${randomUUID()}`;
    const events = serving.generate({ requestId: id, promptTokens, promptParam: "messages", params, ...fields });
    const head = responseHead(id, body);
    if (body.stream) return streamGeneration(c, events, head, chatChunks(params.n), includeUsage(c, body));
    const result = await collectGeneration(events, params.n);
    return c.json({
      ...head,
      object: "chat.completion",
      choices: result.choices.map((choice) => ({
        index: choice.index,
        message: { role: "assistant", content: choice.text, refusal: null },
        logprobs: params.logprobs === null ? null : chatLogprobs(choice.logprobs),
        finish_reason: wireFinishReason(choice.finishReason ?? "abort"),
      })),
      usage: wireUsage(result.usage),
    });
  });
}

function chatChunks(n: number): ChunkFormat {
  return {
    object: "chat.completion.chunk",
    opening: Array.from({ length: n }, (_, index) => ({
      index,
      delta: { role: "assistant", content: "" },
      logprobs: null,
      finish_reason: null,
    })),
    delta: (event) => ({
      index: event.index,
      delta: { content: event.text },
      logprobs: event.logprobs.length > 0 ? chatLogprobs(event.logprobs) : null,
      finish_reason: null,
    }),
    finished: (event) => ({
      index: event.index,
      delta: {},
      logprobs: null,
      finish_reason: wireFinishReason(event.reason),
    }),
  };
}
