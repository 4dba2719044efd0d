// JSON Schema to GBNF: the grammar text for small schemas, and refusals for what it cannot express.
import { describe, expect, it } from "vitest";
import { InvalidRequestError } from "../../../src/serving/errors.js";
import { jsonObjectGbnf, jsonSchemaToGbnf } from "../../../src/serving/llm/json-grammar.js";

const rules = (gbnf: string) => new Map(gbnf.split("\n").map((line) => line.split(" ::= ") as [string, string]));

describe("jsonSchemaToGbnf", () => {
  it("writes required properties in order and optional ones as optional members", () => {
    const g = rules(
      jsonSchemaToGbnf({
        type: "object",
        properties: { a: { type: "integer" }, b: { type: "boolean" } },
        required: ["a"],
      }),
    );
    expect(g.get("root")).toBe("ws root-value ws");
    expect(g.get("root-value")).toBe(
      '"{" ws "\\"a\\"" ws ":" ws integer ws ( "," ws "\\"b\\"" ws ":" ws boolean )? ws "}"',
    );
    expect(g.has("integer") && g.has("boolean") && g.has("ws")).toBe(true);
  });

  it("writes enums, consts and bounded arrays", () => {
    const g = rules(jsonSchemaToGbnf({ type: "array", items: { enum: ["x", 1] }, minItems: 1, maxItems: 3 }));
    expect(g.get("root-value-item")).toBe('"\\"x\\"" | "1"');
    expect(g.get("root-value")).toBe('"[" ws root-value-item ws ( "," ws root-value-item ws ){0,2} "]"');
    expect(rules(jsonSchemaToGbnf({ const: "é" })).get("root-value")).toBe('"\\"é\\""');
  });

  it("follows $defs references and refuses recursive ones", () => {
    const g = rules(
      jsonSchemaToGbnf({
        $defs: { n: { type: "number" } },
        type: "object",
        properties: { x: { $ref: "#/$defs/n" } },
        required: ["x"],
      }),
    );
    expect(g.get("root-value")).toContain("number");
    const recursive = {
      $defs: { node: { type: "object", properties: { next: { $ref: "#/$defs/node" } }, required: ["next"] } },
      $ref: "#/$defs/node",
    };
    expect(() => jsonSchemaToGbnf(recursive)).toThrow(InvalidRequestError);
    expect(() => jsonSchemaToGbnf({ type: "tuple" })).toThrow(/unsupported JSON schema type/);
    expect(() => jsonSchemaToGbnf({ $ref: "https://example.com/s.json" })).toThrow(/unsupported or unknown \$ref/);
  });

  it("bounds free-form JSON objects", () => {
    const g = rules(jsonObjectGbnf());
    expect(g.get("root")).toBe("ws json-object-3 ws");
    expect(g.get("json-scalar")).toBe("string | number | boolean | null");
  });
});
