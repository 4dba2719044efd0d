// GET /metrics: Prometheus text exposition, open without an API key as in vLLM. The render's own time goes out in a
// Server-Timing header (W3C), so a scraper can tell the server's time from the network's and its own.
import { Hono } from "hono";
import type { Metrics } from "../../ops/metrics.js";

export function metricsRoutes(metrics: Metrics): Hono {
  return new Hono().get("/metrics", async (c) => {
    const started = performance.now();
    const text = await metrics.text();
    const renderMs = performance.now() - started;
    return c.body(text, 200, {
      "content-type": metrics.contentType,
      "server-timing": `render;dur=${renderMs.toFixed(3)}`,
    });
  });
}
