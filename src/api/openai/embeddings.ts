// POST /v1/embeddings: mean-pooled, L2-normalized embeddings from the loaded GGUF.
import { Hono } from "hono";
import type { LlmServing } from "../../serving/llm-serving.js";
import type { ModelRegistry } from "../../serving/registry.js";
import { readJson } from "../body.js";
import { ApiError } from "../errors.js";
import { EmbeddingRequest } from "./schemas.js";

function inputsOf(input: EmbeddingRequest["input"], serving: LlmServing): Int32Array[] {
  if (typeof input === "string") return [serving.textPrompt(input)];
  if (input.every((p) => typeof p === "number")) return [Int32Array.from(input as number[])];
  return (input as (string | number[])[]).map((p) => (typeof p === "string" ? serving.textPrompt(p) : Int32Array.from(p)));
}

/** base64 of little-endian float32s, which the openai client asks for by default and decodes. */
function base64(vector: Float32Array): string {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString("base64");
}

export function embeddingRoutes(registry: ModelRegistry): Hono {
  return new Hono().post("/v1/embeddings", async (c) => {
    const body = await readJson(c, EmbeddingRequest);
    const serving = registry.get(body.model);
    const size = serving.model.info.embeddingSize;
    if (body.dimensions !== undefined && body.dimensions !== null && body.dimensions !== size) {
      throw new ApiError(400, `this model's embeddings have ${size} dimensions and cannot be shortened to ${body.dimensions}`, { param: "dimensions" });
    }
    const inputs = inputsOf(body.input, serving);
    for (const tokens of inputs) serving.checkPrompt(tokens, 0);
    const vectors = await serving.embedder.embed(inputs);
    const promptTokens = inputs.reduce((sum, tokens) => sum + tokens.length, 0);
    return c.json({
      object: "list",
      data: vectors.map((vector, index) => ({ object: "embedding", index, embedding: body.encoding_format === "base64" ? base64(vector) : [...vector] })),
      model: serving.name,
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
    });
  });
}
