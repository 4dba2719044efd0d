// Classic ONNX models over KServe v2: MNIST digits, dynamic batching on the PaddleOCR direction classifier,
// repository load/unload under traffic, and bad input failing alone.
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sharedModel } from "../helpers/models.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const repo = mkdtempSync(join(tmpdir(), "loom-repo-"));
function addModel(name: string, file: string, config: object): void {
  mkdirSync(join(repo, name, "1"), { recursive: true });
  copyFileSync(sharedModel(file), join(repo, name, "1", "model.onnx"));
  writeFileSync(join(repo, name, "config.json"), JSON.stringify(config));
}
addModel("mnist", "mnist-8.onnx", { max_batch_size: 0 });
addModel("cls", "ch_ppocr_mobile_v2.0_cls_infer.onnx", {
  max_batch_size: 64,
  input: [{ name: "x", datatype: "FP32", dims: [3, 48, 192] }],
  dynamic_batching: { max_queue_delay_microseconds: 5000, preferred_batch_size: [16, 32] },
});
addModel("broken", "mnist-8.onnx", { max_batch_size: 8 }); // mnist has no batch axis: refused at load

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ modelRepository: repo });
});
afterAll(async () => {
  await server?.close();
});

async function post(path: string, body: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

/** A 28x28 white-on-black drawing (0-255) from strokes given as [x0, y0, x1, y1] in pixels. */
function draw(strokes: number[][]): number[] {
  const image = new Array<number>(28 * 28).fill(0);
  for (const [x0, y0, x1, y1] of strokes) {
    for (let t = 0; t <= 1; t += 0.01) {
      const x = Math.round(x0! + (x1! - x0!) * t),
        y = Math.round(y0! + (y1! - y0!) * t);
      for (let dx = -1; dx <= 1; dx++)
        for (let dy = -1; dy <= 1; dy++)
          if (x + dx >= 0 && x + dx < 28 && y + dy >= 0 && y + dy < 28) image[(y + dy) * 28 + x + dx] = 255;
    }
  }
  return image;
}
const ring = Array.from({ length: 24 }, (_, i) => {
  const a = (i / 24) * 2 * Math.PI,
    b = ((i + 1) / 24) * 2 * Math.PI;
  return [14 + 6 * Math.cos(a), 14 + 9 * Math.sin(a), 14 + 6 * Math.cos(b), 14 + 9 * Math.sin(b)];
});
const DIGITS: [number, number[]][] = [
  [1, draw([[14, 4, 14, 24]])],
  [0, draw(ring)],
  [
    7,
    draw([
      [7, 5, 21, 5],
      [21, 5, 11, 24],
    ]),
  ],
];

const clsInput = (seed: number, rows = 1) => {
  let state = seed;
  const data = Array.from(
    { length: rows * 3 * 48 * 192 },
    () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1,
  );
  return { inputs: [{ name: "x", shape: [rows, 3, 48, 192], datatype: "FP32", data }] };
};

describe("KServe v2", () => {
  it("classifies drawn digits through /v2/models/mnist/infer and describes the model", async () => {
    for (const [digit, image] of DIGITS) {
      const { status, json } = await post("/v2/models/mnist/infer", {
        id: `d${digit}`,
        inputs: [{ name: "Input3", shape: [1, 1, 28, 28], datatype: "FP32", data: image }],
      });
      expect(status).toBe(200);
      expect(json).toMatchObject({ model_name: "mnist", model_version: "1", id: `d${digit}` });
      const logits = json.outputs[0].data as number[];
      expect(logits.indexOf(Math.max(...logits))).toBe(digit);
    }
    const meta = await (await fetch(`${server.url}/v2/models/mnist`)).json();
    expect(meta).toEqual({
      name: "mnist",
      versions: ["1"],
      platform: "onnxruntime_onnx",
      inputs: [{ name: "Input3", datatype: "FP32", shape: [1, 1, 28, 28] }],
      outputs: [{ name: "Plus214_Output_0", datatype: "FP32", shape: [1, 10] }],
    });
    expect((await fetch(`${server.url}/v2/models/mnist/versions/1/ready`)).status).toBe(200);
    expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(200);
  });

  it("batches 64 concurrent requests dynamically with the outputs of 64 single runs", async () => {
    const single: number[][] = [];
    for (let i = 0; i < 64; i++) single.push((await post("/v2/models/cls/infer", clsInput(i))).json.outputs[0].data);
    const before = await (await fetch(`${server.url}/metrics`)).text();
    const batched = await Promise.all(Array.from({ length: 64 }, (_, i) => post("/v2/models/cls/infer", clsInput(i))));
    const after = await (await fetch(`${server.url}/metrics`)).text();
    batched.forEach((r, i) => {
      expect(r.status).toBe(200);
      expect(r.json.outputs[0].shape).toEqual([1, 2]);
      r.json.outputs[0].data.forEach((x: number, k: number) => expect(x).toBeCloseTo(single[i]![k]!, 5));
    });
    const series = (text: string, suffix: string) =>
      Number(
        new RegExp(`loom:inference_batch_size_${suffix},?model_name="cls",model_version="1"\\} (\\d+)`).exec(
          text,
        )?.[1] ?? Number.NaN,
      );
    const runs = series(after, "count\\{") - series(before, "count\\{");
    const singles = series(after, 'bucket\\{le="1"') - series(before, 'bucket\\{le="1"');
    expect(runs).toBeLessThan(64);
    expect(runs - singles).toBeGreaterThan(0);
  });

  it("takes and returns binary tensor data, with the outputs of the JSON path", async () => {
    const request = clsInput(7, 2);
    const viaJson = (await post("/v2/models/cls/infer", request)).json.outputs[0];
    const header = new TextEncoder().encode(
      JSON.stringify({
        inputs: [
          {
            name: "x",
            shape: [2, 3, 48, 192],
            datatype: "FP32",
            parameters: { binary_data_size: 2 * 3 * 48 * 192 * 4 },
          },
        ],
        outputs: [{ name: viaJson.name, parameters: { binary_data: true } }],
      }),
    );
    const pixels = new Float32Array(request.inputs[0]!.data);
    const body = new Uint8Array(header.byteLength + pixels.byteLength);
    body.set(header);
    body.set(new Uint8Array(pixels.buffer), header.byteLength);
    const response = await fetch(`${server.url}/v2/models/cls/infer`, {
      method: "POST",
      headers: { "Inference-Header-Content-Length": String(header.byteLength) },
      body,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/octet-stream");
    const bytes = new Uint8Array(await response.arrayBuffer());
    const headerLength = Number(response.headers.get("inference-header-content-length"));
    const head = JSON.parse(new TextDecoder().decode(bytes.subarray(0, headerLength)));
    expect(head.outputs[0]).toEqual({
      name: viaJson.name,
      datatype: "FP32",
      shape: [2, 2],
      parameters: { binary_data_size: 16 },
    });
    const probabilities = new Float32Array(bytes.slice(headerLength).buffer);
    expect(Array.from(probabilities)).toEqual(viaJson.data.map((x: number) => Math.fround(x)));

    const short = await fetch(`${server.url}/v2/models/cls/infer`, {
      method: "POST",
      headers: { "Inference-Header-Content-Length": String(header.byteLength) },
      body: body.subarray(0, body.byteLength - 4),
    });
    expect(short.status).toBe(400);
    expect(((await short.json()) as { error: string }).error).toMatch(
      /declares 221184 binary bytes but the body holds 221180/,
    );
  });

  it("lists, unloads and reloads models through the repository API while traffic runs", async () => {
    const index = (await post("/v2/repository/index", {})).json as { name: string; state: string; reason: string }[];
    expect(index.map((e) => [e.name, e.state])).toEqual([
      ["broken", "UNAVAILABLE"],
      ["cls", "READY"],
      ["mnist", "READY"],
    ]);
    expect(index[0]!.reason).toMatch(/no dynamic batch axis/);
    const traffic = Promise.all(Array.from({ length: 40 }, (_, i) => post("/v2/models/cls/infer", clsInput(100 + i))));
    expect((await post("/v2/repository/models/mnist/unload", {})).status).toBe(200);
    expect(
      (
        await post("/v2/models/mnist/infer", {
          inputs: [{ name: "Input3", shape: [1, 1, 28, 28], datatype: "FP32", data: DIGITS[0]![1] }],
        })
      ).status,
    ).toBe(404);
    expect((await post("/v2/repository/models/cls/load", {})).status).toBe(200); // a reload swaps under traffic
    expect((await post("/v2/repository/models/mnist/load", {})).status).toBe(200);
    expect((await traffic).every((r) => r.status === 200)).toBe(true);
    expect(
      (
        await post("/v2/models/mnist/infer", {
          inputs: [{ name: "Input3", shape: [1, 1, 28, 28], datatype: "FP32", data: DIGITS[0]![1] }],
        })
      ).status,
    ).toBe(200);
    expect((await post("/v2/repository/models/broken/load", {})).status).toBe(400);
    expect((await post("/v2/repository/models/nothing/load", {})).status).toBe(404);
  });

  it("answers bad input with a 4xx in KServe's shape while the rest of its batch succeeds", async () => {
    const good = Array.from({ length: 8 }, (_, i) => post("/v2/models/cls/infer", clsInput(200 + i)));
    const bad = [
      post("/v2/models/cls/infer", {
        inputs: [{ name: "x", shape: [1, 3, 48, 100], datatype: "FP32", data: new Array(3 * 48 * 100).fill(0) }],
      }),
      post("/v2/models/cls/infer", {
        inputs: [{ name: "x", shape: [1, 3, 48, 192], datatype: "INT64", data: new Array(3 * 48 * 192).fill(0) }],
      }),
      post("/v2/models/cls/infer", {
        inputs: [{ name: "x", shape: [1, 3, 48, 192], datatype: "FP32", data: new Array(3 * 48 * 192 + 1).fill(0) }],
      }),
      post("/v2/models/cls/infer", { inputs: [{ name: "x", shape: [65, 3, 48, 192], datatype: "FP32", data: [] }] }),
      post("/v2/models/cls/infer", { inputs: [{ name: "y", shape: [1], datatype: "FP32", data: [0] }] }),
      post("/v2/models/nope/infer", clsInput(1)),
      post("/v2/models/cls/infer", '{"inputs": ['),
    ];
    const answers = await Promise.all(bad);
    expect(answers.map((a) => a.status)).toEqual([400, 400, 400, 400, 400, 404, 400]);
    for (const a of answers) expect(Object.keys(a.json)).toEqual(["error"]);
    expect(answers[0]!.json.error).toMatch(/must have shape \[-1, 3, 48, 192\], got \[1, 3, 48, 100\]/);
    expect((await Promise.all(good)).every((r) => r.status === 200)).toBe(true);
  });
});
