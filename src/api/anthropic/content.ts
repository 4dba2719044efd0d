// A chat's events as Anthropic content blocks (thinking, text, tool_use), and as the content_block_* stream events
// while they grow: a block opens with its first event and stops when another opens or the message ends.
import type { ChatEvent } from "../../serving/llm/chat.js";
import type { TypedEvent } from "../sse.js";

type Block = Record<string, unknown> & { type: string };

/** A call's JSON arguments as a tool_use input object; text that is not a JSON object is kept under `_raw`. */
export function toolInput(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text === "" ? "{}" : text);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through: a weak model's broken call still reaches the client, marked as such
  }
  return { _raw: text };
}

export class ContentBuilder {
  readonly content: Block[] = [];
  readonly #emit: (event: TypedEvent) => void;
  #open: { block: Block; text: string; call?: number } | null = null;

  constructor(emit: (event: TypedEvent) => void = () => undefined) {
    this.#emit = emit;
  }

  apply(event: ChatEvent): void {
    if (event.type === "content") this.#text("text", event.text);
    else if (event.type === "reasoning") this.#text("thinking", event.text);
    else if (event.type === "tool_call") this.#call(event);
  }

  /** Stops the open block; a message with no block at all gets an empty text block. */
  finish(): void {
    if (this.content.length === 0) this.#start({ type: "text", text: "" });
    this.#stop();
  }

  get numToolUses(): number {
    return this.content.filter((b) => b.type === "tool_use").length;
  }

  #text(type: "text" | "thinking", delta: string): void {
    if (delta === "") return;
    if (this.#open?.block.type !== type)
      this.#start(type === "text" ? { type, text: "" } : { type, thinking: "", signature: "" });
    this.#open!.text += delta;
    const body = type === "text" ? { type: "text_delta", text: delta } : { type: "thinking_delta", thinking: delta };
    this.#emit({ type: "content_block_delta", index: this.content.length - 1, delta: body });
  }

  #call(event: Extract<ChatEvent, { type: "tool_call" }>): void {
    if (event.id !== undefined) {
      this.#start({ type: "tool_use", id: event.id, name: event.name!, input: {} });
      this.#open!.call = event.call;
    }
    if (this.#open?.call !== event.call || event.arguments === "") return;
    this.#open.text += event.arguments;
    this.#emit({
      type: "content_block_delta",
      index: this.content.length - 1,
      delta: { type: "input_json_delta", partial_json: event.arguments },
    });
  }

  #start(block: Block): void {
    this.#stop();
    this.content.push(block);
    this.#open = { block, text: "" };
    this.#emit({ type: "content_block_start", index: this.content.length - 1, content_block: { ...block } });
  }

  #stop(): void {
    const open = this.#open;
    if (!open) return;
    this.#open = null;
    const { block, text } = open;
    if (block.type === "text") block.text = text;
    else if (block.type === "thinking") block.thinking = text;
    else block.input = toolInput(text);
    this.#emit({ type: "content_block_stop", index: this.content.indexOf(block) });
  }
}
