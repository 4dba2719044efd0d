// The router's own answers, in OpenAI's error shape (the one the replicas use), so clients cannot tell a router
// refusal from a replica's by its form.
import type { ServerResponse } from "node:http";
import type { OpenAiErrorBody } from "../api/errors.js";

export interface RouterErrorOptions {
  readonly code: string;
  readonly type?: string;
  readonly retryAfterSeconds?: number;
  /** Close the connection after the answer (the request body was not read). */
  readonly close?: boolean;
}

export function sendError(res: ServerResponse, status: number, message: string, options: RouterErrorOptions): void {
  const body: OpenAiErrorBody = {
    error: {
      message,
      type: options.type ?? (status >= 500 ? "server_error" : "invalid_request_error"),
      param: null,
      code: options.code,
    },
  };
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (options.retryAfterSeconds !== undefined) headers["retry-after"] = String(options.retryAfterSeconds);
  if (options.close) headers.connection = "close";
  res.writeHead(status, headers).end(JSON.stringify(body));
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
}
