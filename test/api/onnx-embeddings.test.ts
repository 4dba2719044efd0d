// An ONNX text model behind /v1/embeddings, driven by the official openai client: a small embedding-bag model
// over the MiniLM vocabulary is written as real ONNX, served from the repository with the MiniLM tokenizer.json,
// and checked against the same arithmetic done here (tokenize, look up, mean or [CLS], normalize).
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sharedModel } from "../helpers/models.js";
import { ElementType, onnxModel } from "../helpers/onnx-writer.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const VOCAB = 30522;
const DIM = 8;
const table = Float32Array.from({ length: VOCAB * DIM }, (_, i) => Math.sin(i * 12.9898) * 0.5);
const tokenizerFile = sharedModel("all-MiniLM-L6-v2.tokenizer.json");
const tokenizer = new Tokenizer(JSON.parse(readFileSync(tokenizerFile, "utf8")), {});

// Token vectors masked by attention_mask: padding rows are zero, as in a real encoder's masked output.
const bagModel = onnxModel({
  inputs: [
    { name: "input_ids", elementType: ElementType.INT64, shape: ["batch", "tokens"] },
    { name: "attention_mask", elementType: ElementType.INT64, shape: ["batch", "tokens"] },
  ],
  outputs: [{ name: "last_hidden_state", elementType: ElementType.FLOAT, shape: ["batch", "tokens", DIM] }],
  initializers: [{ name: "embeddings", dims: [VOCAB, DIM], data: table }],
  nodes: [
    { op: "Gather", inputs: ["embeddings", "input_ids"], outputs: ["vectors"] },
    { op: "Cast", inputs: ["attention_mask"], outputs: ["mask"], ints: { to: ElementType.FLOAT } },
    { op: "Unsqueeze", inputs: ["mask"], outputs: ["mask3"], ints: { axes: [2] } },
    { op: "Mul", inputs: ["vectors", "mask3"], outputs: ["last_hidden_state"] },
  ],
});

const repo = mkdtempSync(join(tmpdir(), "loom-text-repo-"));
function addTextModel(name: string, config: object): void {
  mkdirSync(join(repo, name, "1"), { recursive: true });
  writeFileSync(join(repo, name, "1", "model.onnx"), bagModel);
  copyFileSync(tokenizerFile, join(repo, name, "tokenizer.json"));
  writeFileSync(join(repo, name, "config.json"), JSON.stringify(config));
}
addTextModel("bag-mean", { max_batch_size: 16, dynamic_batching: { max_queue_delay_microseconds: 20_000 } });
addTextModel("bag-cls", {
  max_batch_size: 4,
  parameters: { pooling: { string_value: "cls" }, normalize: { string_value: "false" } },
});
addTextModel("bag-bad", { max_batch_size: 4, parameters: { pooling: { string_value: "none" } } });

function expected(text: string, pooling: "mean" | "cls" = "mean", normalize = true, maxTokens = 128): number[] {
  let ids = tokenizer.encode(text).ids;
  if (ids.length > maxTokens) ids = [...ids.slice(0, maxTokens - 1), ids[ids.length - 1]!];
  const rows = pooling === "cls" ? ids.slice(0, 1) : ids;
  const v = new Array<number>(DIM).fill(0);
  for (const id of rows) for (let k = 0; k < DIM; k++) v[k]! += table[id * DIM + k]! / rows.length;
  const norm = normalize ? Math.hypot(...v) : 1;
  return v.map((x) => x / norm);
}

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ modelRepository: repo });
});
afterAll(async () => {
  await server?.close();
});

const closeTo = (actual: readonly number[], wanted: readonly number[]) =>
  actual.forEach((x, k) => expect(x).toBeCloseTo(wanted[k]!, 5));

describe("ONNX text embeddings on /v1/embeddings", () => {
  it("embeds with mean pooling and normalization, truncating at tokenizer.json's max_length", async () => {
    const long = "the river runs past the old mill ".repeat(40);
    const texts = ["Hello world, this is Loom.", "a second, different sentence", long];
    const response = await server.client.embeddings.create({ model: "bag-mean", input: texts });
    expect(response.model).toBe("bag-mean");
    expect(response.data.map((d) => d.index)).toEqual([0, 1, 2]);
    response.data.forEach((d, i) => closeTo(d.embedding, expected(texts[i]!)));
    const counts = texts.map((t) => Math.min(128, tokenizer.encode(t).ids.length));
    expect(response.usage.prompt_tokens).toBe(counts.reduce((a, b) => a + b, 0));
    expect(counts[2]).toBe(128);
  });

  it("takes the [CLS] vector unnormalized when configured, and splits inputs beyond max_batch_size", async () => {
    const texts = Array.from({ length: 9 }, (_, i) => `sentence number ${i}`);
    const response = await server.client.embeddings.create({
      model: "bag-cls",
      input: texts,
      encoding_format: "float",
    });
    expect(response.data).toHaveLength(9);
    for (const d of response.data) closeTo(d.embedding, expected("x", "cls", false));
  });

  it("batches concurrent requests with the results of single runs", async () => {
    const texts = Array.from({ length: 24 }, (_, i) => `request ${i} ${"word ".repeat(i)}`);
    const before = await (await fetch(`${server.url}/metrics`)).text();
    const responses = await Promise.all(
      texts.map((input) => server.client.embeddings.create({ model: "bag-mean", input })),
    );
    const after = await (await fetch(`${server.url}/metrics`)).text();
    responses.forEach((r, i) => closeTo(r.data[0]!.embedding, expected(texts[i]!)));
    const series = (text: string, suffix: string) =>
      Number(
        new RegExp(`loom:inference_batch_size_${suffix},?model_name="bag-mean",model_version="1"\\} (\\d+)`).exec(
          text,
        )?.[1] ?? 0,
      );
    const runs = series(after, "count\\{") - series(before, "count\\{");
    expect(runs).toBeGreaterThan(0);
    expect(runs).toBeLessThan(24);
  });

  it("lists text models, refuses token ids and bad configs, and keeps the raw-tensor path", async () => {
    const ids = (await server.client.models.list()).data.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining(["bag-mean", "bag-cls"]));
    expect(ids).not.toContain("bag-bad");
    await expect(server.client.embeddings.create({ model: "bag-mean", input: [[101, 102]] })).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(/takes text input/),
    });
    await expect(
      server.client.embeddings.create({ model: "bag-mean", input: "hi", dimensions: 4 }),
    ).rejects.toMatchObject({ status: 400 });
    const index = (await (await fetch(`${server.url}/v2/repository/index`, { method: "POST" })).json()) as {
      name: string;
      reason: string;
    }[];
    expect(index.find((e) => e.name === "bag-bad")!.reason).toMatch(
      /one vector per token, so it needs pooling mean or cls/,
    );
    const raw = await fetch(`${server.url}/v2/models/bag-mean/infer`, {
      method: "POST",
      body: JSON.stringify({
        inputs: [
          { name: "input_ids", shape: [1, 2], datatype: "INT64", data: [7592, 2088] },
          { name: "attention_mask", shape: [1, 2], datatype: "INT64", data: [1, 1] },
        ],
      }),
    });
    expect(raw.status).toBe(200);
    const output = ((await raw.json()) as { outputs: { shape: number[]; data: number[] }[] }).outputs[0]!;
    expect(output.shape).toEqual([1, 2, DIM]);
    closeTo(output.data.slice(0, DIM), Array.from(table.slice(7592 * DIM, 7593 * DIM)));
  });
});
