// LangChain's ChatOpenAI, unchanged, against a Loom server: bindTools with a forced tool (invoked and streamed) and
// withStructuredOutput with a zod schema, by JSON schema and by function calling. On a synthetic Granite 4.0 model
// (llama.cpp's <tool_call> format, a vocabulary small enough to keep grammars fast).
import type { AIMessageChunk } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { ChatOpenAI } from "@langchain/openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestServer } from "../helpers/server.js";
import { expectForecast, Forecast, startFamilyServer } from "../helpers/tool-calls.js";

let server: TestServer;
let chat: ChatOpenAI;
beforeAll(async () => {
  server = await startFamilyServer("granite-4.0");
  chat = new ChatOpenAI({
    model: server.model,
    apiKey: "unused",
    configuration: { baseURL: `${server.url}/v1` },
    temperature: 0,
    maxTokens: 200,
    maxRetries: 0,
  });
});
afterAll(async () => {
  await server?.close();
});

const getWeather = tool(async () => "Sunny", {
  name: "get_weather",
  description: "The weather in a city",
  schema: Forecast,
});
const getTime = tool(async () => "Noon", { name: "get_time", description: "The local time", schema: Forecast });
const question = "Forecast for Oslo, three days?";

describe("ChatOpenAI", () => {
  it("bindTools with a forced tool: a call whose args match the schema, the same streamed", async () => {
    const bound = chat.bindTools([getWeather, getTime], { tool_choice: "get_time" });
    const message = await bound.invoke(question);
    expect(message.tool_calls).toHaveLength(1);
    expect(message.tool_calls![0]).toMatchObject({ name: "get_time", type: "tool_call" });
    expect(message.tool_calls![0]!.id).toBeTruthy();
    expectForecast(message.tool_calls![0]!.args);

    let streamed: AIMessageChunk | undefined;
    for await (const chunk of await bound.stream(question)) streamed = streamed ? streamed.concat(chunk) : chunk;
    expect(streamed!.tool_calls!.map((c) => [c.name, c.args])).toEqual(
      message.tool_calls!.map((c) => [c.name, c.args]),
    );
  });

  it("bindTools with tool_choice any and parallel_tool_calls false: one call", async () => {
    const bound = chat.bindTools([getWeather, getTime], { tool_choice: "any", parallel_tool_calls: false });
    const message = await bound.invoke(question);
    expect(message.tool_calls).toHaveLength(1);
    expect(["get_weather", "get_time"]).toContain(message.tool_calls![0]!.name);
    expectForecast(message.tool_calls![0]!.args);
  });

  it.each(["jsonSchema", "functionCalling"] as const)(
    "withStructuredOutput (%s) gives an object of the zod schema",
    async (method) => {
      const structured = chat.withStructuredOutput(Forecast, { method });
      expectForecast(await structured.invoke(question));
    },
  );
});
