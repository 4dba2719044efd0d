// POST /v1/responses (plain, streamed, background), GET / DELETE /v1/responses/{id}, POST .../cancel and
// GET .../input_items: OpenAI's Responses API over the same chat path as /v1/chat/completions.
import { Hono } from "hono";
import { z } from "zod";
import type { ResponseStore } from "../../../cache/response-store.js";
import type { ChatEvent } from "../../../serving/llm/chat.js";
import type { Routing } from "../../../routing/routing.js";
import type { Usage } from "../../../engine/events.js";
import { failureOf } from "../../../serving/llm/collect.js";
import { readJson } from "../../body.js";
import { ApiError, toApiError } from "../../errors.js";
import { streamEvents, type TypedEvent } from "../../sse.js";
import { OutputBuilder, type ResponseEvent } from "./output.js";
import {
  type Outcome,
  type PreparedResponse,
  prepareResponse,
  remember,
  responseObject,
  startResponse,
} from "./run.js";
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
const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  order: z.enum(["asc", "desc"]).default("desc"),
  after: z.string().optional(),
});

export function responseRoutes(routing: Routing, store: ResponseStore): Hono {
  // Background responses running in this process, by id: cancelling aborts the generation.
  const running = new Map<string, { controller: AbortController; done: Promise<void> }>();

  const runInBackground = (c: Parameters<typeof startResponse>[0], p: PreparedResponse) => {
    const controller = new AbortController();
    const done = (async () => {
      let outcome: Outcome;
      try {
        const events = await startResponse(c, routing, p, controller.signal);
        outcome = await consume(events, new OutputBuilder());
      } catch (error) {
        outcome = { status: "failed", output: [], usage: null, error: toApiError(error) };
      }
      await remember(store, p, responseObject(p, outcome));
    })().finally(() => running.delete(p.id));
    running.set(p.id, { controller, done });
  };

  return new Hono()
    .post("/v1/responses", async (c) => {
      const body = await readJson(c, ResponseCreateRequest);
      const p = await prepareResponse(routing, store, body);
      if (body.background) {
        const queued = responseObject(p, { status: "queued", output: [], usage: null, error: null });
        await remember(store, p, queued);
        runInBackground(c, p);
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
      running.get(id)?.controller.abort();
      if (!(await store.delete(id))) throw notFound(id);
      return c.json({ id, object: "response", deleted: true });
    })
    .post("/v1/responses/:id/cancel", async (c) => {
      const id = c.req.param("id");
      const run = running.get(id);
      if (run) {
        run.controller.abort();
        await run.done;
      }
      const stored = await store.get(id);
      if (!stored) throw notFound(id);
      if (!stored.response.background) {
        throw new ApiError(400, "Only responses created with background: true can be cancelled.", {
          param: "response_id",
        });
      }
      return c.json(stored.response);
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
