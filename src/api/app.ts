// createApp: the Hono app, its middleware order and its routes. Health probes come before authentication so
// orchestrators can reach them without a key; the body limit comes before any route reads a body.
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { requestId } from "hono/request-id";
import type { ModelRegistry } from "../serving/registry.js";
import { healthRoutes } from "./admin/health.js";
import { ApiError, errorResponse, toApiError } from "./errors.js";
import { bearerAuth } from "./middleware/auth.js";
import { chatRoutes } from "./openai/chat.js";
import { completionRoutes } from "./openai/completions.js";
import { embeddingRoutes } from "./openai/embeddings.js";
import { modelRoutes } from "./openai/models.js";
import { tokenizeRoutes } from "./tokenize.js";

export interface AppDeps {
  readonly registry: ModelRegistry;
  readonly apiKeys: readonly string[];
  readonly maxBodyBytes: number;
  readonly isReady: () => boolean;
  /** Where 5xx failures are reported; the client gets only the message. */
  readonly logError?: (error: unknown) => void;
}

export function createApp({ registry, apiKeys, maxBodyBytes, isReady, logError = (e) => console.error(e) }: AppDeps): Hono {
  const app = new Hono();
  app.use("*", requestId());
  app.use("*", cors());
  app.route("/", healthRoutes(isReady));
  const auth = bearerAuth(apiKeys);
  for (const path of ["/v1/*", "/tokenize", "/detokenize"]) app.use(path, auth);
  app.use("*", bodyLimit({
    maxSize: maxBodyBytes,
    onError: (c) => errorResponse(c, new ApiError(413, `the request body is larger than ${maxBodyBytes} bytes`, { code: "request_too_large" })),
  }));
  for (const routes of [chatRoutes, completionRoutes, modelRoutes, embeddingRoutes, tokenizeRoutes]) app.route("/", routes(registry));
  app.notFound((c) => errorResponse(c, new ApiError(404, `no route for ${c.req.method} ${c.req.path}`, { code: "not_found" })));
  app.onError((error, c) => {
    const apiError = toApiError(error);
    if (apiError.status >= 500) logError(error);
    return errorResponse(c, apiError);
  });
  return app;
}
