// Requests Node's HTTP parser refuses before the app sees them (a request line or headers over Node's 16 KiB limit,
// malformed HTTP) get an error body in their route's shape too, not Node's bare status line: Node emits
// 'clientError' with the bytes it read, and the answer is written on the socket as its documentation shows.
import type { Server } from "node:http";
import type { Socket } from "node:net";
import { ApiError, errorBody } from "./errors.js";

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: "Bad Request",
  408: "Request Timeout",
  413: "Payload Too Large",
  431: "Request Header Fields Too Large",
};

/** The status and reason for a parser error code (llhttp's HPE_* names, Node's ERR_HTTP_REQUEST_TIMEOUT). */
function refusal(code: string | undefined): ApiError {
  if (code === "HPE_HEADER_OVERFLOW")
    return new ApiError(431, "the request line and headers are larger than the server's limit (16 KiB)", {
      code: "request_header_fields_too_large",
    });
  if (code === "ERR_HTTP_REQUEST_TIMEOUT" || code === "HPE_HEADERS_TIMEOUT")
    return new ApiError(408, "the request did not arrive in time", { code: "request_timeout" });
  return new ApiError(400, `the request is not valid HTTP (${code ?? "unknown parse error"})`, {
    code: "malformed_request",
  });
}

/** The path of the request line in `raw` (what the parser had read), or "/" when there is none. */
function pathOf(raw: Buffer | undefined): string {
  const line = raw?.subarray(0, 4096).toString("latin1").split("\r\n", 1)[0] ?? "";
  const target = line.split(" ")[1] ?? "/";
  return target.split("?", 1)[0]!;
}

/** Answers parser-refused requests on `server` with a JSON error in the shape of the path they named. */
export function answerClientErrors(server: Server): void {
  server.on("clientError", (error: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Socket) => {
    // A reset connection has no one to answer; a socket already answering cannot take a second status line.
    if (error.code === "ECONNRESET" || !socket.writable || (socket as { _httpMessage?: unknown })._httpMessage) {
      socket.destroy();
      return;
    }
    const apiError = refusal(error.code);
    const body = JSON.stringify(errorBody(pathOf(error.rawPacket), apiError));
    socket.end(
      `HTTP/1.1 ${apiError.status} ${STATUS_TEXT[apiError.status] ?? "Error"}\r\n` +
        "Content-Type: application/json\r\n" +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        "Connection: close\r\n\r\n" +
        body,
    );
  });
}
