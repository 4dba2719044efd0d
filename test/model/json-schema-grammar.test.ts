// jsonSchemaToGrammar: llama.cpp's converter behind a check of what it can honour. Each grammar is run on real
// tokens through a real sampler: accepted text is what the grammar lets a model write, to its end.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type JsonSchema, jsonSchemaToGrammar, UnsupportedSchemaError } from "../../src/backend/llama/chat-layer.js";
import type { LlamaContext } from "../../src/backend/llama/llama-context.js";
import { LlamaModel } from "../../src/backend/llama/llama-model.js";
import { FORMAT_PATTERNS } from "../../src/backend/llama/schema-support.js";
import { samplingParams } from "../../src/sampling-params.js";
import { chatModel } from "../helpers/models.js";

let model: LlamaModel;
let context: LlamaContext;

beforeAll(async () => {
  model = await LlamaModel.load(chatModel("qwen2.5"));
  context = await model.createContext({ kvTokens: 256, maxSequences: 1, threads: 1 });
});

afterAll(async () => {
  await context.dispose();
  model.dispose();
});

/** Whether the grammar lets a model write exactly this text and then end. */
function writes(grammar: string, text: string): boolean {
  const sampler = context.createSampler(samplingParams({ grammar }));
  const tokens = [...model.tokenize(text, { addSpecial: false }), model.info.eotToken];
  try {
    sampler.accept(Int32Array.from(tokens));
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === "LOOM_SAMPLING_FAILED") return false;
    throw error;
  } finally {
    sampler.dispose();
  }
}

const string = (schema: JsonSchema) => jsonSchemaToGrammar({ type: "string", ...schema });

describe("what the grammar honours", () => {
  it("integer minimum and maximum", () => {
    const grammar = jsonSchemaToGrammar({
      type: "object",
      properties: { r: { type: "integer", minimum: 1, maximum: 9 } },
      required: ["r"],
    });
    expect(writes(grammar, '{"r": 5}')).toBe(true);
    for (const r of ["-30", "0", "10"]) expect(writes(grammar, `{"r": ${r}}`)).toBe(false);
    const exclusive = jsonSchemaToGrammar({ type: "integer", minimum: 0, exclusiveMinimum: 2, exclusiveMaximum: 5 });
    expect(["3", "4"].map((n) => writes(exclusive, n))).toEqual([true, true]);
    expect(["2", "5"].map((n) => writes(exclusive, n))).toEqual([false, false]);
  });

  it("patterns, anchored or not, as JSON Schema reads them", () => {
    const code = string({ pattern: "^[A-Z]{3}-[0-9]{2}$" });
    expect(writes(code, '"ABC-12"')).toBe(true);
    expect(writes(code, '"abc-12"')).toBe(false);
    expect(writes(code, '"ABC-123"')).toBe(false);
    const digit = string({ pattern: "[0-9]" });
    expect(writes(digit, '"ab1cd"')).toBe(true);
    expect(writes(digit, '"abcd"')).toBe(false);
  });

  it("formats: email, uri, uuid, date-time", () => {
    const email = string({ format: "email" });
    expect(writes(email, '"ann.lee@example.com"')).toBe(true);
    expect(writes(email, '"not-an-email"')).toBe(false);
    expect(writes(email, '".ann@example.com"')).toBe(false);
    // zod states the format together with a pattern llama.cpp cannot compile (it has lookaheads).
    const zodEmail = string({
      format: "email",
      pattern:
        "^(?!\\.)(?!.*\\.\\.)([A-Za-z0-9_'+\\-\\.]*)[A-Za-z0-9_+-]@([A-Za-z0-9][A-Za-z0-9\\-]*\\.)+[A-Za-z]{2,}$",
    });
    expect(writes(zodEmail, '"ann@example.com"')).toBe(true);
    expect(writes(zodEmail, '"ann@"')).toBe(false);
    const uri = string({ format: "uri" });
    expect(writes(uri, '"https://example.com/a/b"')).toBe(true);
    expect(writes(uri, '"example"')).toBe(false);
    const uuid = string({ format: "uuid" });
    expect(writes(uuid, '"123e4567-e89b-12d3-a456-426614174000"')).toBe(true);
    expect(writes(uuid, '"123e4567"')).toBe(false);
    const dateTime = string({ format: "date-time" });
    expect(writes(dateTime, '"2024-05-01T12:30:00Z"')).toBe(true);
    expect(writes(dateTime, '"yesterday"')).toBe(false);
  });

  it("the format patterns admit only what a validator accepts", () => {
    expect(new RegExp(FORMAT_PATTERNS.email!).test("a.b+c@mail.example.org")).toBe(true);
    expect(new RegExp(FORMAT_PATTERNS.email!).test("a..b@example.org")).toBe(false);
    expect(new RegExp(FORMAT_PATTERNS.ipv4!).test("192.168.0.255")).toBe(true);
    expect(new RegExp(FORMAT_PATTERNS.ipv4!).test("256.1.1.1")).toBe(false);
    expect(() => new URL("https://example.com:8080/x/y")).not.toThrow();
    expect(new RegExp(FORMAT_PATTERNS.uri!).test("https://example.com:8080/x/y")).toBe(true);
  });

  it("allOf, also beside properties", () => {
    const a = { type: "object", properties: { a: { type: "integer" } }, required: ["a"] };
    const b = { type: "object", properties: { b: { type: "string" } }, required: ["b"] };
    for (const grammar of [
      jsonSchemaToGrammar({ allOf: [a, b] }),
      jsonSchemaToGrammar({ ...a, allOf: [b] }),
      jsonSchemaToGrammar({ $defs: { b }, allOf: [a, { $ref: "#/$defs/b" }] }),
    ]) {
      expect(writes(grammar, '{"a": 1, "b": "x"}')).toBe(true);
      expect(writes(grammar, '{"a": 1}')).toBe(false);
    }
  });

  it("strings and arrays without bounds are unbounded, and bounds are kept", () => {
    const long = "word ".repeat(60).trim();
    expect(writes(jsonSchemaToGrammar({ type: "string" }), JSON.stringify(long))).toBe(true);
    const many = Array.from({ length: 50 }, (_, i) => i);
    expect(writes(jsonSchemaToGrammar({ type: "array", items: { type: "integer" } }), JSON.stringify(many))).toBe(true);
    expect(writes(string({ maxLength: 3 }), '"abcd"')).toBe(false);
    expect(writes(jsonSchemaToGrammar({ type: "array", maxItems: 2 }), "[1, 2, 3]")).toBe(false);
  });
});

describe("what no grammar here can honour is refused", () => {
  const refusal = (schema: JsonSchema) => {
    try {
      jsonSchemaToGrammar(schema);
    } catch (error) {
      if (error instanceof UnsupportedSchemaError) return { code: error.code, path: error.path };
      throw error;
    }
    return "accepted";
  };

  it("names the keyword's path", () => {
    const object = (property: JsonSchema) => ({ type: "object", properties: { x: property } });
    const atX = { code: "LOOM_SCHEMA_UNSUPPORTED", path: "#/properties/x" };
    expect(refusal(object({ type: "number", minimum: 0, maximum: 1 }))).toEqual(atX);
    expect(refusal(object({ type: "array", uniqueItems: true }))).toEqual(atX);
    expect(refusal(object({ type: "integer", multipleOf: 5 }))).toEqual(atX);
    expect(refusal(object({ type: "string", format: "hostname" }))).toEqual(atX);
    expect(refusal(object({ type: "string", pattern: "^(?=a)b$" }))).toEqual(atX);
    expect(refusal(object({ type: "string", pattern: "^[a-z]+$", maxLength: 5 }))).toEqual(atX);
    expect(refusal({ type: "object", properties: {}, propertyNames: { pattern: "^a" } })).toEqual({
      code: "LOOM_SCHEMA_UNSUPPORTED",
      path: "#",
    });
    expect(refusal({ type: "string", allOf: [{ minLength: 2 }] })).toMatchObject({ path: "#/allOf/0" });
  });

  it("keeps what a pattern or format already implies", () => {
    expect(refusal({ type: "string", format: "email", minLength: 1 })).toBe("accepted");
    expect(refusal({ type: "string", pattern: "^[a-z]+$", minLength: 1 })).toBe("accepted");
    expect(refusal({ type: "string", pattern: "^[a-z]*$", minLength: 1 })).not.toBe("accepted");
  });

  it("reports a schema the converter cannot compile by its native code", () => {
    expect(() => jsonSchemaToGrammar({ type: "nonsense" })).toThrow(
      expect.objectContaining({ code: "LOOM_INVALID_SCHEMA" }),
    );
    expect(() => jsonSchemaToGrammar({ $ref: "https://example.com/schema" })).toThrow(
      expect.objectContaining({ code: "LOOM_INVALID_SCHEMA" }),
    );
  });
});
