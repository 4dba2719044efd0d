// The Batch API's input file, validated before any line runs, with OpenAI's error codes where it documents one
// (invalid_json_line, duplicate_custom_id, url_mismatch, model_mismatch, empty_file, too_many_tasks). A file with
// any error fails the batch at validation, every error with its 1-based line number; nothing is skipped.

/** One request of the input file, as the workers run it. */
export interface BatchLine {
  readonly custom_id: string;
  readonly body: Readonly<Record<string, unknown>>;
}

/** OpenAI's BatchError: one entry of a failed batch's `errors.data`. */
export interface BatchError {
  readonly code: string;
  readonly message: string;
  readonly param: string | null;
  readonly line: number | null;
}

export interface InputRules {
  /** The batch's endpoint: every line's `url` must be it. */
  readonly endpoint: string;
  /** Whether this deployment serves a model (or adapter) by that name. */
  readonly isServedModel: (model: string) => boolean;
  /** OpenAI's limit is 50,000 requests per batch. */
  readonly maxLines: number;
}

export type ParsedInput =
  | { readonly ok: true; readonly lines: readonly BatchLine[]; readonly model: string }
  | { readonly ok: false; readonly errors: readonly BatchError[] };

/** errors.data holds at most this many entries; a file broken on every line says so in the first hundred. */
const MAX_ERRORS = 100;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Splits JSONL into lines: "\n" or "\r\n" separated, the one newline after the last line optional. */
function splitLines(text: string): string[] {
  const lines = text.split("\n").map((line) => (line.endsWith("\r") ? line.slice(0, -1) : line));
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/** Validates a whole input file; `ok: false` lists every problem (up to a hundred) with its line. */
export function parseBatchInput(bytes: Uint8Array, rules: InputRules): ParsedInput {
  const texts = splitLines(new TextDecoder().decode(bytes));
  if (texts.every((t) => t.trim() === ""))
    return fail([{ code: "empty_file", message: "The input file is empty.", param: null, line: null }]);
  if (texts.length > rules.maxLines) {
    const message = `The input file has ${texts.length} requests; a batch may have at most ${rules.maxLines}.`;
    return fail([{ code: "too_many_tasks", message, param: null, line: null }]);
  }
  const errors: BatchError[] = [];
  const lines: BatchLine[] = [];
  const seen = new Set<string>();
  let model: string | null = null;
  let modelLine = 0;
  texts.forEach((text, i) => {
    const lineNo = i + 1;
    const error = (code: string, message: string, param: string | null = null) =>
      errors.push({ code, message, param, line: lineNo });
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    if (!isObject(value)) return error("invalid_json_line", "This line is not parseable as valid JSON.");
    const { custom_id: customId, method, url, body } = value;
    if (typeof customId !== "string" || customId === "")
      return error("missing_required_parameter", "Each line needs a non-empty string 'custom_id'.", "custom_id");
    if (seen.has(customId))
      return error("duplicate_custom_id", `The custom_id '${customId}' is used by an earlier line.`, "custom_id");
    seen.add(customId);
    if (method !== "POST") return error("invalid_method", "'method' must be \"POST\".", "method");
    if (url !== rules.endpoint)
      return error(
        "url_mismatch",
        `The url ${JSON.stringify(url)} is not the batch's endpoint ${rules.endpoint}.`,
        "url",
      );
    if (!isObject(body)) return error("missing_required_parameter", "Each line needs a JSON object 'body'.", "body");
    if (typeof body.model !== "string" || body.model === "")
      return error("missing_required_parameter", "The body needs a string 'model'.", "body.model");
    if (model !== null && body.model !== model) {
      const message = `The model '${body.model}' differs from '${model}' of line ${modelLine}: a batch runs one model.`;
      return error("model_mismatch", message, "body.model");
    }
    if (model === null) [model, modelLine] = [body.model, lineNo];
    if (!rules.isServedModel(body.model))
      return error("model_not_found", `The model '${body.model}' is not served here.`, "body.model");
    lines.push({ custom_id: customId, body });
  });
  if (errors.length > 0) return fail(errors);
  return { ok: true, lines, model: model! };
}

function fail(errors: BatchError[]): ParsedInput {
  return { ok: false, errors: errors.slice(0, MAX_ERRORS) };
}
