// LlamaChatFormat: chats through llama.cpp's own chat layer (the code llama-server runs with --jinja): the model's
// template (or an override) renders messages and tools, its format gives the grammar (eager for `required` and
// named tool choices and JSON schemas, lazy with triggers for `auto`) and the parser that splits the output into
// content, reasoning and tool calls, also while it streams.
import { isNativeError } from "../../backend/llama/addon.js";
import {
  type ChatMessage as LayerMessage,
  ChatParser,
  type ChatPrompt,
  ChatTemplates,
  type ToolChoice as LayerToolChoice,
  UnsupportedSchemaError,
} from "../../backend/llama/chat-layer.js";
import type { LlamaModel } from "../../backend/llama/llama-model.js";
import { InvalidRequestError } from "../errors.js";
import { type CallIds, callIdsFor } from "./call-ids.js";
import type { ChatFormat, ChatInput, OutputParser, ParsedOutput, RenderedChat } from "./chat.js";

const utf8 = new TextDecoder();

function layerMessages(input: ChatInput): LayerMessage[] {
  return input.messages.map((m) => ({
    role: m.role,
    content: m.content,
    ...(m.name ? { name: m.name } : {}),
    ...(m.toolCalls?.length
      ? {
          tool_calls: m.toolCalls.map((c) => ({
            id: c.id,
            type: "function" as const,
            function: { name: c.name, arguments: c.arguments },
          })),
        }
      : {}),
    ...(m.toolCallId ? { tool_call_id: m.toolCallId } : {}),
    ...(m.reasoningContent ? { reasoning_content: m.reasoningContent } : {}),
  }));
}

function layerToolChoice(input: ChatInput): LayerToolChoice {
  const choice = input.toolChoice;
  return typeof choice === "string" ? choice : { type: "function", function: { name: choice.name } };
}

/** The request field a chat-layer refusal is about, by the error's code. */
function paramOf(code: string, input: ChatInput): string | null {
  switch (code) {
    case "LOOM_INVALID_MESSAGES":
    case "LOOM_CHAT_TEMPLATE_FAILED":
      return "messages";
    case "LOOM_UNKNOWN_TOOL":
      return "tool_choice";
    case "LOOM_INVALID_TOOLS":
    case "LOOM_INVALID_TOOL_SCHEMA":
    case "LOOM_TOOLS_UNSUPPORTED":
      return "tools";
    case "LOOM_INVALID_SCHEMA":
      return input.format.type === "json_schema" ? (input.format.param ?? "response_format") : "response_format";
    default:
      return null;
  }
}

const WIRE_CODES: Readonly<Record<string, string>> = {
  LOOM_TOOLS_UNSUPPORTED: "unsupported_parameter",
  LOOM_INVALID_TOOL_SCHEMA: "invalid_schema",
};

/**
 * Chat-layer errors about the request itself are the client's (400, naming the field, in the message too, since
 * Anthropic's error shape has no field for it); others stay faults.
 */
function clientError(error: unknown, input: ChatInput): Error {
  const refusal = (message: string, param: string | null, code: string) =>
    new InvalidRequestError(param === null || message.startsWith(param) ? message : `${param}: ${message}`, {
      param,
      code,
    });
  if (error instanceof UnsupportedSchemaError) {
    const param = error.tool !== null ? "tools" : paramOf("LOOM_INVALID_SCHEMA", input);
    return refusal(error.message, param, "unsupported_schema");
  }
  if (isNativeError(error) && (paramOf(error.code, input) !== null || error.code === "LOOM_INVALID_ARGUMENT")) {
    const code = WIRE_CODES[error.code] ?? error.code.toLowerCase().replace(/^loom_/, "");
    return refusal(error.message, paramOf(error.code, input), code);
  }
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * The parser of one request. A partial parse that fails (text cut at an odd place) shows nothing new; a final one
 * that fails (a weak model's malformed call) gives the text back as content rather than losing it.
 */
function outputParser(parser: ChatParser): OutputParser {
  let last: ParsedOutput = { content: "", reasoning: "", toolCalls: [] };
  return (text, partial) => {
    try {
      const parsed = parser.parse(text, { partial });
      last = { content: parsed.content, reasoning: parsed.reasoningContent, toolCalls: parsed.toolCalls };
    } catch (error) {
      if (!isNativeError(error, "LOOM_CHAT_PARSE_FAILED")) throw error;
      if (!partial) last = { content: text, reasoning: "", toolCalls: [] };
    }
    return last;
  };
}

/** Whether the template renders a history holding a call with this id, and its answer. */
function rendersCallId(templates: ChatTemplates, id: string): boolean {
  const call = { id, type: "function" as const, function: { name: "probe", arguments: "{}" } };
  try {
    templates.apply({
      messages: [
        { role: "user", content: "?" },
        { role: "assistant", content: null, tool_calls: [call] },
        { role: "tool", tool_call_id: id, content: "1" },
      ],
      tools: [{ type: "function", function: { name: "probe", parameters: { type: "object" } } }],
    });
    return true;
  } catch {
    return false;
  }
}

export class LlamaChatFormat implements ChatFormat {
  readonly #templates: ChatTemplates;
  readonly #model: LlamaModel;
  readonly #bosText: string;
  readonly #callIds: CallIds;

  /** Throws a native error with code LOOM_CHAT_TEMPLATE_INVALID when the override template does not parse. */
  constructor(model: LlamaModel, overrideSource?: string) {
    this.#templates = ChatTemplates.create(model, overrideSource);
    this.#model = model;
    const bos = model.info.bosToken;
    this.#bosText = bos < 0 ? "" : utf8.decode(model.tokenToBytes(bos, { special: true }));
    this.#callIds = callIdsFor((id) => rendersCallId(this.#templates, id));
  }

  render(input: ChatInput): RenderedChat {
    let prompt: ChatPrompt;
    try {
      prompt = this.#templates.apply({
        messages: layerMessages(input),
        tools: input.tools.map((t) => ({ type: "function", function: { ...t } })),
        toolChoice: layerToolChoice(input),
        parallelToolCalls: input.parallelToolCalls,
        ...(input.format.type === "json_object" ? { jsonSchema: {} } : {}),
        ...(input.format.type === "json_schema" ? { jsonSchema: input.format.schema } : {}),
        ...(input.enableThinking === undefined ? {} : { enableThinking: input.enableThinking }),
      });
    } catch (error) {
      throw clientError(error, input);
    }
    // A template that writes BOS itself gets no second one from the tokenizer.
    const writesBos = this.#bosText !== "" && prompt.prompt.startsWith(this.#bosText);
    const parser = new ChatParser(prompt.parser);
    return {
      promptTokens: this.#model.tokenize(prompt.prompt, { addSpecial: !writesBos, parseSpecial: true }),
      grammar: prompt.grammar,
      stops: prompt.additionalStops,
      markerTokens: prompt.preservedTokenIds,
      parse: outputParser(parser),
      complete: (text) => parser.complete(text),
      callIds: this.#callIds,
    };
  }
}
