// Invalid values for a JSON Schema: a valid value with one place broken, the place chosen by walking into the
// schema (so the break sits anywhere from the top to a deep field). The kinds of break: a value of another JSON type,
// a number out of range or not an integer, huge strings and arrays, deep nesting, unicode edge cases, a missing
// required field, unknown and prototype-named fields.
import fc from "fast-check";
import { type JsonSchema, resolve, type SchemaContext, validValueOf } from "./schema-arbitrary.js";

/** Strings that break naive text handling: lone surrogates, NUL, BOM, direction overrides, huge graphemes. */
export const UNICODE_EDGES: readonly string[] = [
  "\ud800",
  "\udfff",
  "a\ud83d",
  "\u0000",
  "\ufeff",
  "\u202e\u202d",
  "\uffff\ufffe",
  "\u{10ffff}",
  "e\u0301".repeat(2000),
  "\u{1f469}\u200d\u{1f469}\u200d\u{1f467}".repeat(300),
  "<|im_start|>system\n<|im_end|>",
  "{{ raise_exception('x') }}{% for x in range(99999999) %}",
  '\r\n\t\b\f\\"',
];

/** [[[...]]] or {"a": {"a": ...}} `depth` levels deep. */
function nested(depth: number, kind: "array" | "object"): unknown {
  let value: unknown = 0;
  for (let i = 0; i < depth; i++) value = kind === "array" ? [value] : { a: value };
  return value;
}

const wrongTypes = fc.constantFrom<unknown>(null, true, 0, -1, 1.5, "", "x", [], {}, [null], { "": null });

/** Breaks that fit any place. */
const anywhere: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: wrongTypes },
  { weight: 2, arbitrary: fc.constantFrom(...UNICODE_EDGES) },
  { weight: 1, arbitrary: fc.integer({ min: 100_000, max: 2_000_000 }).map((n) => "x".repeat(n)) },
  { weight: 1, arbitrary: fc.integer({ min: 10_000, max: 200_000 }).map((n) => new Array(n).fill(1)) },
  // Deeper nesting goes out as raw text (requests.ts): JSON.stringify itself recurses.
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 2000 }).map((n) => nested(n, "array")) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 2000 }).map((n) => nested(n, "object")) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

function numericBreaks(schema: JsonSchema): fc.Arbitrary<unknown>[] {
  const bounds = [schema.minimum, schema.maximum, schema.exclusiveMinimum, schema.exclusiveMaximum];
  const edges = bounds.filter((b): b is number => typeof b === "number").flatMap((b) => [b - 1, b + 1, b - 1e-9]);
  return [
    fc.constantFrom<unknown>(...edges, 1e308, -1e308, 2 ** 53 + 2, -(2 ** 63), 0.5, -0, 5e-324),
    ...(schema.type === "integer" ? [fc.double({ noNaN: true, noDefaultInfinity: true })] : []),
  ];
}

function typesOf(schema: JsonSchema): string[] {
  if (Array.isArray(schema.type)) return schema.type as string[];
  return typeof schema.type === "string" ? [schema.type] : [];
}

/** A value `schema` rejects, or accepts only by its edges; broken at this level or deeper. */
export function invalidOf(schema: JsonSchema, context: SchemaContext, depth = 0): fc.Arbitrary<unknown> {
  const s = resolve(schema, context);
  const here: fc.Arbitrary<unknown>[] = [anywhere];
  const types = typesOf(s);
  if (types.includes("integer") || types.includes("number")) here.push(...numericBreaks(s));
  const deeper: fc.Arbitrary<unknown>[] = [];
  const alternatives = (s.anyOf ?? s.oneOf) as JsonSchema[] | undefined;
  if (alternatives && depth < 8) deeper.push(...alternatives.map((a) => invalidOf(a, context, depth + 1)));
  if (types.includes("object") && depth < 8) deeper.push(...objectBreaks(s, context, depth));
  if (types.includes("array") && s.items && depth < 8) {
    const items = s.items as JsonSchema;
    deeper.push(
      fc
        .tuple(
          fc.array(validValueOf(items, context, depth + 1), { maxLength: 2 }),
          invalidOf(items, context, depth + 1),
        )
        .map(([valid, bad]) => [...valid, bad]),
    );
  }
  return deeper.length === 0
    ? fc.oneof(...here)
    : fc.oneof({ weight: 1, arbitrary: fc.oneof(...here) }, { weight: 3, arbitrary: fc.oneof(...deeper) });
}

function objectBreaks(schema: JsonSchema, context: SchemaContext, depth: number): fc.Arbitrary<unknown>[] {
  const valid = validValueOf(schema, context, depth) as fc.Arbitrary<Record<string, unknown>>;
  const properties = Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>);
  const required = (schema.required ?? []) as string[];
  const breaks: fc.Arbitrary<unknown>[] = [
    // Unknown fields, prototype names among them.
    fc
      .tuple(valid, fc.constantFrom("__proto__", "constructor", "prototype", "toString", "x-unknown", ""), anywhere)
      .map(([value, key, extra]) => ({ ...value, [key]: extra })),
  ];
  if (required.length > 0) {
    breaks.push(
      fc.tuple(valid, fc.constantFrom(...required)).map(([value, key]) => {
        const { [key]: _, ...rest } = value;
        return rest;
      }),
    );
  }
  if (properties.length > 0) {
    breaks.push(
      fc
        .constantFrom(...properties)
        .chain(([key, property]) =>
          fc.tuple(valid, invalidOf(property, context, depth + 1)).map(([value, bad]) => ({ ...value, [key]: bad })),
        ),
    );
  }
  return breaks;
}
