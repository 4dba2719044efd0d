// Classifies what went wrong on an attempt to a replica, from undici's error codes and Node's socket errors.
import type { UpstreamFailure } from "../ops/router-metrics.js";

const CONNECT = new Set([
  "ECONNREFUSED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "UND_ERR_CONNECT_TIMEOUT",
]);
const PROTOCOL = new Set(["UND_ERR_HEADERS_OVERFLOW", "UND_ERR_RES_CONTENT_LENGTH_MISMATCH", "UND_ERR_INFO"]);
const TIMEOUT = new Set(["UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);

/**
 * connect: nothing listens there (safe to retry, the replica never saw the request). protocol: the bytes that came
 * back are not an HTTP response (llhttp's HPE_* codes). timeout: no headers in time (not retried: the replica may
 * still be computing it). reset: the connection closed before the headers, or before the end of an answer the proxy
 * reads whole (the replica died or restarted).
 */
export function classifyUpstreamError(error: unknown): Exclude<UpstreamFailure, "unavailable" | "overloaded"> {
  const { code, name } = error as { code?: string; name?: string };
  if (code !== undefined && CONNECT.has(code)) return "connect";
  if (name === "HTTPParserError" || code?.startsWith("HPE_") || (code !== undefined && PROTOCOL.has(code)))
    return "protocol";
  if ((code !== undefined && TIMEOUT.has(code)) || name === "TimeoutError") return "timeout";
  return "reset";
}
