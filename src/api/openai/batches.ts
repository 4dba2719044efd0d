// OpenAI's Batch API: POST /v1/batches, GET /v1/batches/{id}, GET /v1/batches (after, limit),
// POST /v1/batches/{id}/cancel; and Loom's background requests (the queue /v1/responses `background: true` will
// use): POST /v1/background_requests, GET /v1/background_requests/{id}, POST /v1/background_requests/{id}/cancel.
import { Hono } from "hono";
import { z } from "zod";
import type { Jobs } from "../../jobs/jobs.js";
import { readJson } from "../body.js";
import { refuseUnsupported } from "./sampling.js";

/** OpenAI's metadata: at most 16 pairs, keys up to 64 characters, values up to 512. */
const Metadata = z
  .record(z.string().max(64), z.string().max(512))
  .refine((m) => Object.keys(m).length <= 16, "metadata may have at most 16 keys");

export const CreateBatchRequest = z.object({
  input_file_id: z.string().min(1),
  endpoint: z.string().min(1),
  completion_window: z.string().min(1),
  metadata: Metadata.nullish(),
  output_expires_after: z.unknown().optional(),
});

export const ListQuery = z.object({
  after: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export const BackgroundRequest = z.object({
  endpoint: z.string().min(1),
  body: z.record(z.string(), z.unknown()),
  metadata: Metadata.nullish(),
});

export function batchRoutes(jobs: Jobs): Hono {
  const { batches, background } = jobs;
  return new Hono()
    .post("/v1/batches", async (c) => {
      const body = await readJson(c, CreateBatchRequest);
      refuseUnsupported([[body.output_expires_after, "output_expires_after"]]);
      return c.json(
        await batches.create({
          input_file_id: body.input_file_id,
          endpoint: body.endpoint,
          completion_window: body.completion_window,
          metadata: body.metadata ?? null,
        }),
      );
    })
    .get("/v1/batches", async (c) => {
      const query = ListQuery.parse(c.req.query());
      return c.json(await batches.list({ after: query.after ?? null, limit: query.limit }));
    })
    .get("/v1/batches/:id", async (c) => c.json(await batches.retrieve(c.req.param("id"))))
    .post("/v1/batches/:id/cancel", async (c) => c.json(await batches.cancel(c.req.param("id"))))
    .post("/v1/background_requests", async (c) => {
      const body = await readJson(c, BackgroundRequest);
      return c.json(
        await background.submit({ endpoint: body.endpoint, body: body.body, metadata: body.metadata ?? null }),
      );
    })
    .get("/v1/background_requests/:id", async (c) => c.json(await background.retrieve(c.req.param("id"))))
    .post("/v1/background_requests/:id/cancel", async (c) => c.json(await background.cancel(c.req.param("id"))));
}
