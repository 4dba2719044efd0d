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
