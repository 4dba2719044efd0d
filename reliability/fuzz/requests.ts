// One arbitrary of HTTP requests per route of the OpenAPI document: path parameters, query and body from the
// route's schemas, valid or broken (invalid.ts), sent as JSON, multipart or KServe's binary extension, with odd
// content types and, at the transport level, chunked, slow, truncated and aborted bodies.
import fc from "fast-check";
import { invalidOf, UNICODE_EDGES } from "./invalid.js";
import { type JsonSchema, type SchemaContext, validValueOf } from "./schema-arbitrary.js";

export type Transport = "plain" | "chunked" | "slow" | "truncated" | "abort";
export type Variant = "valid" | "invalid" | "raw";

export interface FuzzRequest {
  readonly method: string;
  /** The path with its parameters filled in and its query string. */
  readonly target: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array | null;
  readonly transport: Transport;
  readonly variant: Variant;
}

export interface Parameter {
  readonly name: string;
  readonly in: "path" | "query";
  readonly schema: JsonSchema;
}

export interface RouteOperation {
  readonly method: string;
  readonly path: string;
  readonly parameters: readonly Parameter[];
  readonly body: { readonly mediaType: string; readonly schema: JsonSchema } | null;
}

const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text);
/** Lone surrogates as U+FFFD (String.prototype.toWellFormed, past this project's ES2023 lib). */
const wellFormed = (text: string) =>
  text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd");

/**
 * Path parameter values, ready for the URL: realistic ones by name (ids of fixtures, model names), random and unicode
 * ones (percent-encoded, lone surrogates as U+FFFD), and raw escapes no client would encode (%00, %ff, a lone %).
 */
function pathValue(name: string, known: Readonly<Record<string, readonly string[]>>): fc.Arbitrary<string> {
  const encode = (v: string) => encodeURIComponent(wellFormed(v));
  const raw = fc.constantFrom("%00", "%ff%fe", "..%2f..", "%", "%2e%2e", "%C0%AF");
  const hostile = fc.constantFrom("..", " ", "x".repeat(5000), "null", "-1", "1e999", ...UNICODE_EDGES.slice(0, 8));
  const good = known[name] ?? [];
  const random = fc.string({ minLength: 1, maxLength: 40 });
  const realistic = good.length > 0 ? fc.constantFrom(...good) : random;
  return fc.oneof(
    { weight: 6, arbitrary: realistic.map(encode) },
    { weight: 2, arbitrary: random.map(encode) },
    { weight: 1, arbitrary: hostile.map(encode) },
    { weight: 1, arbitrary: raw },
  );
}

/** A query value as text: schema values mostly, broken ones (invalidOf) too. */
function queryValue(schema: JsonSchema, context: SchemaContext): fc.Arbitrary<string | undefined> {
  const asText = (v: unknown) => wellFormed(typeof v === "string" ? v : (JSON.stringify(v) ?? ""));
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant(undefined) },
    { weight: 3, arbitrary: validValueOf(schema, context).map(asText) },
    { weight: 2, arbitrary: invalidOf(schema, context).map((v) => asText(v)?.slice(0, 4096)) },
  );
}

function targetOf(
  operation: RouteOperation,
  context: SchemaContext,
  known: Readonly<Record<string, readonly string[]>>,
): fc.Arbitrary<string> {
  const pathParams = operation.parameters.filter((p) => p.in === "path");
  const queryParams = operation.parameters.filter((p) => p.in === "query");
  return fc
    .tuple(
      fc.tuple(...pathParams.map((p) => pathValue(p.name, known))),
      fc.tuple(...queryParams.map((p) => queryValue(p.schema, context))),
      fc.option(fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 })), { freq: 8 }),
    )
    .map(([pathValues, queryValues, unknown]) => {
      let path = operation.path;
      pathParams.forEach((p, i) => {
        path = path.replace(`{${p.name}}`, pathValues[i]!);
      });
      const query = new URLSearchParams();
      queryParams.forEach((p, i) => {
        if (queryValues[i] !== undefined) query.set(p.name, queryValues[i]!);
      });
      if (unknown) query.set(unknown[0], unknown[1]);
      const text = query.toString();
      return text === "" ? path : `${path}?${text}`;
    });
}

/** Bodies that are not JSON of the schema at all: broken text, odd encodings, nesting too deep to build as values. */
function rawJsonBodies(validText: fc.Arbitrary<string>): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    validText.chain((t) => fc.nat({ max: Math.max(0, t.length - 1) }).map((n) => bytes(t.slice(0, n)))),
    fc.constantFrom("", "null", "[]", "1e999", '"text"', "{}{}", '{"a":1,"a":2}', "{/* c */}", "\u0000").map(bytes),
    validText.map((t) => bytes(`\ufeff${t}`)),
    validText.map((t) => bytes(`${" ".repeat(100_000)}${t}`)),
    fc.integer({ min: 10_000, max: 200_000 }).map((n) => bytes(`${"[".repeat(n)}${"]".repeat(n)}`)),
    fc.integer({ min: 10_000, max: 100_000 }).map((n) => bytes(`${'{"a":'.repeat(n)}1${"}".repeat(n)}`)),
    fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => Uint8Array.from([0xff, 0xfe, ...b])),
    validText.map((t) => Buffer.from(t, "utf16le")),
  );
}

const jsonTypes = fc.oneof(
  { weight: 12, arbitrary: fc.constant("application/json") },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "",
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "application/json; charset=latin1",
      "application/octet-stream",
      "x/y",
    ),
  },
);

function multipartBody(fields: readonly (readonly [string, string, string | null])[], boundary: string): Uint8Array {
  const parts = fields.map(([name, value, filename]) => {
    const disposition = `form-data; name="${name}"${filename === null ? "" : `; filename="${filename}"`}`;
    return `--${boundary}\r\nContent-Disposition: ${disposition}\r\n\r\n${value}\r\n`;
  });
  return bytes(`${parts.join("")}--${boundary}--\r\n`);
}

/** Multipart uploads: a batch file of chat lines or random text, the purpose, fields missing or framing broken. */
function uploadBody(): fc.Arbitrary<{ body: Uint8Array; contentType: string; variant: Variant }> {
  const line = fc.record({ n: fc.nat(99), content: fc.string({ maxLength: 20 }) }).map(({ n, content }) =>
    JSON.stringify({
      custom_id: `line-${n}`,
      method: "POST",
      url: "/v1/chat/completions",
      body: { model: "tiny", messages: [{ role: "user", content }], max_tokens: 4 },
    }),
  );
  const file = fc.oneof(
    fc.array(line, { minLength: 1, maxLength: 4 }).map((lines) => lines.join("\n")),
    fc.string({ maxLength: 200 }),
  );
  const purpose = fc.constantFrom("batch", "user_data", "fine-tune", "", UNICODE_EDGES[0]!);
  const boundary = "----loomfuzz";
  return fc.oneof(
    fc.tuple(file, purpose).map(([f, p]) => ({
      body: multipartBody(
        [
          ["purpose", p, null],
          ["file", f, "input.jsonl"],
        ],
        boundary,
      ),
      contentType: `multipart/form-data; boundary=${boundary}`,
      variant: "valid" as Variant,
    })),
    fc.tuple(file, fc.constantFrom("missing-purpose", "missing-file", "no-boundary", "cut")).map(([f, how]) => {
      const whole = multipartBody(
        how === "missing-file" ? [["purpose", "batch", null]] : [["file", f, "input.jsonl"]],
        boundary,
      );
      return {
        body: how === "cut" ? whole.subarray(0, whole.length >> 1) : whole,
        contentType: how === "no-boundary" ? "multipart/form-data" : `multipart/form-data; boundary=${boundary}`,
        variant: "invalid" as Variant,
      };
    }),
  );
}

/** KServe's binary tensor extension: a JSON header, then raw bytes, with a header length right or wrong. */
function binaryInferBody(header: fc.Arbitrary<unknown>) {
  return fc
    .tuple(header, fc.uint8Array({ maxLength: 256 }), fc.constantFrom("exact", "long", "negative", "text"))
    .map(([value, tail, how]) => {
      const json = bytes(JSON.stringify(value));
      const length = { exact: `${json.length}`, long: `${json.length + 10_000}`, negative: "-4", text: "abc" }[how];
      const body = new Uint8Array(json.length + tail.length);
      body.set(json);
      body.set(tail, json.length);
      return { body, length: length!, variant: (how === "exact" ? "valid" : "invalid") as Variant };
    });
}

const transports = fc.oneof(
  { weight: 40, arbitrary: fc.constant<Transport>("plain") },
  { weight: 2, arbitrary: fc.constant<Transport>("chunked") },
  { weight: 1, arbitrary: fc.constant<Transport>("slow") },
  { weight: 1, arbitrary: fc.constant<Transport>("truncated") },
  { weight: 2, arbitrary: fc.constant<Transport>("abort") },
);

type Payload = { body: Uint8Array | null; headers: Record<string, string>; variant: Variant };

function jsonPayload(schema: JsonSchema, context: SchemaContext, binary: boolean): fc.Arbitrary<Payload> {
  const valid = validValueOf(schema, context);
  const validText = valid.map((v) => JSON.stringify(v));
  const json = fc.oneof(
    { weight: 5, arbitrary: validText.map((t) => ({ body: bytes(t), variant: "valid" as Variant })) },
    {
      weight: 4,
      arbitrary: invalidOf(schema, context).map((v) => ({ body: bytes(JSON.stringify(v)), variant: "invalid" })),
    },
    { weight: 1, arbitrary: rawJsonBodies(validText).map((body) => ({ body, variant: "raw" as Variant })) },
  );
  const plain = fc.tuple(json, jsonTypes).map(
    ([{ body, variant }, type]): Payload => ({
      body,
      variant: variant as Variant,
      headers: type === "" ? {} : { "content-type": type },
    }),
  );
  if (!binary) return plain;
  const withTensors = binaryInferBody(valid).map(
    ({ body, length, variant }): Payload => ({
      body,
      variant,
      headers: { "content-type": "application/octet-stream", "inference-header-content-length": length },
    }),
  );
  return fc.oneof({ weight: 4, arbitrary: plain }, { weight: 1, arbitrary: withTensors });
}

/** Every request this route may be sent, as an arbitrary. */
export function requestsFor(
  operation: RouteOperation,
  context: SchemaContext,
  known: Readonly<Record<string, readonly string[]>>,
): fc.Arbitrary<FuzzRequest> {
  let payload: fc.Arbitrary<Payload> = fc.constant({ body: null, headers: {}, variant: "valid" });
  if (operation.body?.mediaType === "multipart/form-data") {
    payload = uploadBody().map(({ body, contentType, variant }) => ({
      body,
      variant,
      headers: { "content-type": contentType },
    }));
  } else if (operation.body) {
    payload = jsonPayload(operation.body.schema, context, operation.path.endsWith("/infer"));
  }
  return fc
    .tuple(targetOf(operation, context, known), payload, transports)
    .map(([target, { body, headers, variant }, transport]) => ({
      method: operation.method.toUpperCase(),
      target,
      headers,
      body,
      // A body-less request has nothing to chunk, slow down or cut short.
      transport: body === null && transport !== "abort" ? "plain" : transport,
      variant,
    }));
}
