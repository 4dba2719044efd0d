// The grammars of `required` and named tool choices, per chat family, with OpenAI's semantics: the output is the
// call(s) right away (a reasoning block the template opens or allows may come first), and with parallel_tool_calls
// false exactly one call, after which only end-of-generation is allowed. Model-shaped text is replayed through a real
// sampler, which refuses a token its grammar does not allow; then a weak model, unnudged, must write a valid call.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHAT_FAMILIES, type ChatFamilyName } from "../../models/chat-families.js";
import { ChatParser, ChatTemplates, type ChatApplyRequest } from "../../src/backend/llama/chat-layer.js";
import type { LlamaContext } from "../../src/backend/llama/llama-context.js";
import { LlamaModel } from "../../src/backend/llama/llama-model.js";
import type { NativeSampler } from "../../src/backend/llama/addon.js";
import { samplingParams } from "../../src/sampling-params.js";
import { FAMILY_TEXTS, TOOLS } from "../helpers/chat-texts.js";
import { clearPool, generateUntilEnd } from "../helpers/llama.js";
import { chatModel } from "../helpers/models.js";

/** Replays text (or token ids) into the sampler; false when its grammar refuses a token of it. */
function feed(model: LlamaModel, sampler: NativeSampler, text: string | readonly number[]): boolean {
  try {
    sampler.accept(
      typeof text === "string"
        ? model.tokenize(text, { addSpecial: false, parseSpecial: true })
        : Int32Array.from(text),
    );
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === "LOOM_SAMPLING_FAILED") return false;
    throw error;
  }
}

// Text a model may write before its calls where the format allows it: the content, or gpt-oss's preamble (its
// final channel is no place for calls, so the content text proves nothing there).
const TEXT_FIRST: Partial<Record<ChatFamilyName, string>> = {
  "gpt-oss": "<|channel|>commentary<|message|>Let me look.",
};

const NAMED = { type: "function", function: { name: "get_time" } } as const;
// Llama 3.1 has no auto grammar (its calls have no marker); Functionary v3.2's lazy grammar is broken in this
// llama.cpp (docs/chat-layer.md).
const NO_LAZY_AUTO: readonly ChatFamilyName[] = ["llama-3.1", "functionary-3.2"];

for (const family of Object.keys(CHAT_FAMILIES) as ChatFamilyName[]) {
  const texts = FAMILY_TEXTS[family];
  describe(family, () => {
    let model: LlamaModel;
    let context: LlamaContext;
    let templates: ChatTemplates;
    const sampler = (request: Omit<ChatApplyRequest, "messages">) => {
      const prompt = templates.apply({
        messages: [{ role: "user", content: "Weather in Paris?" }],
        tools: TOOLS,
        ...request,
      });
      expect(prompt.grammar).not.toBeNull();
      return context.createSampler(samplingParams({ grammar: prompt.grammar }));
    };

    beforeAll(async () => {
      model = await LlamaModel.load(chatModel(family));
      context = await model.createContext({ kvTokens: 256, maxSequences: 1, threads: 1 });
      templates = ChatTemplates.create(model);
    });

    afterAll(async () => {
      await context.dispose();
      model.dispose();
    });

    it("required: refuses text before the call, takes the call (after reasoning where the family reasons)", () => {
      const textFirst = TEXT_FIRST[family] ?? texts.content;
      // Where auto has a grammar, the same text passes it: the refusal is the required choice's.
      if (!NO_LAZY_AUTO.includes(family)) expect(feed(model, sampler({ toolChoice: "auto" }), textFirst)).toBe(true);
      expect(feed(model, sampler({ toolChoice: "required" }), textFirst)).toBe(false);
      expect(feed(model, sampler({ toolChoice: "required" }), texts.oneCall)).toBe(true);
      if (texts.reasoningThenCall !== undefined) {
        expect(feed(model, sampler({ toolChoice: "required" }), texts.reasoningThenCall)).toBe(true);
      }
    });

    it("parallel_tool_calls false: after one call only end-of-generation is allowed", () => {
      const one = sampler({ toolChoice: "required", parallelToolCalls: false });
      expect(feed(model, one, texts.oneCall)).toBe(true);
      expect(feed(model, one, [model.info.endOfGenerationTokens[0]!])).toBe(true);
      const more = sampler({ toolChoice: "required", parallelToolCalls: false });
      expect(feed(model, more, texts.oneCall)).toBe(true);
      expect(feed(model, more, "x")).toBe(false);
      if (typeof texts.twoCalls === "string") {
        expect(feed(model, sampler({ toolChoice: "required", parallelToolCalls: false }), texts.twoCalls)).toBe(false);
        expect(feed(model, sampler({ toolChoice: "required", parallelToolCalls: true }), texts.twoCalls)).toBe(true);
      }
    });

    it("a named tool: only that tool, once", () => {
      expect(feed(model, sampler({ toolChoice: NAMED }), texts.oneCall)).toBe(false);
      const named = sampler({ toolChoice: NAMED });
      expect(feed(model, named, texts.oneCall.replace("get_weather", "get_time"))).toBe(true);
      expect(feed(model, named, "x")).toBe(false);
    });

    if (!NO_LAZY_AUTO.includes(family)) {
      it("auto with parallel_tool_calls false: one call ends the output", () => {
        const auto = sampler({ toolChoice: "auto", parallelToolCalls: false });
        expect(feed(model, auto, texts.oneCall)).toBe(true);
        expect(feed(model, auto, "x")).toBe(false);
        if (typeof texts.twoCalls === "string") {
          expect(feed(model, sampler({ toolChoice: "auto", parallelToolCalls: false }), texts.twoCalls)).toBe(false);
        }
      });
    }
  });
}

// Schemas without free strings bound a call's length, so a model that writes only what the grammar allows ends.
const FORECAST = {
  type: "object",
  properties: {
    city: { type: "string", enum: ["Paris", "Oslo", "Lima"] },
    days: { type: "integer", minimum: 1, maximum: 7 },
  },
  required: ["city", "days"],
  additionalProperties: false,
} as const;

describe.each(["qwen2.5", "mistral-nemo", "llama-3.1"] as const)(
  "a weak model (%s) under a required choice",
  (family) => {
    let model: LlamaModel;
    let context: LlamaContext;

    beforeAll(async () => {
      model = await LlamaModel.load(chatModel(family));
      context = await model.createContext({ kvTokens: 1024, maxSequences: 1, threads: 1 });
    });

    afterAll(async () => {
      await context.dispose();
      model.dispose();
    });

    it("writes one call whose arguments match the schema at once, unnudged, and ends", async () => {
      const prompt = ChatTemplates.create(model).apply({
        messages: [{ role: "user", content: "Forecast for Oslo?" }],
        tools: [{ type: "function", function: { name: "get_forecast", parameters: FORECAST } }],
        toolChoice: "required",
        parallelToolCalls: false,
      });
      const sampler = context.createSampler(samplingParams({ temperature: 0, grammar: prompt.grammar }));
      const promptTokens = model.tokenize(prompt.prompt, { addSpecial: true, parseSpecial: true });
      const { tokens, ended } = await generateUntilEnd(context, { prompt: promptTokens, sampler }, 300);
      sampler.dispose();
      await clearPool(context);
      const text = model.detokenize(Int32Array.from(tokens), { unparseSpecial: true });
      expect(ended, text).toBe(true);
      const parser = new ChatParser(prompt.parser);
      expect(parser.complete(text)).toBe(true);
      const message = parser.parse(text);
      expect(message.content.trim()).toBe("");
      expect(message.toolCalls).toHaveLength(1);
      const args = JSON.parse(message.toolCalls[0]!.arguments) as { city: string; days: number };
      expect(FORECAST.properties.city.enum).toContain(args.city);
      expect(Number.isInteger(args.days) && args.days >= 1 && args.days <= 7).toBe(true);
    });
  },
);
