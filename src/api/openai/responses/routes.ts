// POST /v1/responses (plain, streamed, background), GET / DELETE /v1/responses/{id}, POST .../cancel and
// GET .../input_items: OpenAI's Responses API over the same chat path as /v1/chat/completions.
import { type Context, Hono } from "hono";
import { z } from "zod";
import type { ResponseStore } from "../../../cache/response-store.js";
import type { ChatEvent } from "../../../serving/llm/chat.js";
import type { BackgroundService } from "../../../jobs/background.js";
import type { Routing } from "../../../routing/routing.js";
import { InvalidRequestError } from "../../../serving/errors.js";
import type { Usage } from "../../../engine/events.js";
import { failureOf } from "../../../serving/llm/collect.js";
import { readJson } from "../../body.js";
import { ApiError, toApiError } from "../../errors.js";
import { streamEvents, type TypedEvent } from "../../sse.js";
import { OutputBuilder, type ResponseEvent } from "./output.js";
import { type Outcome, prepareResponse, remember, responseObject, startResponse } from "./run.js";
import { ResponseCreateRequest } from "./schemas.js";

/**
 * Feeds a chat's events to `builder`, running `settle` after each (a stream sends what the builder emitted);
 * resolves with how it ended. Throws when the generation failed.
 */
async function consume(
  events: AsyncIterable<ChatEvent>,
  builder: OutputBuilder,
  settle: () => Promise<void> = async () => undefined,
): Promise<Outcome> {
  let usage: Usage | null = null;
  let incomplete = false;
  let cancelled = false;
  for await (const event of events) {
    if (event.type === "finished") {
      const failure = failureOf(event);
      if (failure) throw failure;
      incomplete ||= event.reason === "length";
      cancelled ||= event.reason === "abort";
    } else if (event.type === "usage") usage = event.usage;
    else builder.apply(event);
    await settle();
  }
  builder.finish(incomplete);
  await settle();
  return {
    status: cancelled ? "cancelled" : incomplete ? "incomplete" : "completed",
    output: builder.output,
    usage,
    error: null,
  };
}

const notFound = (id: string) =>
  new ApiError(404, `No response found with id '${id}'.`, { param: "response_id", code: "not_found" });
export const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  order: z.enum(["asc", "desc"]).default("desc"),
  after: z.string().optional(),
});

/**
 * The header a background response's job runs it with: its own resp_ id, so the run fills the response the client
 * was given (the body comes with background false, since the job is the background).
 */
const RESPONSE_ID_HEADER = "x-loom-response-id";
const UNFINISHED = new Set(["queued", "in_progress"]);

/**
 * `background` runs background responses on the job queue (BullMQ on Redis, or in process), so any replica or
 * `loom worker` can run one and a cancel reaches it wherever it runs; without it they are refused.
 */
export function responseRoutes(routing: Routing, store: ResponseStore, background?: BackgroundService): Hono {
  // Runs a queued background response, its job's request; returns the final response.
  const runQueued = async (c: Context, id: string, body: ResponseCreateRequest) => {
    const stored = await store.get(id);
    if (!stored?.response.background || !UNFINISHED.has(stored.response.status as string)) {
      throw new InvalidRequestError(`${RESPONSE_ID_HEADER} names no queued background response`, { param: "headers" });
    }
    const p = await prepareResponse(routing, store, { ...body, background: true }, id);
    await remember(store, p, responseObject(p, { status: "in_progress", output: [], usage: null, error: null }));
    let outcome: Outcome;
    try {
      outcome = await consume(await startResponse(c, routing, p, c.req.raw.signal), new OutputBuilder());
    } catch (error) {
      outcome = { status: "failed", output: [], usage: null, error: toApiError(error) };
    }
    const response = responseObject(p, outcome);
    await remember(store, p, response);
    return response;
  };

  return new Hono()
    .post("/v1/responses", async (c) => {
      const body = await readJson(c, ResponseCreateRequest);
      const queuedId = c.req.header(RESPONSE_ID_HEADER);
      if (queuedId !== undefined) return c.json(await runQueued(c, queuedId, body));
      const p = await prepareResponse(routing, store, body);
      if (body.background) {
        if (!background) throw new ApiError(503, "background responses need the job queue, which this server lacks");
        const queued = responseObject(p, { status: "queued", output: [], usage: null, error: null });
        await remember(store, p, queued);
        await background.submit({
          id: p.id,
          endpoint: "/v1/responses",
          body: { ...body, background: false, stream: false },
          headers: { [RESPONSE_ID_HEADER]: p.id },
        });
        return c.json(queued);
      }
      const events = await startResponse(c, routing, p, c.req.raw.signal);
      if (!body.stream) {
        const response = responseObject(p, await consume(events, new OutputBuilder()));
        await remember(store, p, response);
        return c.json(response);
      }
      let sequence = 0;
      const numbered = (event: ResponseEvent): TypedEvent => ({ ...event, sequence_number: sequence++ });
      const started = responseObject(p, { status: "in_progress", output: [], usage: null, error: null });
      return streamEvents(
        c,
        async (send) => {
          const pending: ResponseEvent[] = [];
          const flush = async () => {
            for (const event of pending.splice(0)) await send(numbered(event));
          };
          await send(numbered({ type: "response.created", response: started }));
          await send(numbered({ type: "response.in_progress", response: started }));
          const outcome = await consume(events, new OutputBuilder((event) => pending.push(event)), flush);
          const response = responseObject(p, outcome);
          await remember(store, p, response);
          const type = outcome.status === "incomplete" ? "response.incomplete" : "response.completed";
          await send(numbered({ type, response }));
        },
        (error) => [
          numbered({ type: "error", code: error.code, message: error.message, param: error.param }),
          numbered({
            type: "response.failed",
            response: responseObject(p, { status: "failed", output: [], usage: null, error }),
          }),
        ],
      );
    })
    .get("/v1/responses/:id", async (c) => {
      const stored = await store.get(c.req.param("id"));
      if (!stored) throw notFound(c.req.param("id"));
      return c.json(stored.response);
    })
    .delete("/v1/responses/:id", async (c) => {
      const id = c.req.param("id");
      const stored = await store.get(id);
      if (stored?.response.background && UNFINISHED.has(stored.response.status as string)) await background?.cancel(id);
      if (!(await store.delete(id))) throw notFound(id);
      return c.json({ id, object: "response", deleted: true });
    })
    .post("/v1/responses/:id/cancel", async (c) => {
      const id = c.req.param("id");
      const stored = await store.get(id);
      if (!stored) throw notFound(id);
      if (!stored.response.background) {
        throw new ApiError(400, "Only responses created with background: true can be cancelled.", {
          param: "response_id",
        });
      }
      if (!UNFINISHED.has(stored.response.status as string)) return c.json(stored.response);
      // Stops the job wherever it runs (its run then stores what it made, cancelled); a queued one never starts.
      await background?.cancel(id);
      const cancelled = { ...stored.response, status: "cancelled" };
      await store.put(id, { ...stored, response: cancelled });
      return c.json(cancelled);
    })
    .get("/v1/responses/:id/input_items", async (c) => {
      const stored = await store.get(c.req.param("id"));
      if (!stored) throw notFound(c.req.param("id"));
      const query = ListQuery.parse(c.req.query());
      const ordered = query.order === "asc" ? [...stored.inputItems] : [...stored.inputItems].reverse();
      const start = query.after ? ordered.findIndex((item) => item.id === query.after) + 1 : 0;
      const data = ordered.slice(start, start + query.limit);
      return c.json({
        object: "list",
        data,
        first_id: data[0]?.id ?? null,
        last_id: data.at(-1)?.id ?? null,
        has_more: start + query.limit < ordered.length,
      });
    });
}
