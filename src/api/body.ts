// Request bodies, read straight off Node's IncomingMessage (the app runs on @hono/node-server): Hono's web
// Request, built on first use of its body, costs an undici Request and a ReadableStream per request.
import type { HttpBindings } from "@hono/node-server";
import type { Context } from "hono";
import type { z } from "zod";
import { ApiError } from "./errors.js";
import { tooLarge } from "./middleware/admission.js";

const TENSOR_ALIGNMENT = 8;

/**
 * The body's bytes, copied once into a buffer of their own. Byte `alignedAt` of the body starts on an 8-byte
 * boundary of that buffer, so typed arrays of binary tensor data that start there view it without a copy.
 */
export function readBody(c: Context, alignedAt = 0): Promise<Uint8Array> {
  const { incoming } = (c.env ?? {}) as Partial<HttpBindings>;
  const maxBytes = c.get("maxBodyBytes") ?? Number.POSITIVE_INFINITY;
  if (!incoming) return readWebBody(c.req.raw, maxBytes, alignedAt);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    let settled = false;
    // The error listener stays: a socket error after the body was refused must not go unhandled.
    const settle = (error: ApiError | null) => {
      if (settled) return;
      settled = true;
      incoming.off("data", onData);
      if (error) return reject(error);
      const padding = (TENSOR_ALIGNMENT - (alignedAt % TENSOR_ALIGNMENT)) % TENSOR_ALIGNMENT;
      // Unzeroed: the chunks overwrite every byte but the padding, which nothing reads.
      const bytes = Buffer.allocUnsafeSlow(padding + length);
      let offset = padding;
      for (const chunk of chunks) {
        bytes.set(chunk, offset);
        offset += chunk.byteLength;
      }
      resolve(bytes.subarray(padding));
    };
    const onData = (chunk: Buffer) => {
      length += chunk.byteLength;
      if (length > maxBytes) settle(tooLarge(maxBytes));
      else chunks.push(chunk);
    };
    // A client that goes away before its body is whole reads no answer, but the route must stop. ('close' comes
    // after every body, so the error is only built when it is needed: building one captures a stack.)
    const cutShort = () =>
      settled ||
      settle(
        new ApiError(400, "the connection closed before the request body was complete", { code: "incomplete_body" }),
      );
    incoming
      .on("data", onData)
      .once("end", () => settle(null))
      .on("error", cutShort)
      .once("close", cutShort);
  });
}

/** A request made in-process (app.request, as batch lines are) has no socket: its body is a web stream. */
async function readWebBody(request: Request, maxBytes: number, alignedAt: number): Promise<Uint8Array> {
  const body = new Uint8Array(await request.arrayBuffer());
  if (body.byteLength > maxBytes) throw tooLarge(maxBytes);
  const padding = (TENSOR_ALIGNMENT - (alignedAt % TENSOR_ALIGNMENT)) % TENSOR_ALIGNMENT;
  if (padding === 0 && body.byteOffset % TENSOR_ALIGNMENT === 0) return body;
  const aligned = new Uint8Array(padding + body.byteLength);
  aligned.set(body, padding);
  return aligned.subarray(padding);
}

/** The body parsed as JSON and validated by a zod schema; either failure is a 400. */
/**
 * The body parsed as JSON and validated by `schema` (ZodError on a mismatch, ApiError 400 on bad JSON). On routes
 * with a `defaultModel` (set by the app), an object body without `model` gets that one first, as vLLM and
 * llama-server answer such requests with their first served model.
 */
export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  const value = parseJson(await readBody(c));
  const fill = c.get("defaultModel");
  if (fill && typeof value === "object" && value !== null && !Array.isArray(value)) {
    const body = value as { model?: unknown };
    if (body.model === undefined || body.model === null) body.model = fill();
  }
  try {
    return schema.parse(value);
  } catch (error) {
    // zod gathers an array's issues with push(...issues): hundreds of thousands of them overflow the stack.
    if (error instanceof RangeError) throw tooManyIssues();
    throw error;
  }
}

/** A 400 for a body too large in its number of invalid values for the validator to list them. */
function tooManyIssues(): ApiError {
  return new ApiError(400, "the request body holds too many invalid values to list; check its arrays' elements", {
    code: "invalid_request_body",
  });
}

declare module "hono" {
  interface ContextVariableMap {
    /** The model a request that names none is served by (OpenAI's generation routes only). */
    defaultModel: () => string;
  }
}

export function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new ApiError(400, `the request body is not valid JSON: ${(error as Error).message}`, {
      code: "invalid_json",
    });
  }
}
