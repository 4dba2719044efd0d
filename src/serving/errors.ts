// Errors serving raises for a request; api/errors.ts alone decides their status codes and wire shape.

export class InvalidRequestError extends Error {
  readonly param: string | null;
  readonly code: string | null;

  constructor(message: string, { param = null, code = null }: { param?: string | null; code?: string | null } = {}) {
    super(message);
    this.name = "InvalidRequestError";
    this.param = param;
    this.code = code;
  }
}

export class ModelNotFoundError extends Error {
  /** `detail` says why (e.g. a version that is not loaded); `loaded` lists the versions that are. */
  constructor(model: string, detail?: string, loaded?: readonly number[]) {
    const why = detail === undefined ? "" : `: ${detail}${loaded ? ` (loaded: ${loaded.join(", ")})` : ""}`;
    super(`The model '${model}' does not exist${why}`);
    this.name = "ModelNotFoundError";
  }
}

/**
 * What the request needs cannot serve now, though the server runs (a route's target whose circuit breaker is open
 * and that has no fallback): 503 with Retry-After.
 */
export class UnavailableError extends Error {
  readonly retryAfterSeconds: number;

  constructor(message: string, retryAfterSeconds: number) {
    super(message);
    this.name = "UnavailableError";
    this.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterSeconds));
  }
}

/** The model's queue is full; the client should retry later (429 with Retry-After). */
export class OverloadedError extends Error {
  readonly retryAfterSeconds: number;

  constructor(message: string, retryAfterSeconds = 1) {
    super(message);
    this.name = "OverloadedError";
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The request ran past its timeout and was ended. */
export class RequestTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RequestTimeoutError";
  }
}

/** The server is draining for shutdown and takes no new work. */
export class ShuttingDownError extends Error {
  constructor() {
    super("the server is shutting down and accepts no new requests");
    this.name = "ShuttingDownError";
  }
}

/** The caller may not do this (e.g. load an adapter from outside the allowed folders). */
export class PermissionDeniedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PermissionDeniedError";
  }
}

/** The request conflicts with current state (e.g. unloading an adapter that requests are using). */
export class ConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConflictError";
  }
}

export class AdapterNotFoundError extends Error {
  constructor(name: string) {
    super(`no LoRA adapter named '${name}' is loaded`);
    this.name = "AdapterNotFoundError";
  }
}

/**
 * A model in the repository could not be loaded: a bad config, a config that disagrees with its file, or an unreadable
 * file.
 */
export class ModelLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ModelLoadError";
  }
}
