// Health probes, open without an API key as in vLLM and llama-server, with Kubernetes semantics:
// /health/live: the process answers (restart it when this fails);
// /health/startup: the model is loaded (503 while loading);
// /health/ready and /health: ready for traffic (503 while loading, draining, or after an engine loop died).
import { Hono, type Context } from "hono";
import type { HealthState } from "../../ops/health.js";
import { ApiError, errorResponse } from "../errors.js";

export function healthRoutes(health: HealthState): Hono {
  const ready = (c: Context) => {
    const reason = health.notReadyReason();
    return reason === null
      ? c.json({ status: "ok" })
      : errorResponse(c, new ApiError(503, reason, { code: "not_ready" }));
  };
  return new Hono()
    .get("/health", ready)
    .get("/health/ready", ready)
    .get("/health/live", (c) => c.json({ status: "ok" }))
    .get("/health/startup", (c) =>
      health.started
        ? c.json({ status: "ok" })
        : errorResponse(c, new ApiError(503, "the model is still loading", { code: "starting" })),
    );
}
