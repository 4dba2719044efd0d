// GET /loom/v1/requests: the generation requests in flight on every model; POST /loom/v1/requests/{id}/cancel ends
// one (its stream finishes with finish_reason "abort", as when its client goes away).
import { Hono } from "hono";
import type { GenerationInfo } from "../../serving/llm/generation.js";
import type { ModelRegistry } from "../../serving/llm/registry.js";
import { ApiError } from "../errors.js";

function wireRequest(model: string, r: GenerationInfo, nowMs: number) {
  return {
    id: r.requestId,
    object: "request",
    model,
    adapter: r.adapter,
    created: Math.floor(r.arrivalMs / 1000),
    // Computed here so a browser whose clock differs from the server's shows the right age.
    age_seconds: Math.max(0, (nowMs - r.arrivalMs) / 1000),
    state: r.state,
    prompt_tokens: r.numPromptTokens,
    output_tokens: r.numOutputTokens,
  };
}

export function requestRoutes(registry: ModelRegistry): Hono {
  return new Hono()
    .get("/loom/v1/requests", (c) => {
      const now = Date.now();
      const data = registry
        .list()
        .flatMap((serving) => serving.inFlight().map((g) => wireRequest(serving.name, g.info, now)));
      return c.json({ object: "list", data });
    })
    .post("/loom/v1/requests/:id/cancel", (c) => {
      const id = c.req.param("id");
      if (!registry.list().some((serving) => serving.cancel(id)))
        throw new ApiError(404, `no request '${id}' is in flight`, { param: "id", code: "request_not_found" });
      return c.json({ id, object: "request", cancelled: true });
    });
}
