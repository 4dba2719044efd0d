// GET /v1/models and /v1/models/{id}
import { Hono } from "hono";
import type { ClassicServing } from "../../serving/classic/classic-serving.js";
import type { LlmServing } from "../../serving/llm/llm-serving.js";
import type { ModelRepository } from "../../serving/classic/model-repository.js";
import type { LoadedAdapter } from "../../serving/llm/adapters.js";
import { ModelNotFoundError } from "../../serving/errors.js";
import type { RouteInfo, Routing } from "../../routing/routing.js";

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

/** A route: a name clients may use like a model's, with its policy and targets (Loom's extension field `route`). */
function routeCard(route: RouteInfo, created: number) {
  return {
    id: route.name,
    object: "model",
    created,
    owned_by: "loom",
    root: route.name,
    parent: null,
    route: { policy: route.policy, targets: route.targets.map((t) => ({ target: t.target, role: t.role })) },
  };
}

function cards(routing: Routing, repository: ModelRepository) {
  const { registry } = routing;
  const routesCreated = Math.floor((routing.status.updatedAt ?? Date.now()) / 1000);
  return [
    ...registry.names().map(([id, serving]) => modelCard(serving, id)),
    ...registry.list().flatMap((serving) => serving.adapters.list().map((a) => adapterCard(serving, a))),
    ...routing.list().map((route) => routeCard(route, routesCreated)),
    ...repository.textModels().map(textModelCard),
  ];
}

export function modelRoutes(routing: Routing, repository: ModelRepository): Hono {
  return new Hono()
    .get("/v1/models", (c) => c.json({ object: "list", data: cards(routing, repository) }))
    .get("/v1/models/:id{.+}", (c) => {
      const id = c.req.param("id");
      const card = cards(routing, repository).find((m) => m.id === id);
      if (!card) throw new ModelNotFoundError(id);
      return c.json(card);
    });
}
