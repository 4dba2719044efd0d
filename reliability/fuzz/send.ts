// Sends one fuzz request the way its transport says: whole, chunked, trickled slowly, aborted by the client, or cut
// short. The first four go through undici; a truncated body needs a Content-Length the bytes never reach, which
// no HTTP client will send, so it is written on a raw socket and only the status line of any answer is read.
import { connect } from "node:net";
import { Readable } from "node:stream";
import { type Agent, request } from "undici";
import type { FuzzRequest } from "./requests.js";

export interface Outcome {
  /** The HTTP status; null when no answer came (the client aborted, or the server closed a cut-short request). */
  readonly status: number | null;
  readonly contentType: string;
  /** The body as text, capped at 16 MiB (an endless stream: what came in its first half second). */
  readonly text: string;
  readonly ms: number;
  /** Why the exchange failed on the client's side (hung, connection reset, ...); null when it completed. */
  readonly clientError: string | null;
}

const MAX_TEXT = 16 * 1024 * 1024;

async function* chunks(body: Uint8Array, delayMs: number): AsyncGenerator<Uint8Array> {
  const size = Math.max(1, Math.ceil(body.length / 8));
  for (let offset = 0; offset < body.length; offset += size) {
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    yield body.subarray(offset, offset + size);
  }
}

/**
 * Reads a body as text up to MAX_TEXT, then drops the rest. An endless stream is read for `endlessMs` only: a timer
 * ends it, since its next event may be a minute away (the stats stream's interval is the client's to choose).
 */
async function readText(body: AsyncIterable<Buffer> & { destroy(): void }, endlessMs: number | null) {
  const decoder = new TextDecoder();
  let text = "";
  let ended = false;
  const timer =
    endlessMs === null
      ? null
      : setTimeout(() => {
          ended = true;
          body.destroy();
        }, endlessMs);
  try {
    for await (const chunk of body) if (text.length < MAX_TEXT) text += decoder.decode(chunk, { stream: true });
  } catch (error) {
    if (!ended) throw error;
  } finally {
    if (timer) clearTimeout(timer);
  }
  return text;
}

export interface SendOptions {
  readonly agent: Agent;
  /** A request still unanswered after this long is hung. */
  readonly timeoutMs: number;
  /** The route streams until the client leaves (GET /loom/v1/stats/stream). */
  readonly endless: boolean;
}

export async function send(baseUrl: string, req: FuzzRequest, options: SendOptions): Promise<Outcome> {
  const started = performance.now();
  if (req.transport === "truncated") return sendTruncated(baseUrl, req, options.timeoutMs, started);
  const abort = new AbortController();
  const hung = setTimeout(() => abort.abort(new Error("hung")), options.timeoutMs);
  // An aborting client leaves at a random-looking but replayable moment: after the request's body length in ms.
  const leaveMs = req.transport === "abort" ? ((req.body?.length ?? 7) % 300) + 1 : null;
  const leave = leaveMs === null ? undefined : setTimeout(() => abort.abort(new Error("client left")), leaveMs);
  const body =
    req.body === null
      ? null
      : req.transport === "chunked" || req.transport === "slow"
        ? Readable.from(chunks(req.body, req.transport === "slow" ? 150 : 0))
        : req.body;
  try {
    const response = await request(`${baseUrl}${req.target}`, {
      method: req.method as "GET",
      headers: req.headers,
      body,
      dispatcher: options.agent,
      signal: abort.signal,
    });
    const text = await readText(response.body, options.endless ? 500 : null);
    return {
      status: response.statusCode,
      contentType: String(response.headers["content-type"] ?? ""),
      text,
      ms: performance.now() - started,
      clientError: null,
    };
  } catch (error) {
    const reason = abort.signal.aborted ? String((abort.signal.reason as Error).message) : (error as Error).message;
    return { status: null, contentType: "", text: "", ms: performance.now() - started, clientError: reason };
  } finally {
    clearTimeout(hung);
    clearTimeout(leave);
  }
}

/** Declares the whole body's length, sends half of it, ends the socket's writing side and reads what comes back. */
function sendTruncated(baseUrl: string, req: FuzzRequest, timeoutMs: number, started: number): Promise<Outcome> {
  const url = new URL(baseUrl);
  const body = req.body ?? new Uint8Array();
  const head = [
    `${req.method} ${req.target} HTTP/1.1`,
    `host: ${url.host}`,
    `content-length: ${body.length}`,
    ...Object.entries(req.headers).map(([k, v]) => `${k}: ${v}`),
    "",
    "",
  ].join("\r\n");
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname, port: Number(url.port) });
    let received = "";
    const done = (clientError: string | null) => {
      clearTimeout(timer);
      socket.destroy();
      const match = /^HTTP\/1\.1 (\d{3})/.exec(received);
      const split = received.indexOf("\r\n\r\n");
      const type = /content-type: ([^\r\n]*)/i.exec(received)?.[1] ?? "";
      resolve({
        status: match ? Number(match[1]) : null,
        contentType: type,
        text: split >= 0 ? received.slice(split + 4) : "",
        ms: performance.now() - started,
        clientError,
      });
    };
    const timer = setTimeout(() => done("hung"), timeoutMs);
    socket.on("data", (chunk) => {
      received += chunk.toString("latin1");
    });
    socket.on("end", () => done(null));
    socket.on("error", (error) => done(error.message));
    socket.write(head);
    socket.write(body.subarray(0, body.length >> 1));
    socket.end();
  });
}
