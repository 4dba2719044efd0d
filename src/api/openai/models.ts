// GET /v1/models and /v1/models/{id}
import { Hono } from "hono";
import type { LlmServing } from "../../serving/llm-serving.js";
import type { LoadedAdapter } from "../../serving/adapters.js";
import { ModelNotFoundError } from "../../serving/errors.js";
import type { ModelRegistry } from "../../serving/registry.js";

function modelCard(serving: LlmServing) {
  return { id: serving.name, object: "model", created: serving.createdSeconds, owned_by: "loom", root: serving.name, parent: null, max_model_len: serving.maxModelLen };
}

/** As vLLM lists them: the adapter's path as `root`, its base model as `parent`. */
function adapterCard(serving: LlmServing, adapter: LoadedAdapter) {
  return { id: adapter.name, object: "model", created: adapter.createdSeconds, owned_by: "loom", root: adapter.path, parent: serving.name, max_model_len: serving.maxModelLen };
}

function cards(registry: ModelRegistry) {
  return registry.list().flatMap((serving) => [modelCard(serving), ...serving.adapters.list().map((a) => adapterCard(serving, a))]);
}

export function modelRoutes(registry: ModelRegistry): Hono {
  return new Hono()
    .get("/v1/models", (c) => c.json({ object: "list", data: cards(registry) }))
    .get("/v1/models/:id{.+}", (c) => {
      const id = c.req.param("id");
      const card = cards(registry).find((m) => m.id === id);
      if (!card) throw new ModelNotFoundError(id);
      return c.json(card);
    });
}
