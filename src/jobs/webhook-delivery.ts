// Delivers queued webhook events, signed as Standard Webhooks exactly as OpenAI signs them, so the openai client's
// webhooks.unwrap() verifies them: headers webhook-id (the event id, the same on every retry), webhook-timestamp
// (seconds) and webhook-signature ("v1,<base64 HMAC-SHA256 of `id.timestamp.body` keyed by the whsec_ secret>").
// A delivery succeeds on a 2xx answer; otherwise it is retried with backoff until the retry window is spent:
// at least once, never silently dropped (a log line and a metric when given up).
import { Webhook } from "standardwebhooks";
import type { JobsMetrics } from "../ops/jobs-metrics.js";
import type { Logger } from "../ops/logger.js";
import { type JobHandler, ReturnToQueue } from "./queue.js";
import type { Delivery } from "./webhooks.js";

export interface DeliveryOptions {
  /** Standard Webhooks secret: "whsec_" and base64 bytes. Null: deliveries fail with a clear log line. */
  readonly secret: string | null;
  /** How long an event may keep being retried after it was created. */
  readonly retryWindowMs: number;
  /** Per attempt. */
  readonly timeoutMs: number;
  readonly logger: Logger;
  readonly metrics?: JobsMetrics;
  readonly userAgent: string;
}

/** Null for a Standard Webhooks secret ("whsec_" and 16 bytes or more in base64), else what is wrong with it. */
export function webhookSecretProblem(secret: string): string | null {
  if (!/^whsec_[A-Za-z0-9+/]+={0,2}$/.test(secret) || Buffer.from(secret.slice(6), "base64").length < 16)
    return "the webhook secret must be 'whsec_' followed by at least 16 bytes in base64";
  return null;
}

/** Signature headers for `payload` at `timestampSeconds`. */
export function signWebhook(secret: string, id: string, timestampSeconds: number, payload: string) {
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestampSeconds),
    "webhook-signature": new Webhook(secret).sign(id, new Date(timestampSeconds * 1000), payload),
  };
}

export function webhookDeliveryHandler(options: DeliveryOptions): JobHandler<Delivery> {
  return async (job, signal) => {
    const { event, url } = job.data;
    const log = { event_id: event.id, type: event.type, url, attempt: job.attemptsMade + 1 };
    const giveUp = (reason: string) => {
      options.metrics?.webhookAbandoned();
      options.logger.log("error", "webhook_abandoned", { ...log, reason });
    };
    if (Date.now() - event.created_at * 1000 > options.retryWindowMs) return giveUp("the retry window is over");
    if (options.secret === null) return giveUp("no webhook secret is configured in this process (--webhook-secret)");
    const payload = JSON.stringify(event);
    let failure: string;
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": options.userAgent,
          ...signWebhook(options.secret, event.id, Math.floor(Date.now() / 1000), payload),
        },
        body: payload,
        signal: AbortSignal.any([signal, AbortSignal.timeout(options.timeoutMs)]),
      });
      await response.body?.cancel();
      if (response.ok) {
        options.metrics?.webhookAttempt(true);
        options.logger.log("info", "webhook_delivered", { ...log, status: response.status });
        return;
      }
      failure = `the endpoint answered ${response.status}`;
    } catch (error) {
      if (signal.aborted) throw new ReturnToQueue();
      failure = (error as Error).message;
    }
    options.metrics?.webhookAttempt(false);
    if (job.attemptsMade + 1 >= job.maxAttempts) return giveUp(failure);
    options.logger.log("warn", "webhook_failed", { ...log, message: failure });
    throw new Error(`webhook delivery to ${url} failed: ${failure}`);
  };
}
