// Errors the jobs layer raises for a client; api/errors.ts alone decides their status codes and wire shape.
// Invalid input and conflicts reuse serving's InvalidRequestError and ConflictError.

/** No file, batch or background request has this id (404). */
export class NotFoundError extends Error {
  readonly param: string;

  constructor(kind: string, id: string, param = "id") {
    super(`No such ${kind} object: ${id}`);
    this.name = "NotFoundError";
    this.param = param;
  }
}

/** An upload over the configured file size limit (413). */
export class PayloadTooLargeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PayloadTooLargeError";
  }
}

/** The job store (Redis) cannot be reached; interactive serving goes on, jobs answer 503 until it is back. */
export class JobsUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JobsUnavailableError";
  }
}

/** The job store has no room for a write: it is full or cannot persist to its disk (507). */
export class StoreFullError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreFullError";
  }
}

/**
 * Redis's replies refusing a write for want of room: OOM (used memory over maxmemory under the noeviction policy)
 * and MISCONF (its last RDB or AOF write to disk failed, e.g. ENOSPC, so it stops taking writes). A MULTI whose
 * commands were refused ends in EXECABORT, carrying those replies as ioredis's `previousErrors`.
 */
const NO_ROOM = /^(OOM|MISCONF) /;

/** A StoreFullError for an error that is the store refusing a write for want of room; null for any other. */
export function storeFullOf(error: unknown): StoreFullError | null {
  if (!(error instanceof Error)) return null;
  const replies = [error, ...((error as { previousErrors?: Error[] }).previousErrors ?? [])];
  const refusal = replies.find((e) => NO_ROOM.test(e.message));
  return refusal ? new StoreFullError(`the job store has no room for this write: ${refusal.message}`) : null;
}

/**
 * ioredis's errors for a command the connection lost (it closed with the command in flight, or it was closing when the
 * command was sent), and Redis's LOADING reply while it reads its AOF after a restart: the store is away for now.
 */
const CONNECTION_LOST =
  /^(Connection is closed|Stream isn't writeable|Reached the max retries per request limit|LOADING )/;

/**
 * A JobsUnavailableError for an error that is the store out of reach mid-request (its availability was checked
 * before the request's first command, but the connection can drop between commands); null for any other.
 */
export function storeUnavailableOf(error: unknown): JobsUnavailableError | null {
  if (!(error instanceof Error) || !CONNECTION_LOST.test(error.message)) return null;
  return new JobsUnavailableError(
    `the jobs API is unavailable: the job store's connection was lost (${error.message})`,
  );
}
