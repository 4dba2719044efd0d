// Admission at the door: while models load or the server drains, work routes answer 503 with Retry-After
// (overload within a model is decided by serving and answered 429); a body over the limit is refused with 413.
// Every response is counted and logged here.
import type { MiddlewareHandler } from "hono";
import type { HealthState } from "../../ops/health.js";
import type { Logger } from "../../ops/logger.js";
import type { Metrics } from "../../ops/metrics.js";
import { ApiError, errorResponse } from "../errors.js";

export function admission(health: HealthState): MiddlewareHandler {
  return async (c, next) => {
    if (health.phase === "serving") return next();
    const reason =
      health.phase === "starting"
        ? "the model is still loading"
        : "the server is shutting down and accepts no new requests";
    return errorResponse(
      c,
      new ApiError(503, reason, {
        code: health.phase === "starting" ? "starting" : "shutting_down",
        retryAfterSeconds: 5,
      }),
    );
  };
}

/**
 * Logs each request and counts it by status class. Its time in the app, from the routes' first middleware to the
 * response (its headers, for a stream), goes out as `Server-Timing: app;dur=MS` (W3C), so a client can tell the
 * server's time from the network's and its own.
 */
export function accessLog(logger: Logger, metrics?: Metrics): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    await next();
    c.res.headers.append("server-timing", `app;dur=${(performance.now() - started).toFixed(3)}`);
    const status = c.res.status;
    metrics?.observeHttp(status);
    logger.log(status === 500 ? "error" : status >= 400 ? "info" : "debug", "http", {
      request_id: c.get("requestId") ?? null,
      method: c.req.method,
      path: c.req.path,
      status,
      ms: Math.round(performance.now() - started),
    });
  };
}

// A declared Content-Length over the limit is refused before anything reads the body; a chunked body is counted
// as readBody() takes it off the socket. Hono's own bodyLimit wraps every body in a web Request and a counting
// stream, which costs more CPU than a small model's run.
declare module "hono" {
  interface ContextVariableMap {
    /** The most bytes a request body may have (set by bodyLimit, enforced by readBody). */
    maxBodyBytes: number;
  }
}

export function tooLarge(maxBytes: number): ApiError {
  return new ApiError(413, `the request body is larger than ${maxBytes} bytes`, { code: "request_too_large" });
}

export function bodyLimit(maxBytes: number): MiddlewareHandler {
  return async (c, next) => {
    if (Number(c.req.header("content-length") ?? 0) > maxBytes) return errorResponse(c, tooLarge(maxBytes));
    c.set("maxBodyBytes", maxBytes);
    return next();
  };
}
