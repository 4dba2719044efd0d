// Structured output on the three chat routes (response_format json_schema, text.format, output_config.format): the
// answer is JSON of the schema with its lengths bounded by the schema and max_tokens alone: a string of 80 characters
// and an array of 12 items come out whole (no cut at 64 characters or 8 items), and an answer max_tokens cuts is
// reported as cut (finish_reason length, an incomplete response, stop_reason max_tokens), never closed early.
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestServer } from "../helpers/server.js";
import { startFamilyServer } from "../helpers/tool-calls.js";

let server: TestServer;
let anthropic: Anthropic;
beforeAll(async () => {
  server = await startFamilyServer("granite-4.0");
  anthropic = new Anthropic({ baseURL: server.url, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await server?.close();
});

const LONG = {
  type: "object",
  properties: {
    summary: { type: "string", minLength: 80, maxLength: 80 },
    digits: { type: "array", items: { type: "integer", minimum: 0, maximum: 9 }, minItems: 12, maxItems: 12 },
  },
  required: ["summary", "digits"],
  additionalProperties: false,
};
const FREE = { type: "object", properties: { summary: { type: "string" } }, required: ["summary"] };
const question = "Summarize the weather in Oslo.";

/** One structured answer through a route: its text and whether it ran to its end or was cut by max tokens. */
type Ask = (schema: Record<string, unknown>, maxTokens: number) => Promise<{ text: string; cut: boolean }>;

const ROUTES: [string, Ask][] = [
  [
    "chat completions (response_format)",
    async (schema, maxTokens) => {
      const completion = await server.client.chat.completions.create({
        model: server.model,
        messages: [{ role: "user", content: question }],
        response_format: { type: "json_schema", json_schema: { name: "answer", schema } },
        max_tokens: maxTokens,
        temperature: 0,
      });
      const choice = completion.choices[0]!;
      expect(["stop", "length"]).toContain(choice.finish_reason);
      return { text: choice.message.content!, cut: choice.finish_reason === "length" };
    },
  ],
  [
    "Responses API (text.format)",
    async (schema, maxTokens) => {
      const response = await server.client.responses.create({
        model: server.model,
        input: question,
        text: { format: { type: "json_schema", name: "answer", schema } },
        max_output_tokens: maxTokens,
        temperature: 0,
      });
      expect(["completed", "incomplete"]).toContain(response.status);
      if (response.status === "incomplete")
        expect(response.incomplete_details).toEqual({ reason: "max_output_tokens" });
      return { text: response.output_text, cut: response.status === "incomplete" };
    },
  ],
  [
    "Messages API (output_config.format)",
    async (schema, maxTokens) => {
      const message = await anthropic.messages.create({
        model: server.model,
        max_tokens: maxTokens,
        messages: [{ role: "user", content: question }],
        output_config: { format: { type: "json_schema", schema } },
        temperature: 0,
      } as Anthropic.MessageCreateParamsNonStreaming);
      expect(["end_turn", "max_tokens"]).toContain(message.stop_reason);
      const text = message.content.map((block) => (block.type === "text" ? block.text : "")).join("");
      return { text, cut: message.stop_reason === "max_tokens" };
    },
  ],
];

describe.each(ROUTES)("%s", (_, ask) => {
  it("gives strings and arrays the lengths the schema asks, past 64 characters and 8 items", async () => {
    const { text, cut } = await ask(LONG, 400);
    expect(cut).toBe(false);
    const answer = JSON.parse(text) as { summary: string; digits: number[] };
    expect(answer.summary).toHaveLength(80);
    expect(answer.digits).toHaveLength(12);
    expect(answer.digits.every((d) => Number.isInteger(d) && d >= 0 && d <= 9)).toBe(true);
  });

  it("reports an answer max_tokens cut as cut, its JSON left open", async () => {
    const { text, cut } = await ask(FREE, 6);
    expect(cut).toBe(true);
    expect(text.startsWith("{")).toBe(true);
    expect(() => JSON.parse(text)).toThrow();
  });
});
