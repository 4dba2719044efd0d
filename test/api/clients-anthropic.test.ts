// @anthropic-ai/sdk, unchanged, with tools against Loom's Messages API: a forced tool_use block whose input matches
// the schema, the same through messages.stream (input_json_delta), the tool_use -> tool_result round trip, a named
// tool, and structured output through messages.parse with output_config.format. On a synthetic Granite 4.0 model
// (llama.cpp's <tool_call> format, a vocabulary small enough to keep grammars fast).
import Anthropic from "@anthropic-ai/sdk";
import { zodOutputFormat } from "@anthropic-ai/sdk/helpers/zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { TestServer } from "../helpers/server.js";
import { expectForecast, FORECAST_SCHEMA, Forecast, startFamilyServer } from "../helpers/tool-calls.js";

let server: TestServer;
let client: Anthropic;
beforeAll(async () => {
  server = await startFamilyServer("granite-4.0");
  client = new Anthropic({ baseURL: server.url, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await server?.close();
});

const tools = [
  { name: "get_weather", description: "The weather in a city", input_schema: FORECAST_SCHEMA },
  { name: "get_time", description: "The local time in a city", input_schema: FORECAST_SCHEMA },
] as unknown as Anthropic.Tool[];
const ask: Anthropic.MessageParam[] = [{ role: "user", content: "Forecast for Oslo, three days?" }];
// Older Messages clients send temperature; this SDK's types no longer declare it, but the API takes it.
const greedy: object = { temperature: 0 };

describe("Messages API tools", () => {
  it("answers a forced call with one tool_use block, the same streamed, and goes on with its tool_result", async () => {
    const request = {
      model: server.model,
      max_tokens: 200,
      messages: ask,
      tools,
      tool_choice: { type: "any" as const, disable_parallel_tool_use: true },
      ...greedy,
    };
    const message = await client.messages.create(request);
    expect(message.stop_reason).toBe("tool_use");
    expect(message.content).toHaveLength(1);
    const use = message.content[0] as Anthropic.ToolUseBlock;
    expect(use.type).toBe("tool_use");
    expect(use.id).toMatch(/^toolu_/);
    expect(["get_weather", "get_time"]).toContain(use.name);
    expectForecast(use.input);

    let partialJson = "";
    const stream = client.messages.stream(request).on("inputJson", (delta) => {
      partialJson += delta;
    });
    const final = await stream.finalMessage();
    expect(final.stop_reason).toBe("tool_use");
    expect(final.content.map((b) => ({ ...b, id: undefined }))).toEqual([{ ...use, id: undefined }]);
    expect(JSON.parse(partialJson)).toEqual(use.input);

    const next = await client.messages.create({
      model: server.model,
      max_tokens: 3,
      tools,
      messages: [
        ...ask,
        { role: "assistant", content: message.content },
        { role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: "Sunny, 21 C" }] },
      ],
    });
    expect(next.role).toBe("assistant");
    // Anthropic counts the prompt tokens read from the cache apart.
    const prompt = (usage: Anthropic.Usage) => usage.input_tokens + (usage.cache_read_input_tokens ?? 0);
    expect(prompt(next.usage)).toBeGreaterThan(prompt(message.usage));
  });

  it("calls a named tool only", async () => {
    const message = await client.messages.create({
      model: server.model,
      max_tokens: 200,
      messages: ask,
      tools,
      tool_choice: { type: "tool", name: "get_time" },
      ...greedy,
    });
    expect(message.content.map((b) => [b.type, (b as Anthropic.ToolUseBlock).name])).toEqual([
      ["tool_use", "get_time"],
    ]);
    expectForecast((message.content[0] as Anthropic.ToolUseBlock).input);
  });

  it("messages.parse returns the zod-parsed answer of an output_config.format", async () => {
    // The SDK sends numeric bounds as a description (Anthropic's structured outputs take none) and checks them
    // itself, so the schema here has none: the server can only honour what it is sent.
    const Unbounded = Forecast.extend({ days: z.number().int() });
    const message = await client.messages.parse({
      model: server.model,
      max_tokens: 200,
      messages: ask,
      output_config: { format: zodOutputFormat(Unbounded) },
      ...greedy,
    });
    expect(message.stop_reason).toBe("end_turn");
    expect(Unbounded.strict().safeParse(message.parsed_output).success).toBe(true);
  });
});
