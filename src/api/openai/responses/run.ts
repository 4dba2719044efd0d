// One Responses API request prepared for serving: its conversation (the stored chain of previous_response_id, then
// its input), the chat serving generates, and the response object it becomes.
import type { Context } from "hono";
import type { Usage } from "../../../engine/events.js";
import type { ResponseStore } from "../../../cache/response-store.js";
import { isGreedy, samplingParams } from "../../../sampling-params.js";
import { InvalidRequestError, ModelNotFoundError } from "../../../serving/errors.js";
import type { ChatInput, OutputFormat, ToolChoice } from "../../../serving/llm/chat.js";
import { REST_OF_CONTEXT } from "../../../serving/llm/generation.js";
import type { Routing } from "../../../routing/routing.js";
import { ApiError } from "../../errors.js";
import { logprobsFor, routeAndStart, routedFields, routeRequest } from "../../routed.js";
import { itemId, itemsToMessages, withIds } from "./items.js";
import type { FunctionToolSpec, ResponseCreateRequest } from "./schemas.js";

export interface PreparedResponse {
  readonly id: string;
  readonly createdAt: number;
  readonly body: ResponseCreateRequest;
  readonly chat: ChatInput;
  readonly inputItems: Record<string, unknown>[];
  readonly history: readonly Readonly<Record<string, unknown>>[];
}

/** What a response became: its status and output, with usage once it ran. */
export interface Outcome {
  readonly status: "queued" | "in_progress" | "completed" | "incomplete" | "failed" | "cancelled";
  readonly output: readonly Record<string, unknown>[];
  readonly usage: Usage | null;
  readonly error: ApiError | null;
}

function refuse(param: string, what: string): never {
  throw new InvalidRequestError(`this server does not support ${what}`, { param, code: "unsupported_parameter" });
}

function toolsOf(body: ResponseCreateRequest): { tools: FunctionToolSpec[]; toolChoice: ToolChoice } {
  const tools = (body.tools ?? []).map((tool, i) => {
    if (tool.type !== "function") refuse(`tools.${i}`, `the built-in tool '${tool.type}'`);
    return tool as FunctionToolSpec;
  });
  const choice = body.tool_choice;
  if (choice === undefined || choice === null) return { tools, toolChoice: tools.length > 0 ? "auto" : "none" };
  if (typeof choice === "string") return { tools, toolChoice: choice };
  if (choice.type !== "function") refuse("tool_choice", `tool_choice of type '${choice.type}'`);
  return { tools, toolChoice: { name: (choice as { name: string }).name } };
}

function formatOf(body: ResponseCreateRequest): OutputFormat {
  const format = body.text?.format;
  if (!format || format.type === "text") return { type: "text" };
  return format.type === "json_object"
    ? { type: "json_object" }
    : { type: "json_schema", schema: format.schema, param: "text.format" };
}

/** Checks the request against what Loom serves and gathers its conversation; throws the client's errors. */
/** `id` is a queued background response's own id when its job runs it; a new resp_ id otherwise. */
export async function prepareResponse(
  routing: Routing,
  store: ResponseStore,
  body: ResponseCreateRequest,
  id: string = itemId("resp"),
) {
  if (body.conversation !== undefined && body.conversation !== null) refuse("conversation", "'conversation'");
  if (body.prompt !== undefined && body.prompt !== null) refuse("prompt", "a stored 'prompt'");
  // A model that is not served is a 404 now, before a background response is queued.
  if (!routing.has(body.model)) throw new ModelNotFoundError(body.model);
  let history: readonly Readonly<Record<string, unknown>>[] = [];
  if (body.previous_response_id) {
    const previous = await store.get(body.previous_response_id);
    if (!previous) {
      throw new ApiError(404, `Previous response with id '${body.previous_response_id}' not found.`, {
        param: "previous_response_id",
        code: "previous_response_not_found",
      });
    }
    history = [...previous.history, ...previous.inputItems, ...(previous.response.output as Record<string, unknown>[])];
  }
  const input =
    typeof body.input === "string"
      ? [{ type: "message" as const, role: "user" as const, content: body.input }]
      : (body.input ?? []);
  const inputItems = withIds(input);
  const { tools, toolChoice } = toolsOf(body);
  const messages = [
    ...(body.instructions ? [{ role: "system" as const, content: body.instructions }] : []),
    ...itemsToMessages([...history, ...inputItems]),
  ];
  if (messages.length === 0) throw new InvalidRequestError("the response has no input", { param: "input" });
  const chat: ChatInput = {
    messages,
    tools: tools.map((t) => ({
      name: t.name,
      ...(t.description ? { description: t.description } : {}),
      ...(t.parameters ? { parameters: t.parameters } : {}),
    })),
    toolChoice,
    parallelToolCalls: body.parallel_tool_calls ?? true,
    format: formatOf(body),
  };
  return {
    id,
    createdAt: Math.floor(Date.now() / 1000),
    body,
    chat,
    inputItems,
    history,
  } satisfies PreparedResponse;
}

/**
 * Routes and starts the generation; `signal` ends it (the client's for a foreground request, a cancel for a
 * background one). Sets the response's routing headers.
 */
export async function startResponse(c: Context, routing: Routing, p: PreparedResponse, signal: AbortSignal) {
  const { body } = p;
  const request = routeRequest(c, {
    model: body.model,
    user: body.user ?? null,
    stream: body.stream === true,
    tools: p.chat.tools.length > 0,
    jsonSchema: p.chat.format.type === "json_schema",
    logprobs: false,
    greedy: isGreedy(body.temperature),
    promptTokens: (serving) => serving.renderChat(p.chat).promptTokens.length,
  });
  const { started } = await routeAndStart(c, routing, request, (target, options) =>
    target.serving.chat({
      requestId: p.id + options.idSuffix,
      params: samplingParams({
        temperature: body.temperature ?? 1,
        topP: body.top_p ?? 1,
        maxTokens: body.max_output_tokens ?? REST_OF_CONTEXT,
        seed: body.seed === undefined || body.seed === null ? undefined : body.seed >>> 0,
        logprobs: logprobsFor(null, options),
      }),
      chat: p.chat,
      ...routedFields(c, target, options, { priority: body.priority, timeout: body.timeout, signal }),
    }),
  );
  return started.events;
}

function wireUsage(usage: Usage) {
  return {
    input_tokens: usage.promptTokens,
    input_tokens_details: { cached_tokens: usage.cachedPromptTokens },
    output_tokens: usage.completionTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: usage.promptTokens + usage.completionTokens,
  };
}

/** The Response object (OpenAI's shape) of a prepared request in a given state. */
export function responseObject(p: PreparedResponse, outcome: Outcome): Record<string, unknown> {
  const { body } = p;
  return {
    id: p.id,
    object: "response",
    created_at: p.createdAt,
    status: outcome.status,
    background: body.background ?? false,
    error: outcome.error ? { code: outcome.error.code ?? "server_error", message: outcome.error.message } : null,
    incomplete_details: outcome.status === "incomplete" ? { reason: "max_output_tokens" } : null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    metadata: body.metadata ?? {},
    model: body.model,
    output: outcome.output,
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: body.previous_response_id ?? null,
    reasoning: { effort: body.reasoning?.effort ?? null, summary: null },
    store: body.store ?? true,
    temperature: body.temperature ?? 1,
    text: { format: body.text?.format ?? { type: "text" } },
    tool_choice: body.tool_choice ?? "auto",
    tools: body.tools ?? [],
    top_p: body.top_p ?? 1,
    truncation: body.truncation ?? "disabled",
    usage: outcome.usage ? wireUsage(outcome.usage) : null,
    user: body.user ?? null,
  };
}

/** Stores the response when the request asked (store defaults to true), for GET and previous_response_id. */
export async function remember(store: ResponseStore, p: PreparedResponse, response: Record<string, unknown>) {
  if (p.body.store === false) return;
  await store.put(p.id, { response, inputItems: p.inputItems, history: p.history });
}
