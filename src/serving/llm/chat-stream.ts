// chatEvents: a generation's text deltas as chat output events. Each choice's text so far is parsed again as it
// grows (partially, as llama-server does), and what the new parse adds to the last one goes out as content,
// reasoning or tool-call deltas; when the choice ends, a final, complete parse settles the rest.
import type { ChatEvent, OutputParser, ParsedOutput, RenderedChat, ToolCall } from "./chat.js";
import type { GenerationEvent, TokenLogprob } from "./generation.js";

/** How chatEvents reads a chat's choices, and how it ends one that has made all the calls it may. */
export interface ChatReading {
  readonly parse: OutputParser;
  readonly complete: RenderedChat["complete"];
  readonly callIds: RenderedChat["callIds"];
  /** Calls a choice may make (parallel_tool_calls false: 1); more are dropped. */
  readonly maxToolCalls: number;
  /**
   * Ends choice `index` with reason "stop". Called once a choice's text is a whole message holding maxToolCalls
   * calls: the grammar of some formats (or none, for Llama 3.x's auto) would let it go on to another call.
   */
  readonly stop: (index: number) => void;
}

class ChoiceOutput {
  #text = "";
  /** Set once the choice made all its calls: text after that (a step's worth, until the stop lands) is dropped. */
  #done = false;
  // What was sent so far: a partial parse may withdraw text it showed before (a tag that turned out to open a
  // call); what was sent stays sent, and only growth past it is emitted.
  #sentContent = "";
  #sentReasoning = "";
  readonly #sentCalls: { id: string; arguments: string }[] = [];
  readonly #reading: ChatReading;
  readonly #parse: OutputParser;
  readonly #index: number;

  constructor(index: number, reading: ChatReading, parse: OutputParser) {
    this.#index = index;
    this.#reading = reading;
    this.#parse = parse;
  }

  /** Events for `text` appended to the choice; logprobs ride on the content they came with. */
  push(text: string, logprobs: readonly TokenLogprob[]): ChatEvent[] {
    if (this.#done) return [];
    this.#text += text;
    const parsed = this.#parse(this.#text, true);
    const { maxToolCalls, complete, stop } = this.#reading;
    if (parsed.toolCalls.length >= maxToolCalls && complete(this.#text)) {
      this.#done = true;
      stop(this.#index);
    }
    return this.#advance(parsed, logprobs);
  }

  /** Events for what the complete text adds, and the calls the choice made. */
  finish(): { events: ChatEvent[]; calls: ToolCall[] } {
    const parsed = this.#parse(this.#text, false);
    const events = this.#advance(parsed, [], true);
    const calls = parsed.toolCalls.map((call, k) => ({
      id: this.#sentCalls[k]!.id,
      name: call.name,
      arguments: call.arguments,
    }));
    return { events, calls };
  }

  #advance(parsed: ParsedOutput, logprobs: readonly TokenLogprob[], final = false): ChatEvent[] {
    const events: ChatEvent[] = [];
    const index = this.#index;
    const growth = (sent: string, now: string) => (now.startsWith(sent) ? now.slice(sent.length) : "");
    const reasoning = growth(this.#sentReasoning, parsed.reasoning);
    if (reasoning !== "") {
      events.push({ type: "reasoning", index, text: reasoning });
      this.#sentReasoning = parsed.reasoning;
    }
    // Whitespace before anything else (between a closed reasoning block and a call) is held back: the message of
    // a choice that calls a tool has no content but what the model wrote besides its calls.
    const blank = this.#sentContent === "" && parsed.content.trim() === "";
    const hold = blank && (!final || parsed.toolCalls.length > 0);
    const content = hold ? "" : growth(this.#sentContent, parsed.content);
    if (content !== "") this.#sentContent = parsed.content;
    if (content !== "" || logprobs.length > 0) events.push({ type: "content", index, text: content, logprobs });
    parsed.toolCalls.forEach((call, k) => {
      const sent = this.#sentCalls[k];
      if (sent === undefined) {
        const id = this.#reading.callIds();
        this.#sentCalls[k] = { id, arguments: call.arguments };
        events.push({ type: "tool_call", index, call: k, id, name: call.name, arguments: call.arguments });
        return;
      }
      const more = growth(sent.arguments, call.arguments);
      if (more === "") return;
      sent.arguments = call.arguments;
      events.push({ type: "tool_call", index, call: k, arguments: more });
    });
    return events;
  }
}

/** The chat events of `n` choices' generation events, read as `reading` says. */
export async function* chatEvents(
  events: AsyncIterable<GenerationEvent>,
  n: number,
  reading: ChatReading,
): AsyncGenerator<ChatEvent> {
  const { parse, maxToolCalls } = reading;
  const capped: OutputParser = (text, partial) => {
    const parsed = parse(text, partial);
    return parsed.toolCalls.length <= maxToolCalls
      ? parsed
      : { ...parsed, toolCalls: parsed.toolCalls.slice(0, maxToolCalls) };
  };
  const choices = Array.from({ length: n }, (_, index) => new ChoiceOutput(index, reading, capped));
  for await (const event of events) {
    if (event.type === "delta") {
      yield* choices[event.index]!.push(event.text, event.logprobs);
    } else if (event.type === "finished") {
      const { events: rest, calls } = choices[event.index]!.finish();
      yield* rest;
      yield { ...event, toolCalls: calls };
    } else {
      yield event;
    }
  }
}
