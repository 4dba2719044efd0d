// JSON Schema (and free JSON) to GBNF, for grammar-constrained sampling of response_format. Every repetition is
// bounded (string length, array items, nesting depth), so constrained output always closes within a bounded
// number of tokens, whatever the model prefers.
import { InvalidRequestError } from "../errors.js";

type Schema = { readonly [key: string]: unknown };

const MAX_STRING = 64;
const MAX_ITEMS = 8;
const MAX_FREE_DEPTH = 3;
/** Deeper schemas are refused: a recursive $ref would otherwise expand forever. */
const MAX_SCHEMA_DEPTH = 32;

const PRIMITIVES: Record<string, string> = {
  ws: '" "?',
  string: `"\\"" ( [^"\\\\\\x7F\\x00-\\x1F] | "\\\\" ["\\\\/bfnrt] ){0,${MAX_STRING}} "\\""`,
  integer: '"-"? ( [0-9] | [1-9] [0-9]{1,15} )',
  number: '"-"? ( [0-9] | [1-9] [0-9]{1,15} ) ( "." [0-9]{1,15} )? ( [eE] [-+]? [0-9]{1,3} )?',
  boolean: '"true" | "false"',
  null: '"null"',
};

/** A GBNF string literal for exact text. */
function literal(text: string): string {
  const escapes: Record<string, string> = { "\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t" };
  return `"${text.replace(/[\\"\n\r\t]/g, (c) => escapes[c]!)}"`;
}

class GrammarBuilder {
  readonly #rules = new Map<string, string>();
  readonly #root: Schema;

  constructor(root: Schema) {
    this.#root = root;
  }

  build(): string {
    const top = this.#visit(this.#root, "root-value", 0);
    this.#rules.set("root", `${this.#primitive("ws")} ${top} ws`);
    return [...this.#rules].map(([name, body]) => `${name} ::= ${body}`).join("\n");
  }

  #primitive(name: string): string {
    this.#rules.set(name, PRIMITIVES[name]!);
    if (name !== "ws") this.#primitive("ws");
    return name;
  }

  #add(name: string, body: string): string {
    const safe = name.replace(/[^a-zA-Z0-9-]/g, "-");
    let unique = safe;
    for (let i = 1; this.#rules.has(unique) && this.#rules.get(unique) !== body; i++) unique = `${safe}-${i}`;
    this.#rules.set(unique, body);
    return unique;
  }

  #visit(schema: unknown, name: string, depth: number): string {
    if (depth > MAX_SCHEMA_DEPTH)
      throw new InvalidRequestError(
        `the JSON schema nests deeper than ${MAX_SCHEMA_DEPTH} levels (recursive $ref is not supported)`,
        { param: "response_format" },
      );
    if (
      schema === true ||
      schema === undefined ||
      (typeof schema === "object" && schema !== null && Object.keys(schema).length === 0)
    )
      return this.#free(depth);
    if (typeof schema !== "object" || schema === null)
      throw new InvalidRequestError("a JSON schema must be an object", { param: "response_format" });
    const s = schema as Schema;
    if (typeof s.$ref === "string") return this.#visit(this.#resolve(s.$ref), name, depth + 1);
    if ("const" in s) return this.#add(name, literal(JSON.stringify(s.const)));
    if (Array.isArray(s.enum)) return this.#add(name, s.enum.map((v) => literal(JSON.stringify(v))).join(" | "));
    const alternatives = (s.anyOf ?? s.oneOf) as unknown[] | undefined;
    if (Array.isArray(alternatives))
      return this.#add(name, alternatives.map((alt, i) => this.#visit(alt, `${name}-${i}`, depth)).join(" | "));
    if (Array.isArray(s.type))
      return this.#add(name, s.type.map((t, i) => this.#visit({ ...s, type: t }, `${name}-${i}`, depth)).join(" | "));
    switch (s.type) {
      case "object":
        return this.#object(s, name, depth);
      case "array":
        return this.#array(s, name, depth);
      case "string":
        return this.#string(s, name);
      case "integer":
      case "number":
      case "boolean":
      case "null":
        return this.#primitive(s.type);
      case undefined:
        return s.properties ? this.#object(s, name, depth) : this.#free(depth);
      default:
        throw new InvalidRequestError(`unsupported JSON schema type ${JSON.stringify(s.type)}`, {
          param: "response_format",
        });
    }
  }

  #object(s: Schema, name: string, depth: number): string {
    const properties = (s.properties ?? {}) as Record<string, unknown>;
    const keys = Object.keys(properties);
    if (keys.length === 0) return this.#free(depth, "object");
    // With no required key, the first one is emitted anyway, so every later optional key has a comma to follow.
    const required = new Set(
      Array.isArray(s.required) && s.required.length > 0 ? (s.required as string[]) : [keys[0]!],
    );
    const member = (key: string) =>
      `${literal(JSON.stringify(key))} ws ":" ws ${this.#visit(properties[key], `${name}-${key}`, depth + 1)}`;
    const parts: string[] = [];
    let first = true;
    for (const key of [...keys.filter((k) => required.has(k)), ...keys.filter((k) => !required.has(k))]) {
      const item = first ? member(key) : `"," ws ${member(key)}`;
      parts.push(required.has(key) ? item : `( ${item} )?`);
      if (required.has(key)) first = false;
    }
    return this.#add(name, `"{" ws ${parts.join(" ws ")} ws "}"`);
  }

  #array(s: Schema, name: string, depth: number): string {
    const item = this.#visit(s.items, `${name}-item`, depth + 1);
    const min = typeof s.minItems === "number" ? s.minItems : 0;
    const max = Math.max(min, typeof s.maxItems === "number" ? s.maxItems : MAX_ITEMS);
    if (max === 0) return this.#add(name, '"[" ws "]"');
    const rest = `( "," ws ${item} ws ){${Math.max(0, min - 1)},${max - 1}}`;
    const body = `"[" ws ${item} ws ${rest} "]"`;
    return this.#add(name, min === 0 ? `${body} | "[" ws "]"` : body);
  }

  #string(s: Schema, name: string): string {
    if (typeof s.minLength !== "number" && typeof s.maxLength !== "number") return this.#primitive("string");
    const min = typeof s.minLength === "number" ? s.minLength : 0;
    const max = Math.max(min, typeof s.maxLength === "number" ? s.maxLength : MAX_STRING);
    return this.#add(name, `"\\"" [^"\\\\\\x7F\\x00-\\x1F]{${min},${max}} "\\""`);
  }

  // Any JSON value (or any object), nested at most MAX_FREE_DEPTH deep.
  #free(depth: number, only?: "object"): string {
    const level = Math.max(0, MAX_FREE_DEPTH - depth);
    const value = (d: number): string => {
      const scalars = ["string", "number", "boolean", "null"].map((p) => this.#primitive(p)).join(" | ");
      if (d === 0) return this.#add("json-scalar", scalars);
      const inner = value(d - 1);
      const object = this.#add(
        `json-object-${d}`,
        `"{" ws ( string ws ":" ws ${inner} ( ws "," ws string ws ":" ws ${inner} ){0,${MAX_ITEMS - 1}} )? ws "}"`,
      );
      const array = this.#add(
        `json-array-${d}`,
        `"[" ws ( ${inner} ( ws "," ws ${inner} ){0,${MAX_ITEMS - 1}} )? ws "]"`,
      );
      return this.#add(`json-value-${d}`, `${object} | ${array} | ${scalars}`);
    };
    if (only !== "object") return value(level);
    value(Math.max(1, level));
    return `json-object-${Math.max(1, level)}`;
  }

  #resolve(ref: string): unknown {
    const match = /^#\/(\$defs|definitions)\/(.+)$/.exec(ref);
    const target = match ? (this.#root[match[1]!] as Record<string, unknown> | undefined)?.[match[2]!] : undefined;
    if (target === undefined)
      throw new InvalidRequestError(`unsupported or unknown $ref ${ref}`, { param: "response_format" });
    return target;
  }
}

/** GBNF for a JSON value that matches `schema`. */
export function jsonSchemaToGbnf(schema: unknown): string {
  if (typeof schema !== "object" || schema === null)
    throw new InvalidRequestError("response_format.json_schema.schema must be an object", { param: "response_format" });
  return new GrammarBuilder(schema as Schema).build();
}

/** GBNF for any JSON object (response_format json_object). */
export function jsonObjectGbnf(): string {
  return new GrammarBuilder({ type: "object" }).build();
}
