// The seam between jobs and the HTTP app: a job runs a request body through the same path as an HTTP request (the
// composition root wires this to the Hono app in-process), so batch lines get the same validation, routing, limits,
// metrics and caching as interactive requests, and jobs/ never imports api/.

/** Endpoints a batch line or a background request may call. /v1/responses joins this list once its route exists. */
export const JOB_ENDPOINTS: readonly string[] = ["/v1/chat/completions", "/v1/completions", "/v1/embeddings"];

/**
 * The engine's priority for batch lines: lower values are admitted first and the newest sequence of the highest
 * value is preempted first, so interactive requests (priority 0 unless they say otherwise) overtake batch lines.
 * Waiting raises a sequence one level per 10 s (the scheduler's aging), so a line waits at most ~100 s behind a
 * steady interactive stream.
 */
export const BATCH_PRIORITY = 10;

interface ExecuteOptions {
  /** The engine's admission priority (lower first). */
  readonly priority: number;
  /** Aborting it cancels the request as a client disconnect would. */
  readonly signal: AbortSignal;
}

interface ExecuteResult {
  /** The HTTP status the route answered. */
  readonly status: number;
  /** The parsed JSON body: the endpoint's response, or OpenAI's error object. */
  readonly body: unknown;
  /** The route's x-request-id. */
  readonly requestId: string | null;
}

/** POSTs `body` to `endpoint` (e.g. "/v1/chat/completions") of the app in-process and returns its answer. */
export type Executor = (
  endpoint: string,
  body: Readonly<Record<string, unknown>>,
  options: ExecuteOptions,
) => Promise<ExecuteResult>;

/** Statuses that say "not now" rather than "never": overloaded (429), loading or draining (503). */
export function isTransientStatus(status: number): boolean {
  return status === 429 || status === 503;
}
