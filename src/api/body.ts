// readJson: a request body parsed as JSON and validated by a zod schema; either failure is a 400.
import type { Context } from "hono";
import type { z } from "zod";
import { ApiError } from "./errors.js";

export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  let body: unknown;
  try {
    body = JSON.parse(await c.req.text());
  } catch (error) {
    throw new ApiError(400, `the request body is not valid JSON: ${(error as Error).message}`, { code: "invalid_json" });
  }
  return schema.parse(body);
}
