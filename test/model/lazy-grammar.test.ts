// The sampler's chat-layer grammars: a lazy grammar constrains nothing until its trigger, then everything; inside a
// thinking block a trigger does not engage it; an eager one starts after the generation prompt. Tokens are replayed
// through a real sampler, which refuses a token its grammar does not allow.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatFamilyName } from "../../models/chat-families.js";
import { type ChatPrompt, ChatParser, ChatTemplates, type ToolChoice } from "../../src/backend/llama/chat-layer.js";
import type { LlamaContext } from "../../src/backend/llama/llama-context.js";
import { LlamaModel } from "../../src/backend/llama/llama-model.js";
import { samplingParams } from "../../src/sampling-params.js";
import type { NativeSampler } from "../../src/backend/llama/addon.js";
import { TOOLS } from "../helpers/chat-texts.js";
import { chatModel, tinyModel } from "../helpers/models.js";

async function open(family: ChatFamilyName) {
  const model = await LlamaModel.load(chatModel(family));
  const context = await model.createContext({ kvTokens: 256, maxSequences: 1, threads: 1 });
  const templates = ChatTemplates.create(model);
  const prompt = (toolChoice: ToolChoice) =>
    templates.apply({ messages: [{ role: "user", content: "Weather in Paris?" }], tools: TOOLS, toolChoice });
  return { model, context, prompt };
}

/** Replays text into the sampler; false when its grammar refuses a token of it. */
function feed(model: LlamaModel, sampler: NativeSampler, text: string): boolean {
  try {
    sampler.accept(model.tokenize(text, { addSpecial: false, parseSpecial: true }));
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === "LOOM_SAMPLING_FAILED") return false;
    throw error;
  }
}

describe("a lazy grammar", () => {
  let model: LlamaModel;
  let context: LlamaContext;
  let auto: ChatPrompt;

  beforeAll(async () => {
    const opened = await open("qwen2.5");
    ({ model, context } = opened);
    auto = opened.prompt("auto");
  });

  afterAll(async () => {
    await context.dispose();
    model.dispose();
  });

  it("lets any text through until its trigger, then only a call", () => {
    // The trigger word "<tool_call>\n" is the marker token and whitespace: the marker token engages the grammar.
    const marker = model.tokenize("<tool_call>", { addSpecial: false, parseSpecial: true });
    expect(marker).toHaveLength(1);
    expect(auto.grammar).toMatchObject({
      lazy: true,
      triggers: [{ type: "token", value: "<tool_call>\n", token: marker[0] }],
    });
    const sampler = context.createSampler(samplingParams({ grammar: auto.grammar }));
    expect(feed(model, sampler, "Sure, let me look that up. {not json} ")).toBe(true);
    expect(feed(model, sampler, '<tool_call>\n{"name": "get_weather", "arguments": {"city": ')).toBe(true);
    expect(feed(model, sampler, "Paris")).toBe(false);
  });

  it("engages at the marker token and then requires the whitespace of the trigger word", () => {
    const sampler = context.createSampler(samplingParams({ grammar: auto.grammar }));
    expect(feed(model, sampler, "<tool_call>")).toBe(true);
    expect(feed(model, sampler, "{")).toBe(false);
  });

  it("refuses a lazy grammar without triggers", () => {
    expect(() => context.createSampler(samplingParams({ grammar: { ...auto.grammar!, triggers: [] } }))).toThrow(
      expect.objectContaining({ code: "LOOM_INVALID_GRAMMAR" }),
    );
  });
});

describe("a lazy grammar triggered by a control token", () => {
  it("engages on the token itself", async () => {
    const { model, context, prompt } = await open("mistral-nemo");
    try {
      const auto = prompt("auto");
      expect(auto.grammar!.triggers).toEqual([{ type: "token", value: "[TOOL_CALLS]", token: expect.any(Number) }]);
      const free = context.createSampler(samplingParams({ grammar: auto.grammar }));
      expect(feed(model, free, "Sure. [TOOL CALLS] is not the token")).toBe(true);
      expect(feed(model, free, "[TOOL_CALLS]")).toBe(true);
      expect(feed(model, free, "xyz")).toBe(false);
    } finally {
      await context.dispose();
      model.dispose();
    }
  });
});

describe("the generation prompt on a SentencePiece vocabulary", () => {
  it("is walked as text, though the tokenizer puts a space after each special token", async () => {
    const model = await LlamaModel.load(tinyModel());
    const context = await model.createContext({ kvTokens: 256, maxSequences: 1, threads: 1 });
    try {
      const structured = ChatTemplates.create(model).apply({
        messages: [{ role: "user", content: "Rate it." }],
        jsonSchema: { type: "object", properties: { score: { type: "integer" } }, required: ["score"] },
      });
      expect(structured.grammar!.prefill).toBe("<|im_start|>assistant\n");
      const pieces = [...model.tokenize(structured.grammar!.prefill, { addSpecial: false, parseSpecial: true })];
      const text = (t: number) => new TextDecoder().decode(model.tokenToBytes(t, { special: true }));
      expect(pieces.map(text)).toContain(" assistant");
      const sampler = () => context.createSampler(samplingParams({ grammar: structured.grammar }));
      expect(feed(model, sampler(), '{"score": 7}')).toBe(true);
      expect(feed(model, sampler(), "[7]")).toBe(false);
    } finally {
      await context.dispose();
      model.dispose();
    }
  });
});

describe("a lazy grammar on a thinking model", () => {
  let model: LlamaModel;
  let context: LlamaContext;
  let prompt: (choice: ToolChoice) => ChatPrompt;

  beforeAll(async () => {
    ({ model, context, prompt } = await open("qwen3"));
  });

  afterAll(async () => {
    await context.dispose();
    model.dispose();
  });

  it("stays idle while the model thinks about a call, and engages after the thinking", () => {
    const auto = prompt("auto");
    expect(auto.grammar).toMatchObject({ lazy: true, thinkingStartTag: "<think>", thinkingEndTags: ["</think>"] });
    const sampler = context.createSampler(samplingParams({ grammar: auto.grammar }));
    expect(feed(model, sampler, "<think>\nI could write <tool_call>\n then anything at all.\n</think>\n\n")).toBe(true);
    expect(feed(model, sampler, 'Checking. <tool_call>\n{"name": "get_time", "arguments": {"city": "Oslo"}}')).toBe(
      true,
    );
    expect(feed(model, sampler, " trailing words")).toBe(false);
  });

  it("lets a thinking model think before the structured answer", () => {
    const templates = ChatTemplates.create(model);
    const messages = [{ role: "user" as const, content: "Rate it." }];
    const rated = templates.apply({
      messages,
      jsonSchema: { type: "object", properties: { score: { type: "integer" } }, required: ["score"] },
    });
    expect(rated.grammar).toMatchObject({ lazy: false, prefill: rated.parser.generationPrompt });
    const sampler = context.createSampler(samplingParams({ grammar: rated.grammar }));
    expect(feed(model, sampler, '<think>\nFair.\n</think>\n\n{"score": 7}')).toBe(true);
    expect(new ChatParser(rated.parser).parse('<think>\nFair.\n</think>\n\n{"score": 7}').content).toBe('{"score": 7}');
    const anyObject = context.createSampler(
      samplingParams({ grammar: templates.apply({ messages, jsonSchema: {} }).grammar }),
    );
    expect(feed(model, anyObject, "[1]")).toBe(false);
  });

  it("walks an eager grammar past the generation prompt, then holds the call's shape", () => {
    const required = prompt("required");
    expect(required.grammar).toMatchObject({ lazy: false, prefill: "<|im_start|>assistant\n" });
    const sampler = context.createSampler(samplingParams({ grammar: required.grammar }));
    expect(feed(model, sampler, '<think>\nOk.\n</think>\n\n<tool_call>\n{"name": "get_weather", "arguments": ')).toBe(
      true,
    );
    expect(feed(model, sampler, "[1, 2]")).toBe(false);
    const unprefilled = context.createSampler(samplingParams({ grammar: { ...required.grammar!, prefill: "" } }));
    expect(feed(model, unprefilled, "<tool_call>\n")).toBe(false);
  });
});
