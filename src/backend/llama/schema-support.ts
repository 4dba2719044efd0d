// What llama.cpp's JSON-schema converter (json_schema_to_grammar) can honour, checked before it runs. The converter
// drops what it cannot express without a word (a bound on a decimal, uniqueItems, allOf beside properties, a
// pattern with a lookahead). Here such a schema is rewritten into an equivalent one the converter honours, or
// refused with the path and the keyword, so that a grammar never silently accepts what the schema forbids.
//
// Deliberate approximations, each the converter's own reading: oneOf is read as anyOf (exact for discriminated
// unions, whose branches are disjoint); a string with both a pattern and a format follows the pattern, and follows
// the format when the converter cannot compile the pattern (zod states a format's own regex as the pattern).

/** A JSON schema as clients send it (OpenAI response_format, tool parameters). */
export type JsonSchema = { readonly [keyword: string]: unknown };

/**
 * A keyword no grammar of llama.cpp's converter can honour; err.path is a JSON pointer into the schema, err.tool the
 * tool whose parameters it is, when it is a tool's.
 */
export class UnsupportedSchemaError extends Error {
  readonly code = "LOOM_SCHEMA_UNSUPPORTED";
  readonly path: string;
  readonly reason: string;
  readonly tool: string | null;
  constructor(path: string, reason: string, tool: string | null = null) {
    super(`${tool === null ? "" : `the parameters of tool ${tool}: `}JSON schema at ${path}: ${reason}`);
    this.name = "UnsupportedSchemaError";
    this.path = path;
    this.reason = reason;
    this.tool = tool;
  }

  /** The same refusal, about the parameters of a tool. */
  ofTool(tool: string): UnsupportedSchemaError {
    return new UnsupportedSchemaError(this.path, this.reason, tool);
  }
}

const NEVER_HONOURED = [
  "not",
  "if",
  "then",
  "else",
  "multipleOf",
  "uniqueItems",
  "contains",
  "minContains",
  "maxContains",
  "patternProperties",
  "propertyNames",
  "minProperties",
  "maxProperties",
  "dependentRequired",
  "dependentSchemas",
  "dependencies",
  "unevaluatedProperties",
  "unevaluatedItems",
  "additionalItems",
  "$dynamicRef",
  "$recursiveRef",
];
const BOUNDS = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"];
const NATIVE_FORMATS = new Set(["date", "time", "date-time", "uuid", "uuid1", "uuid2", "uuid3", "uuid4", "uuid5"]);
const LABEL = "[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?";
const OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])";
/** Formats the converter lacks, as patterns it compiles; each admits only values every common validator accepts. */
export const FORMAT_PATTERNS: Readonly<Record<string, string>> = {
  email: `^[A-Za-z0-9_'+-]*[A-Za-z0-9_+-](\\.[A-Za-z0-9_'+-]*[A-Za-z0-9_+-])*@(${LABEL}\\.)+[A-Za-z]{2,}$`,
  uri: `^https?://${LABEL}(\\.${LABEL})*(:[0-9]{1,5})?(/[A-Za-z0-9._~%!$&'()*+,;=:@-]*)*$`,
  ipv4: `^(${OCTET}\\.){3}${OCTET}$`,
};

type Schema = Record<string, unknown>;
/** Compiles a schema to GBNF (the native converter); used to learn whether it compiles a pattern. */
export type GrammarCompiler = (schema: JsonSchema) => string;

const isObject = (value: unknown): value is Schema =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function typesOf(schema: Schema): string[] | undefined {
  if (typeof schema.type === "string") return [schema.type];
  return Array.isArray(schema.type) ? schema.type.filter((t): t is string => typeof t === "string") : undefined;
}

// JSON Schema patterns match anywhere in the string; the converter reads only ^...$ patterns, whole-string.
function anchored(pattern: string): string {
  const start = pattern.startsWith("^");
  const end = pattern.endsWith("$") && !pattern.endsWith("\\$");
  if (start && end) return pattern;
  const body = pattern.slice(start ? 1 : 0, end ? -1 : undefined);
  return `^${start ? "" : ".*"}(?:${body})${end ? "" : ".*"}$`;
}

function checkBounds(schema: Schema, path: string): void {
  const present = BOUNDS.filter((k) => k in schema);
  if (present.length === 0) return;
  const types = typesOf(schema);
  if (!types || types.includes("number")) {
    throw new UnsupportedSchemaError(
      path,
      `${present.join(", ")} can only be honoured on type "integer" (llama.cpp's grammar cannot bound a decimal)`,
    );
  }
  // The converter reads minimum before exclusiveMinimum and ignores the second; keep the tighter bound only.
  for (const [inclusive, exclusive, step, pick] of [
    ["minimum", "exclusiveMinimum", 1, Math.max],
    ["maximum", "exclusiveMaximum", -1, Math.min],
  ] as const) {
    if (typeof schema[inclusive] === "number" && typeof schema[exclusive] === "number") {
      schema[inclusive] = pick(Math.round(schema[inclusive] as number), Math.round(schema[exclusive] as number) + step);
      delete schema[exclusive];
    }
  }
}

// A pattern the converter cannot compile becomes its any-string rule (with a warning on stderr); an unanchored
// pattern always does, so its grammar is that fallback, to compare with.
const fallbacks = new WeakMap<GrammarCompiler, string>();
function fallbackGrammar(compile: GrammarCompiler): string {
  let grammar = fallbacks.get(compile);
  if (grammar === undefined) {
    grammar = compile({ type: "string", pattern: "unanchored" });
    fallbacks.set(compile, grammar);
  }
  return grammar;
}

function checkString(schema: Schema, path: string, compile: GrammarCompiler): void {
  const format = typeof schema.format === "string" ? schema.format : undefined;
  if (format !== undefined && !NATIVE_FORMATS.has(format) && !(format in FORMAT_PATTERNS)) {
    throw new UnsupportedSchemaError(path, `format "${format}" cannot be honoured`);
  }
  if (typeof schema.pattern === "string") {
    const pattern = anchored(schema.pattern);
    const compiles = compile({ type: "string", pattern }) !== fallbackGrammar(compile);
    if (compiles) schema.pattern = pattern;
    else if (format !== undefined) delete schema.pattern;
    else throw new UnsupportedSchemaError(path, `pattern ${schema.pattern} has no grammar equivalent`);
  }
  if (format !== undefined && format in FORMAT_PATTERNS && schema.pattern === undefined) {
    schema.pattern = FORMAT_PATTERNS[format];
    delete schema.format;
  }
  const lengths = ["minLength", "maxLength"].filter((k) => k in schema);
  if (lengths.length === 0 || (schema.pattern === undefined && schema.format === undefined)) return;
  // A pattern or format rule replaces the length rule; a minLength of 1 is implied by one that rejects "".
  const impliedNonEmpty =
    schema.maxLength === undefined &&
    (schema.minLength as number) <= 1 &&
    (schema.pattern === undefined || !matchesEmpty(schema.pattern as string));
  if (!impliedNonEmpty) {
    throw new UnsupportedSchemaError(
      path,
      `${lengths.join(", ")} cannot be honoured together with a pattern or format`,
    );
  }
  delete schema.minLength;
}

function matchesEmpty(pattern: string): boolean {
  try {
    return new RegExp(pattern).test("");
  } catch {
    return true;
  }
}

// allOf is honoured as the converter reads it: a merge of object schemas. Properties beside allOf join the merge.
function checkAllOf(schema: Schema, path: string, root: Schema): void {
  if (!Array.isArray(schema.allOf)) return;
  if ("properties" in schema) {
    // The merge admits no property beyond the listed ones, whatever additionalProperties said: a subset, so safe.
    const own: Schema = { type: "object", properties: schema.properties };
    if (schema.required !== undefined) own.required = schema.required;
    schema.allOf = [own, ...schema.allOf];
    for (const key of ["type", "properties", "required", "additionalProperties"]) delete schema[key];
  }
  const seen = new Map<string, string>();
  (schema.allOf as unknown[]).forEach((member, i) => {
    const target = resolveRef(member, root);
    if (!isObject(target) || !isObject(target.properties)) {
      throw new UnsupportedSchemaError(`${path}/allOf/${i}`, "allOf can only merge object schemas with properties");
    }
    for (const [name, property] of Object.entries(target.properties)) {
      const text = JSON.stringify(property);
      if (seen.has(name) && seen.get(name) !== text) {
        throw new UnsupportedSchemaError(`${path}/allOf/${i}`, `property ${name} has two different schemas in allOf`);
      }
      seen.set(name, text);
    }
  });
}

function resolveRef(schema: unknown, root: Schema): unknown {
  if (!isObject(schema) || typeof schema.$ref !== "string" || !schema.$ref.startsWith("#/")) return schema;
  return schema.$ref
    .slice(2)
    .split("/")
    .reduce<unknown>(
      (node, key) => (isObject(node) ? node[key.replace(/~1/g, "/").replace(/~0/g, "~")] : undefined),
      root,
    );
}

function visit(schema: unknown, path: string, root: Schema, compile: GrammarCompiler): void {
  if (!isObject(schema)) return;
  const never = NEVER_HONOURED.filter((k) => k in schema);
  if (never.length > 0) throw new UnsupportedSchemaError(path, `${never.join(", ")} cannot be honoured by a grammar`);
  if ("prefixItems" in schema && isObject(schema.items)) {
    throw new UnsupportedSchemaError(path, "prefixItems with a schema for the remaining items cannot be honoured");
  }
  checkBounds(schema, path);
  const types = typesOf(schema);
  if (types ? types.includes("string") : "pattern" in schema || "format" in schema) {
    checkString(schema, path, compile);
  }
  checkAllOf(schema, path, root);
  for (const key of ["properties", "$defs", "definitions"]) {
    if (isObject(schema[key])) {
      for (const [name, child] of Object.entries(schema[key])) visit(child, `${path}/${key}/${name}`, root, compile);
    }
  }
  for (const key of ["additionalProperties", "items"]) {
    if (isObject(schema[key])) visit(schema[key], `${path}/${key}`, root, compile);
  }
  for (const key of ["items", "prefixItems", "anyOf", "oneOf", "allOf"]) {
    if (Array.isArray(schema[key])) {
      (schema[key] as unknown[]).forEach((child, i) => visit(child, `${path}/${key}/${i}`, root, compile));
    }
  }
}

/**
 * A copy of the schema that llama.cpp's converter honours in full: patterns anchored as JSON Schema reads them,
 * formats it lacks (email, uri, ipv4) as patterns, properties beside allOf merged into it, paired inclusive and
 * exclusive integer bounds reduced to the tighter one. Throws UnsupportedSchemaError for what no grammar honours.
 */
export function prepareSchema(schema: JsonSchema, compile: GrammarCompiler): JsonSchema {
  const copy = structuredClone(schema) as Schema;
  visit(copy, "#", copy, compile);
  return copy;
}
