// What makes one answer a failure: a 5xx (but a 504 the client's own `timeout` asked for), an error body that is
// not in the route's documented error shape, an error event inside a stream that says the server failed, a hung
// request, or a connection the server dropped without answering a well-formed request.
import type { ValidateFunction } from "ajv";
import type { FuzzRequest } from "./requests.js";
import type { Outcome } from "./send.js";

/** Client-side outcomes that are no fault: the client left on purpose, or cut its own body short. */
function expectedNoAnswer(req: FuzzRequest, outcome: Outcome): boolean {
  if (req.transport === "abort") return outcome.clientError !== "hung";
  if (req.transport === "truncated") return outcome.clientError !== "hung";
  return false;
}

/** A server error as stream events carry it: OpenAI's error chunk, Anthropic's api_error, Responses' error. */
const STREAMED_SERVER_ERROR = /"type":"(server_error|api_error)"|"code":"internal_error"/;

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The failures of one exchange, as sentences; empty when the answer is acceptable. */
export function failuresOf(req: FuzzRequest, outcome: Outcome, errorShape: ValidateFunction): string[] {
  if (outcome.clientError === "hung") return ["hung: no complete answer within the time limit"];
  if (outcome.status === null)
    return expectedNoAnswer(req, outcome) ? [] : [`no answer: ${outcome.clientError ?? "connection closed"}`];
  const failures: string[] = [];
  const body = parse(outcome.text);
  if (outcome.status >= 500) {
    const code = (body as { error?: { code?: string } } | undefined)?.error?.code;
    if (!(outcome.status === 504 && code === "request_timeout"))
      failures.push(`${outcome.status}: ${outcome.text.slice(0, 300)}`);
  }
  // A raw socket's answer may be chunk-framed; its status is what a cut-short request is judged by.
  if (outcome.status >= 400 && req.transport !== "truncated") {
    if (!outcome.contentType.startsWith("application/json"))
      failures.push(`error answer of type '${outcome.contentType}', not JSON`);
    else if (!errorShape(body)) failures.push(`error body not in the route's shape: ${outcome.text.slice(0, 200)}`);
  }
  if (outcome.status < 300 && outcome.contentType.startsWith("text/event-stream")) {
    const line = outcome.text.split("\n").find((l) => l.startsWith("data:") && STREAMED_SERVER_ERROR.test(l));
    if (line) failures.push(`a server error inside the stream: ${line.slice(0, 300)}`);
  }
  return failures;
}
