// chatEvents, serving's reading of a chat's growing output, with a real model's chat format (template and llama.cpp
// parser): a choice limited to one call is stopped once the call is whole, even where no grammar ends it (Llama
// 3.1's auto has none), and what comes after is dropped; the ids of the calls are the server's, in the shape the
// template takes back (Mistral's 9 alphanumerics); whitespace before a call is not content.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatFamilyName } from "../../models/chat-families.js";
import { LlamaModel } from "../../src/backend/llama/llama-model.js";
import type { ChatEvent, ChatInput } from "../../src/serving/llm/chat.js";
import { chatEvents } from "../../src/serving/llm/chat-stream.js";
import type { GenerationEvent } from "../../src/serving/llm/generation.js";
import { LlamaChatFormat } from "../../src/serving/llm/llama-chat-format.js";
import { TOOLS } from "../helpers/chat-texts.js";
import { chatModel } from "../helpers/models.js";

const usage = { promptTokens: 1, completionTokens: 1, cachedPromptTokens: 0 };

/** A generation's events for one choice: the text in `pieces`, then its end. */
async function* generation(pieces: readonly string[]): AsyncGenerator<GenerationEvent> {
  for (const text of pieces) yield { type: "delta", index: 0, text, logprobs: [] };
  yield { type: "finished", index: 0, reason: "stop", message: null, usage, queueMs: 0, stopString: null };
  yield { type: "usage", usage };
}

async function read(family: ChatFamilyName, pieces: readonly string[], parallelToolCalls: boolean) {
  const model = await LlamaModel.load(chatModel(family));
  try {
    const input: ChatInput = {
      messages: [{ role: "user", content: "Weather in Paris?" }],
      tools: TOOLS.map((t) => t.function),
      toolChoice: "auto",
      parallelToolCalls,
      format: { type: "text" },
    };
    const rendered = new LlamaChatFormat(model).render(input);
    const stops: { index: number; after: number }[] = [];
    let delivered = 0;
    const counted = (async function* () {
      for await (const event of generation(pieces)) {
        if (event.type === "delta") delivered++;
        yield event;
      }
    })();
    const reading = {
      parse: rendered.parse,
      complete: rendered.complete,
      callIds: rendered.callIds,
      maxToolCalls: parallelToolCalls ? Number.POSITIVE_INFINITY : 1,
      stop: (index: number) => stops.push({ index, after: delivered }),
    };
    const events: ChatEvent[] = [];
    for await (const event of chatEvents(counted, 1, reading)) events.push(event);
    return { events, stops };
  } finally {
    model.dispose();
  }
}

// A get_weather call in Llama 3.1's JSON (arguments under "parameters") and in Qwen's <tool_call> format.
const call = (city: string) => ['{"name": "get_weather", ', '"parameters": {"city": ', `"${city}"}`, "}"];
const qwenCall = (city: string) => [
  "<tool_call>\n",
  '{"name": "get_weather", ',
  '"arguments": {"city": ',
  `"${city}"}`,
  "}\n</tool_call>",
];

describe("a choice limited to one call", () => {
  it("is stopped when the call is whole, and what follows is dropped (Llama 3.1 auto, no grammar)", async () => {
    const pieces = [...call("Paris"), ' {"name": "get_time"', ', "parameters": {}}'];
    const { events, stops } = await read("llama-3.1", pieces, false);
    expect(stops).toEqual([{ index: 0, after: 4 }]);
    const finished = events.find((e) => e.type === "finished") as Extract<ChatEvent, { type: "finished" }>;
    expect(finished.toolCalls.map((c) => [c.name, JSON.parse(c.arguments)])).toEqual([
      ["get_weather", { city: "Paris" }],
    ]);
    expect(
      events
        .filter((e) => e.type === "content")
        .map((e) => (e as { text: string }).text)
        .join(""),
    ).toBe("");
  });

  it("is left running with parallel calls allowed", async () => {
    const { stops } = await read("qwen2.5", qwenCall("Paris"), true);
    expect(stops).toEqual([]);
  });
});

describe("call ids", () => {
  let model: LlamaModel;
  beforeAll(async () => {
    model = await LlamaModel.load(chatModel("mistral-nemo"));
  });
  afterAll(() => model.dispose());

  it("are 9 alphanumerics for Mistral, whose template refuses others, and OpenAI's elsewhere", async () => {
    const mistral = new LlamaChatFormat(model).render({
      messages: [{ role: "user", content: "?" }],
      tools: [],
      toolChoice: "none",
      parallelToolCalls: false,
      format: { type: "text" },
    });
    const ids = [mistral.callIds(), mistral.callIds()];
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9]{9}$/);
    expect(ids[0]).not.toBe(ids[1]);
    const { events } = await read("qwen2.5", qwenCall("Paris"), false);
    const first = events.find((e) => e.type === "tool_call") as Extract<ChatEvent, { type: "tool_call" }>;
    expect(first.id).toMatch(/^call_[A-Za-z0-9]{24}$/);
  });
});

describe("whitespace after reasoning", () => {
  const reasoning = (events: ChatEvent[]) =>
    events
      .filter((e) => e.type === "reasoning")
      .map((e) => (e as { text: string }).text)
      .join("");
  const content = (events: ChatEvent[]) =>
    events
      .filter((e) => e.type === "content")
      .map((e) => (e as { text: string }).text)
      .join("");

  it("is not content before a call", async () => {
    const { events } = await read("qwen3", ["<think>\nhm\n</think>", " ", ...qwenCall("Oslo")], false);
    expect(content(events)).toBe("");
    expect(reasoning(events).trim()).toBe("hm");
  });

  it("is content before text, and in an answer that is only whitespace", async () => {
    expect(content((await read("qwen3", ["<think>\nhm\n</think>", " ", "Hi"], false)).events)).toBe(" Hi");
    expect(content((await read("qwen3", ["<think>\nhm\n</think>", " "], false)).events)).toBe(" ");
  });
});
