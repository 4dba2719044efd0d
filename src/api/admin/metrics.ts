// GET /metrics: Prometheus text exposition, open without an API key as in vLLM.
import { Hono } from "hono";
import type { Metrics } from "../../ops/metrics.js";

export function metricsRoutes(metrics: Metrics): Hono {
  return new Hono().get("/metrics", async (c) =>
    c.body(await metrics.text(), 200, { "content-type": metrics.contentType }),
  );
}
