// The request body limit. A declared Content-Length over the limit is refused before anything reads the body;
// a chunked body is counted as readBody() takes it off the socket. Hono's own bodyLimit wraps every body in a
// web Request and a counting stream, which costs more CPU than a small model's run.
import type { MiddlewareHandler } from "hono";
import { ApiError, errorResponse } from "../errors.js";

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
