// fast-check arbitraries of the values a JSON Schema accepts: the subset z.toJSONSchema writes (type, const, enum,
// anyOf/oneOf/allOf, properties/required/additionalProperties/propertyNames, items, numeric and length bounds,
// pattern, $ref to #/components/schemas). No maintained library does this for fast-check 4 and 2020-12 schemas.
// Values lean small (few optional fields, short strings, small counts) so most valid requests are cheap to serve;
// `hints` put realistic values (served model names, ids seen) on named properties.
import fc from "fast-check";

export type JsonSchema = Readonly<Record<string, unknown>>;

/** Realistic values for properties by name; a hinted property still gets schema-random values some of the time. */
export type Hints = Readonly<Record<string, fc.Arbitrary<unknown>>>;

export interface SchemaContext {
  /** #/components/schemas of the document, for $ref. */
  readonly components: Readonly<Record<string, JsonSchema>>;
  readonly hints: Hints;
}

/** Past this depth, arrays are empty and optional properties absent, so generation ends. */
const MAX_DEPTH = 6;

export function resolve(schema: JsonSchema, context: SchemaContext): JsonSchema {
  const ref = schema.$ref;
  if (typeof ref !== "string") return schema;
  const name = ref.replace("#/components/schemas/", "");
  const target = context.components[name];
  if (!target) throw new Error(`unresolved $ref ${ref}`);
  return resolve(target, context);
}

const num = (value: unknown): number | undefined => (typeof value === "number" ? value : undefined);

function integerArbitrary(schema: JsonSchema): fc.Arbitrary<number> {
  let min = num(schema.minimum) ?? -1_000_000;
  let max = num(schema.maximum) ?? 1_000_000;
  if (num(schema.exclusiveMinimum) !== undefined) min = Math.floor(num(schema.exclusiveMinimum)!) + 1;
  if (num(schema.exclusiveMaximum) !== undefined) max = Math.ceil(num(schema.exclusiveMaximum)!) - 1;
  // Mostly near the lower bound (counts such as max_tokens and n stay cheap), sometimes anywhere in range.
  const low = fc.integer({ min, max: Math.min(max, min + 16) });
  const safe = (v: number) => Math.max(Number.MIN_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, v));
  return fc.oneof(
    { weight: 8, arbitrary: low },
    { weight: 1, arbitrary: fc.integer({ min: safe(min), max: safe(max) }) },
  );
}

function numberArbitrary(schema: JsonSchema): fc.Arbitrary<number> {
  const exclusiveMin = num(schema.exclusiveMinimum);
  const exclusiveMax = num(schema.exclusiveMaximum);
  return fc.double({
    min: exclusiveMin ?? num(schema.minimum) ?? -1e6,
    max: exclusiveMax ?? num(schema.maximum) ?? 1e6,
    minExcluded: exclusiveMin !== undefined,
    maxExcluded: exclusiveMax !== undefined,
    noNaN: true,
    noDefaultInfinity: true,
  });
}

function stringArbitrary(schema: JsonSchema): fc.Arbitrary<string> {
  if (typeof schema.pattern === "string") return fc.stringMatching(new RegExp(schema.pattern));
  const minLength = num(schema.minLength) ?? 0;
  const maxLength = Math.min(num(schema.maxLength) ?? minLength + 24, minLength + 24);
  return fc.oneof(
    fc.string({ minLength, maxLength, unit: "grapheme-ascii" }),
    fc.string({ minLength, maxLength, unit: "grapheme" }),
  );
}

function arrayArbitrary(schema: JsonSchema, context: SchemaContext, depth: number): fc.Arbitrary<unknown[]> {
  const minLength = num(schema.minItems) ?? 0;
  const maxLength = depth >= MAX_DEPTH ? minLength : Math.min(num(schema.maxItems) ?? minLength + 3, minLength + 3);
  const items = schema.items
    ? validValueOf(schema.items as JsonSchema, context, depth + 1)
    : fc.jsonValue({ maxDepth: 1 });
  return fc.array(items, { minLength, maxLength });
}

function objectArbitrary(schema: JsonSchema, context: SchemaContext, depth: number): fc.Arbitrary<unknown> {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  const names = Object.keys(properties);
  const extra = schema.additionalProperties;
  if (names.length === 0 && extra !== undefined && extra !== false) {
    // A record (metadata, logit_bias, a JSON schema): keys by propertyNames, values by additionalProperties.
    const keys = schema.propertyNames
      ? (validValueOf(schema.propertyNames as JsonSchema, context, depth + 1) as fc.Arbitrary<string>)
      : fc.string({ maxLength: 12 });
    const values =
      extra === true ? fc.jsonValue({ maxDepth: 2 }) : validValueOf(extra as JsonSchema, context, depth + 1);
    return fc.dictionary(keys, values, { maxKeys: depth >= MAX_DEPTH ? 0 : 3 });
  }
  const chosen = (name: string) =>
    required.has(name) || depth < MAX_DEPTH
      ? [validValueOf(properties[name]!, context, depth + 1, context.hints[name])]
      : [];
  const record: Record<string, fc.Arbitrary<unknown>> = {};
  for (const name of names) {
    const [arbitrary] = chosen(name);
    if (arbitrary) record[name] = arbitrary;
  }
  const optional = names.filter((n) => !required.has(n) && record[n]);
  // Each optional property is present with probability about 1/4: few fields per request, each field often.
  return fc
    .tuple(
      fc.record(record, { requiredKeys: [...required] as never[] }),
      fc.array(fc.integer({ min: 0, max: 3 }), { minLength: optional.length, maxLength: optional.length }),
    )
    .map(([value, dice]) => {
      const out = { ...(value as Record<string, unknown>) };
      optional.forEach((name, i) => {
        if (dice[i] !== 0) delete out[name];
      });
      return out;
    });
}

/** Values `schema` accepts; `hint` (a realistic value for this property) is mixed in when given. */
export function validValueOf(
  schema: JsonSchema,
  context: SchemaContext,
  depth = 0,
  hint?: fc.Arbitrary<unknown>,
): fc.Arbitrary<unknown> {
  const plain = schemaValue(resolve(schema, context), context, depth);
  return hint ? fc.oneof({ weight: 4, arbitrary: hint }, { weight: 1, arbitrary: plain }) : plain;
}

function schemaValue(schema: JsonSchema, context: SchemaContext, depth: number): fc.Arbitrary<unknown> {
  if ("const" in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  const alternatives = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (alternatives) return fc.oneof(...alternatives.map((s) => validValueOf(s, context, depth)));
  if (Array.isArray(schema.allOf)) return validValueOf(schema.allOf[0] as JsonSchema, context, depth);
  const type = schema.type;
  if (Array.isArray(type)) return fc.oneof(...type.map((t) => schemaValue({ ...schema, type: t }, context, depth)));
  switch (type) {
    case "string":
      return stringArbitrary(schema);
    case "integer":
      return integerArbitrary(schema);
    case "number":
      return numberArbitrary(schema);
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    case "array":
      return arrayArbitrary(schema, context, depth);
    case "object":
      return objectArbitrary(schema, context, depth);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}
