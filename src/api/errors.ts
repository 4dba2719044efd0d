// ApiError and toOpenAiError(): the one place where status codes and OpenAI's error body are decided.
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ZodError } from "zod";
import {
  JobsUnavailableError,
  NotFoundError,
  PayloadTooLargeError,
  storeFullOf,
  storeUnavailableOf,
} from "../jobs/errors.js";
import type { Logger } from "../ops/logger.js";
import {
  AdapterNotFoundError,
  ConflictError,
  InvalidRequestError,
  ModelLoadError,
  ModelNotFoundError,
  OverloadedError,
  PermissionDeniedError,
  RequestTimeoutError,
  ShuttingDownError,
  UnavailableError,
} from "../serving/errors.js";

export interface OpenAiErrorBody {
  readonly error: {
    readonly message: string;
    readonly type: string;
    readonly param: string | null;
    readonly code: string | null;
  };
}

export class ApiError extends Error {
  readonly status: ContentfulStatusCode;
  readonly type: string;
  readonly param: string | null;
  readonly code: string | null;
  /** Sent as Retry-After on 429 and 503. */
  readonly retryAfterSeconds: number | null;

  constructor(
    status: ContentfulStatusCode,
    message: string,
    {
      type,
      param = null,
      code = null,
      retryAfterSeconds = null,
    }: { type?: string; param?: string | null; code?: string | null; retryAfterSeconds?: number | null } = {},
  ) {
    super(message);
    this.status = status;
    this.type = type ?? defaultType(status);
    this.param = param;
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

function defaultType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 409) return "conflict_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

/** Any thrown value as an ApiError: client mistakes are 4xx with their reason, the rest a 500. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof ZodError) {
    const issue = error.issues[0]!;
    const param = issue.path.join(".") || null;
    return new ApiError(400, param ? `${param}: ${issue.message}` : issue.message, { param });
  }
  if (error instanceof InvalidRequestError)
    return new ApiError(400, error.message, { param: error.param, code: error.code });
  if (error instanceof ModelLoadError) return new ApiError(400, error.message, { code: "model_load_failed" });
  if (error instanceof ModelNotFoundError)
    return new ApiError(404, error.message, { type: "invalid_request_error", param: "model", code: "model_not_found" });
  if (error instanceof PermissionDeniedError) return new ApiError(403, error.message, { code: "permission_denied" });
  if (error instanceof AdapterNotFoundError) return new ApiError(404, error.message, { code: "adapter_not_found" });
  if (error instanceof ConflictError) return new ApiError(409, error.message, { code: "conflict" });
  if (error instanceof OverloadedError)
    return new ApiError(429, error.message, { code: "overloaded", retryAfterSeconds: error.retryAfterSeconds });
  if (error instanceof ShuttingDownError)
    return new ApiError(503, error.message, { code: "shutting_down", retryAfterSeconds: 5 });
  if (error instanceof UnavailableError)
    return new ApiError(503, error.message, { code: "unavailable", retryAfterSeconds: error.retryAfterSeconds });
  if (error instanceof RequestTimeoutError)
    return new ApiError(504, error.message, { type: "timeout_error", code: "request_timeout" });
  if (error instanceof NotFoundError) return new ApiError(404, error.message, { param: error.param });
  if (error instanceof PayloadTooLargeError) return new ApiError(413, error.message, { code: "file_too_large" });
  const unavailable = error instanceof JobsUnavailableError ? error : storeUnavailableOf(error);
  if (unavailable) return new ApiError(503, unavailable.message, { code: "jobs_unavailable", retryAfterSeconds: 5 });
  // RFC 4918's 507: the store cannot hold what the request would write (full, or unable to persist).
  const full = storeFullOf(error);
  if (full) return new ApiError(507, full.message, { code: "insufficient_storage" });
  // Anything else is the server's fault, whatever its class (a RangeError from a bug is no client error).
  return new ApiError(500, error instanceof Error ? error.message : String(error), { code: "internal_error" });
}

declare module "hono" {
  interface ContextVariableMap {
    /**
     * The server's logger, set for every request by createApp, so a 500 is logged with its cause wherever it is
     * answered.
     */
    logger: Logger;
  }
}

/** The ApiError to answer with; a 500 is logged with its cause and the request id, since only a bug makes one. */
export function reportError(c: Context, error: unknown): ApiError {
  const apiError = toApiError(error);
  if (apiError.status === 500) {
    c.get("logger")?.log("error", "request_failed", {
      request_id: c.get("requestId") ?? null,
      message: apiError.message,
      stack: error instanceof Error ? error.stack : undefined,
    });
  }
  return apiError;
}

export function toOpenAiError(error: ApiError): OpenAiErrorBody {
  return { error: { message: error.message, type: error.type, param: error.param, code: error.code } };
}

/** Anthropic's error `type` for a status code (their API's table). */
function anthropicType(status: number): string {
  const types: Record<number, string> = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    503: "overloaded_error",
    529: "overloaded_error",
  };
  return types[status] ?? (status >= 500 ? "api_error" : "invalid_request_error");
}

/** Anthropic's error body: {type: "error", error: {type, message}}. */
export function toAnthropicError(error: ApiError) {
  return { type: "error" as const, error: { type: anthropicType(error.status), message: error.message } };
}

/**
 * Every route answers errors in its own API's shape, decided by path: Anthropic's under /v1/messages, KServe's
 * ({"error": message}) under /v2, OpenAI's everywhere else.
 */
export function errorBody(path: string, error: ApiError): object {
  if (path === "/v1/messages" || path.startsWith("/v1/messages/")) return toAnthropicError(error);
  if (path === "/v2" || path.startsWith("/v2/")) return { error: error.message };
  return toOpenAiError(error);
}

/** The error response for `error` (logged when it is a 500), with Retry-After on 429 and 503. */
export function errorResponse(c: Context, error: unknown): Response {
  const apiError = reportError(c, error);
  if (apiError.retryAfterSeconds !== null) c.header("Retry-After", String(apiError.retryAfterSeconds));
  return c.json(errorBody(c.req.path, apiError), apiError.status);
}
