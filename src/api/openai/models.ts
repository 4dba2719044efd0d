// GET /v1/models and /v1/models/{id}
import { Hono } from "hono";
import type { ClassicServing } from "../../serving/classic/classic-serving.js";
import type { LlmServing } from "../../serving/llm/llm-serving.js";
import type { ModelRepository } from "../../serving/classic/model-repository.js";
import type { LoadedAdapter } from "../../serving/llm/adapters.js";
import { ModelNotFoundError } from "../../serving/errors.js";
import type { ModelRegistry } from "../../serving/llm/registry.js";

/** A served model under one of its names; aliases keep the primary name as `root`. */
function modelCard(serving: LlmServing, id: string) {
  return {
    id,
    object: "model",
    created: serving.createdSeconds,
    owned_by: "loom",
    root: serving.name,
    parent: null,
    max_model_len: serving.maxModelLen,
  };
}

/** As vLLM lists them: the adapter's path as `root`, its base model as `parent`. */
function adapterCard(serving: LlmServing, adapter: LoadedAdapter) {
  return {
    id: adapter.name,
    object: "model",
    created: adapter.createdSeconds,
    owned_by: "loom",
    root: adapter.path,
    parent: serving.name,
    max_model_len: serving.maxModelLen,
  };
}

/** Text models of the repository, which /v1/embeddings serves. */
function textModelCard(serving: ClassicServing) {
  return {
    id: serving.name,
    object: "model",
    created: serving.createdSeconds,
    owned_by: "loom",
    root: serving.name,
    parent: null,
  };
}

function cards(registry: ModelRegistry, repository: ModelRepository) {
  return [
    ...registry
      .list()
      .flatMap((serving) => [
        ...[serving.name, ...serving.aliases].map((id) => modelCard(serving, id)),
        ...serving.adapters.list().map((a) => adapterCard(serving, a)),
      ]),
    ...repository.textModels().map(textModelCard),
  ];
}

export function modelRoutes(registry: ModelRegistry, repository: ModelRepository): Hono {
  return new Hono()
    .get("/v1/models", (c) => c.json({ object: "list", data: cards(registry, repository) }))
    .get("/v1/models/:id{.+}", (c) => {
      const id = c.req.param("id");
      const card = cards(registry, repository).find((m) => m.id === id);
      if (!card) throw new ModelNotFoundError(id);
      return c.json(card);
    });
}
