// POST /v1/chat/completions
import { randomUUID } from "node:crypto";
import { Hono } from "hono";
import type { Caches } from "../../cache/caches.js";
import type { ChatEvent, ToolCall } from "../../serving/llm/chat.js";
import { collectChat } from "../../serving/llm/collect.js";
import type { Routing } from "../../routing/routing.js";
import { readJson } from "../body.js";
import { logprobsFor, routeAndStart, routedFields, routeRequest } from "../routed.js";
import { cachedGeneration } from "./cached.js";
import { chatLogprobs, wireFinishReason, wireUsage } from "./format.js";
import { toChatInput } from "./prompts.js";
import { includeUsage, openAiRouteFields, refuseUnsupported, responseHead, toSamplingParams } from "./sampling.js";
import { ChatCompletionRequest } from "./schemas.js";
import { type ChunkFormat, streamGeneration } from "./stream.js";

/** OpenAI's tool_calls entries. */
function wireToolCalls(calls: readonly ToolCall[]) {
  return calls.map((call) => ({
    id: call.id,
    type: "function",
    function: { name: call.name, arguments: call.arguments },
  }));
}

export function chatRoutes(routing: Routing, caches?: Caches): Hono {
  return new Hono().post("/v1/chat/completions", async (c) => {
    const body = await readJson(c, ChatCompletionRequest);
    refuseUnsupported([
      [body.functions, "functions"],
      [body.audio, "audio"],
      [body.modalities?.filter((m) => m !== "text"), "modalities"],
    ]);
    // A route's answer depends on the target its policy picks: only models named directly are cached.
    const cache = routing.route(body.model) ? null : await cachedGeneration(c, caches, "/v1/chat/completions", body);
    if (cache?.hit) return cache.hit;
    const chat = toChatInput(body);
    const id = `chatcmpl-${randomUUID()}`;
    const logprobs = body.logprobs ? (body.top_logprobs ?? 0) : null;
    const n = body.n ?? 1;
    const request = routeRequest(c, {
      ...openAiRouteFields(body),
      tools: chat.tools.length > 0,
      jsonSchema: chat.format.type === "json_schema",
      logprobs: logprobs !== null,
      promptTokens: (serving) => serving.renderChat(chat).promptTokens.length,
    });
    const { started } = await routeAndStart(c, routing, request, (target, options) =>
      target.serving.chat({
        requestId: id + options.idSuffix,
        params: toSamplingParams(body, target.serving, {
          maxTokens: body.max_completion_tokens ?? body.max_tokens,
          logprobs: logprobsFor(logprobs, options),
        }),
        chat,
        ...routedFields(c, target, options, body),
      }),
    );
    const { events } = started;
    const head = responseHead(id, body);
    if (body.stream) return streamGeneration(c, events, head, chatChunks(n), includeUsage(c, body));
    const result = await collectChat(events, n);
    const json = {
      ...head,
      object: "chat.completion",
      choices: result.choices.map((choice) => ({
        index: choice.index,
        message: {
          role: "assistant",
          content: choice.content === "" && choice.toolCalls.length > 0 ? null : choice.content,
          refusal: null,
          ...(choice.reasoning === "" ? {} : { reasoning_content: choice.reasoning }),
          ...(choice.toolCalls.length > 0 ? { tool_calls: wireToolCalls(choice.toolCalls) } : {}),
        },
        logprobs: logprobs === null ? null : chatLogprobs(choice.logprobs),
        finish_reason: wireFinishReason(choice.finishReason ?? "abort", choice.toolCalls.length > 0),
      })),
      usage: wireUsage(result.usage),
    };
    return cache ? cache.respond(json) : c.json(json);
  });
}

function chatChunks(n: number): ChunkFormat<ChatEvent> {
  const choice = (index: number, delta: object, logprobs: unknown = null) => ({
    index,
    delta,
    logprobs,
    finish_reason: null,
  });
  return {
    object: "chat.completion.chunk",
    opening: Array.from({ length: n }, (_, index) => choice(index, { role: "assistant", content: "" })),
    choices: (event) => {
      if (event.type === "content") {
        const logprobs = event.logprobs.length > 0 ? chatLogprobs(event.logprobs) : null;
        return [choice(event.index, { content: event.text }, logprobs)];
      }
      if (event.type === "reasoning") return [choice(event.index, { reasoning_content: event.text })];
      const call =
        event.id === undefined
          ? { index: event.call, function: { arguments: event.arguments } }
          : {
              index: event.call,
              id: event.id,
              type: "function",
              function: { name: event.name, arguments: event.arguments },
            };
      return [choice(event.index, { tool_calls: [call] })];
    },
    finished: (event) => ({
      index: event.index,
      delta: {},
      logprobs: null,
      finish_reason: wireFinishReason(event.reason, event.toolCalls.length > 0),
    }),
  };
}
