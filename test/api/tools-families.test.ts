// Tool calling through /v1/chat/completions and the official openai client, on a synthetic model of every chat
// family llama.cpp's chat layer serves (docs/chat-layer.md): `required` and named choices give calls whose arguments
// match the schema, the same streamed (through the client's stream helper) as not; the call and its result continue
// the conversation; `auto` engages its lazy grammar where the model starts a call; parallel calls get distinct ids and
// indices. Random-weight models get only the nudges of test/helpers/tool-calls.ts.
import type OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHAT_FAMILIES, type ChatFamilyName } from "../../models/chat-families.js";
import type { TestServer } from "../helpers/server.js";
import { callNudge, expectForecast, FORECAST_TOOLS, NUDGEABLE_AUTO, startFamilyServer } from "../helpers/tool-calls.js";

type Call = OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall;
const ask = [{ role: "user" as const, content: "Forecast for Oslo, three days?" }];
const NAMES = FORECAST_TOOLS.map((t) => t.function.name);

function calls(completion: OpenAI.Chat.Completions.ChatCompletion): Call[] {
  return (completion.choices[0]!.message.tool_calls ?? []) as Call[];
}

const withoutIds = (list: readonly Call[]) =>
  list.map((c) => ({ name: c.function.name, arguments: c.function.arguments }));

for (const family of Object.keys(CHAT_FAMILIES) as ChatFamilyName[]) {
  describe(family, () => {
    let server: TestServer;
    let request: (extra: object) => Omit<OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming, "stream">;

    beforeAll(async () => {
      server = await startFamilyServer(family);
      const logitBias = callNudge(server, family);
      request = (extra) => ({
        model: server.model,
        messages: ask,
        tools: FORECAST_TOOLS,
        temperature: 0,
        max_tokens: 250,
        logit_bias: logitBias,
        ...extra,
      });
    });

    afterAll(async () => {
      await server?.close();
    });

    it("required: one call matching the schema, the same streamed; with its result the conversation goes on", async () => {
      const body = request({ tool_choice: "required", parallel_tool_calls: false });
      const whole = await server.client.chat.completions.create(body);
      const choice = whole.choices[0]!;
      expect(choice.finish_reason).toBe("tool_calls");
      expect(choice.message.content).toBeNull();
      expect(calls(whole)).toHaveLength(1);
      const [call] = calls(whole);
      expect(NAMES).toContain(call!.function.name);
      expectForecast(call!.function.arguments);

      const streamed = await server.client.chat.completions.stream(body).finalChatCompletion();
      expect(streamed.choices[0]!.finish_reason).toBe("tool_calls");
      expect(withoutIds(calls(streamed))).toEqual(withoutIds(calls(whole)));
      expect(calls(streamed)[0]!.id).not.toBe(call!.id);

      const next = await server.client.chat.completions.create({
        ...request({ max_tokens: 3 }),
        messages: [
          ...ask,
          { role: "assistant", content: null, tool_calls: [call!] },
          { role: "tool", tool_call_id: call!.id, content: "Sunny, 21 C" },
        ],
      });
      expect(next.choices[0]!.message.role).toBe("assistant");
      expect(next.usage!.prompt_tokens).toBeGreaterThan(whole.usage!.prompt_tokens);
    });

    it("a named tool: one call to that tool", async () => {
      const named = await server.client.chat.completions.create(
        request({ tool_choice: { type: "function", function: { name: "get_time" } } }),
      );
      expect(named.choices[0]!.finish_reason).toBe("tool_calls");
      expect(calls(named).map((c) => c.function.name)).toEqual(["get_time"]);
      expectForecast(calls(named)[0]!.function.arguments);
    });

    if (NUDGEABLE_AUTO.includes(family)) {
      it("auto: a call the model starts engages the lazy grammar and completes valid", async () => {
        const completion = await server.client.chat.completions.create({
          ...request({ tool_choice: "auto", parallel_tool_calls: false }),
          logit_bias: callNudge(server, family, { auto: true }),
        });
        expect(completion.choices[0]!.finish_reason).toBe("tool_calls");
        expect(calls(completion)).toHaveLength(1);
        expectForecast(calls(completion)[0]!.function.arguments);
      });
    }
  });
}

describe.each(["qwen2.5", "mistral-nemo"] as const)("parallel calls (%s)", (family) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startFamilyServer(family);
  });

  afterAll(async () => {
    await server?.close();
  });

  it("stream each call once with its own id and index, arguments in fragments", async () => {
    // Nothing ends a weak model's run of calls but max_tokens; the last may be cut short, and says so.
    const stream = await server.client.chat.completions.create({
      model: server.model,
      messages: ask,
      tools: FORECAST_TOOLS,
      tool_choice: "required",
      temperature: 0,
      max_tokens: 150,
      logit_bias: callNudge(server, family),
      stream: true,
    });
    const byIndex = new Map<number, { id: string; name: string; arguments: string; fragments: number }>();
    let finish: string | null = null;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      finish = choice?.finish_reason ?? finish;
      for (const delta of choice?.delta.tool_calls ?? []) {
        const seen = byIndex.get(delta.index);
        if (seen === undefined) {
          expect(delta.id).toBeTruthy();
          expect(delta.function?.name).toBeTruthy();
          byIndex.set(delta.index, {
            id: delta.id!,
            name: delta.function!.name!,
            arguments: delta.function?.arguments ?? "",
            fragments: 1,
          });
          continue;
        }
        expect(delta.id).toBeUndefined();
        seen.arguments += delta.function?.arguments ?? "";
        seen.fragments++;
      }
    }
    const list = [...byIndex.entries()].sort(([a], [b]) => a - b).map(([, call]) => call);
    expect([...byIndex.keys()].sort()).toEqual(list.map((_, k) => k));
    expect(list.length).toBeGreaterThanOrEqual(2);
    expect(new Set(list.map((c) => c.id)).size).toBe(list.length);
    const complete = finish === "length" ? list.slice(0, -1) : list;
    expect(complete.length).toBeGreaterThanOrEqual(2);
    for (const call of complete) {
      expect(NAMES).toContain(call.name);
      expect(call.fragments).toBeGreaterThan(1);
      expectForecast(call.arguments);
    }
  });
});
