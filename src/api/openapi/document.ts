// The OpenAPI 3.1 document of every route, built from the route table with zod's own JSON Schema conversion
// (z.toJSONSchema, input side: what a client may send), so it says exactly what the handlers validate. Rules that
// JSON Schema cannot state (refinements such as "top_logprobs needs logprobs") are the handlers' and answer 400.
import { z } from "zod";
import { LOOM_VERSION } from "../../ops/version.js";
import { type ApiRoute, type ErrorShape, errorShapeOf } from "./route-table.js";
import { ADMIN_ROUTES } from "./routes-admin.js";
import { INFERENCE_ROUTES } from "./routes-inference.js";
import { JOBS_ROUTES } from "./routes-jobs.js";
import { SERVING_ROUTES } from "./routes-serving.js";

/** Every route the app may register (some only with an option: see `onlyWhen`). */
const API_ROUTES: readonly ApiRoute[] = [...INFERENCE_ROUTES, ...JOBS_ROUTES, ...SERVING_ROUTES, ...ADMIN_ROUTES];

/** OpenAI's error body, {"error": {message, type, param, code}}. */
const OpenAiError = z.object({
  error: z.object({ message: z.string(), type: z.string(), param: z.string().nullable(), code: z.string().nullable() }),
});
/** Anthropic's error body, {"type": "error", "error": {type, message}}. */
const AnthropicError = z.object({
  type: z.literal("error"),
  error: z.object({ type: z.string(), message: z.string() }),
});
/** KServe v2's error body, {"error": message}. */
const KServeError = z.object({ error: z.string() });

const ERROR_SCHEMAS: Record<ErrorShape, { readonly name: string; readonly schema: z.ZodType }> = {
  openai: { name: "OpenAIError", schema: OpenAiError },
  anthropic: { name: "AnthropicError", schema: AnthropicError },
  kserve: { name: "KServeError", schema: KServeError },
};

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  return rest;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

const SECURITY: Record<ApiRoute["access"], object[]> = {
  open: [],
  "api-key": [{ bearer: [] }, { apiKey: [] }],
  "admin-key": [{ bearer: [] }, { apiKey: [] }],
};

function queryParameters(query: z.ZodObject) {
  const schema = jsonSchema(query) as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(schema.properties ?? {}).map(([name, property]) => ({
    name,
    in: "query",
    required: schema.required?.includes(name) ?? false,
    schema: property,
  }));
}

function operation(route: ApiRoute) {
  const pathParameters = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
    name: m[1],
    in: "path",
    required: true,
    schema: { type: "string" },
  }));
  const error = ERROR_SCHEMAS[errorShapeOf(route.path)];
  const success: Record<string, object> = { [route.response.mediaType ?? "application/json"]: {} };
  if (route.response.stream === "sse") success["text/event-stream"] = {};
  return {
    summary: route.summary,
    tags: [route.tag],
    security: SECURITY[route.access],
    ...(route.access === "admin-key" ? { "x-loom-admin": true } : {}),
    ...(route.onlyWhen ? { "x-loom-only-when": route.onlyWhen } : {}),
    ...(route.response.stream === "endless" ? { "x-loom-endless-stream": true } : {}),
    parameters: [...pathParameters, ...(route.query ? queryParameters(route.query) : [])],
    ...(route.body
      ? {
          requestBody: {
            required: true,
            content: { [route.body.mediaType ?? "application/json"]: { schema: ref(route.body.name) } },
          },
        }
      : {}),
    responses: {
      "200": { description: route.response.description, content: success },
      default: {
        description: `an error in ${error.name}'s shape (4xx: the client's mistake; 5xx: the server's)`,
        content: { "application/json": { schema: ref(error.name) } },
      },
    },
  };
}

/** The document of `routes` (all of them by default). */
export function openApiDocument(routes: readonly ApiRoute[] = API_ROUTES) {
  const schemas: Record<string, JsonSchema> = {};
  for (const { name, schema } of Object.values(ERROR_SCHEMAS)) schemas[name] = jsonSchema(schema);
  const paths: Record<string, Record<string, object>> = {};
  for (const route of routes) {
    if (route.body) schemas[route.body.name] = jsonSchema(route.body.schema);
    paths[route.path] ??= {};
    paths[route.path]![route.method] = operation(route);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Loom",
      version: LOOM_VERSION,
      description:
        "An LLM inference server: OpenAI's API, Anthropic's Messages API, KServe v2 for ONNX models, " +
        "vLLM's tokenizer, render and adapter routes, and Loom's own admin API.",
    },
    paths,
    components: {
      schemas,
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer" },
        apiKey: { type: "apiKey", in: "header", name: "x-api-key" },
      },
    },
  };
}
