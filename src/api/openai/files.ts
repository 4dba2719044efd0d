// OpenAI's Files API: POST /v1/files (multipart: `file` and `purpose`), GET /v1/files, GET /v1/files/{id},
// GET /v1/files/{id}/content, DELETE /v1/files/{id}. Uploads stream through busboy off the socket, so a file over
// the limit is refused with 413 without being held whole in memory.
import { Readable } from "node:stream";
import type { HttpBindings } from "@hono/node-server";
import busboy from "busboy";
import { type Context, Hono } from "hono";
import { z } from "zod";
import type { FileService } from "../../jobs/files.js";
import { ApiError } from "../errors.js";

/** Room for the multipart framing and the purpose field beside the file itself. */
const FRAMING_BYTES = 64 * 1024;

interface Upload {
  readonly filename: string;
  readonly purpose: string;
  readonly bytes: Buffer;
}

export const ListQuery = z.object({
  after: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(10_000),
  purpose: z.string().min(1).optional(),
  order: z.enum(["desc"], { message: "only order=desc is supported" }).optional(),
});

export function fileRoutes(files: FileService): Hono {
  return new Hono()
    .post("/v1/files", async (c) => {
      const upload = await readUpload(c, files);
      return c.json(await files.create(upload));
    })
    .get("/v1/files", async (c) => {
      const query = ListQuery.parse(c.req.query());
      return c.json(
        await files.list({ after: query.after ?? null, limit: query.limit, purpose: query.purpose ?? null }),
      );
    })
    .get("/v1/files/:id", async (c) => c.json(await files.retrieve(c.req.param("id"))))
    .get("/v1/files/:id/content", async (c) => {
      const bytes = await files.content(c.req.param("id"));
      return c.body(new Uint8Array(bytes), 200, {
        "content-type": "application/octet-stream",
      });
    })
    .delete("/v1/files/:id", async (c) => c.json(await files.delete(c.req.param("id"))));
}

function badUpload(message: string, param: string | null = null): ApiError {
  return new ApiError(400, message, { param, code: "invalid_upload" });
}

/** The multipart body's `file` and `purpose`; 413 past the file limit, 400 for anything malformed or missing. */
function readUpload(c: Context, files: FileService): Promise<Upload> {
  const contentType = c.req.header("content-type") ?? "";
  if (!contentType.toLowerCase().startsWith("multipart/form-data"))
    throw badUpload("upload files as multipart/form-data with the fields 'file' and 'purpose'");
  if (Number(c.req.header("content-length") ?? 0) > files.maxFileBytes + FRAMING_BYTES) throw files.tooLarge();
  const { incoming } = (c.env ?? {}) as Partial<HttpBindings>;
  const source = incoming ?? (c.req.raw.body ? Readable.fromWeb(c.req.raw.body as never) : Readable.from([]));
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: { "content-type": contentType }, limits: { fileSize: files.maxFileBytes, files: 1 } });
    } catch (error) {
      return reject(badUpload(`the multipart body cannot be read: ${(error as Error).message}`));
    }
    const chunks: Buffer[] = [];
    let filename: string | null = null;
    let purpose: string | null = null;
    let tooLarge = false;
    parser.on("file", (name, stream, info) => {
      // A form cut short mid-file fails the file's own stream too: unheard, that error would end the process.
      stream.on("error", (error: Error) => reject(badUpload(`the multipart body cannot be read: ${error.message}`)));
      if (name !== "file") return stream.resume();
      filename = info.filename ?? "upload.jsonl";
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      // Past the limit busboy discards the rest; the answer waits for the body's end so the client reads it.
      stream.on("limit", () => {
        tooLarge = true;
        chunks.length = 0;
      });
    });
    parser.on("field", (name, value) => {
      if (name === "purpose") purpose = value;
    });
    parser.on("error", (error: Error) => reject(badUpload(`the multipart body cannot be read: ${error.message}`)));
    parser.on("close", () => {
      if (tooLarge) return reject(files.tooLarge());
      if (filename === null) return reject(badUpload("the multipart body has no 'file' field", "file"));
      if (purpose === null) return reject(badUpload("the multipart body has no 'purpose' field", "purpose"));
      resolve({ filename, purpose, bytes: Buffer.concat(chunks) });
    });
    source.on("error", (error: Error) => reject(badUpload(`the upload was cut short: ${error.message}`)));
    source.pipe(parser);
  });
}
