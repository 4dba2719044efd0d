// What a fault run is, and the checks they share: a request that must succeed, an error that must be clear (a JSON
// body in the route's shape with a message), and a steady stream of requests that must keep succeeding while the
// fault lasts.
import { setTimeout as sleep } from "node:timers/promises";

export interface Fault {
  readonly name: string;
  /** The fault, and what is simulated rather than real. */
  readonly what: string;
  /** What the server must do, as checked. */
  readonly expect: string;
  /** Runs the fault; resolves with the problems found (none: passed) and the figures worth reporting. */
  run(): Promise<FaultResult>;
}

export interface FaultResult {
  readonly problems: string[];
  readonly figures: Record<string, number | string>;
}

/** A chat completion's status and body text (max_tokens 8), never throwing for an HTTP status. */
export async function chat(
  url: string,
  model: string,
  init: RequestInit = {},
): Promise<{ status: number; text: string }> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "Once upon a time" }], max_tokens: 8 }),
    signal: AbortSignal.timeout(60_000),
    ...init,
  });
  return { status: response.status, text: await response.text() };
}

/** Null when `text` is OpenAI's error body with a non-empty message; otherwise what is wrong with it. */
export function unclearError(status: number, text: string): string | null {
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown } };
    if (typeof body.error?.message === "string" && body.error.message.length > 0) return null;
  } catch {
    // not JSON: reported below
  }
  return `${status} without an error message in OpenAI's shape: ${text.slice(0, 200)}`;
}

/** Requests `send` back to back from `clients` clients until stop(); counts what answered 200 and keeps the rest. */
export class SteadyTraffic {
  ok = 0;
  readonly failures: string[] = [];
  #stopped = false;
  readonly #running: Promise<unknown>;

  constructor(send: () => Promise<{ status: number; text: string }>, clients = 2) {
    const client = async () => {
      while (!this.#stopped) {
        const answer = await send().catch((error: Error) => ({ status: 0, text: error.message }));
        if (answer.status === 200) this.ok++;
        else this.failures.push(`${answer.status} ${answer.text.slice(0, 200)}`);
        await sleep(20);
      }
    };
    this.#running = Promise.all(Array.from({ length: clients }, client));
  }

  /** Stops after the requests in flight; resolves with the counts. */
  async stop(): Promise<{ ok: number; failures: string[] }> {
    this.#stopped = true;
    await this.#running;
    return { ok: this.ok, failures: this.failures };
  }
}

/** Polls `check` until it returns true or `timeoutMs` passes; resolves with whether it did. */
export async function eventually(check: () => Promise<boolean>, timeoutMs: number, everyMs = 250): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return true;
    await sleep(everyMs);
  }
  return false;
}
