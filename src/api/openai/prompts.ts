// OpenAI prompts to what serving takes: chat messages as the role/content messages a chat template renders, and
// text or token-id prompts (one or a batch) as token ids.
import type { ChatMessage as TemplateMessage } from "../../serving/llm/chat-template.js";
import { ApiError } from "../errors.js";
import type { LlmServing } from "../../serving/llm/llm-serving.js";
import type { ChatMessage } from "./schemas.js";

/**
 * Content given as text parts is joined with newlines, as vLLM and llama.cpp join them; other parts (images, audio)
 * are refused, not dropped.
 */
export function toTemplateMessages(messages: readonly ChatMessage[]): TemplateMessage[] {
  return messages.map((m, i) => {
    let content = "";
    if (typeof m.content === "string") content = m.content;
    else if (Array.isArray(m.content)) {
      content = m.content
        .map((part, k) => {
          if (part.type !== "text" || typeof part.text !== "string") {
            throw new ApiError(
              400,
              `messages[${i}].content[${k}]: content parts of type '${part.type}' are not supported; only text`,
              { param: `messages.${i}.content`, code: "unsupported_content" },
            );
          }
          return part.text;
        })
        .join("\n");
    }
    return {
      role: m.role === "developer" ? "system" : m.role,
      content,
      ...(m.name === undefined || m.name === null ? {} : { name: m.name }),
    };
  });
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
