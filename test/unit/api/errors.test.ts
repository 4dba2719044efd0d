// The one error mapping: typed client mistakes become 4xx in OpenAI's shape, anything else a 500.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ApiError, toApiError, toOpenAiError } from "../../../src/api/errors.js";
import {
  AdapterNotFoundError,
  ConflictError,
  InvalidRequestError,
  ModelNotFoundError,
  OverloadedError,
  PermissionDeniedError,
  RequestTimeoutError,
  ShuttingDownError,
} from "../../../src/serving/errors.js";

describe("toApiError", () => {
  it("maps each typed client error to its status, type, param and code", () => {
    const zod = z.object({ n: z.number().max(2) }).safeParse({ n: 3 }).error!;
    const cases: [unknown, number, string, string | null, string | null][] = [
      [zod, 400, "invalid_request_error", "n", null],
      [new InvalidRequestError("bad", { param: "messages", code: "x" }), 400, "invalid_request_error", "messages", "x"],
      [new ModelNotFoundError("m"), 404, "invalid_request_error", "model", "model_not_found"],
      [new AdapterNotFoundError("a"), 404, "not_found_error", null, "adapter_not_found"],
      [new PermissionDeniedError("no"), 403, "permission_error", null, "permission_denied"],
      [new ConflictError("busy"), 409, "conflict_error", null, "conflict"],
      [new OverloadedError("full", 2), 429, "rate_limit_error", null, "overloaded"],
      [new ShuttingDownError(), 503, "server_error", null, "shutting_down"],
      [new RequestTimeoutError("slow"), 504, "timeout_error", null, "request_timeout"],
    ];
    for (const [error, status, type, param, code] of cases) {
      const mapped = toApiError(error);
      expect({ status: mapped.status, type: mapped.type, param: mapped.param, code: mapped.code }).toEqual({
        status,
        type,
        param,
        code,
      });
    }
    expect(toApiError(new OverloadedError("full", 2)).retryAfterSeconds).toBe(2);
  });

  it("answers 500 for anything untyped, a RangeError or a native error included", () => {
    const native = Object.assign(new Error("bad batch"), { code: "LOOM_INVALID_BATCH" });
    for (const error of [new RangeError("index 9 out of range"), new Error("boom"), native, "a string"]) {
      const mapped = toApiError(error);
      expect(mapped.status).toBe(500);
      expect(toOpenAiError(mapped).error).toMatchObject({ type: "server_error", code: "internal_error" });
    }
  });

  it("passes ApiErrors through unchanged", () => {
    const error = new ApiError(413, "too big", { code: "request_too_large" });
    expect(toApiError(error)).toBe(error);
  });
});
