// Model-shaped output per chat family: what the real models write for a plain answer, a call, two calls and
// reasoning before a call, in the formats llama.cpp's own chat tests use. The tools are get_weather and get_time, each
// taking {"city": string}.
import type { ChatFamilyName } from "../../models/chat-families.js";
import type { ChatTool } from "../../src/backend/llama/chat-layer.js";

const CITY_PARAMETERS = {
  type: "object",
  properties: { city: { type: "string" } },
  required: ["city"],
} as const;

export const TOOLS: readonly ChatTool[] = [
  { type: "function", function: { name: "get_weather", description: "Current weather", parameters: CITY_PARAMETERS } },
  { type: "function", function: { name: "get_time", description: "Local time", parameters: CITY_PARAMETERS } },
];

export interface FamilyTexts {
  /** "Hello there" as a plain answer. */
  readonly content: string;
  /** get_weather({"city": "Paris"}). */
  readonly oneCall: string;
  /** get_weather(Paris) and get_time(Oslo) in one turn, or why the family has no such output here. */
  readonly twoCalls: string | { readonly unsupported: string };
  /** "Let me check." as reasoning, then get_weather(Paris); for the families that reason. */
  readonly reasoningThenCall?: string;
  /** The text of a call before its arguments, or before the tool's name where that comes after them. */
  readonly callOpener: string;
}

const qwenCall = (name: string, city: string) =>
  `<tool_call>\n{"name": "${name}", "arguments": {"city": "${city}"}}\n</tool_call>`;
const QWEN_STYLE: FamilyTexts = {
  content: "Hello there",
  oneCall: qwenCall("get_weather", "Paris"),
  twoCalls: `${qwenCall("get_weather", "Paris")}\n${qwenCall("get_time", "Oslo")}`,
  callOpener: "<tool_call>\n",
};

const r1Calls = (...calls: string[]) => `</think>\n\n<｜tool▁calls▁begin｜>${calls.join("\n")}<｜tool▁calls▁end｜>`;
const v3Calls = (...calls: string[]) => `<｜tool▁calls▁begin｜>${calls.join("")}<｜tool▁calls▁end｜>`;
const cohereCalls = (...calls: string[]) => `<|START_ACTION|>[\n    ${calls.join(",\n    ")}\n]<|END_ACTION|>`;
const r1Call = (name: string, city: string) =>
  `<｜tool▁call▁begin｜>function<｜tool▁sep｜>${name}\n\`\`\`json\n{"city": "${city}"}\n\`\`\`<｜tool▁call▁end｜>`;
const v3Call = (name: string, city: string) =>
  `<｜tool▁call▁begin｜>${name}<｜tool▁sep｜>{"city": "${city}"}<｜tool▁call▁end｜>`;
const cohereCall = (id: number, name: string, city: string) =>
  `{"tool_call_id": "${id}", "tool_name": "${name}", "parameters": {"city": "${city}"}}`;

export const FAMILY_TEXTS: Record<ChatFamilyName, FamilyTexts> = {
  "qwen2.5": QWEN_STYLE,
  "hermes-2-pro": QWEN_STYLE,
  "granite-4.0": QWEN_STYLE,
  qwen3: {
    ...QWEN_STYLE,
    reasoningThenCall: `<think>\nLet me check.\n</think>\n\n${qwenCall("get_weather", "Paris")}`,
  },
  "llama-3.1": {
    content: "Hello there",
    oneCall: '{"name": "get_weather", "parameters": {"city": "Paris"}}',
    twoCalls: { unsupported: "Llama 3.1's JSON tool format holds one call per turn" },
    callOpener: "{",
  },
  "mistral-nemo": {
    content: "Hello there",
    oneCall: '[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Paris"}, "id": "abcdefghi"}]',
    twoCalls:
      '[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Paris"}, "id": "abcdefghi"}, ' +
      '{"name": "get_time", "arguments": {"city": "Oslo"}, "id": "bcdefghij"}]',
    callOpener: "[TOOL_CALLS]",
  },
  // The generation prompt opens the thinking block (<｜Assistant｜><think>\n), so every answer first closes it.
  "deepseek-r1": {
    content: "</think>\n\nHello there",
    oneCall: r1Calls(r1Call("get_weather", "Paris")),
    twoCalls: r1Calls(r1Call("get_weather", "Paris"), r1Call("get_time", "Oslo")),
    reasoningThenCall: `Let me check.\n${r1Calls(r1Call("get_weather", "Paris"))}`,
    callOpener: "</think>\n\n<｜tool▁calls▁begin｜>",
  },
  "deepseek-v3.1": {
    content: "</think>Hello there",
    oneCall: `</think>${v3Calls(v3Call("get_weather", "Paris"))}`,
    twoCalls: `</think>${v3Calls(v3Call("get_weather", "Paris"), v3Call("get_time", "Oslo"))}`,
    reasoningThenCall: `Let me check.</think>${v3Calls(v3Call("get_weather", "Paris"))}`,
    callOpener: "</think><｜tool▁calls▁begin｜>",
  },
  "gpt-oss": {
    content: "<|channel|>final<|message|>Hello there",
    oneCall: '<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{"city": "Paris"}',
    twoCalls: { unsupported: "gpt-oss ends its turn with <|call|> after each call" },
    reasoningThenCall:
      "<|channel|>analysis<|message|>Let me check.<|end|><|start|>assistant to=functions.get_weather" +
      '<|channel|>commentary <|constrain|>json<|message|>{"city": "Paris"}',
    callOpener: "<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>",
  },
  "command-r7b": {
    content: "<|START_RESPONSE|>Hello there<|END_RESPONSE|>",
    oneCall: cohereCalls(cohereCall(0, "get_weather", "Paris")),
    twoCalls: cohereCalls(cohereCall(0, "get_weather", "Paris"), cohereCall(1, "get_time", "Oslo")),
    reasoningThenCall: `<|START_THINKING|>Let me check.<|END_THINKING|>${cohereCalls(cohereCall(0, "get_weather", "Paris"))}`,
    callOpener: "<|START_ACTION|>",
  },
  // The generation prompt ends with >>>, the recipient marker: "all" for an answer, else the tool's name.
  "functionary-3.2": {
    content: "all\nHello there",
    oneCall: 'get_weather\n{"city": "Paris"}',
    twoCalls: { unsupported: "this llama.cpp reads parallel calls without the >>> between them that the model writes" },
    callOpener: "get_weather\n",
  },
};
