// GET /v1/models and /v1/models/{id}
import { Hono } from "hono";
import type { LlmServing } from "../../serving/llm-serving.js";
import type { ModelRegistry } from "../../serving/registry.js";

function modelCard(serving: LlmServing) {
  return { id: serving.name, object: "model", created: serving.createdSeconds, owned_by: "loom", root: serving.name, parent: null, max_model_len: serving.maxModelLen };
}

export function modelRoutes(registry: ModelRegistry): Hono {
  return new Hono()
    .get("/v1/models", (c) => c.json({ object: "list", data: registry.list().map(modelCard) }))
    .get("/v1/models/:id{.+}", (c) => c.json(modelCard(registry.get(c.req.param("id")))));
}
