// KServe v2's routes for the classic models, and the routes that run the server: probes, metrics, adapters, Loom's
// own admin API, the web UI and this document.
import { StatsStreamQuery } from "../admin/stats-stream.js";
import { InferRequestSchema } from "../kserve/v2.js";
import { LoadLoraRequest, UnloadLoraRequest } from "../openai/schemas.js";
import { ANSWERS, type ApiRoute } from "./route-table.js";

const kserve = (route: Omit<ApiRoute, "tag" | "access">): ApiRoute => ({ tag: "KServe", access: "api-key", ...route });
const probe = (path: string, summary: string): ApiRoute => ({
  method: "get",
  path,
  summary,
  tag: "Health",
  access: "open",
  response: ANSWERS.json("{status: ok}; 503 with the reason otherwise"),
});
const page = (path: string): ApiRoute => ({
  method: "get",
  path,
  summary: "The web dashboard and playground",
  tag: "Loom",
  access: "open",
  response: ANSWERS.text("the page", "text/html"),
  onlyWhen: "the UI is on (no --no-ui)",
});

/** Both KServe addressings of a model: its latest version, or one version. */
const MODEL_PATHS = ["/v2/models/{name}", "/v2/models/{name}/versions/{version}"] as const;

const KSERVE_ROUTES: readonly ApiRoute[] = [
  kserve({ method: "get", path: "/v2", summary: "Server metadata", response: ANSWERS.json("{name, version, ...}") }),
  kserve({ method: "get", path: "/v2/health/live", summary: "Liveness", response: ANSWERS.json("{live: true}") }),
  kserve({ method: "get", path: "/v2/health/ready", summary: "Readiness", response: ANSWERS.json("{ready}") }),
  ...MODEL_PATHS.flatMap((prefix) => [
    kserve({ method: "get", path: prefix, summary: "Model metadata", response: ANSWERS.json("inputs and outputs") }),
    kserve({
      method: "get",
      path: `${prefix}/ready`,
      summary: "Model readiness",
      response: ANSWERS.json("{name, ready}"),
    }),
    kserve({
      method: "post",
      path: `${prefix}/infer`,
      summary:
        "Inference on JSON tensors, or KServe's binary tensor extension (Inference-Header-Content-Length: a JSON " +
        "header of that many bytes, then the raw tensors)",
      body: { name: "InferRequest", schema: InferRequestSchema },
      response: ANSWERS.json("the output tensors (binary after the JSON header when asked)"),
    }),
  ]),
  kserve({
    method: "post",
    path: "/v2/repository/index",
    summary: "The models of the repository and their states",
    response: ANSWERS.json("an array of {name, version, state, reason}"),
  }),
  kserve({
    method: "post",
    path: "/v2/repository/models/{name}/load",
    summary: "Loads or reloads a model (new versions swap in before the old ones drain)",
    response: ANSWERS.json("{}"),
  }),
  kserve({
    method: "post",
    path: "/v2/repository/models/{name}/unload",
    summary: "Unloads a model",
    response: ANSWERS.json("{}"),
  }),
];

const LOOM_ROUTES: readonly ApiRoute[] = [
  probe("/health", "Readiness (the same as /health/ready)"),
  probe("/health/ready", "Ready for traffic: loaded, not draining, engine loops alive"),
  probe("/health/live", "The process answers"),
  probe("/health/startup", "The models are loaded"),
  {
    method: "get",
    path: "/metrics",
    summary: "Prometheus text: vLLM's metric names and loom:* ones",
    tag: "Health",
    access: "open",
    response: ANSWERS.text("the Prometheus text exposition"),
  },
  {
    method: "get",
    path: "/openapi.json",
    summary: "This document",
    tag: "Loom",
    access: "open",
    response: ANSWERS.json("the OpenAPI 3.1 document of every route"),
  },
  page("/"),
  page("/ui"),
  page("/ui/"),
  {
    method: "get",
    path: "/ui/assets/{name}",
    summary: "The UI's bundled scripts and styles (content-hashed names)",
    tag: "Loom",
    access: "open",
    response: ANSWERS.text("the asset", "text/javascript"),
    onlyWhen: "the UI is on (no --no-ui)",
  },
  {
    method: "post",
    path: "/v1/load_lora_adapter",
    summary: "vLLM's adapter load, from --lora-dir folders only",
    tag: "Loom",
    access: "admin-key",
    body: { name: "LoadLoraRequest", schema: LoadLoraRequest },
    response: ANSWERS.text("a plain-text success line"),
  },
  {
    method: "post",
    path: "/v1/unload_lora_adapter",
    summary: "vLLM's adapter unload (409 while the adapter is in use)",
    tag: "Loom",
    access: "admin-key",
    body: { name: "UnloadLoraRequest", schema: UnloadLoraRequest },
    response: ANSWERS.text("a plain-text success line"),
  },
  {
    method: "get",
    path: "/loom/v1/requests",
    summary: "The generation requests in flight",
    tag: "Loom",
    access: "api-key",
    response: ANSWERS.json("a list of request objects"),
  },
  {
    method: "post",
    path: "/loom/v1/requests/{id}/cancel",
    summary: "Ends one request in flight (its stream finishes with finish_reason abort)",
    tag: "Loom",
    access: "admin-key",
    response: ANSWERS.json("{id, object: request, cancelled: true}"),
  },
  {
    method: "get",
    path: "/loom/v1/stats/stream",
    summary: "The dashboard's numbers, one stats event per interval, until the client leaves",
    tag: "Loom",
    access: "api-key",
    query: StatsStreamQuery,
    response: { description: "stats events", mediaType: "text/event-stream", stream: "endless" },
    onlyWhen: "metrics are on",
  },
  {
    method: "get",
    path: "/loom/v1/capabilities",
    summary: "What this server offers beyond the OpenAI routes",
    tag: "Loom",
    access: "api-key",
    response: ANSWERS.json("{object: capabilities, data}"),
  },
];

export const SERVING_ROUTES: readonly ApiRoute[] = [...KSERVE_ROUTES, ...LOOM_ROUTES];
