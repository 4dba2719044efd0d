// LoRA adapter loads and unloads go to every replica taking traffic, not to one: the prefix policy may send an
// adapter's requests to any replica (its first choice, or the next one past the load bound), so the adapter must be
// resident on all of them. The answer is the first replica's failure if any failed, else the first success;
// x-loom-replica lists every replica asked.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Dispatcher } from "undici";
import type { Replica } from "./replica.js";

/** Admin routes whose effect must reach every replica (vLLM's adapter routes). */
export const BROADCAST_PATHS: ReadonlySet<string> = new Set(["/v1/load_lora_adapter", "/v1/unload_lora_adapter"]);

interface Answer {
  readonly replica: string;
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
}

export interface BroadcastOptions {
  readonly replicas: readonly Replica[];
  readonly dispatcher: Dispatcher;
  readonly headers: Record<string, string | string[]>;
  readonly timeoutMs: number;
}

/** Sends `req` (its body read into `body`) to every replica at once and writes one answer to `res`. */
export async function broadcast(req: IncomingMessage, res: ServerResponse, body: Buffer, o: BroadcastOptions) {
  const answers = await Promise.all(
    o.replicas.map(async (replica): Promise<Answer> => {
      try {
        const response = await o.dispatcher.request({
          origin: replica.url,
          path: req.url ?? "/",
          method: "POST",
          headers: o.headers,
          body,
          headersTimeout: o.timeoutMs,
          bodyTimeout: o.timeoutMs,
        });
        const contentType = String(response.headers["content-type"] ?? "text/plain");
        return { replica: replica.url, status: response.statusCode, contentType, text: await response.body.text() };
      } catch (error) {
        const text = `${replica.url} did not answer: ${(error as Error).message}`;
        return { replica: replica.url, status: 502, contentType: "text/plain", text };
      }
    }),
  );
  const chosen = answers.find((a) => a.status >= 400) ?? answers[0]!;
  res
    .writeHead(chosen.status, {
      "content-type": chosen.contentType,
      "x-loom-replica": answers.map((a) => a.replica).join(", "),
    })
    .end(chosen.text);
}
