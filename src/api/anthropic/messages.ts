// POST /v1/messages and /v1/messages/count_tokens: Anthropic's Messages API over the same chat path as OpenAI's chat
// completions, with Anthropic's message, stream event and error shapes.
import { randomBytes } from "node:crypto";
import { Hono } from "hono";
import type { Usage } from "../../engine/events.js";
import { isGreedy, samplingParams } from "../../sampling-params.js";
import type { ChatEvent } from "../../serving/llm/chat.js";
import { failureOf } from "../../serving/llm/collect.js";
import type { Routing } from "../../routing/routing.js";
import { readJson } from "../body.js";
import { logprobsFor, routeAndStart, routedFields, routeRequest } from "../routed.js";
import { toAnthropicError } from "../errors.js";
import { streamEvents, type TypedEvent } from "../sse.js";
import { ContentBuilder } from "./content.js";
import { toChatInput } from "./convert.js";
import { CountTokensRequest, MessagesRequest } from "./schemas.js";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** Anthropic's id style: a prefix, "01" and 22 base62 characters. */
function anthropicId(prefix: string): string {
  return `${prefix}_01${[...randomBytes(22)].map((b) => BASE62[b % 62]).join("")}`;
}

/** Tool call ids in Anthropic's style (the chat path makes OpenAI's). */
const toToolUseId = (id: string) => id.replace(/^call_/, "toolu_");

function withToolUseIds(event: ChatEvent): ChatEvent {
  return event.type === "tool_call" && event.id !== undefined ? { ...event, id: toToolUseId(event.id) } : event;
}

interface Ending {
  stopReason: string | null;
  stopSequence: string | null;
  usage: Usage | null;
}

/** Feeds the chat's events to the content builder; `settle` runs after each (a stream sends what was emitted). */
async function consume(
  events: AsyncIterable<ChatEvent>,
  content: ContentBuilder,
  settle: () => Promise<void>,
): Promise<Ending> {
  const ending: Ending = { stopReason: null, stopSequence: null, usage: null };
  for await (const event of events) {
    if (event.type === "finished") {
      const failure = failureOf(event);
      if (failure) throw failure;
      ending.stopSequence = event.stopString;
      ending.stopReason =
        event.reason === "length"
          ? "max_tokens"
          : event.stopString !== null
            ? "stop_sequence"
            : event.toolCalls.length > 0
              ? "tool_use"
              : "end_turn";
    } else if (event.type === "usage") ending.usage = event.usage;
    else content.apply(withToolUseIds(event));
    await settle();
  }
  content.finish();
  await settle();
  return ending;
}

function wireUsage(usage: Usage | null, promptTokens: number) {
  const input = usage?.promptTokens ?? promptTokens;
  const cached = usage?.cachedPromptTokens ?? 0;
  return {
    input_tokens: input - cached,
    output_tokens: usage?.completionTokens ?? 0,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cached,
  };
}

export function messagesRoutes(routing: Routing): Hono {
  return new Hono()
    .post("/v1/messages", async (c) => {
      const body = await readJson(c, MessagesRequest);
      const chat = toChatInput(body);
      const id = anthropicId("msg");
      const request = routeRequest(c, {
        model: body.model,
        user: body.metadata?.user_id ?? null,
        stream: body.stream === true,
        tools: chat.tools.length > 0,
        jsonSchema: chat.format.type === "json_schema",
        logprobs: false,
        greedy: isGreedy(body.temperature),
        promptTokens: (serving) => serving.renderChat(chat).promptTokens.length,
      });
      const { started } = await routeAndStart(c, routing, request, (target, options) =>
        target.serving.chat({
          requestId: id + options.idSuffix,
          params: samplingParams({
            maxTokens: body.max_tokens,
            temperature: body.temperature ?? 1,
            topP: body.top_p ?? 1,
            topK: body.top_k ?? 0,
            stop: (body.stop_sequences ?? []).filter((s) => s.length > 0),
            logprobs: logprobsFor(null, options),
          }),
          chat,
          ...routedFields(c, target, options, {}),
        }),
      );
      const { events, promptTokens } = started;
      const message = (content: unknown[], ending: Ending | null) => ({
        id,
        type: "message",
        role: "assistant",
        model: body.model,
        content,
        stop_reason: ending?.stopReason ?? null,
        stop_sequence: ending?.stopSequence ?? null,
        usage: wireUsage(ending?.usage ?? null, promptTokens),
      });
      if (!body.stream) {
        const content = new ContentBuilder();
        const ending = await consume(events, content, async () => undefined);
        return c.json(message(content.content, ending));
      }
      return streamEvents(
        c,
        async (send) => {
          const pending: TypedEvent[] = [];
          const flush = async () => {
            for (const event of pending.splice(0)) await send(event);
          };
          await send({ type: "message_start", message: message([], null) });
          await send({ type: "ping" });
          const ending = await consume(events, new ContentBuilder((event) => pending.push(event)), flush);
          const usage = wireUsage(ending.usage, promptTokens);
          await send({
            type: "message_delta",
            delta: { stop_reason: ending.stopReason, stop_sequence: ending.stopSequence },
            usage: { output_tokens: usage.output_tokens },
          });
          await send({ type: "message_stop" });
        },
        (error) => [toAnthropicError(error)],
      );
    })
    .post("/v1/messages/count_tokens", async (c) => {
      const body = await readJson(c, CountTokensRequest);
      const { serving } = routing.primary(body.model);
      return c.json({ input_tokens: serving.renderChat(toChatInput(body)).promptTokens.length });
    });
}
