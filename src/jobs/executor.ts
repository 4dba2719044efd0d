// The seam between jobs and the HTTP app: a job runs a request body through the same path as an HTTP request (the
// composition root wires this to the Hono app in-process), so batch lines get the same validation, routing, limits,
// metrics and caching as interactive requests, and jobs/ never imports api/.

/** Endpoints a batch line or a background request may call (OpenAI's batch endpoints that Loom serves). */
export const JOB_ENDPOINTS: readonly string[] = [
  "/v1/chat/completions",
  "/v1/completions",
  "/v1/embeddings",
  "/v1/responses",
];

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
  /** Extra request headers the job carries (a background response's own id, x-loom-response-id). */
  readonly headers?: Readonly<Record<string, string>>;
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

/**
 * Why a job's body cannot run as a job (null when it can): its answer must be one JSON object, so not a stream,
 * and not a background run of its own.
 */
export function unrunnableInJob(body: Readonly<Record<string, unknown>>): string | null {
  if (body.stream === true) return "'stream' is not supported here: remove it from the body";
  if (body.background === true) return "'background' is not supported here: the request already runs in the background";
  return null;
}

/** Statuses that say "not now" rather than "never": overloaded (429), loading or draining (503). */
export function isTransientStatus(status: number): boolean {
  return status === 429 || status === 503;
}
