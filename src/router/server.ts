// startRouter: the router process's HTTP server (node:http, since a proxy wants the raw request and response
// streams). Its own routes: /health/live, /health/ready (= /health), /health/startup, GET /metrics and
// GET /router/replicas; every other request is read (up to the body limit: 413 before any forwarding) and forwarded.
// close() drains: ready turns 503, the listener stops accepting, in-flight requests get the grace period.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { Agent } from "undici";
import { settlesWithin } from "../ops/deadline.js";
import { jsonLogger, type Logger } from "../ops/logger.js";
import { RouterMetrics } from "../ops/router-metrics.js";
import { BROADCAST_PATHS, broadcast } from "./broadcast.js";
import type { RouterOptions } from "./cli.js";
import { LeastLoadPolicy } from "./policies/least-load.js";
import { PrefixAffinityPolicy } from "./policies/prefix-affinity.js";
import { RoundRobinPolicy } from "./policies/round-robin.js";
import type { RoutingPolicy } from "./policies/types.js";
import { forwardHeaders, ReplicaProxy } from "./proxy.js";
import { ReplicaSet } from "./replica-set.js";
import { sendError, sendJson } from "./responses.js";

export interface RunningRouter {
  /** http://host:port with the bound port. */
  readonly url: string;
  readonly replicas: ReplicaSet;
  /** Drains: ready turns 503, no new requests, in-flight ones get up to `graceMs` (default: the option). */
  close(graceMs?: number): Promise<void>;
}

export interface StartRouterOptions {
  readonly logger?: Logger;
  readonly processMetrics?: boolean;
}

function makePolicy(options: RouterOptions): RoutingPolicy {
  if (options.policy === "round-robin") return new RoundRobinPolicy();
  if (options.policy === "least-load") return new LeastLoadPolicy();
  return new PrefixAffinityPolicy({
    absThreshold: options.balanceAbsThreshold,
    relThreshold: options.balanceRelThreshold,
  });
}

/** Reads the whole body, or answers 413 (and closes the connection) once it passes `maxBytes`; null then. */
async function readBody(req: IncomingMessage, res: ServerResponse, maxBytes: number): Promise<Buffer | null> {
  const tooLarge = () => {
    sendError(res, 413, `the request body exceeds ${maxBytes} bytes`, { code: "request_too_large", close: true });
    return null;
  };
  if (Number(req.headers["content-length"] ?? 0) > maxBytes) return tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) return tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export async function startRouter(options: RouterOptions, start: StartRouterOptions = {}): Promise<RunningRouter> {
  const logger = start.logger ?? jsonLogger(options.logLevel);
  const metrics = new RouterMetrics({ processMetrics: start.processMetrics ?? true });
  const upstreamTimeoutMs = options.upstreamTimeoutSeconds * 1000;
  const dispatcher = new Agent({ headersTimeout: upstreamTimeoutMs, bodyTimeout: upstreamTimeoutMs });
  const [dnsName, dnsPort] = options.replicasDns?.split(":") ?? [];
  const replicas = new ReplicaSet({
    urls: options.replicas,
    ...(dnsName && dnsPort
      ? { dns: { name: dnsName, port: Number(dnsPort), intervalMs: options.dnsIntervalSeconds * 1000 } }
      : {}),
    probeIntervalMs: options.healthIntervalSeconds * 1000,
    probeTimeoutMs: options.healthTimeoutSeconds * 1000,
    scrapeLoad: options.policy !== "round-robin",
    dispatcher,
    logger,
  });
  metrics.watchReplicas(() => replicas.all);
  const retryAfterSeconds = Math.max(1, Math.ceil(options.healthIntervalSeconds));
  const proxy = new ReplicaProxy({
    replicas,
    policy: makePolicy(options),
    policyName: options.policy,
    dispatcher,
    metrics,
    logger,
    maxAttempts: options.maxAttempts,
    ejectionMs: options.ejectionSeconds * 1000,
    upstreamTimeoutMs,
    prefixChars: options.prefixChars,
    retryAfterSeconds,
  });
  let draining = false;
  let inFlight = 0;
  let idle: (() => void) | null = null;

  const ownRoute = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> => {
    if (req.method !== "GET") return false;
    if (path === "/health/live" || path === "/health/startup") sendJson(res, 200, { status: "ok" });
    else if (path === "/health/ready" || path === "/health") {
      const reason = draining
        ? "the router is shutting down"
        : replicas.routable().length === 0
          ? "no replica is ready"
          : null;
      if (reason === null) sendJson(res, 200, { status: "ok" });
      else sendError(res, 503, reason, { code: "not_ready", retryAfterSeconds });
    } else if (path === "/metrics") {
      const text = await metrics.render();
      res.writeHead(200, { "content-type": metrics.registry.contentType }).end(text);
    } else if (path === "/router/replicas") sendJson(res, 200, { replicas: replicas.all.map((r) => r.toJSON()) });
    else return false;
    return true;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const arrivedMs = performance.now();
    const path = (req.url ?? "/").split("?")[0]!;
    if (await ownRoute(req, res, path)) return;
    if (draining) {
      metrics.rejected("draining");
      sendError(res, 503, "the router is shutting down", { code: "shutting_down", retryAfterSeconds, close: true });
      return;
    }
    const body = await readBody(req, res, options.maxBodyBytes);
    if (body === null) {
      metrics.rejected("too_large");
      return;
    }
    const routable = replicas.routable();
    if (req.method === "POST" && BROADCAST_PATHS.has(path) && routable.length > 0) {
      const headers = forwardHeaders(req);
      await broadcast(req, res, body, { replicas: routable, dispatcher, headers, timeoutMs: upstreamTimeoutMs });
    } else await proxy.forward(req, res, body, arrivedMs);
  };

  const server: Server = createServer({ noDelay: true, keepAliveTimeout: 65_000 }, (req, res) => {
    inFlight += 1;
    handle(req, res)
      .catch((error: unknown) => {
        logger.log("error", "router_request_failed", { message: (error as Error).message });
        if (!res.headersSent) sendError(res, 500, (error as Error).message, { code: "router_error" });
        else res.destroy();
      })
      .finally(() => {
        inFlight -= 1;
        if (inFlight === 0) idle?.();
      });
  });
  await replicas.start();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${host}:${port}`,
    replicas,
    close(graceMs = options.shutdownGraceSeconds * 1000) {
      closing ??= (async () => {
        draining = true;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await settlesWithin(
          inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (idle = resolve)),
          graceMs,
        );
        server.closeAllConnections();
        await closed;
        replicas.close();
        await dispatcher.destroy();
      })();
      return closing;
    },
  };
}
