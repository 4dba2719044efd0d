// Reasoning through the three chat APIs and their official clients: chat completions' reasoning_content (message and
// deltas), the Responses API's reasoning items and events, the Messages API's thinking blocks; never the content. On
// synthetic DeepSeek R1 (its generation prompt opens the <think> block, which random weights never close) and Qwen3
// (a required call after reasoning: the reasoning stays reasoning, the message is the call).
import Anthropic from "@anthropic-ai/sdk";
import type OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestServer } from "../helpers/server.js";
import { callNudge, expectForecast, FORECAST_TOOLS, startFamilyServer } from "../helpers/tool-calls.js";

let server: TestServer;
let qwen3: TestServer;
beforeAll(async () => {
  server = await startFamilyServer("deepseek-r1");
  qwen3 = await startFamilyServer("qwen3");
});
afterAll(async () => {
  await server?.close();
  await qwen3?.close();
});

const question = "Is it going to rain in Oslo?";
type WithReasoning = { reasoning_content?: string };

describe("reasoning of a thinking model", () => {
  it("chat completions: in reasoning_content, whole and in deltas, not in content", async () => {
    const request = {
      model: server.model,
      messages: [{ role: "user" as const, content: question }],
      max_tokens: 10,
      temperature: 0,
    };
    const whole = await server.client.chat.completions.create(request);
    const message = whole.choices[0]!.message as (typeof whole.choices)[0]["message"] & WithReasoning;
    expect(message.reasoning_content!.trim().length).toBeGreaterThan(0);
    expect(message.content).toBe("");
    expect(message.content).not.toContain("<think>");

    let reasoning = "";
    let content = "";
    for await (const chunk of await server.client.chat.completions.create({ ...request, stream: true })) {
      const delta = chunk.choices[0]?.delta as
        | (OpenAI.Chat.Completions.ChatCompletionChunk.Choice.Delta & WithReasoning)
        | undefined;
      reasoning += delta?.reasoning_content ?? "";
      content += delta?.content ?? "";
    }
    expect(reasoning).toBe(message.reasoning_content);
    expect(content).toBe("");
  });

  it("Responses API: a reasoning item, streamed as reasoning_text events", async () => {
    const request = { model: server.model, input: question, max_output_tokens: 10, temperature: 0 };
    const whole = await server.client.responses.create(request);
    expect(whole.output.map((item) => item.type)).toEqual(["reasoning"]);
    const item = whole.output[0] as OpenAI.Responses.ResponseReasoningItem;
    const text = item.content![0]!.text;
    expect(text.trim().length).toBeGreaterThan(0);
    expect(whole.output_text).toBe("");

    let streamed = "";
    const types = new Set<string>();
    for await (const event of await server.client.responses.create({ ...request, stream: true })) {
      types.add(event.type);
      if (event.type === "response.reasoning_text.delta") streamed += event.delta;
    }
    expect(streamed).toBe(text);
    expect(types.has("response.output_text.delta")).toBe(false);
  });

  it("Messages API: a thinking block, streamed as thinking deltas", async () => {
    const client = new Anthropic({ baseURL: server.url, apiKey: "unused", maxRetries: 0 });
    const request = {
      model: server.model,
      max_tokens: 10,
      messages: [{ role: "user" as const, content: question }],
      temperature: 0,
    } as Anthropic.MessageCreateParamsNonStreaming;
    const message = await client.messages.create(request);
    expect(message.content.map((block) => block.type)).toEqual(["thinking"]);
    const thinking = (message.content[0] as Anthropic.ThinkingBlock).thinking;
    expect(thinking.trim().length).toBeGreaterThan(0);

    let streamed = "";
    const stream = client.messages.stream(request).on("thinking", (delta) => {
      streamed += delta;
    });
    expect((await stream.finalMessage()).content).toEqual(message.content);
    expect(streamed).toBe(thinking);
  });

  it("a required call after reasoning: reasoning_content holds the reasoning, the message is the call", async () => {
    const completion = await qwen3.client.chat.completions.create({
      model: qwen3.model,
      messages: [{ role: "user", content: question }],
      tools: FORECAST_TOOLS,
      tool_choice: "required",
      parallel_tool_calls: false,
      temperature: 0,
      max_tokens: 250,
      logit_bias: callNudge(qwen3, "qwen3"),
    });
    const choice = completion.choices[0]!;
    const message = choice.message as typeof choice.message & WithReasoning;
    expect(choice.finish_reason).toBe("tool_calls");
    expect(message.content).toBeNull();
    expect(message.reasoning_content!.length).toBeGreaterThan(0);
    expect(message.tool_calls).toHaveLength(1);
    expectForecast(
      (message.tool_calls![0] as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall).function.arguments,
    );
  });
});
