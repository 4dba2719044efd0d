// Health probes, open without an API key as in vLLM and llama-server: /health answers 200 once models are
// loaded and serving, 503 while starting or shutting down.
import { Hono, type Context } from "hono";
import { ApiError, errorResponse } from "../errors.js";

export function healthRoutes(isReady: () => boolean): Hono {
  const ready = (c: Context) =>
    isReady() ? c.json({ status: "ok" }) : errorResponse(c, new ApiError(503, "the server is not ready", { code: "not_ready" }));
  return new Hono()
    .get("/health", ready)
    .get("/health/ready", ready)
    .get("/health/live", (c) => c.json({ status: "ok" }));
}
