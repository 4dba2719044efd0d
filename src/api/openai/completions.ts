// POST /v1/completions: a prompt as text, token ids, or an array of either (one choice group per prompt).
import { randomUUID } from "node:crypto";
import { Hono, type Context } from "hono";
import { collectGeneration, failureOf } from "../../serving/llm/collect.js";
import type { GenerationEvent, LlmServing } from "../../serving/llm/llm-serving.js";
import type { ModelRegistry } from "../../serving/llm/registry.js";
import type { AppEnv } from "../app.js";
import { readJson } from "../body.js";
import { streamChunks } from "../sse.js";
import { completionLogprobs, wireFinishReason, wireUsage } from "./format.js";
import { refuseUnsupported, toSamplingParams } from "./sampling.js";
import { CompletionRequest } from "./schemas.js";

function promptsOf(prompt: CompletionRequest["prompt"], serving: LlmServing): Int32Array[] {
  if (typeof prompt === "string") return [serving.textPrompt(prompt)];
  if (prompt.every((p) => typeof p === "number")) return [Int32Array.from(prompt as number[])];
  return (prompt as (string | number[])[]).map((p) =>
    typeof p === "string" ? serving.textPrompt(p) : Int32Array.from(p),
  );
}

export function completionRoutes(registry: ModelRegistry): Hono<AppEnv> {
  return new Hono<AppEnv>().post("/v1/completions", async (c) => {
    const body = await readJson(c, CompletionRequest);
    const n = body.n ?? 1;
    refuseUnsupported([
      [body.echo, "echo"],
      [body.suffix, "suffix"],
      [body.best_of !== undefined && body.best_of !== null && body.best_of > n, "best_of"],
    ]);
    const { serving, adapterName } = registry.resolve(body.model);
    const adapter = adapterName === null ? {} : { adapter: { name: adapterName, scale: body.lora_scale ?? 1 } };
    const prompts = promptsOf(body.prompt, serving);
    const params = prompts.map((tokens) =>
      toSamplingParams(body, serving, tokens, { logprobs: body.logprobs ?? null }),
    );
    const id = `cmpl-${randomUUID()}`;
    const events = serving.generateAll(
      prompts.map((promptTokens, k) => ({
        requestId: `${id}-${k}`,
        promptTokens,
        params: params[k]!,
        priority: body.priority ?? 0,
        signal: c.req.raw.signal,
        traceId: c.get("requestId"),
        ...adapter,
        ...(body.timeout === undefined || body.timeout === null ? {} : { timeoutMs: body.timeout * 1000 }),
      })),
    );
    const head = { id, created: Math.floor(Date.now() / 1000), model: body.model, system_fingerprint: null };
    const withLogprobs = body.logprobs !== undefined && body.logprobs !== null;
    if (body.stream)
      return streamCompletion(c, events, head, withLogprobs, body.stream_options?.include_usage === true);
    const result = await collectGeneration(events, prompts.length * n);
    return c.json({
      ...head,
      object: "text_completion",
      choices: result.choices.map((choice) => ({
        index: choice.index,
        text: choice.text,
        logprobs: withLogprobs ? completionLogprobs(choice.logprobs, 0) : null,
        finish_reason: wireFinishReason(choice.finishReason ?? "abort"),
      })),
      usage: wireUsage(result.usage),
    });
  });
}

function streamCompletion(
  c: Context,
  events: AsyncIterable<GenerationEvent>,
  head: object,
  withLogprobs: boolean,
  includeUsage: boolean,
): Response {
  const chunk = (choices: unknown[]) => ({
    ...head,
    object: "text_completion",
    choices,
    ...(includeUsage ? { usage: null } : {}),
  });
  const offsets = new Map<number, number>();
  return streamChunks(c, async (write) => {
    for await (const event of events) {
      if (event.type === "delta") {
        const offset = offsets.get(event.index) ?? 0;
        offsets.set(event.index, offset + event.text.length);
        await write(
          chunk([
            {
              index: event.index,
              text: event.text,
              logprobs: withLogprobs ? completionLogprobs(event.logprobs, offset) : null,
              finish_reason: null,
            },
          ]),
        );
      } else if (event.type === "finish") {
        const failure = failureOf(event);
        if (failure) throw failure;
        await write(
          chunk([{ index: event.index, text: "", logprobs: null, finish_reason: wireFinishReason(event.reason) }]),
        );
      } else if (includeUsage) {
        await write({ ...head, object: "text_completion", choices: [], usage: wireUsage(event.usage) });
      }
    }
  });
}
