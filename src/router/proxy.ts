// Forwarding one request: the policy orders the replicas, undici sends the buffered body to the first, and the
// response streams back through pipeline() (back-pressure both ways; a client that leaves destroys the upstream
// request, which the replica sees as a disconnect and cancels), or, when small and of known length, is read whole
// and sent in one write. Until the first byte goes to the client, a failed attempt (refused, reset, garbage, 503
// draining, 429 full) moves on to the next replica; after it, nothing is retried, since the client already holds
// part of an answer.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Dispatcher } from "undici";
import type { Logger } from "../ops/logger.js";
import type { RouterMetrics } from "../ops/router-metrics.js";
import type { RoutingPolicy } from "./policies/types.js";
import type { Replica } from "./replica.js";
import type { ReplicaSet } from "./replica-set.js";
import { type RoutingKey, routingKey } from "./request-key.js";
import { sendError } from "./responses.js";
import { classifyUpstreamError } from "./upstream-errors.js";

/** The response header naming the replica that answered. */
const REPLICA_HEADER = "x-loom-replica";

// RFC 9110 section 7.6.1: connection-specific headers are not forwarded; undici sets host and content-length.
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
  "content-length",
  "expect",
]);

/** Answers of at most this many bytes, with a content-length, are read whole and sent in one write. */
const WHOLE_BODY_BYTES = 64 * 1024;

/** Paths whose JSON body the prefix policy reads for a routing key. */
const KEYED_PATHS = new Set(["/v1/chat/completions", "/v1/completions", "/v1/embeddings"]);
const NO_KEY: RoutingKey = { model: null, adapter: null, prefix: null };

export interface ProxyOptions {
  readonly replicas: ReplicaSet;
  readonly policy: RoutingPolicy;
  readonly policyName: string;
  readonly dispatcher: Dispatcher;
  readonly metrics: RouterMetrics;
  readonly logger: Logger;
  readonly maxAttempts: number;
  readonly ejectionMs: number;
  readonly upstreamTimeoutMs: number;
  readonly prefixChars: number;
  /** Retry-After, in seconds, when no replica takes traffic. */
  readonly retryAfterSeconds: number;
}

/** The client's request headers less the hop-by-hop ones, with the client added to x-forwarded-for. */
export function forwardHeaders(req: IncomingMessage): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers))
    if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
  const client = req.socket.remoteAddress;
  if (client !== undefined) {
    const before = req.headers["x-forwarded-for"];
    headers["x-forwarded-for"] = before ? `${before}, ${client}` : client;
  }
  return headers;
}

function responseHeaders(upstream: IncomingHttpHeaders, replica: string): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(upstream))
    if (value !== undefined && name !== "connection" && name !== "keep-alive" && name !== "transfer-encoding")
      headers[name] = value;
  headers[REPLICA_HEADER] = replica;
  return headers;
}

/** Resolves once `body` holds its first bytes (or ended empty), without taking them; rejects if it fails first. */
function firstBytes(body: Readable): Promise<void> {
  if (body.readableLength > 0 || body.readableEnded) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const settle = (error?: Error) => {
      body.off("readable", ready).off("end", ready).off("error", settle);
      if (error) reject(error);
      else resolve();
    };
    const ready = () => settle();
    body.once("readable", ready).once("end", ready).once("error", settle);
  });
}

export class ReplicaProxy {
  readonly #o: ProxyOptions;

  constructor(options: ProxyOptions) {
    this.#o = options;
  }

  /** Forwards `req` (whose body was read into `body`) and writes the answer to `res`; never throws. */
  async forward(req: IncomingMessage, res: ServerResponse, body: Buffer, arrivedMs: number): Promise<void> {
    const o = this.#o;
    const routable = o.replicas.routable();
    if (routable.length === 0) return this.#noReplica(res);
    const path = req.url ?? "/";
    const key =
      req.method === "POST" && KEYED_PATHS.has(path.split("?")[0]!)
        ? routingKey(body, o.replicas.baseModels(), o.prefixChars)
        : NO_KEY;
    const choice = o.policy.choose(key, routable);
    o.metrics.decision(o.policyName, choice.decision);
    const candidates = choice.order.slice(0, o.maxAttempts);
    const client = new AbortController();
    res.once("close", () => {
      if (!res.writableFinished) client.abort();
    });
    const headers = forwardHeaders(req);
    let attempts = 0;
    for (const [index, replica] of candidates.entries()) {
      if (!replica.routable) continue;
      if (attempts++ > 0) o.metrics.retry();
      const last = !candidates.slice(index + 1).some((r) => r.routable);
      const end = replica.begin();
      const sentMs = performance.now();
      let upstream: Dispatcher.ResponseData;
      let headersSeconds = 0;
      let refused = false;
      let whole: Buffer | null = null;
      try {
        upstream = await o.dispatcher.request({
          origin: replica.url,
          path,
          method: (req.method ?? "GET") as Dispatcher.HttpMethod,
          headers,
          body: body.length > 0 ? body : null,
          signal: client.signal,
          headersTimeout: o.upstreamTimeoutMs,
          bodyTimeout: o.upstreamTimeoutMs,
        });
        headersSeconds = (performance.now() - sentMs) / 1000;
        // Nothing goes to the client before the answer's first bytes are here, so a replica that dies before them
        // is retried like one that refused (a stream's headers come at once, its first bytes only after the
        // prefill). A small answer of known length (every non-streamed JSON answer) is read whole,
        // and leaves in one write with its headers (a hop's cost is mostly per write and wakeup).
        // 503: draining or loading; 429: its queue is full. Either way the replica did no work.
        refused = (upstream.statusCode === 503 || upstream.statusCode === 429) && !last;
        if (!refused && Number(upstream.headers["content-length"]) <= WHOLE_BODY_BYTES)
          whole = Buffer.from(await upstream.body.arrayBuffer());
        else if (!refused) await firstBytes(upstream.body);
      } catch (error) {
        end();
        if (client.signal.aborted) return;
        // A replica that is slow to answer is not broken (it may still be computing): it stays in.
        const kind = this.#failed(replica, error, "upstream_failed", { ejectOnTimeout: false });
        if (kind === "timeout") {
          sendError(res, 504, `${replica.url} did not answer in time`, { code: "upstream_timeout" });
          return;
        }
        continue;
      }
      const status = upstream.statusCode;
      if (refused) {
        o.metrics.failure(replica.url, status === 503 ? "unavailable" : "overloaded");
        if (status === 503) replica.notReady(`answered 503 to ${req.method} ${path}`);
        await upstream.body.dump().catch(() => {});
        end();
        continue;
      }
      replica.succeeded();
      o.metrics.response(replica.url, status, headersSeconds);
      const answerHeaders = responseHeaders(upstream.headers, replica.url);
      if (whole) res.writeHead(status, answerHeaders).end(whole);
      else await this.#stream(res, status, answerHeaders, upstream.body, replica, client.signal);
      end();
      o.metrics.finished(replica.url, (performance.now() - arrivedMs) / 1000);
      return;
    }
    // Every candidate was taken out meanwhile (by other requests' failures), or failed this one.
    if (attempts === 0) return this.#noReplica(res);
    o.metrics.rejected("exhausted");
    sendError(res, 502, `${attempts} replica(s) failed before answering; see the router's log`, {
      code: "upstream_failed",
      retryAfterSeconds: o.retryAfterSeconds,
    });
  }

  #noReplica(res: ServerResponse): void {
    this.#o.metrics.rejected("no_replica");
    sendError(res, 503, "no replica is ready to take the request", {
      code: "no_replica",
      retryAfterSeconds: this.#o.retryAfterSeconds,
    });
  }

  /** Counts, logs and ejects `replica` for `error` (a timeout only when `ejectOnTimeout`); returns the error's kind. */
  #failed(replica: Replica, error: unknown, event: string, { ejectOnTimeout }: { ejectOnTimeout: boolean }): string {
    const kind = classifyUpstreamError(error);
    const message = (error as Error).message;
    this.#o.metrics.failure(replica.url, kind);
    this.#o.logger.log("warn", event, { replica: replica.url, kind, message });
    if (kind !== "timeout" || ejectOnTimeout) replica.eject(`${kind}: ${message}`, Date.now(), this.#o.ejectionMs);
    return kind;
  }

  async #stream(
    res: ServerResponse,
    status: number,
    headers: Record<string, string | string[]>,
    body: Dispatcher.ResponseData["body"],
    replica: Replica,
    client: AbortSignal,
  ) {
    res.writeHead(status, headers);
    try {
      await pipeline(body, res);
    } catch (error) {
      // The client left (its abort already cancelled upstream), or the replica broke off mid-response: the client
      // holds part of an answer, so nothing can be retried; the connection is closed to tell it so.
      res.destroy();
      if (!client.aborted) this.#failed(replica, error, "upstream_broke_off", { ejectOnTimeout: true });
    }
  }
}
