// Validation of a Batch API input file: what OpenAI accepts, and every error with its code and 1-based line.
import { describe, expect, it } from "vitest";
import { parseBatchInput } from "../../../src/jobs/batch-input.js";

const rules = { endpoint: "/v1/chat/completions", isServedModel: (m: string) => m === "tiny", maxLines: 5 };
const line = (id: string, extra: object = {}, body: object = {}) =>
  JSON.stringify({
    custom_id: id,
    method: "POST",
    url: "/v1/chat/completions",
    body: { model: "tiny", messages: [], ...body },
    ...extra,
  });
const parse = (lines: string[], eol = "\n") => parseBatchInput(Buffer.from(lines.join(eol)), rules);
const errorsOf = (lines: string[]) => {
  const parsed = parse(lines);
  if (parsed.ok) throw new Error("expected errors");
  return parsed.errors.map((e) => [e.line, e.code, e.param]);
};

describe("parseBatchInput", () => {
  it("accepts LF or CRLF lines, with or without a final newline, and names the batch's model", () => {
    for (const eol of ["\n", "\r\n"]) {
      for (const lines of [
        [line("a"), line("b")],
        [line("a"), line("b"), ""],
      ]) {
        const parsed = parse(lines, eol);
        expect(parsed).toEqual({
          ok: true,
          model: "tiny",
          lines: [
            { custom_id: "a", body: { model: "tiny", messages: [] } },
            { custom_id: "b", body: { model: "tiny", messages: [] } },
          ],
        });
      }
    }
  });

  it("reports each bad line with OpenAI's code and its line number, and nothing else passes", () => {
    expect(errorsOf([line("a"), "{oops", "[1, 2]", line("a"), line("d", { url: "/v1/completions" })])).toEqual([
      [2, "invalid_json_line", null],
      [3, "invalid_json_line", null],
      [4, "duplicate_custom_id", "custom_id"],
      [5, "url_mismatch", "url"],
    ]);
    expect(
      errorsOf([
        line("a", { method: "GET" }),
        JSON.stringify({ method: "POST", url: "/v1/chat/completions", body: {} }),
        line("c", { body: "text" }),
        line("d", {}, { model: 3 }),
        line("e", {}, { model: "other" }),
      ]),
    ).toEqual([
      [1, "invalid_method", "method"],
      [2, "missing_required_parameter", "custom_id"],
      [3, "missing_required_parameter", "body"],
      [4, "missing_required_parameter", "body.model"],
      [5, "model_not_found", "body.model"],
    ]);
  });

  it("holds a batch to one model: lines naming another than the first are model_mismatch", () => {
    const both = { ...rules, isServedModel: () => true };
    const parsed = parseBatchInput(Buffer.from([line("a"), line("b", {}, { model: "big" })].join("\n")), both);
    expect(parsed.ok ? [] : parsed.errors).toEqual([
      { code: "model_mismatch", message: expect.stringContaining("line 1"), param: "body.model", line: 2 },
    ]);
  });

  it("refuses an empty file and a file over the line limit as a whole", () => {
    for (const text of ["", "\n", "  \n\n"]) {
      const parsed = parseBatchInput(Buffer.from(text), rules);
      expect(parsed.ok ? null : parsed.errors.map((e) => [e.code, e.line])).toEqual([["empty_file", null]]);
    }
    const six = Array.from({ length: 6 }, (_, i) => line(`r${i}`));
    expect(errorsOf(six)).toEqual([[null, "too_many_tasks", null]]);
  });

  it("lists at most a hundred errors", () => {
    const many = { ...rules, maxLines: 1000 };
    const parsed = parseBatchInput(Buffer.from(Array.from({ length: 300 }, () => "x").join("\n")), many);
    expect(parsed.ok ? 0 : parsed.errors.length).toBe(100);
  });
});
