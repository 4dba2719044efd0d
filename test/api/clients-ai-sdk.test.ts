// The Vercel AI SDK, unchanged, against a Loom server: generateText and streamText with tools through @ai-sdk/openai
// (whose default is the Responses API) and through @ai-sdk/openai-compatible (chat completions, with the
// includeUsage and supportsStructuredOutputs settings README recommends), and structured output. On a synthetic
// Granite 4.0 model (llama.cpp's <tool_call> format, a vocabulary small enough to keep grammars fast).
import { createOpenAI } from "@ai-sdk/openai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { generateText, type LanguageModel, Output, streamText, tool } from "ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestServer } from "../helpers/server.js";
import { expectForecast, Forecast, startFamilyServer } from "../helpers/tool-calls.js";

let server: TestServer;
let responsesModel: LanguageModel;
let chatModel: LanguageModel;
beforeAll(async () => {
  server = await startFamilyServer("granite-4.0");
  responsesModel = createOpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused" })(server.model);
  chatModel = createOpenAICompatible({
    name: "loom",
    baseURL: `${server.url}/v1`,
    apiKey: "unused",
    includeUsage: true,
    supportsStructuredOutputs: true,
  })(server.model);
});
afterAll(async () => {
  await server?.close();
});

const seen: unknown[] = [];
const tools = {
  get_weather: tool({
    description: "The weather in a city",
    inputSchema: Forecast,
    execute: async (input) => {
      seen.push(input);
      return { sky: "clear" };
    },
  }),
  get_time: tool({ description: "The local time in a city", inputSchema: Forecast, execute: async () => "noon" }),
};
const request = { prompt: "Forecast for Oslo, three days?", tools, temperature: 0, maxOutputTokens: 200 };
// One call per turn (a weak model would otherwise call on until max tokens), in each provider's own option.
const oneCall = { openai: { parallelToolCalls: false }, loom: { parallel_tool_calls: false } };

function callsOf(calls: readonly { toolName: string; input: unknown }[]) {
  return calls.map((call) => ({ toolName: call.toolName, input: call.input }));
}

describe.each([
  ["@ai-sdk/openai (Responses API)", () => responsesModel],
  ["@ai-sdk/openai-compatible (chat completions)", () => chatModel],
])("%s", (_, model) => {
  it("generateText runs a required call's tool with input that matches the schema; streamText makes the same call", async () => {
    seen.length = 0;
    const whole = await generateText({ ...request, model: model(), toolChoice: "required", providerOptions: oneCall });
    expect(whole.finishReason).toBe("tool-calls");
    expect(whole.toolCalls).toHaveLength(1);
    expectForecast(whole.toolCalls[0]!.input);
    expect(whole.toolResults).toHaveLength(1);
    expect(whole.usage.outputTokens).toBeGreaterThan(0);

    const streamed = streamText({ ...request, model: model(), toolChoice: "required", providerOptions: oneCall });
    expect(callsOf(await streamed.toolCalls)).toEqual(callsOf(whole.toolCalls));
    expect(await streamed.finishReason).toBe("tool-calls");
    // Usage at the end of a stream: the Responses API always sends it, chat completions with includeUsage.
    expect((await streamed.usage).outputTokens).toBeGreaterThan(0);
  });

  it("a named tool choice calls that tool only", async () => {
    seen.length = 0;
    const result = await generateText({
      ...request,
      model: model(),
      toolChoice: { type: "tool", toolName: "get_weather" },
    });
    expect(result.toolCalls.map((call) => call.toolName)).toEqual(["get_weather"]);
    expect(seen).toHaveLength(1);
    expectForecast(seen[0]);
  });

  it("Output.object gives an object of the zod schema", async () => {
    const result = await generateText({
      model: model(),
      prompt: "Forecast for Oslo, three days?",
      output: Output.object({ schema: Forecast }),
      temperature: 0,
      maxOutputTokens: 200,
    });
    expectForecast(result.output);
  });
});
