// createApp: the Hono app, its middleware order and its routes. Probes and /metrics come before authentication so
// orchestrators and scrapers reach them without a key; the body limit comes before any route reads a body.
import { Hono } from "hono";
import { cors } from "hono/cors";
import { requestId } from "hono/request-id";
import type { Caches } from "../cache/caches.js";
import type { ResponseStore } from "../cache/response-store.js";
import type { Config } from "../config.js";
import type { Jobs } from "../jobs/jobs.js";
import type { HealthState } from "../ops/health.js";
import type { Logger } from "../ops/logger.js";
import type { Metrics } from "../ops/metrics.js";
import type { ModelRepository } from "../serving/classic/model-repository.js";
import type { Routing } from "../routing/routing.js";
import type { LlmRepository } from "../serving/llm/llm-repository.js";
import type { ModelRegistry } from "../serving/llm/registry.js";
import { type Capability, capabilityRoutes } from "./admin/capabilities.js";
import { healthRoutes } from "./admin/health.js";
import { llmRepositoryRoutes } from "./admin/llm-repository.js";
import { loraRoutes } from "./admin/lora.js";
import { metricsRoutes } from "./admin/metrics.js";
import { requestRoutes } from "./admin/requests.js";
import { routeAdminRoutes } from "./admin/routes.js";
import { statsStreamRoutes } from "./admin/stats-stream.js";
import { messagesRoutes } from "./anthropic/messages.js";
import { ApiError, errorResponse } from "./errors.js";
import { accessLog, admission, bodyLimit } from "./middleware/admission.js";
import { bearerAuth } from "./middleware/auth.js";
import { batchRoutes } from "./openai/batches.js";
import { chatRoutes } from "./openai/chat.js";
import { completionRoutes } from "./openai/completions.js";
import { embeddingRoutes } from "./openai/embeddings.js";
import { fileRoutes } from "./openai/files.js";
import { modelRoutes } from "./openai/models.js";
import { openApiRoutes } from "./openapi/routes.js";
import { renderRoutes } from "./openai/render.js";
import { responseRoutes } from "./openai/responses/routes.js";
import { kserveRoutes } from "./kserve/v2.js";
import { tokenizeRoutes } from "./tokenize.js";
import { uiRoutes } from "./ui/static.js";

export interface AppDeps {
  readonly registry: ModelRegistry;
  /** Requests reach models through it: routes by name, or the model a request names. */
  readonly routing: Routing;
  /** LLM versions loaded and unloaded at run time. */
  readonly llmRepository: LlmRepository;
  /** A config file gave routes: the dashboard shows them (the `routes` capability). */
  readonly routesConfigured: boolean;
  /** Stored Responses API responses (store: true), for GET and previous_response_id. */
  readonly responses: ResponseStore;
  readonly repository: ModelRepository;
  readonly health: HealthState;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  /** The options the HTTP layer reads (keys guard the API and the admin routes; without admin keys, the API keys). */
  readonly config: Pick<Config, "apiKeys" | "adminKeys" | "maxBodyBytes" | "enableForceIncludeUsage" | "ui">;
  /** Files, batches and background requests; absent: those routes answer 404. */
  readonly jobs?: Jobs;
  /** Response and embedding caches; absent: nothing is cached. */
  readonly caches?: Caches;
}

export function createApp(deps: AppDeps): Hono {
  const { registry, routing, llmRepository, responses, repository, health, logger, metrics, config, jobs, caches } =
    deps;
  const app = new Hono();
  app.use("*", requestId());
  app.use("*", async (c, next) => {
    c.set("logger", logger);
    c.set("forceIncludeUsage", config.enableForceIncludeUsage);
    await next();
  });
  app.use("*", accessLog(logger, metrics));
  app.use("*", cors());
  app.route("/", healthRoutes(health));
  if (metrics) app.route("/", metricsRoutes(metrics));
  app.route("/", openApiRoutes());
  // The page itself is open (it asks for the key); the numbers and requests behind it need one like /v1 does.
  if (config.ui) app.route("/", uiRoutes());
  // Any key opens the API when keys are set; only an admin key (when there are any) opens adapter loading.
  const { apiKeys, adminKeys } = config;
  const auth = bearerAuth(apiKeys.length > 0 ? [...apiKeys, ...adminKeys] : []);
  for (const path of ["/v1/*", "/v2/models/*", "/v2/repository/*", "/tokenize", "/detokenize"]) {
    app.use(path, auth);
    app.use(path, admission(health));
  }
  // Not behind admission: an operator watches a loading or draining server too.
  app.use("/loom/v1/*", auth);
  if (adminKeys.length > 0) {
    for (const path of ["/v1/load_lora_adapter", "/v1/unload_lora_adapter", "/loom/v1/requests/:id/cancel"])
      app.use(path, bearerAuth(adminKeys));
    app.on("PUT", "/loom/v1/routes", bearerAuth(adminKeys));
    app.on("POST", "/loom/v1/repository/*", bearerAuth(adminKeys));
  }
  // vLLM and llama-server serve a request without `model` with their first model; OpenAI's clients always name one.
  const defaultModel = () => registry.first().name;
  for (const path of ["/v1/chat/completions/*", "/v1/completions/*", "/v1/embeddings", "/v1/responses"]) {
    app.use(path, async (c, next) => {
      c.set("defaultModel", defaultModel);
      await next();
    });
  }
  // Uploads are bounded by the file size limit (--max-file-bytes), not the request body limit: mounted first.
  if (jobs) app.route("/", fileRoutes(jobs.files));
  app.use("*", bodyLimit(config.maxBodyBytes));
  if (jobs) app.route("/", batchRoutes(jobs));
  app.route("/", kserveRoutes(repository, health));
  app.route("/", renderRoutes(routing));
  app.route("/", chatRoutes(routing, caches));
  app.route("/", completionRoutes(routing, caches));
  app.route("/", responseRoutes(routing, responses, jobs?.background));
  app.route("/", messagesRoutes(routing));
  app.route("/", modelRoutes(routing, repository));
  app.route("/", embeddingRoutes(routing, repository, caches));
  app.route("/", tokenizeRoutes(routing));
  for (const routes of [loraRoutes, requestRoutes]) app.route("/", routes(registry));
  app.route("/", routeAdminRoutes(routing));
  app.route("/", llmRepositoryRoutes(llmRepository));
  const capabilities: Capability[] = jobs ? ["requests", "batches"] : ["requests"];
  if (metrics) {
    app.route("/", statsStreamRoutes(metrics));
    capabilities.push("stats_stream");
  }
  // Shown once there are routes to show: a config file gave some, or the admin API put some in force.
  app.route(
    "/",
    capabilityRoutes(() =>
      deps.routesConfigured || routing.list().length > 0 ? [...capabilities, "routes"] : capabilities,
    ),
  );
  app.notFound((c) =>
    errorResponse(c, new ApiError(404, `no route for ${c.req.method} ${c.req.path}`, { code: "not_found" })),
  );
  app.onError((error, c) => errorResponse(c, error));
  return app;
}
