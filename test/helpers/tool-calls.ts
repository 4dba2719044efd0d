// What the tool-calling API tests share: a tool whose arguments a weak model can only write in a bounded number of
// tokens (enums and a bounded integer, no free string), its checks, servers over the chat-family models, and the
// logit_bias nudges a random-weight model needs where a trained one decides by itself.
import { expect } from "vitest";
import { z } from "zod";
import type { ChatFamilyName } from "../../models/chat-families.js";
import { chatModel } from "./models.js";
import { startTestServer, type TestServer } from "./server.js";

export const FORECAST_SCHEMA = {
  type: "object",
  properties: {
    city: { type: "string", enum: ["Paris", "Oslo", "Lima"] },
    days: { type: "integer", minimum: 1, maximum: 7 },
  },
  required: ["city", "days"],
  additionalProperties: false,
} as const;

/** FORECAST_SCHEMA as the zod schema clients (AI SDK, LangChain) take. */
export const Forecast = z.object({
  city: z.enum(["Paris", "Oslo", "Lima"]),
  days: z.number().int().min(1).max(7),
});

/** get_weather and get_time, both taking a forecast, as OpenAI chat tools. */
export const FORECAST_TOOLS = ["get_weather", "get_time"].map((name) => ({
  type: "function" as const,
  function: { name, description: `The ${name.slice(4)} in a city`, parameters: FORECAST_SCHEMA },
}));

/** Arguments (JSON text or an object) that match FORECAST_SCHEMA exactly. */
export function expectForecast(args: string | unknown): void {
  const value: unknown = typeof args === "string" ? JSON.parse(args) : args;
  expect(Forecast.strict().safeParse(value).success, JSON.stringify(value)).toBe(true);
}

/** A server over the family's synthetic chat model. */
export function startFamilyServer(family: ChatFamilyName): Promise<TestServer> {
  // Command R7B's template alone renders a prompt of some 1,400 tokens.
  return startTestServer({ model: chatModel(family), kvTokens: 8192, maxRunning: 2 });
}

/** The id of text that is one token of the server's model. */
function tokenId(server: TestServer, text: string): number {
  const ids = server.registry.list()[0]!.model.tokenize(text, { addSpecial: false, parseSpecial: true });
  expect(ids, `"${text}" is one token`).toHaveLength(1);
  return ids[0]!;
}

// What a random-weight model does not decide by itself under a required call's grammar: to close a reasoning block
// (Qwen3, DeepSeek), to pick the recipient and message of gpt-oss's header over a free content type, to close
// Mistral's free-string call id.
const CALL_NUDGES: Partial<Record<ChatFamilyName, readonly string[]>> = {
  qwen3: ["</think>"],
  "deepseek-r1": ["</think>"],
  "deepseek-v3.1": ["</think>"],
  "gpt-oss": [" to", "<|message|>"],
  "mistral-nemo": ['"'],
};

// The token that starts a call in `auto`, where the lazy grammar engages: a random-weight model never writes it. Not
// for Mistral Nemo and gpt-oss, whose calls hold a free part (the call id; the content type) that a bias on the
// trigger token would fill with that token, nor for the families whose auto has no working lazy grammar.
const TRIGGERS: Partial<Record<ChatFamilyName, string>> = {
  "qwen2.5": "<tool_call>",
  qwen3: "<tool_call>",
  "hermes-2-pro": "<tool_call>",
  "granite-4.0": "<tool_call>",
  "command-r7b": "<|START_ACTION|>",
};

/** Families whose `auto` a test can drive to a call with a logit_bias on one trigger token. */
export const NUDGEABLE_AUTO = Object.keys(TRIGGERS) as ChatFamilyName[];

/** logit_bias (OpenAI's shape) that gets a random-weight model through a call: for `required`, or `auto` too. */
export function callNudge(server: TestServer, family: ChatFamilyName, { auto = false } = {}): Record<string, number> {
  const texts = [...(CALL_NUDGES[family] ?? []), ...(auto && TRIGGERS[family] ? [TRIGGERS[family]] : [])];
  return Object.fromEntries(texts.map((text) => [String(tokenId(server, text)), 100]));
}
