// OpenAI prompts to what serving takes: chat messages as the role/content messages a chat template renders, and
// text or token-id prompts (one or a batch) as token ids.
import type { ChatInput, ChatMessage, OutputFormat, ToolChoice } from "../../serving/llm/chat.js";
import type { LlmServing } from "../../serving/llm/llm-serving.js";
import { ApiError } from "../errors.js";
import type {
  ChatCompletionRequest,
  ChatMessage as WireMessage,
  FunctionTool,
  ToolChoice as WireToolChoice,
} from "./schemas.js";

/**
 * OpenAI chat messages as serving's: text parts joined with newlines, as vLLM and llama.cpp join them (other parts,
 * images or audio, are refused, not dropped); developer messages are system messages.
 */
export function toChatMessages(messages: readonly WireMessage[]): ChatMessage[] {
  return messages.map((m, i) => ({
    role: m.role === "developer" ? "system" : m.role,
    content: textOf(m.content, `messages.${i}.content`),
    ...(m.name ? { name: m.name } : {}),
    ...(m.tool_calls?.length
      ? { toolCalls: m.tool_calls.map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments })) }
      : {}),
    ...(m.tool_call_id ? { toolCallId: m.tool_call_id } : {}),
    ...(m.reasoning_content ? { reasoningContent: m.reasoning_content } : {}),
  }));
}

/** A message's content as text: a string, text parts joined with newlines, or null when it has none. */
function textOf(content: WireMessage["content"], param: string): string | null {
  if (content === undefined || content === null) return null;
  if (typeof content === "string") return content;
  return content
    .map((part, k) => {
      if (part.type === "text" && typeof part.text !== "string") {
        throw new ApiError(400, `${param}.${k}.text: a text part needs its text as a string`, { param });
      }
      if (part.type !== "text") {
        throw new ApiError(400, `${param}.${k}: content parts of type '${part.type}' are not supported; only text`, {
          param,
          code: "unsupported_content",
        });
      }
      return part.text;
    })
    .join("\n");
}

/** OpenAI function tools and tool_choice as serving's. */
function toTools(tools: readonly FunctionTool[] | null | undefined, choice: WireToolChoice | null | undefined) {
  const specs = (tools ?? []).map((t) => ({
    name: t.function.name,
    ...(t.function.description ? { description: t.function.description } : {}),
    ...(t.function.parameters ? { parameters: t.function.parameters } : {}),
  }));
  const toolChoice: ToolChoice =
    choice === undefined || choice === null
      ? specs.length > 0
        ? "auto"
        : "none"
      : typeof choice === "string"
        ? choice
        : { name: choice.function.name };
  return { tools: specs, toolChoice };
}

/** response_format as serving's output format. */
function toOutputFormat(format: ChatCompletionRequest["response_format"]): OutputFormat {
  if (!format || format.type === "text") return { type: "text" };
  if (format.type === "json_object" || !format.json_schema.schema) return { type: "json_object" };
  return { type: "json_schema", schema: format.json_schema.schema };
}

/** A chat completions body as serving's chat input. */
export function toChatInput(body: ChatCompletionRequest): ChatInput {
  const thinking = body.chat_template_kwargs?.enable_thinking;
  return {
    messages: toChatMessages(body.messages),
    ...toTools(body.tools, body.tool_choice),
    parallelToolCalls: body.parallel_tool_calls ?? true,
    format: toOutputFormat(body.response_format),
    ...(typeof thinking === "boolean" ? { enableThinking: thinking } : {}),
  };
}

/** A prompt, or a batch of them, as token ids: text through the model's tokenizer, ids as given. */
export function promptsOf(
  prompt: string | readonly string[] | readonly number[] | readonly number[][],
  serving: LlmServing,
): Int32Array[] {
  if (typeof prompt === "string") return [serving.textPrompt(prompt)];
  if (prompt.every((p) => typeof p === "number")) return [Int32Array.from(prompt as number[])];
  return (prompt as (string | number[])[]).map((p) =>
    typeof p === "string" ? serving.textPrompt(p) : Int32Array.from(p),
  );
}

/** Each prompt as text: text prompts as given, token-id prompts detokenized. */
export function promptTexts(
  prompt: string | readonly string[] | readonly number[] | readonly number[][],
  tokenized: readonly Int32Array[],
  serving: LlmServing,
): string[] {
  if (typeof prompt === "string") return [prompt];
  return tokenized.map((tokens, k) =>
    typeof prompt[k] === "string" ? (prompt[k] as string) : serving.model.detokenize(tokens, { removeSpecial: true }),
  );
}
