// API keys: checked on /v1/* and the tokenizer and admin routes; health probes stay open. A key comes as
// 'Authorization: Bearer KEY' (OpenAI's clients) or as 'x-api-key: KEY' (Anthropic's), whichever the client sends.
import { timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { ApiError, errorResponse } from "../errors.js";

function matches(given: string, keys: readonly Buffer[]): boolean {
  const candidate = Buffer.from(given);
  return keys.some((key) => key.length === candidate.length && timingSafeEqual(key, candidate));
}

export function bearerAuth(apiKeys: readonly string[]): MiddlewareHandler {
  const keys = apiKeys.map((k) => Buffer.from(k));
  return async (c, next) => {
    if (keys.length === 0) return next();
    const header = c.req.header("authorization") ?? "";
    const token = header.startsWith("Bearer ")
      ? header.slice("Bearer ".length).trim()
      : (c.req.header("x-api-key") ?? "");
    if (!matches(token, keys)) {
      return errorResponse(
        c,
        new ApiError(
          401,
          "Incorrect API key provided: pass a valid key as 'Authorization: Bearer <key>' or 'x-api-key: <key>'",
          {
            code: "invalid_api_key",
          },
        ),
      );
    }
    return next();
  };
}
