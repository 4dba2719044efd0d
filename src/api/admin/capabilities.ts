// GET /loom/v1/capabilities: what this server offers beyond the OpenAI routes, so a client (the dashboard) shows
// the sections the server has and hides the others.
import { Hono } from "hono";

/**
 * Names a client may test for: `stats_stream` (GET /loom/v1/stats/stream), `requests` (GET /loom/v1/requests and
 * their cancel), `batches` (OpenAI's /v1/batches and /v1/files), and `routes` (GET /loom/v1/routes, once there
 * are routes).
 */
export type Capability = "stats_stream" | "requests" | "routes" | "batches";

export function capabilityRoutes(capabilities: () => readonly Capability[]): Hono {
  return new Hono().get("/loom/v1/capabilities", (c) => c.json({ object: "capabilities", data: capabilities() }));
}
