// InFlightRequests: the generation requests a model is serving now, for the dashboard's running-requests table
// and for an operator's cancel. Serving registers a request when the engine accepts it, counts its tokens as they
// stream, and removes it when its stream ends, whatever the reason.

/** waiting: accepted, no token yet (queued or prefilling); running: tokens are streaming. vLLM's two states. */
type InFlightState = "waiting" | "running";

export interface InFlightInfo {
  readonly requestId: string;
  readonly model: string;
  /** The LoRA adapter the request generates with, if any. */
  readonly adapter: string | null;
  /** When the request was accepted, Unix milliseconds. */
  readonly arrivalMs: number;
  readonly numPromptTokens: number;
  /** Tokens generated so far, over all of the request's sequences. */
  readonly numOutputTokens: number;
  readonly state: InFlightState;
}

export interface InFlightEntry {
  readonly requestId: string;
  readonly model: string;
  readonly adapter: string | null;
  readonly numPromptTokens: number;
}

interface Tracked extends InFlightEntry {
  readonly arrivalMs: number;
  numOutputTokens: number;
  readonly cancel: () => void;
}

export class InFlightRequests {
  readonly #requests = new Map<string, Tracked>();
  readonly #now: () => number;

  constructor({ now = Date.now }: { now?: () => number } = {}) {
    this.#now = now;
  }

  /** Registers a request; `cancel` ends it (its stream then finishes with reason "abort"). Ids are unique. */
  add(entry: InFlightEntry, cancel: () => void): void {
    if (this.#requests.has(entry.requestId)) throw new RangeError(`request id ${entry.requestId} is already in flight`);
    this.#requests.set(entry.requestId, { ...entry, arrivalMs: this.#now(), numOutputTokens: 0, cancel });
  }

  /** One more token streamed for the request; unknown ids are ignored (the request already left). */
  countToken(requestId: string): void {
    const tracked = this.#requests.get(requestId);
    if (tracked) tracked.numOutputTokens++;
  }

  remove(requestId: string): void {
    this.#requests.delete(requestId);
  }

  /** The requests in flight, oldest first. */
  list(): InFlightInfo[] {
    return [...this.#requests.values()].map((t) => ({
      requestId: t.requestId,
      model: t.model,
      adapter: t.adapter,
      arrivalMs: t.arrivalMs,
      numPromptTokens: t.numPromptTokens,
      numOutputTokens: t.numOutputTokens,
      state: t.numOutputTokens > 0 ? "running" : "waiting",
    }));
  }

  /** Cancels a request in flight; false when no such request is (any more). */
  cancel(requestId: string): boolean {
    const tracked = this.#requests.get(requestId);
    if (!tracked) return false;
    tracked.cancel();
    return true;
  }

  get size(): number {
    return this.#requests.size;
  }
}
