// llama.cpp's output parser on model-shaped text of each chat family: a plain answer, one call, parallel calls,
// reasoning before a call, and partial text while a call streams.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHAT_FAMILIES, type ChatFamilyName } from "../../models/chat-families.js";
import {
  ChatParser,
  type ChatPrompt,
  ChatTemplates,
  type ParsedChatMessage,
} from "../../src/backend/llama/chat-layer.js";
import { LlamaModel } from "../../src/backend/llama/llama-model.js";
import { FAMILY_TEXTS, TOOLS } from "../helpers/chat-texts.js";
import { chatModel } from "../helpers/models.js";

const calls = (message: ParsedChatMessage) =>
  message.toolCalls.map((call) => ({ name: call.name, arguments: JSON.parse(call.arguments) as unknown }));

for (const family of Object.keys(CHAT_FAMILIES) as ChatFamilyName[]) {
  describe(family, () => {
    const texts = FAMILY_TEXTS[family];
    let model: LlamaModel;
    let prompt: ChatPrompt;
    let parser: ChatParser;

    beforeAll(async () => {
      model = await LlamaModel.load(chatModel(family));
      const templates = ChatTemplates.create(model);
      prompt = templates.apply({
        messages: [{ role: "user", content: "Weather in Paris?" }],
        tools: TOOLS,
        parallelToolCalls: true,
      });
      parser = new ChatParser(prompt.parser);
    });

    afterAll(() => model.dispose());

    it("parses a plain answer as content only", () => {
      const message = parser.parse(texts.content);
      expect(message.content.trim()).toBe("Hello there");
      expect(message.reasoningContent.trim()).toBe("");
      expect(message.toolCalls).toEqual([]);
    });

    it("parses one call", () => {
      const message = parser.parse(texts.oneCall);
      expect(calls(message)).toEqual([{ name: "get_weather", arguments: { city: "Paris" } }]);
      expect(message.content.trim()).toBe("");
    });

    const twoCalls = texts.twoCalls;
    if (typeof twoCalls === "string") {
      it("parses two parallel calls in order", () => {
        expect(calls(parser.parse(twoCalls))).toEqual([
          { name: "get_weather", arguments: { city: "Paris" } },
          { name: "get_time", arguments: { city: "Oslo" } },
        ]);
      });
    }

    const reasoningThenCall = texts.reasoningThenCall;
    if (reasoningThenCall !== undefined) {
      it("parses reasoning, then a call, into reasoning content and the call", () => {
        const message = parser.parse(reasoningThenCall);
        expect(message.reasoningContent.trim()).toBe("Let me check.");
        expect(message.content.trim()).toBe("");
        expect(calls(message)).toEqual([{ name: "get_weather", arguments: { city: "Paris" } }]);
      });
    }

    it("gives a call being written with a prefix of its final arguments, at every cut of the text", () => {
      const full = parser.parse(texts.oneCall).toolCalls[0]!;
      const midArguments = texts.oneCall.slice(0, texts.oneCall.indexOf("Paris") + 3);
      const partial = parser.parse(midArguments, { partial: true });
      expect(partial.toolCalls).toHaveLength(1);
      expect(partial.toolCalls[0]!.name).toBe("get_weather");
      expect(partial.toolCalls[0]!.arguments.length).toBeGreaterThan(0);
      expect(full.arguments.startsWith(partial.toolCalls[0]!.arguments)).toBe(true);
      for (let cut = 1; cut < texts.oneCall.length; cut++) {
        for (const call of parser.parse(texts.oneCall.slice(0, cut), { partial: true }).toolCalls) {
          if (call.name !== "") expect(call.name).toBe("get_weather");
          expect(full.arguments.startsWith(call.arguments)).toBe(true);
        }
      }
    });
  });
}
