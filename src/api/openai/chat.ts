// POST /v1/chat/completions
import { randomUUID } from "node:crypto";
import { Hono, type Context } from "hono";
import { collectGeneration, failureOf } from "../../serving/llm/collect.js";
import type { GenerationEvent } from "../../serving/llm/llm-serving.js";
import type { ModelRegistry } from "../../serving/llm/registry.js";
import type { AppEnv } from "../app.js";
import { readJson } from "../body.js";
import { streamChunks } from "../sse.js";
import { chatLogprobs, wireFinishReason, wireUsage } from "./format.js";
import { refuseUnsupported, toSamplingParams } from "./sampling.js";
import { toTemplateMessages } from "./messages.js";
import { ChatCompletionRequest } from "./schemas.js";

export function chatRoutes(registry: ModelRegistry): Hono<AppEnv> {
  return new Hono<AppEnv>().post("/v1/chat/completions", async (c) => {
    const body = await readJson(c, ChatCompletionRequest);
    refuseUnsupported([
      [body.tools, "tools"],
      [body.functions, "functions"],
      [body.audio, "audio"],
      [body.modalities?.filter((m) => m !== "text"), "modalities"],
    ]);
    const { serving, adapterName } = registry.resolve(body.model);
    const adapter = adapterName === null ? {} : { adapter: { name: adapterName, scale: body.lora_scale ?? 1 } };
    const promptTokens = serving.chatPrompt(toTemplateMessages(body.messages));
    const params = toSamplingParams(body, serving, promptTokens, {
      maxTokens: body.max_completion_tokens ?? body.max_tokens,
      logprobs: body.logprobs ? (body.top_logprobs ?? 0) : null,
    });
    const id = `chatcmpl-${randomUUID()}`;
    const events = serving.generate({
      requestId: id,
      promptTokens,
      params,
      priority: body.priority ?? 0,
      signal: c.req.raw.signal,
      traceId: c.get("requestId"),
      ...adapter,
      ...(body.timeout === undefined || body.timeout === null ? {} : { timeoutMs: body.timeout * 1000 }),
    });
    const head = { id, created: Math.floor(Date.now() / 1000), model: body.model, system_fingerprint: null };
    if (body.stream) return streamChat(c, events, head, params.n, body.stream_options?.include_usage === true);
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

function streamChat(
  c: Context,
  events: AsyncIterable<GenerationEvent>,
  head: object,
  n: number,
  includeUsage: boolean,
): Response {
  const chunk = (choices: unknown[]) => ({
    ...head,
    object: "chat.completion.chunk",
    choices,
    ...(includeUsage ? { usage: null } : {}),
  });
  return streamChunks(c, async (write) => {
    for (let index = 0; index < n; index++) {
      await write(chunk([{ index, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }]));
    }
    for await (const event of events) {
      if (event.type === "delta") {
        await write(
          chunk([
            {
              index: event.index,
              delta: { content: event.text },
              logprobs: event.logprobs.length > 0 ? chatLogprobs(event.logprobs) : null,
              finish_reason: null,
            },
          ]),
        );
      } else if (event.type === "finish") {
        const failure = failureOf(event);
        if (failure) throw failure;
        await write(
          chunk([{ index: event.index, delta: {}, logprobs: null, finish_reason: wireFinishReason(event.reason) }]),
        );
      } else if (includeUsage) {
        await write({ ...head, object: "chat.completion.chunk", choices: [], usage: wireUsage(event.usage) });
      }
    }
  });
}
