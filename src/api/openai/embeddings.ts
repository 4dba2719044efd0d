// POST /v1/embeddings: mean-pooled, L2-normalized embeddings from a loaded GGUF, or from an ONNX text model of the
// model repository (pooled and normalized as its config says).
import { type Context, Hono } from "hono";
import type { Caches } from "../../cache/caches.js";
import { cachePolicy } from "../../cache/policy.js";
import type { ClassicServing } from "../../serving/classic/classic-serving.js";
import type { ModelRepository } from "../../serving/classic/model-repository.js";
import type { Routing } from "../../routing/routing.js";
import type { TextEmbedder } from "../../serving/classic/text-embedder.js";
import { readJson } from "../body.js";
import { ApiError } from "../errors.js";
import { routeRequest, setRouteHeaders } from "../routed.js";
import { promptsOf } from "./prompts.js";
import { EmbeddingRequest } from "./schemas.js";

/** base64 of little-endian float32s, which the openai client asks for by default and decodes. */
function base64(vector: Float32Array): string {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString("base64");
}

function checkDimensions(requested: number | null | undefined, size: number | null): void {
  if (requested !== undefined && requested !== null && size !== null && requested !== size) {
    throw new ApiError(400, `this model's embeddings have ${size} dimensions and cannot be shortened to ${requested}`, {
      param: "dimensions",
    });
  }
}

function embeddingList(body: EmbeddingRequest, model: string, vectors: readonly Float32Array[], promptTokens: number) {
  return {
    object: "list",
    data: vectors.map((vector, index) => ({
      object: "embedding",
      index,
      embedding: body.encoding_format === "base64" ? base64(vector) : [...vector],
    })),
    model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}

/** A text model of the repository: strings only, since token ids of another tokenizer would mean nothing to it. */
async function onnxEmbeddings(body: EmbeddingRequest, serving: ClassicServing, embedder: TextEmbedder) {
  const texts = typeof body.input === "string" ? [body.input] : body.input;
  if (!texts.every((t): t is string => typeof t === "string"))
    throw new ApiError(400, `model '${serving.name}' takes text input, not token ids`, { param: "input" });
  checkDimensions(body.dimensions, embedder.dimensions);
  const { vectors, promptTokens } = await embedder.embed(texts);
  return embeddingList(body, serving.name, vectors, promptTokens);
}

export function embeddingRoutes(routing: Routing, repository: ModelRepository, caches?: Caches): Hono {
  return new Hono().post("/v1/embeddings", async (c) => {
    const body = await readJson(c, EmbeddingRequest);
    const textModel = routing.has(body.model) ? undefined : repository.textModels().find((s) => s.name === body.model);
    if (textModel?.embedder) return c.json(await onnxEmbeddings(body, textModel, textModel.embedder));
    const decision = routing.pick(
      routeRequest(c, {
        model: body.model,
        user: body.user ?? null,
        stream: false,
        tools: false,
        jsonSchema: false,
        logprobs: false,
        greedy: true,
        promptTokens: (serving) => promptsOf(body.input, serving).reduce((sum, p) => sum + p.length, 0),
      }),
    );
    setRouteHeaders(c, decision);
    const { serving } = decision.target;
    checkDimensions(body.dimensions, serving.model.info.embeddingSize);
    const inputs = promptsOf(body.input, serving);
    for (const tokens of inputs) serving.checkPrompt(tokens, { param: "input" });
    const compute = (missing: Int32Array[]) => serving.embedder.embed(missing);
    const vectors = caches?.embeddings
      ? await cachedEmbed(c, caches, decision.target.id, inputs, compute)
      : await compute(inputs);
    return c.json(
      embeddingList(
        body,
        // A route keeps its name in answers; a model is named as it is served.
        decision.route === null ? serving.name : body.model,
        vectors,
        inputs.reduce((sum, tokens) => sum + tokens.length, 0),
      ),
    );
  });
}

/** Inputs already embedded by this model version come from the cache; `x-loom-cache: hit` when all of them did. */
async function cachedEmbed(
  c: Context,
  caches: Caches,
  model: string,
  inputs: Int32Array[],
  compute: (missing: Int32Array[]) => Promise<Float32Array[]>,
): Promise<Float32Array[]> {
  const policy = cachePolicy(c.req.header("cache-control"));
  const version = await caches.versionOf(model);
  const { vectors, hits } = await caches.embeddings!.embed(version, inputs, compute, policy);
  c.header("x-loom-cache", hits === inputs.length ? "hit" : "miss");
  return vectors;
}
