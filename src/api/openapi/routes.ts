// GET /openapi.json: the API's OpenAPI 3.1 document, open without a key as vLLM serves its own. Built on first
// request, then kept: the route table is fixed for the process's life.
import { Hono } from "hono";
import { openApiDocument } from "./document.js";

export function openApiRoutes(): Hono {
  let document: string | null = null;
  return new Hono().get("/openapi.json", (c) => {
    document ??= JSON.stringify(openApiDocument());
    return c.body(document, 200, { "content-type": "application/json; charset=utf-8" });
  });
}
