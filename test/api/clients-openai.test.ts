// The official openai client's tool and structured-output helpers, unchanged, against a Loom server: runTools with a
// zod function (plain and streamed), the chat stream helper's parsed arguments, chat.completions.parse, and the
// Responses API with function tools (plain, streamed, continued with the call's output) and responses.parse. On a
// synthetic Granite 4.0 model: llama.cpp's <tool_call> format over a vocabulary small enough to keep grammars fast.
import type OpenAI from "openai";
import { zodFunction, zodResponseFormat, zodTextFormat } from "openai/helpers/zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestServer } from "../helpers/server.js";
import { expectForecast, FORECAST_SCHEMA, Forecast, startFamilyServer } from "../helpers/tool-calls.js";

let server: TestServer;
let client: OpenAI;
beforeAll(async () => {
  server = await startFamilyServer("granite-4.0");
  client = server.client;
});
afterAll(async () => {
  await server?.close();
});

const ask = [{ role: "user" as const, content: "Forecast for Oslo, three days?" }];
const settings = { temperature: 0, max_tokens: 200 } as const;

describe("chat completions helpers", () => {
  it("runTools calls a named zod function once with validated arguments, streamed or not", async () => {
    const run = async (stream: boolean) => {
      const seen: unknown[] = [];
      const tool = zodFunction({
        name: "get_weather",
        parameters: Forecast,
        function: (args) => {
          seen.push(args);
          return { sky: "clear" };
        },
      });
      const body = {
        model: server.model,
        messages: ask,
        tools: [tool],
        tool_choice: { type: "function" as const, function: { name: "get_weather" } },
        ...settings,
      };
      const runner = stream
        ? client.chat.completions.runTools({ ...body, stream: true })
        : client.chat.completions.runTools(body);
      await runner.done();
      expect(runner.messages.at(-1)).toMatchObject({ role: "tool", content: JSON.stringify({ sky: "clear" }) });
      return seen;
    };
    const whole = await run(false);
    expect(whole).toHaveLength(1);
    expectForecast(whole[0]);
    expect(await run(true)).toEqual(whole);
  });

  it("the stream helper hands over each call's arguments parsed by the tool's zod schema", async () => {
    const parsed: unknown[] = [];
    const stream = client.chat.completions
      .stream({
        model: server.model,
        messages: ask,
        tools: [zodFunction({ name: "get_time", parameters: Forecast })],
        tool_choice: "required",
        parallel_tool_calls: false,
        ...settings,
      })
      .on("tool_calls.function.arguments.done", (event) => parsed.push(event.parsed_arguments));
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]!.finish_reason).toBe("tool_calls");
    expect(parsed).toHaveLength(1);
    expectForecast(parsed[0]);
    const call = final.choices[0]!.message
      .tool_calls![0] as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall;
    expect(JSON.parse(call.function.arguments)).toEqual(parsed[0]);
  });

  it("chat.completions.parse returns the zod-parsed answer of a json_schema response_format", async () => {
    const completion = await client.chat.completions.parse({
      model: server.model,
      messages: ask,
      response_format: zodResponseFormat(Forecast, "forecast"),
      ...settings,
    });
    expect(completion.choices[0]!.finish_reason).toBe("stop");
    expectForecast(completion.choices[0]!.message.parsed);
  });
});

describe("Responses API", () => {
  const tools = [
    { type: "function" as const, name: "get_weather", parameters: FORECAST_SCHEMA, strict: true },
    { type: "function" as const, name: "get_time", parameters: FORECAST_SCHEMA, strict: true },
  ];
  const request = {
    input: "Forecast for Oslo, three days?",
    tools,
    tool_choice: "required" as const,
    parallel_tool_calls: false,
    temperature: 0,
    max_output_tokens: 200,
  };

  it("gives a required call as a function_call item, the same streamed, and goes on with its output", async () => {
    const body = { ...request, model: server.model };
    const whole = await client.responses.create(body);
    expect(whole.status).toBe("completed");
    expect(whole.output).toHaveLength(1);
    const call = whole.output[0] as OpenAI.Responses.ResponseFunctionToolCall;
    expect(call).toMatchObject({ type: "function_call", status: "completed" });
    expect(["get_weather", "get_time"]).toContain(call.name);
    expectForecast(call.arguments);

    const stream = await client.responses.create({ ...body, stream: true });
    let deltas = "";
    let added: OpenAI.Responses.ResponseOutputItem | null = null;
    let done: { name: string; arguments: string } | null = null;
    let completed: OpenAI.Responses.Response | null = null;
    for await (const event of stream) {
      if (event.type === "response.output_item.added") added = event.item;
      if (event.type === "response.function_call_arguments.delta") deltas += event.delta;
      if (event.type === "response.function_call_arguments.done") done = event as unknown as typeof done;
      if (event.type === "response.completed") completed = event.response;
    }
    expect(added).toMatchObject({ type: "function_call", name: call.name });
    expect(done).toMatchObject({ name: call.name, arguments: call.arguments });
    expect(deltas).toBe(call.arguments);
    expect(completed!.output).toEqual([expect.objectContaining({ name: call.name, arguments: call.arguments })]);

    const next = await client.responses.create({
      model: server.model,
      previous_response_id: whole.id,
      input: [{ type: "function_call_output", call_id: call.call_id, output: "Sunny, 21 C" }],
      tools,
      max_output_tokens: 3,
    });
    expect(next.output.at(-1)).toMatchObject({ type: "message", role: "assistant" });
    expect(next.usage!.input_tokens).toBeGreaterThan(whole.usage!.input_tokens);
  });

  it("calls a named function only", async () => {
    const response = await client.responses.create({
      ...request,
      model: server.model,
      tool_choice: { type: "function", name: "get_time" },
    });
    expect(response.output.map((item) => [item.type, (item as { name?: string }).name])).toEqual([
      ["function_call", "get_time"],
    ]);
    expectForecast((response.output[0] as OpenAI.Responses.ResponseFunctionToolCall).arguments);
  });

  it("responses.parse returns the zod-parsed answer of a text.format json_schema", async () => {
    const response = await client.responses.parse({
      model: server.model,
      input: "Forecast for Oslo, three days?",
      text: { format: zodTextFormat(Forecast, "forecast") },
      temperature: 0,
      max_output_tokens: 200,
    });
    expect(response.status).toBe("completed");
    expectForecast(response.output_parsed);
  });
});
