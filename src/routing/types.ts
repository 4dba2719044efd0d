// The shapes routing works with: what a request brings (RouteRequest), where it goes (Target, Decision), and how a
// route of the API starts a generation on a target (Start, StartOptions) so that routing can run policies that need
// several generations (shadow, cascade, fallback) without knowing the API's wire format.
import type { ChatEvent } from "../serving/llm/chat.js";
import type { GenerateInput, GenerationEvent } from "../serving/llm/generation.js";
import type { LlmServing } from "../serving/llm/llm-serving.js";

/** What routing reads of a request. */
export interface RouteRequest {
  /** The `model` the client asked for: a route, or a served model (NAME, NAME@VERSION, NAME:ADAPTER). */
  readonly model: string;
  /** The request's `user` (Anthropic's metadata.user_id), for sticky splits. */
  readonly user: string | null;
  /** A request header by lower-case name. */
  readonly header: (name: string) => string | undefined;
  readonly stream: boolean;
  readonly tools: boolean;
  readonly jsonSchema: boolean;
  /** The client asked for logprobs (so routing keeps those it needs for a cascade). */
  readonly logprobs: boolean;
  /** Temperature 0: a shadow's answer is expected to match the primary's on an equal model. */
  readonly greedy: boolean;
  /** The prompt's length in tokens under a model's tokenizer; routing asks only for rules on length. */
  readonly promptTokens: (serving: LlmServing) => number;
}

/** A served model a route sends requests to. */
export interface Target {
  /** As the route names it (e.g. "story", "story@2", "story@2:terse"). */
  readonly ref: string;
  /** What serves it: the serving's name, with the adapter (e.g. "story@2:terse"). */
  readonly id: string;
  readonly serving: LlmServing;
  readonly adapter: string | null;
  /** The route's timeout for this target, in ms; undefined: the request's or the server's. */
  readonly timeoutMs: number | undefined;
}

/** Where a request goes and why: the route (null for a model asked for by name) and the variant it chose. */
export interface Decision {
  readonly route: string | null;
  readonly variant: string | null;
  readonly target: Target;
}

/** Events of a started generation: chat events (chat, Responses, Messages) or text events (completions). */
export type RoutedEvent = ChatEvent | GenerationEvent;

/** A generation an API route started; routing may replace its events (wrapped, buffered, or another target's). */
export interface Started<E extends RoutedEvent = RoutedEvent> {
  readonly events: AsyncIterable<E>;
}

/** The generation fields routing decides; the API route adds its own (the request's priority, timeout, scale). */
export type RoutedFields = Pick<GenerateInput, "priority" | "signal" | "timeoutMs" | "route">;

export interface StartOptions {
  /** Appended to the request id: a request's shadow and cascade runs must not share an engine request id. */
  readonly idSuffix: string;
  /** The policy reads each token's logprob (a cascade): ask for the sampled token's at least. */
  readonly needLogprobs: boolean;
  readonly fields: RoutedFields;
}

/** How an API route starts its generation on a target; throws what serving throws (400, 429, ...). */
export type Start<S extends Started> = (target: Target, options: StartOptions) => S;

/** A routed generation: the one whose events the client gets, and the decision that chose its target. */
export interface Routed<S extends Started> {
  readonly started: S;
  readonly decision: Decision;
}
