// The route table's types: one entry per route the app registers, naming its method, path, the very zod schemas the
// route validates its body and query with, what a success answers and which error shape a failure has. The OpenAPI
// document (document.ts) is built from it, and test/api/openapi.test.ts checks it against the app's routes both ways.
import { z } from "zod";

/** Error bodies by API: OpenAI's everywhere, Anthropic's under /v1/messages, KServe's under /v2 (api/errors.ts). */
export type ErrorShape = "openai" | "anthropic" | "kserve";

/** Who may call a route: anyone, any API key (when keys are set), or an admin key (when admin keys are set). */
export type Access = "open" | "api-key" | "admin-key";

export interface RouteBody {
  /** The component name the schema is published under (#/components/schemas/NAME). */
  readonly name: string;
  readonly schema: z.ZodType;
  /** application/json unless the route reads a multipart upload. */
  readonly mediaType?: "application/json" | "multipart/form-data";
}

export interface RouteResponse {
  readonly description: string;
  /** application/json unless said otherwise. */
  readonly mediaType?: string;
  /**
   * `sse` when the body may be server-sent events (the request's `stream`), `endless` when it always is and only
   * ends when the client leaves.
   */
  readonly stream?: "sse" | "endless";
}

export interface ApiRoute {
  readonly method: "get" | "post" | "put" | "delete";
  /** OpenAPI's path template: `{name}` for each path parameter. */
  readonly path: string;
  readonly summary: string;
  /** Groups routes by API in the document (OpenAI, Anthropic, KServe, Loom, Health). */
  readonly tag: string;
  readonly access: Access;
  readonly body?: RouteBody;
  /** The query schema the route parses `c.req.query()` with. */
  readonly query?: z.ZodObject;
  readonly response: RouteResponse;
  /** When the route exists only with some option or service (`--no-ui` drops the UI routes, ...). */
  readonly onlyWhen?: string;
}

/** The error shape of a path, by the rule api/errors.ts answers with. */
export function errorShapeOf(path: string): ErrorShape {
  if (path === "/v1/messages" || path.startsWith("/v1/messages/")) return "anthropic";
  if (path === "/v2" || path.startsWith("/v2/")) return "kserve";
  return "openai";
}

/** The body of a multipart upload as OpenAI's Files API takes it: the file and its purpose. */
export const FileUpload = z.object({
  file: z.string().meta({ format: "binary", description: "the file's bytes (JSON Lines for purpose batch)" }),
  purpose: z.string().meta({ description: "batch, user_data, ..." }),
});

const json = (description: string): RouteResponse => ({ description });

/** The few success answers most routes share. */
export const ANSWERS = {
  json,
  sse: (description: string): RouteResponse => ({ description, stream: "sse" }),
  text: (description: string, mediaType = "text/plain"): RouteResponse => ({ description, mediaType }),
};
