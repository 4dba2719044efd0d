// llama.cpp's chat templates through the addon, per chat family: tools rendered into the prompt, the grammar each
// tool_choice gets, a history with a call and its result, the family's marker tokens, and bad requests.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHAT_FAMILIES, type ChatFamily, type ChatFamilyName } from "../../models/chat-families.js";
import { type ChatMessage, ChatParser, ChatTemplates, type JsonSchema } from "../../src/backend/llama/chat-layer.js";
import { LlamaModel } from "../../src/backend/llama/llama-model.js";
import { TOOLS } from "../helpers/chat-texts.js";
import { chatModel, tinyModel } from "../helpers/models.js";

const ASK: ChatMessage[] = [{ role: "user", content: "Weather in Paris?" }];
const HISTORY: ChatMessage[] = [
  ...ASK,
  {
    role: "assistant",
    content: null,
    tool_calls: [
      { id: "abc123def", type: "function", function: { name: "get_weather", arguments: '{"city": "Paris"}' } },
    ],
  },
  { role: "tool", tool_call_id: "abc123def", content: "18 C and sunny" },
];

// Families whose tool calls open with a plain "{" or a tool name rather than a marker: auto has nothing to
// trigger a lazy grammar on, and llama.cpp leaves their auto output unconstrained.
const NO_LAZY_TRIGGER: readonly ChatFamilyName[] = ["llama-3.1"];
// Families whose templates do not describe tools (supports_tools false): calls render and parse, but the model
// learns of the tools only from what the client writes in its own messages. llama-server renders them the same.
const TOOLS_NOT_DESCRIBED: readonly ChatFamilyName[] = ["deepseek-r1", "deepseek-v3.1"];

for (const family of Object.keys(CHAT_FAMILIES) as ChatFamilyName[]) {
  describe(family, () => {
    const spec: ChatFamily = CHAT_FAMILIES[family];
    let model: LlamaModel;
    let templates: ChatTemplates;

    beforeAll(async () => {
      model = await LlamaModel.load(chatModel(family));
      templates = ChatTemplates.create(model);
    });

    afterAll(() => model.dispose());

    if (TOOLS_NOT_DESCRIBED.includes(family)) {
      it("does not describe tools, as its template has no place for them", () => {
        expect(templates.capabilities()).toMatchObject({ supports_tools: false, supports_tool_calls: true });
        expect(templates.apply({ messages: ASK, tools: TOOLS }).prompt).not.toContain("get_weather");
      });
    } else {
      it("renders the tool definitions into the prompt", () => {
        expect(templates.capabilities()).toMatchObject({ supports_tools: true });
        const { prompt } = templates.apply({ messages: ASK, tools: TOOLS });
        expect(prompt).toContain("get_weather");
        expect(prompt).toContain("get_time");
        expect(prompt).toContain("city");
        expect(prompt.indexOf("get_weather")).toBeLessThan(prompt.lastIndexOf("Weather in Paris?"));
        expect(templates.apply({ messages: ASK }).prompt).not.toContain("get_weather");
      });
    }

    it("constrains required and named choices from the generation prompt on", () => {
      const required = templates.apply({ messages: ASK, tools: TOOLS, toolChoice: "required" });
      expect(required.grammar).toMatchObject({ lazy: false, prefill: required.parser.generationPrompt });
      expect(required.grammar!.grammar).toContain("get_weather");
      expect(required.grammar!.grammar).toContain("get_time");
      const named = templates.apply({
        messages: ASK,
        tools: TOOLS,
        toolChoice: { type: "function", function: { name: "get_time" } },
      });
      expect(named.grammar).toMatchObject({ lazy: false });
      expect(named.grammar!.grammar).toContain("get_time");
      expect(named.grammar!.grammar).not.toContain("get_weather");
      // The model still sees every tool.
      expect(named.prompt).toBe(required.prompt);
    });

    if (NO_LAZY_TRIGGER.includes(family)) {
      it("leaves auto unconstrained: its calls open with no marker to trigger on", () => {
        expect(templates.apply({ messages: ASK, tools: TOOLS }).grammar).toBeNull();
      });
    } else {
      it("gives auto a lazy grammar with its triggers", () => {
        const auto = templates.apply({ messages: ASK, tools: TOOLS });
        expect(auto.grammar).toMatchObject({ lazy: true, prefill: "" });
        expect(auto.grammar!.triggers.length).toBeGreaterThan(0);
      });
    }

    it("constrains nothing for tool_choice none", () => {
      const none = templates.apply({ messages: ASK, tools: TOOLS, toolChoice: "none" });
      expect(none.grammar).toBeNull();
    });

    it("renders a history with an assistant call and the tool's result", () => {
      const { prompt } = templates.apply({ messages: HISTORY, tools: TOOLS });
      const asked = prompt.lastIndexOf("Weather in Paris?");
      const called = prompt.indexOf("get_weather", asked);
      expect(called).toBeGreaterThan(asked);
      expect(prompt.indexOf("Paris", called)).toBeGreaterThan(called);
      expect(prompt.indexOf("18 C and sunny")).toBeGreaterThan(called);
    });

    it("holds the family's marker tokens as single tokens, and triggers on them by id", () => {
      const declared = new Set([...spec.controlTokens, ...(spec.userTokens ?? [])]);
      const auto = templates.apply({ messages: ASK, tools: TOOLS });
      for (const marker of auto.preservedTokens.filter((t) => declared.has(t))) {
        const ids = model.tokenize(marker, { addSpecial: false, parseSpecial: true });
        expect(ids).toHaveLength(1);
        expect(auto.preservedTokenIds.has(ids[0]!)).toBe(true);
      }
      for (const trigger of auto.grammar?.triggers ?? []) {
        if (declared.has(trigger.value)) expect(trigger).toMatchObject({ type: "token" });
      }
    });
  });
}

describe("reasoning switches", () => {
  let model: LlamaModel;
  let templates: ChatTemplates;

  beforeAll(async () => {
    model = await LlamaModel.load(chatModel("qwen3"));
    templates = ChatTemplates.create(model);
  });

  afterAll(() => model.dispose());

  it("renders an empty thinking block when thinking is off", () => {
    expect(templates.capabilities().supports_enable_thinking).toBe(true);
    expect(templates.apply({ messages: ASK, enableThinking: false }).prompt).toMatch(/<think>\s*<\/think>\s*$/);
    expect(templates.apply({ messages: ASK }).prompt).not.toMatch(/<\/think>\s*$/);
  });

  it("leaves the thinking in the content with reasoning format none", () => {
    const text = "<think>\nLet me check.\n</think>\n\nHello there";
    const none = new ChatParser(templates.apply({ messages: ASK, reasoningFormat: "none" }).parser).parse(text);
    expect(none.reasoningContent).toBe("");
    expect(none.content).toContain("Let me check.");
    const extracted = new ChatParser(templates.apply({ messages: ASK }).parser).parse(text);
    expect(extracted.reasoningContent.trim()).toBe("Let me check.");
    expect(extracted.content.trim()).toBe("Hello there");
  });
});

describe("bad requests", () => {
  let qwen: LlamaModel;
  let mistral: LlamaModel;

  beforeAll(async () => {
    qwen = await LlamaModel.load(chatModel("qwen2.5"));
    mistral = await LlamaModel.load(chatModel("mistral-nemo"));
  });

  afterAll(() => {
    qwen.dispose();
    mistral.dispose();
  });

  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      return (error as { code?: string }).code;
    }
    return "no error";
  };

  it("refuses a named tool_choice that names no tool", () => {
    const templates = ChatTemplates.create(qwen);
    const choice = { type: "function", function: { name: "get_stock" } } as const;
    expect(code(() => templates.apply({ messages: ASK, tools: TOOLS, toolChoice: choice }))).toBe("LOOM_UNKNOWN_TOOL");
    expect(code(() => templates.apply({ messages: ASK, toolChoice: choice }))).toBe("LOOM_UNKNOWN_TOOL");
    expect(code(() => templates.apply({ messages: ASK, tools: TOOLS, toolChoice: "sometimes" as "auto" }))).toBe(
      "LOOM_INVALID_ARGUMENT",
    );
  });

  it("refuses tool schemas that cannot be compiled or honoured", () => {
    const templates = ChatTemplates.create(qwen);
    const tool = (parameters: JsonSchema) => [{ type: "function" as const, function: { name: "f", parameters } }];
    expect(code(() => templates.apply({ messages: ASK, tools: tool({ $ref: "#/$defs/missing" }) }))).toBe(
      "LOOM_INVALID_TOOL_SCHEMA",
    );
    expect(code(() => templates.apply({ messages: ASK, tools: tool({ type: "object", not: {} }) }))).toBe(
      "LOOM_SCHEMA_UNSUPPORTED",
    );
    expect(code(() => templates.apply({ messages: ASK, jsonSchema: { type: "wat" } }))).toBe("LOOM_INVALID_SCHEMA");
  });

  it("reports a template that raises on the messages", () => {
    const templates = ChatTemplates.create(mistral);
    // Mistral's template requires nine-character alphanumeric call ids, and alternating user/assistant turns.
    const badId = HISTORY.map((m) =>
      m.role === "tool"
        ? { ...m, tool_call_id: "call_1" }
        : m.tool_calls
          ? { ...m, tool_calls: [{ ...m.tool_calls[0]!, id: "call_1" }] }
          : m,
    );
    expect(code(() => templates.apply({ messages: badId, tools: TOOLS }))).toBe("LOOM_CHAT_TEMPLATE_FAILED");
    const twoUsers: ChatMessage[] = [...ASK, { role: "assistant", content: "Hi" }, { role: "assistant", content: "?" }];
    expect(code(() => templates.apply({ messages: twoUsers }))).toBe("LOOM_CHAT_TEMPLATE_FAILED");
  });

  it("refuses malformed messages and a grammar beside tools", () => {
    const templates = ChatTemplates.create(qwen);
    const numberContent = [{ role: "user", content: 42 }] as unknown as ChatMessage[];
    expect(code(() => templates.apply({ messages: numberContent }))).toBe("LOOM_INVALID_MESSAGES");
    const image = [{ role: "user", content: [{ type: "image_url" }] }] as unknown as ChatMessage[];
    expect(code(() => templates.apply({ messages: image }))).toBe("LOOM_INVALID_MESSAGES");
    expect(code(() => templates.apply({ messages: ASK, tools: TOOLS, grammar: 'root ::= "x"' }))).toBe(
      "LOOM_INVALID_ARGUMENT",
    );
  });

  it("refuses tools for a template that cannot render calls, unless tool_choice is none", async () => {
    const tiny = await LlamaModel.load(tinyModel());
    try {
      const plain = ChatTemplates.create(tiny, "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}");
      expect(plain.capabilities().supports_tool_calls).toBe(false);
      expect(code(() => plain.apply({ messages: ASK, tools: TOOLS }))).toBe("LOOM_TOOLS_UNSUPPORTED");
      expect(plain.apply({ messages: ASK, tools: TOOLS, toolChoice: "none" }).grammar).toBeNull();
    } finally {
      tiny.dispose();
    }
  });

  it("takes an override template, and refuses one that does not parse", async () => {
    const tiny = await LlamaModel.load(tinyModel());
    try {
      const qwenSource = ChatTemplates.create(qwen).source;
      const overridden = ChatTemplates.create(tiny, qwenSource);
      expect(overridden.source).toBe(qwenSource);
      expect(overridden.apply({ messages: ASK, tools: TOOLS }).prompt).toContain("<tools>");
      expect(code(() => ChatTemplates.create(tiny, "{% if %}"))).toBe("LOOM_CHAT_TEMPLATE_INVALID");
    } finally {
      tiny.dispose();
    }
  });
});
