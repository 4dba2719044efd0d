// POST /v1/completions: a prompt as text, token ids, or an array of either (one choice group per prompt).
import { randomUUID } from "node:crypto";
import { Hono } from "hono";
import type { Caches } from "../../cache/caches.js";
import { collectGeneration } from "../../serving/llm/collect.js";
import type { GenerationEvent } from "../../serving/llm/generation.js";
import type { Routing } from "../../routing/routing.js";
import { readJson } from "../body.js";
import { logprobsFor, routeAndStart, routedFields, routeRequest } from "../routed.js";
import { cachedGeneration } from "./cached.js";
import { completionLogprobs, wireFinishReason, wireUsage } from "./format.js";
import { promptsOf, promptTexts } from "./prompts.js";
import { includeUsage, openAiRouteFields, refuseUnsupported, responseHead, toSamplingParams } from "./sampling.js";
import { CompletionRequest } from "./schemas.js";
import { type ChunkFormat, streamGeneration } from "./stream.js";

export function completionRoutes(routing: Routing, caches?: Caches): Hono {
  return new Hono().post("/v1/completions", async (c) => {
    const body = await readJson(c, CompletionRequest);
    const n = body.n ?? 1;
    refuseUnsupported([
      [body.echo, "echo"],
      [body.suffix, "suffix"],
      [body.best_of !== undefined && body.best_of !== null && body.best_of > n, "best_of"],
    ]);
    // A route's answer depends on the target its policy picks: only models named directly are cached.
    const cache = routing.route(body.model) ? null : await cachedGeneration(c, caches, "/v1/completions", body);
    if (cache?.hit) return cache.hit;
    const id = `cmpl-${randomUUID()}`;
    const request = routeRequest(c, {
      ...openAiRouteFields(body),
      tools: false,
      jsonSchema: body.response_format?.type === "json_schema",
      logprobs: body.logprobs !== undefined && body.logprobs !== null,
      promptTokens: (serving) => promptsOf(body.prompt, serving).reduce((sum, p) => sum + p.length, 0),
    });
    const { started } = await routeAndStart(c, routing, request, (target, options) => {
      const { serving } = target;
      const prompts = promptsOf(body.prompt, serving);
      const fields = routedFields(c, target, options, body);
      const events = serving.generateAll(
        prompts.map((promptTokens, k) => ({
          requestId: `${id}${options.idSuffix}-${k}`,
          promptTokens,
          // OpenAI's default for completions is 16 tokens (chat's is the rest of the context).
          params: toSamplingParams(body, serving, {
            maxTokens: body.max_tokens ?? 16,
            logprobs: logprobsFor(body.logprobs ?? null, options),
          }),
          ...fields,
        })),
      );
      return { events, prompts, serving };
    });
    const { events, prompts, serving } = started;
    // Legacy logprobs count text_offset from the start of the prompt, as OpenAI does, so the first completion token
    // sits at the prompt's length (in characters of its text). Read once generateAll has checked the prompts.
    const promptChars = promptTexts(body.prompt, prompts, serving).map((text) => text.length);
    const head = responseHead(id, body);
    const withLogprobs = body.logprobs !== undefined && body.logprobs !== null;
    if (body.stream)
      return streamGeneration(
        c,
        events,
        head,
        completionChunks(withLogprobs, (i) => promptChars[Math.floor(i / n)]!),
        includeUsage(c, body),
      );
    const result = await collectGeneration(events, prompts.length * n);
    const json = {
      ...head,
      object: "text_completion",
      choices: result.choices.map((choice) => ({
        index: choice.index,
        text: choice.text,
        logprobs: withLogprobs ? completionLogprobs(choice.logprobs, promptChars[Math.floor(choice.index / n)]!) : null,
        finish_reason: wireFinishReason(choice.finishReason ?? "abort"),
      })),
      usage: wireUsage(result.usage),
    };
    return cache ? cache.respond(json) : c.json(json);
  });
}

function completionChunks(
  withLogprobs: boolean,
  promptChars: (choice: number) => number,
): ChunkFormat<GenerationEvent> {
  // Offsets of the legacy logprobs shape count characters of the prompt and of each choice's text so far.
  const offsets = new Map<number, number>();
  return {
    object: "text_completion",
    opening: [],
    choices: (event) => {
      const offset = offsets.get(event.index) ?? promptChars(event.index);
      offsets.set(event.index, offset + event.text.length);
      const logprobs = withLogprobs ? completionLogprobs(event.logprobs, offset) : null;
      return [{ index: event.index, text: event.text, logprobs, finish_reason: null }];
    },
    finished: (event) => ({
      index: event.index,
      text: "",
      logprobs: null,
      finish_reason: wireFinishReason(event.reason),
    }),
  };
}
