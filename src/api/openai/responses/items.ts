// Responses API items to serving's chat messages, and the ids items carry. A function_call item is an assistant
// turn's tool call (consecutive calls form one turn), a function_call_output the tool's answer, a reasoning item the
// next assistant turn's reasoning.
import { randomBytes } from "node:crypto";
import type { ChatMessage, ToolCall } from "../../../serving/llm/chat.js";
import { InvalidRequestError } from "../../../serving/errors.js";
import type { InputItem } from "./schemas.js";

/** An id in OpenAI's style for a kind of object: `${prefix}_` and 48 hex digits (resp, msg, fc, rs). */
export function itemId(prefix: string): string {
  return `${prefix}_${randomBytes(24).toString("hex")}`;
}

type Part = { readonly type: string; readonly text?: string; readonly refusal?: string };

function partsText(content: string | readonly Part[], param: string): string {
  if (typeof content === "string") return content;
  return content
    .map((part, k) => {
      if (part.type === "input_text" || part.type === "output_text") return part.text ?? "";
      if (part.type === "refusal") return part.refusal ?? "";
      throw new InvalidRequestError(
        `${param}.${k}: content parts of type '${part.type}' are not supported; only text`,
        {
          param,
          code: "unsupported_content",
        },
      );
    })
    .join("\n");
}

/** The items with an id each (kept when given), as they are stored and listed by GET .../input_items. */
export function withIds(items: readonly InputItem[]): Record<string, unknown>[] {
  return items.map((item) => {
    const type = (item as { type?: string }).type ?? "message";
    const prefix =
      type === "function_call" ? "fc" : type === "function_call_output" ? "fco" : type === "reasoning" ? "rs" : "msg";
    const id = (item as { id?: string | null }).id;
    return { ...item, type, id: typeof id === "string" && id !== "" ? id : itemId(prefix) };
  });
}

/** The chat messages a conversation's items stand for; `param` names where they came from in errors. */
export function itemsToMessages(items: readonly Record<string, unknown>[], param = "input"): ChatMessage[] {
  const messages: (ChatMessage & { toolCalls?: ToolCall[] })[] = [];
  let reasoning: string | undefined;
  // An assistant message and the function calls after it are one assistant turn.
  const lastAssistant = () => {
    const last = messages.at(-1);
    return last?.role === "assistant" ? last : null;
  };
  items.forEach((raw, i) => {
    const item = raw as InputItem & { type: string };
    const where = `${param}.${i}`;
    if (item.type === "message") {
      const m = item as Extract<InputItem, { role: string }>;
      const role = m.role === "developer" ? "system" : m.role;
      const content = partsText(m.content as string | Part[], `${where}.content`);
      messages.push({ role, content, ...(role === "assistant" && reasoning ? { reasoningContent: reasoning } : {}) });
      if (role === "assistant") reasoning = undefined;
    } else if (item.type === "function_call") {
      const call = item as Extract<InputItem, { type: "function_call" }>;
      const toolCall = { id: call.call_id, name: call.name, arguments: call.arguments };
      const turn = lastAssistant();
      if (turn) turn.toolCalls = [...(turn.toolCalls ?? []), toolCall];
      else {
        messages.push({
          role: "assistant",
          content: null,
          toolCalls: [toolCall],
          ...(reasoning ? { reasoningContent: reasoning } : {}),
        });
        reasoning = undefined;
      }
    } else if (item.type === "function_call_output") {
      const output = item as Extract<InputItem, { type: "function_call_output" }>;
      const answered = messages.some((m) => m.toolCalls?.some((c) => c.id === output.call_id));
      if (!answered) {
        throw new InvalidRequestError(`no earlier function_call has call_id '${output.call_id}'`, {
          param: `${where}.call_id`,
        });
      }
      messages.push({
        role: "tool",
        toolCallId: output.call_id,
        content: partsText(output.output as string | Part[], `${where}.output`),
      });
    } else if (item.type === "reasoning") {
      const r = item as Extract<InputItem, { type: "reasoning" }>;
      const text = [...(r.content ?? []), ...(r.summary ?? [])].map((p) => p.text).join("\n");
      if (text !== "") reasoning = text;
    } else {
      throw new InvalidRequestError(`input items of type '${item.type}' are not supported`, {
        param: where,
        code: "unsupported_parameter",
      });
    }
  });
  return messages;
}
