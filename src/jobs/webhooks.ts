// Webhook events as OpenAI sends them ({id, object: "event", created_at, type, data: {id}}), queued once per target
// URL. Event ids derive from the object and the event type, so a re-run finalization queues the same delivery job
// (deduplicated by job id) and receivers can deduplicate by the webhook-id header.
import { derivedId, nowSeconds } from "./ids.js";
import { type Backoff, backoffMs, type WorkQueue } from "./queue.js";

export type WebhookEventType =
  | "batch.completed"
  | "batch.failed"
  | "batch.cancelled"
  | "batch.expired"
  | "response.completed"
  | "response.failed";

interface WebhookEvent {
  readonly id: string;
  readonly object: "event";
  readonly created_at: number;
  readonly type: WebhookEventType;
  readonly data: { readonly id: string };
}

/** One event to one URL: a job of the webhooks queue. */
export interface Delivery {
  readonly event: WebhookEvent;
  readonly url: string;
}

/** Attempts whose backoff delays add up to at least `windowMs`: retries stop once the window is spent. */
export function attemptsWithin(windowMs: number, backoff: Backoff): number {
  let attempts = 1;
  for (let waited = 0; waited < windowMs; attempts++) waited += backoffMs(attempts, backoff);
  return attempts;
}

export class WebhookEmitter {
  readonly #queue: WorkQueue<Delivery>;
  readonly #attempts: number;

  constructor(queue: WorkQueue<Delivery>, { retryWindowMs, backoff }: { retryWindowMs: number; backoff: Backoff }) {
    this.#queue = queue;
    this.#attempts = attemptsWithin(retryWindowMs, backoff);
  }

  /** Queues `type` about object `objectId` for each URL (none: nothing to do). */
  async emit(type: WebhookEventType, objectId: string, urls: readonly string[]): Promise<void> {
    if (urls.length === 0) return;
    const event: WebhookEvent = {
      id: derivedId("evt_", type, objectId),
      object: "event",
      created_at: nowSeconds(),
      type,
      data: { id: objectId },
    };
    await this.#queue.add(
      [...new Set(urls)].map((url) => ({
        data: { event, url },
        options: { jobId: derivedId("delivery_", event.id, url), attempts: this.#attempts },
      })),
    );
  }
}
