// Tool calls sampled by a real model under the chat layer's grammars, for every chat family: the text parses into
// calls whose arguments are JSON of the tool's schema. A random-weight model makes none of a trained model's
// decisions; the grammars leave some open: to start a call at all in auto (text may come first), to close a free
// string, to end the turn after a call where more may follow. So each test gives the opening of the call, as the
// family's models write it, and biases the closing quote and the end-of-generation tokens, which the grammar still
// rejects wherever they would break the call; the model writes the rest. (tool-grammar.test.ts samples a required
// call with no help at all.)
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CHAT_FAMILIES, type ChatFamilyName } from "../../models/chat-families.js";
import {
  type ChatApplyRequest,
  ChatParser,
  ChatTemplates,
  type ChatTool,
  type ParsedChatMessage,
} from "../../src/backend/llama/chat-layer.js";
import type { LlamaContext } from "../../src/backend/llama/llama-context.js";
import { LlamaModel } from "../../src/backend/llama/llama-model.js";
import { samplingParams } from "../../src/sampling-params.js";
import { FAMILY_TEXTS } from "../helpers/chat-texts.js";
import { clearPool, generateUntilEnd } from "../helpers/llama.js";
import { chatModel } from "../helpers/models.js";

const FORECAST = {
  type: "object",
  properties: {
    city: { type: "string", enum: ["Paris", "Oslo", "Lima"] },
    days: { type: "integer", minimum: 1, maximum: 7 },
  },
  required: ["city", "days"],
  additionalProperties: false,
} as const;
// Named as in the family texts, whose call openers some formats (functionary) end with the tool's name.
const TOOLS: ChatTool[] = ["get_weather", "get_time"].map((name) => ({
  type: "function",
  function: { name, description: `${name} for a city`, parameters: FORECAST },
}));

function expectForecastCall(message: ParsedChatMessage, names: readonly string[]) {
  expect(message.toolCalls.length).toBeGreaterThan(0);
  for (const call of message.toolCalls) {
    expect(names).toContain(call.name);
    const args = JSON.parse(call.arguments) as Record<string, unknown>;
    expect(Object.keys(args).sort()).toEqual(["city", "days"]);
    expect(FORECAST.properties.city.enum).toContain(args.city);
    expect(Number.isInteger(args.days) && (args.days as number) >= 1 && (args.days as number) <= 7).toBe(true);
  }
}

async function sampleCall(context: LlamaContext, family: ChatFamilyName, request: Omit<ChatApplyRequest, "messages">) {
  const model = context.model;
  const prompt = ChatTemplates.create(model).apply({
    messages: [{ role: "user", content: "Forecast for Oslo, three days?" }],
    tools: TOOLS,
    parallelToolCalls: false,
    ...request,
  });
  const opener = FAMILY_TEXTS[family].callOpener;
  const openerTokens = model.tokenize(opener, { addSpecial: false, parseSpecial: true });
  const quote = model.tokenize('x"', { addSpecial: false }).at(-1)!;
  expect(model.detokenize(Int32Array.of(quote))).toBe('"');
  const logitBias = new Map([quote, ...model.info.endOfGenerationTokens].map((token) => [token, 100]));
  const sampler = context.createSampler(samplingParams({ temperature: 0, grammar: prompt.grammar, logitBias }));
  sampler.accept(openerTokens);
  const promptTokens = model.tokenize(prompt.prompt, { addSpecial: true, parseSpecial: true });
  const { tokens, ended } = await generateUntilEnd(
    context,
    { prompt: Int32Array.from([...promptTokens, ...openerTokens]), sampler },
    160,
  );
  sampler.dispose();
  const text = opener + model.detokenize(Int32Array.from(tokens), { unparseSpecial: true });
  return { ended, text, message: new ChatParser(prompt.parser).parse(text) };
}

// Llama 3.1's auto has no grammar (its calls have no marker); Functionary v3.2's lazy grammar is broken in this
// llama.cpp (docs/chat-layer.md).
const NO_WORKING_AUTO: readonly ChatFamilyName[] = ["llama-3.1", "functionary-3.2"];

for (const family of Object.keys(CHAT_FAMILIES) as ChatFamilyName[]) {
  describe(family, () => {
    let model: LlamaModel;
    let context: LlamaContext;

    beforeAll(async () => {
      model = await LlamaModel.load(chatModel(family));
      context = await model.createContext({ kvTokens: 4096, maxSequences: 1, threads: 1 });
    });

    afterEach(() => clearPool(context));

    afterAll(async () => {
      await context.dispose();
      model.dispose();
    });

    it("writes a required call whose arguments match the schema, and ends", async () => {
      const { ended, text, message } = await sampleCall(context, family, { toolChoice: "required" });
      expect(ended, text).toBe(true);
      expectForecastCall(message, ["get_weather", "get_time"]);
    });

    if (!NO_WORKING_AUTO.includes(family)) {
      it("engages the lazy grammar of auto once the call starts", async () => {
        const { ended, text, message } = await sampleCall(context, family, { toolChoice: "auto" });
        expect(ended, text).toBe(true);
        expectForecastCall(message, ["get_weather", "get_time"]);
      });
    }
  });
}

describe("a named tool", () => {
  let model: LlamaModel;
  let context: LlamaContext;

  beforeAll(async () => {
    model = await LlamaModel.load(chatModel("qwen2.5"));
    context = await model.createContext({ kvTokens: 4096, maxSequences: 1, threads: 1 });
  });

  afterEach(() => clearPool(context));

  afterAll(async () => {
    await context.dispose();
    model.dispose();
  });

  it("calls the named tool only", async () => {
    const toolChoice = { type: "function", function: { name: "get_time" } } as const;
    const { ended, message } = await sampleCall(context, "qwen2.5", { toolChoice });
    expect(ended).toBe(true);
    expectForecastCall(message, ["get_time"]);
  });
});
