// GET /openapi.json describes exactly the routes the app registers: every registered route is in the document and
// every documented route is registered, so a new route without a description fails here. Every schema in it compiles
// as JSON Schema 2020-12, and the errors each API answers with match the document's error shape for that route.
import { Ajv2020 } from "ajv/dist/2020.js";
import type { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Assembled, assemble } from "../../src/compose/assemble.js";
import { loadConfig } from "../../src/config.js";
import type { Logger } from "../../src/ops/logger.js";
import { tinyModel } from "../helpers/models.js";

interface Document {
  paths: Record<string, Record<string, { responses: { default: { content: Record<string, { schema: object }> } } }>>;
  components: { schemas: Record<string, object> };
}

const logger: Logger = { log: () => {} };
let app: Hono;
let parts: Assembled;
let document: Document;

beforeAll(async () => {
  // Every optional part on (jobs, metrics, the UI), so every route the server can have is registered.
  parts = assemble(loadConfig({ model: tinyModel(), ui: true }), null, { logger, processMetrics: false });
  parts.health.serving();
  app = parts.app;
  const response = await app.request("/openapi.json");
  expect(response.status).toBe(200);
  document = (await response.json()) as Document;
});
afterAll(async () => {
  await parts?.models.close();
  await parts?.services.close();
});

/** Hono's path syntax (`:id`, `:id{.+}`) in OpenAPI's (`{id}`). */
const openApiPath = (path: string) => path.replace(/:(\w+)(\{[^}]*\})?/g, "{$1}");

describe("the document and the app's routes", () => {
  it("lists every registered route, and registers every listed one", () => {
    // Middleware is registered with method ALL (app.use); every handler of a real route has its method.
    const registered = new Set(
      app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${openApiPath(r.path)}`),
    );
    const documented = new Set(
      Object.entries(document.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
      ),
    );
    expect([...registered].filter((r) => !documented.has(r)).sort()).toEqual([]);
    expect([...documented].filter((r) => !registered.has(r)).sort()).toEqual([]);
    expect(registered.size).toBeGreaterThan(50);
  });

  it("publishes each route's request schema as zod validates it", () => {
    const chat = document.components.schemas.ChatCompletionRequest as {
      required: string[];
      properties: Record<string, unknown>;
    };
    expect(chat.required).toEqual(["model", "messages"]);
    expect(chat.properties.temperature).toEqual({
      anyOf: [{ type: "number", minimum: 0, maximum: 2 }, { type: "null" }],
    });
    const messages = document.components.schemas.MessagesRequest as { required: string[] };
    expect(messages.required).toEqual(["model", "messages", "max_tokens"]);
  });

  it("has schemas that compile as JSON Schema 2020-12", () => {
    const ajv = new Ajv2020({ strict: false, formats: { binary: true } });
    for (const [name, schema] of Object.entries(document.components.schemas))
      expect(() => ajv.compile(schema), name).not.toThrow();
  });
});

describe("error shapes", () => {
  const ajv = new Ajv2020({ strict: false, formats: { binary: true } });
  const cases = [
    ["post", "/v1/chat/completions", "OpenAIError"],
    ["post", "/v1/messages", "AnthropicError"],
    ["post", "/v2/models/{name}/infer", "KServeError"],
  ] as const;
  for (const [method, path, shape] of cases) {
    it(`answers ${path} errors in ${shape}'s shape, as documented`, async () => {
      const schemaRef = document.paths[path]![method]!.responses.default.content["application/json"]!.schema;
      expect(schemaRef).toEqual({ $ref: `#/components/schemas/${shape}` });
      const validate = ajv.compile(document.components.schemas[shape]!);
      const response = await app.request(path.replace("{name}", "nothing"), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{not json",
      });
      expect(response.status).toBe(400);
      const body = await response.json();
      expect(validate(body), JSON.stringify(validate.errors)).toBe(true);
    });
  }
});
