// Model families with their real chat templates (models/templates of the llama.cpp bundle) and a vocabulary that
// holds the family's marker tokens as single tokens: what a synthetic model needs for llama.cpp's chat layer to
// render tools and to parse tool calls and reasoning the way it does for the real model.
import { type ChatSetup, synthModel } from "./synth-model.js";
import { PRESETS, type Preset } from "./presets.js";
import { chatTemplateSource } from "./vocab.js";

export interface ChatFamily {
  /** models/templates/NAME.jinja in the llama.cpp bundle. */
  readonly template: string;
  /** The family's vocab-only GGUF where the bundle has one, else a small one of the same kind. */
  readonly vocab: Preset["vocab"];
  readonly controlTokens: readonly string[];
  readonly userTokens?: readonly string[];
  readonly eot: string;
  readonly bos?: string;
  readonly eos?: string;
}

const CHATML = ["<|im_start|>", "<|im_end|>"];
const QWEN_MARKERS = ["<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>"];
const LLAMA3 = ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "<|eom_id|>"];
const DEEPSEEK = [
  "<｜begin▁of▁sentence｜>",
  "<｜end▁of▁sentence｜>",
  "<｜User｜>",
  "<｜Assistant｜>",
  "<｜tool▁calls▁begin｜>",
  "<｜tool▁calls▁end｜>",
  "<｜tool▁call▁begin｜>",
  "<｜tool▁call▁end｜>",
  "<｜tool▁sep｜>",
  "<｜tool▁outputs▁begin｜>",
  "<｜tool▁outputs▁end｜>",
  "<｜tool▁output▁begin｜>",
  "<｜tool▁output▁end｜>",
];
const DEEPSEEK_ENDS = { eot: "<｜end▁of▁sentence｜>", bos: "<｜begin▁of▁sentence｜>", eos: "<｜end▁of▁sentence｜>" };

export const CHAT_FAMILIES = {
  "qwen2.5": {
    template: "Qwen-Qwen2.5-7B-Instruct",
    vocab: "qwen2",
    controlTokens: CHATML,
    userTokens: QWEN_MARKERS,
    eot: "<|im_end|>",
  },
  qwen3: {
    template: "Qwen-Qwen3-0.6B",
    vocab: "qwen2",
    controlTokens: CHATML,
    userTokens: [...QWEN_MARKERS, "<think>", "</think>"],
    eot: "<|im_end|>",
  },
  "hermes-2-pro": {
    template: "NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use",
    vocab: "llama-bpe",
    controlTokens: [...LLAMA3, ...CHATML],
    userTokens: QWEN_MARKERS,
    eot: "<|im_end|>",
  },
  "llama-3.1": {
    template: "meta-llama-Llama-3.1-8B-Instruct",
    vocab: "llama-bpe",
    controlTokens: [...LLAMA3, "<|python_tag|>"],
    eot: "<|eot_id|>",
  },
  "mistral-nemo": {
    template: "mistralai-Mistral-Nemo-Instruct-2407",
    vocab: "llama-spm",
    controlTokens: ["[INST]", "[/INST]", "[TOOL_CALLS]", "[AVAILABLE_TOOLS]", "[/AVAILABLE_TOOLS]", "[TOOL_RESULTS]"],
    eot: "</s>",
  },
  "deepseek-r1": {
    template: "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B",
    vocab: "qwen2",
    controlTokens: DEEPSEEK,
    userTokens: ["<think>", "</think>"],
    ...DEEPSEEK_ENDS,
  },
  "deepseek-v3.1": {
    template: "deepseek-ai-DeepSeek-V3.1",
    vocab: "deepseek-llm",
    controlTokens: DEEPSEEK,
    userTokens: ["<think>", "</think>"],
    ...DEEPSEEK_ENDS,
  },
  "gpt-oss": {
    template: "openai-gpt-oss-120b",
    vocab: "gpt-2",
    controlTokens: ["<|start|>", "<|end|>", "<|message|>", "<|channel|>", "<|constrain|>", "<|return|>", "<|call|>"],
    eot: "<|return|>",
  },
  "granite-4.0": {
    template: "ibm-granite-granite-4.0",
    vocab: "gpt-2",
    controlTokens: ["<|start_of_role|>", "<|end_of_role|>", "<|end_of_text|>"],
    userTokens: QWEN_MARKERS,
    eot: "<|end_of_text|>",
  },
  "command-r7b": {
    template: "CohereForAI-c4ai-command-r7b-12-2024-tool_use",
    vocab: "command-r",
    controlTokens: [
      "<|START_OF_TURN_TOKEN|>",
      "<|END_OF_TURN_TOKEN|>",
      "<|SYSTEM_TOKEN|>",
      "<|USER_TOKEN|>",
      "<|CHATBOT_TOKEN|>",
      "<|START_ACTION|>",
      "<|END_ACTION|>",
      "<|START_THINKING|>",
      "<|END_THINKING|>",
      "<|START_RESPONSE|>",
      "<|END_RESPONSE|>",
      "<|START_TOOL_RESULT|>",
      "<|END_TOOL_RESULT|>",
    ],
    eot: "<|END_OF_TURN_TOKEN|>",
  },
  "functionary-3.2": {
    template: "meetkai-functionary-medium-v3.2",
    vocab: "llama-bpe",
    controlTokens: LLAMA3,
    eot: "<|eot_id|>",
  },
} satisfies Record<string, ChatFamily>;

export type ChatFamilyName = keyof typeof CHAT_FAMILIES;

/** Writes a chat-tiny model of the family: random weights, the family's template and marker tokens. */
export function synthChatModel(family: ChatFamilyName, out: string): void {
  const spec: ChatFamily = CHAT_FAMILIES[family];
  const chat: ChatSetup = { ...spec, template: chatTemplateSource(spec.template) };
  synthModel({ preset: { ...PRESETS["chat-tiny"], vocab: spec.vocab }, name: `chat-${family}`, out, chat });
}
