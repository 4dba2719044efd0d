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
  constructor(model: string) {
    super(`The model '${model}' does not exist`);
    this.name = "ModelNotFoundError";
  }
}
