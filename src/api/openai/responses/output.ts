// A chat's events as the Responses API's output items, and as its typed stream events while they grow. Items open
// as their first event arrives (reasoning, then the message, then function calls, in generation order) and close
// when another item opens or the response ends, with the added / delta / done events the openai clients parse.
import type { ChatEvent, ToolCall } from "../../../serving/llm/chat.js";
import { itemId } from "./items.js";

type Item = Record<string, unknown> & { id: string; type: string };
/** A stream event without its sequence number, which the writer adds. */
export type ResponseEvent = Record<string, unknown> & { type: string };

interface Open {
  readonly item: Item;
  readonly outputIndex: number;
  /** The text (or arguments) so far. */
  text: string;
  /** For function calls: which call of the choice. */
  readonly call?: number;
}

export class OutputBuilder {
  readonly output: Item[] = [];
  readonly #emit: (event: ResponseEvent) => void;
  #open: Open | null = null;

  /** `emit` receives each stream event in order; a non-streamed response passes a no-op. */
  constructor(emit: (event: ResponseEvent) => void = () => undefined) {
    this.#emit = emit;
  }

  apply(event: ChatEvent): void {
    if (event.type === "content") this.#text("message", event.text);
    else if (event.type === "reasoning") this.#text("reasoning", event.text);
    else if (event.type === "tool_call") this.#call(event);
  }

  /** Closes the open item; the response's status decides whether a message counts as completed or incomplete. */
  finish(incomplete: boolean): void {
    // A response always says something: an empty generation is an empty message, not an empty output.
    if (this.output.length === 0) this.#start("message");
    this.#close(incomplete ? "incomplete" : "completed");
  }

  /** Calls as the output holds them, with their final arguments. */
  get calls(): ToolCall[] {
    return this.output
      .filter((item) => item.type === "function_call")
      .map((item) => ({ id: item.call_id as string, name: item.name as string, arguments: item.arguments as string }));
  }

  #text(kind: "message" | "reasoning", delta: string): void {
    if (delta === "") return;
    if (this.#open?.item.type !== kind) this.#start(kind);
    const open = this.#open!;
    open.text += delta;
    const type = kind === "message" ? "response.output_text.delta" : "response.reasoning_text.delta";
    this.#emit({
      type,
      item_id: open.item.id,
      output_index: open.outputIndex,
      content_index: 0,
      delta,
      ...(kind === "message" ? { logprobs: [] } : {}),
    });
  }

  #call(event: Extract<ChatEvent, { type: "tool_call" }>): void {
    if (event.id !== undefined) {
      this.#close("completed");
      const item: Item = {
        id: itemId("fc"),
        type: "function_call",
        status: "in_progress",
        arguments: "",
        call_id: event.id,
        name: event.name!,
      };
      this.#open = { item, outputIndex: this.output.length, text: "", call: event.call };
      this.output.push(item);
      this.#emit({ type: "response.output_item.added", output_index: this.#open.outputIndex, item: { ...item } });
    }
    const open = this.#open;
    if (open?.call !== event.call || event.arguments === "") return;
    open.text += event.arguments;
    this.#emit({
      type: "response.function_call_arguments.delta",
      item_id: open.item.id,
      output_index: open.outputIndex,
      delta: event.arguments,
    });
  }

  #start(kind: "message" | "reasoning"): void {
    this.#close("completed");
    const item: Item =
      kind === "message"
        ? { id: itemId("msg"), type: "message", status: "in_progress", role: "assistant", content: [] }
        : { id: itemId("rs"), type: "reasoning", summary: [], content: [], status: "in_progress" };
    this.#open = { item, outputIndex: this.output.length, text: "" };
    this.output.push(item);
    this.#emit({ type: "response.output_item.added", output_index: this.#open.outputIndex, item: { ...item } });
    const part =
      kind === "message"
        ? { type: "output_text", text: "", annotations: [], logprobs: [] }
        : { type: "reasoning_text", text: "" };
    this.#emit({
      type: "response.content_part.added",
      item_id: item.id,
      output_index: this.#open.outputIndex,
      content_index: 0,
      part,
    });
  }

  #close(status: "completed" | "incomplete"): void {
    const open = this.#open;
    if (!open) return;
    this.#open = null;
    const { item, outputIndex, text } = open;
    const at = { item_id: item.id, output_index: outputIndex };
    if (item.type === "function_call") {
      item.arguments = text;
      item.status = "completed";
      this.#emit({ type: "response.function_call_arguments.done", ...at, name: item.name, arguments: text });
    } else {
      const message = item.type === "message";
      const part = message
        ? { type: "output_text", text, annotations: [], logprobs: [] }
        : { type: "reasoning_text", text };
      item.content = [part];
      item.status = message ? status : "completed";
      this.#emit({
        type: message ? "response.output_text.done" : "response.reasoning_text.done",
        ...at,
        content_index: 0,
        text,
        ...(message ? { logprobs: [] } : {}),
      });
      this.#emit({ type: "response.content_part.done", ...at, content_index: 0, part });
    }
    this.#emit({ type: "response.output_item.done", output_index: outputIndex, item: { ...item } });
  }
}
