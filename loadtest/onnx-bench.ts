// npm run bench:onnx: the PaddleOCR direction classifier (../shared/models) served over KServe v2 with binary
// tensors, against raw onnxruntime-node in this process. (1) Throughput at concurrency C with dynamic batching,
// against raw onnxruntime at the served mean batch size and against serving with batching off, alternating;
// (2) p99 latency at concurrency 1 against queue delay + single-image compute + 2 ms, next to the p99 of a route
// that does nothing (what this machine alone adds to the tail).
// usage: npm run bench:onnx -- [--concurrency 64] [--requests 2048] [--images 1] [--delay-us 2000] [--rounds 2]
// [--threads 1]
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import * as ort from "onnxruntime-node";
import { PRESETS } from "../models/presets.js";
import { synthModel } from "../models/synth-model.js";
import { percentile } from "./stats.js";
import { root, startLoom } from "./server-process.js";

const { values } = parseArgs({
  options: {
    concurrency: { type: "string", default: "64" },
    requests: { type: "string", default: "2048" },
    "delay-us": { type: "string", default: "2000" },
    rounds: { type: "string", default: "2" },
    threads: { type: "string", default: "1" },
    "max-batch": { type: "string", default: "64" },
    images: { type: "string", default: "1" },
  },
});
const concurrency = Number(values.concurrency);
const requests = Number(values.requests);
const delayUs = Number(values["delay-us"]);
const threads = Number(values.threads);
const maxBatch = Number(values["max-batch"]);
const imagesPerRequest = Number(values.images);
const modelFile = join(root, "..", "shared", "models", "ch_ppocr_mobile_v2.0_cls_infer.onnx");
if (!existsSync(modelFile)) throw new Error(`${modelFile} is missing: ../shared/models must sit beside the repository`);
const IMAGE = [3, 48, 192] as const;
const imageSize = IMAGE[0] * IMAGE[1] * IMAGE[2];

const repo = mkdtempSync(join(tmpdir(), "loom-onnx-bench-"));
const input = [{ name: "x", datatype: "FP32", dims: IMAGE }];
for (const [name, batching] of [
  ["cls-batched", { max_queue_delay_microseconds: delayUs }],
  ["cls-unbatched", undefined],
] as const) {
  mkdirSync(join(repo, name, "1"), { recursive: true });
  copyFileSync(modelFile, join(repo, name, "1", "model.onnx"));
  writeFileSync(
    join(repo, name, "config.json"),
    JSON.stringify({ max_batch_size: maxBatch, input, ...(batching ? { dynamic_batching: batching } : {}) }),
  );
}
const llm = join(root, "models", "tiny.gguf");
if (!existsSync(llm)) synthModel({ preset: PRESETS.tiny, name: "tiny", out: llm });
const server = await startLoom(llm, 18083, [
  "--threads",
  "1",
  "--model-repository",
  repo,
  "--onnx-threads",
  String(threads),
  "--log-level",
  "warn",
]);

let seed = 1;
const image = () =>
  Float32Array.from(
    { length: imageSize },
    () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1,
  );
// Bodies are built before timing starts, so the client's own work is one fetch per request.
interface InferBody {
  readonly bytes: Uint8Array;
  readonly headerLength: number;
}
function binaryBody(pixels: Float32Array): InferBody {
  const header = new TextEncoder().encode(
    JSON.stringify({
      inputs: [
        {
          name: "x",
          shape: [imagesPerRequest, ...IMAGE],
          datatype: "FP32",
          parameters: { binary_data_size: pixels.byteLength },
        },
      ],
      parameters: { binary_data_output: true },
    }),
  );
  const body = new Uint8Array(header.byteLength + pixels.byteLength);
  body.set(header);
  body.set(new Uint8Array(pixels.buffer), header.byteLength);
  return { bytes: body, headerLength: header.byteLength };
}
function images(count: number): Float32Array {
  const data = new Float32Array(count * imageSize);
  for (let i = 0; i < count; i++) data.set(image(), i * imageSize);
  return data;
}
const bodies = Array.from({ length: 128 }, () => binaryBody(images(imagesPerRequest)));

async function batchSeries(model: string): Promise<{ rows: number; batches: number; computeSeconds: number }> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const read = (series: string) =>
    Number(
      new RegExp(`loom:inference_${series}\\{model_name="${model}",model_version="1"\\} ([\\d.e+-]+)`).exec(
        text,
      )?.[1] ?? 0,
    );
  return {
    rows: read("batch_size_sum"),
    batches: read("batch_size_count"),
    computeSeconds: read("compute_seconds_sum"),
  };
}

interface Served {
  readonly imagesPerSecond: number;
  readonly latenciesMs: number[];
  readonly meanBatch: number;
  /** Share of the wall time the session thread spent in onnxruntime. */
  readonly busy: number;
  /** onnxruntime time per image inside the server, where it shares the cores with HTTP and the client. */
  readonly computeMsPerImage: number;
}

// node:http with keep-alive rather than fetch: on two cores fetch's own CPU (1.3 ms per 110 KB request here,
// against 0.3 ms) would take the cores the server is being measured on.
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
/** A request over the keep-alive agent; a body goes with an Inference-Header-Content-Length of `headerLength`. */
function send(path: string, body?: InferBody): Promise<number> {
  const headers = body
    ? { "content-length": body.bytes.byteLength, "inference-header-content-length": body.headerLength }
    : {};
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${server.url}${path}`,
      { method: body ? "POST" : "GET", agent, headers },
      (response) => {
        response.on("data", () => {});
        response.on("end", () => resolve(response.statusCode ?? 0));
      },
    );
    request.on("error", reject);
    request.end(body?.bytes);
  });
}

/** Latencies of `count` requests one after another, after a tenth as many more for warm-up. */
async function sequentialLatencies(count: number, request: () => Promise<number>): Promise<number[]> {
  const warmUp = Math.ceil(count / 10);
  const latenciesMs: number[] = [];
  for (let i = 0; i < warmUp + count; i++) {
    const t0 = performance.now();
    if ((await request()) !== 200) throw new Error("HTTP error at low load");
    if (i >= warmUp) latenciesMs.push(performance.now() - t0);
  }
  return latenciesMs;
}

async function served(model: string, clients: number, total: number): Promise<Served> {
  const before = await batchSeries(model);
  const latenciesMs: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < total) {
        const body = bodies[next++ % bodies.length]!;
        const t0 = performance.now();
        const status = await send(`/v2/models/${model}/infer`, body);
        if (status !== 200) throw new Error(`${model}: HTTP ${status}`);
        latenciesMs.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const after = await batchSeries(model);
  const computeSeconds = after.computeSeconds - before.computeSeconds;
  return {
    imagesPerSecond: (total * imagesPerRequest) / seconds,
    latenciesMs,
    meanBatch: (after.rows - before.rows) / Math.max(1, after.batches - before.batches),
    busy: computeSeconds / seconds,
    computeMsPerImage: (computeSeconds * 1000) / (after.rows - before.rows),
  };
}

const session = await ort.InferenceSession.create(modelFile, {
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  graphOptimizationLevel: "all",
});
/**
 * Raw onnxruntime-node in this process, back to back at one batch size over distinct inputs (as served batches are):
 * images/s and ms per run.
 */
async function raw(batch: number, totalImages: number): Promise<{ imagesPerSecond: number; msPerRun: number }> {
  const tensors = Array.from({ length: 8 }, () => new ort.Tensor("float32", images(batch), [batch, ...IMAGE]));
  for (const tensor of tensors) await session.run({ x: tensor });
  const runs = Math.max(8, Math.round(totalImages / batch));
  const started = performance.now();
  for (let i = 0; i < runs; i++) await session.run({ x: tensors[i % tensors.length]! });
  const ms = performance.now() - started;
  return { imagesPerSecond: (runs * batch * 1000) / ms, msPerRun: ms / runs };
}

// Warm-up at the measured load: the first c=64 run after start is ~35% slower (compiling, heap growth).
await served("cls-batched", concurrency, requests / 2);
await served("cls-unbatched", concurrency, requests / 2);
const rows: string[] = [];
const ratios = { raw: [] as number[], unbatched: [] as number[] };
for (let round = 0; round < Number(values.rounds); round++) {
  const batched = await served("cls-batched", concurrency, requests);
  const rawAtBatch = await raw(Math.max(1, Math.round(batched.meanBatch)), requests * imagesPerRequest);
  const unbatched = await served("cls-unbatched", concurrency, requests);
  ratios.raw.push(batched.imagesPerSecond / rawAtBatch.imagesPerSecond);
  ratios.unbatched.push(batched.imagesPerSecond / unbatched.imagesPerSecond);
  rows.push(
    `| ${round + 1} | ${batched.imagesPerSecond.toFixed(0)} | ${batched.meanBatch.toFixed(1)} | ${rawAtBatch.imagesPerSecond.toFixed(0)} | ${unbatched.imagesPerSecond.toFixed(0)} | ${(ratios.raw.at(-1)! * 100).toFixed(0)}% | ${ratios.unbatched.at(-1)!.toFixed(2)}x | ${percentile(batched.latenciesMs, 99).toFixed(1)} | ${(batched.busy * 100).toFixed(0)}% | ${batched.computeMsPerImage.toFixed(2)} / ${(1000 / rawAtBatch.imagesPerSecond).toFixed(2)} |`,
  );
  process.stderr.write(`${rows.at(-1)}\n`);
}

const single = await raw(1, 400);
let nextQuiet = 0;
const quiet = await sequentialLatencies(600, () =>
  send("/v2/models/cls-batched/infer", bodies[nextQuiet++ % bodies.length]!),
);
// The floor this machine puts under any request: the same client and server answering a route that does nothing.
const floor = await sequentialLatencies(600, () => send("/v2/health/live"));
if (imagesPerRequest !== 1) console.error("(the low-load bound below assumes 1 image per request)");
const p99 = percentile(quiet, 99);
const bound = delayUs / 1000 + single.msPerRun + 2;

console.log(
  `PaddleOCR direction classifier, ${imagesPerRequest} x ${IMAGE.join("x")} FP32 per request, binary tensors; onnxruntime intra-op threads ${threads}, 1 instance; max_batch_size ${maxBatch}, queue delay ${delayUs} us\n`,
);
console.log(
  `| round | served c=${concurrency} img/s | mean batch | raw ort at that batch img/s | served, batching off img/s | served / raw | batching on / off | p99 ms c=${concurrency} | session busy | ort ms/image served / raw |`,
);
console.log("|---|---|---|---|---|---|---|---|---|---|");
for (const row of rows) console.log(row);
console.log(
  `\nlow load (c=1, 600 requests): p50 ${percentile(quiet, 50).toFixed(2)} ms, p99 ${p99.toFixed(2)} ms; bound = delay ${delayUs / 1000} ms + compute ${single.msPerRun.toFixed(2)} ms + 2 ms = ${bound.toFixed(2)} ms: ${p99 <= bound ? "met" : "NOT met"}`,
);
console.log(
  `GET /v2/health/live, same client (the machine's floor): p50 ${percentile(floor, 50).toFixed(2)} ms, p99 ${percentile(floor, 99).toFixed(2)} ms`,
);
server.process.kill("SIGTERM");
