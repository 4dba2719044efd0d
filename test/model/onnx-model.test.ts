// OnnxModel on real onnxruntime: sessions run on worker threads, so the event loop keeps turning during a run
// (onnxruntime-node's own run() computes on the calling thread), and instances run side by side.
import { describe, expect, it } from "vitest";
import { OnnxModel } from "../../src/backend/onnx/onnx-model.js";
import { sharedModel } from "../helpers/models.js";

const images = (count: number) => ({
  x: { datatype: "FP32" as const, shape: [count, 3, 48, 192], data: new Float32Array(count * 3 * 48 * 192).fill(0.5) },
});

describe("OnnxModel", () => {
  it("reads tensor metadata and keeps the event loop free while a batch runs", async () => {
    const model = await OnnxModel.load(sharedModel("ch_ppocr_mobile_v2.0_cls_infer.onnx"));
    try {
      expect(model.inputs).toEqual([{ name: "x", datatype: "FP32", shape: [-1, 3, -1, -1] }]);
      expect(model.outputs.map((o) => o.name)).toEqual(["softmax_0.tmp_0"]);
      let ticks = 0;
      const timer = setInterval(() => ticks++, 2);
      const started = performance.now();
      const result = await model.run(images(64), ["softmax_0.tmp_0"]);
      const elapsedMs = performance.now() - started;
      clearInterval(timer);
      expect(result["softmax_0.tmp_0"]!.shape).toEqual([64, 2]);
      // A run on this thread would allow no ticks at all until it returned.
      expect(ticks).toBeGreaterThanOrEqual(Math.min(5, Math.floor(elapsedMs / 8)));
      expect(elapsedMs).toBeGreaterThan(10);
    } finally {
      await model.dispose();
    }
  });

  it("gives a batch's input buffer back for the next batch of its size, which runs as a fresh one would", async () => {
    const model = await OnnxModel.load(sharedModel("ch_ppocr_mobile_v2.0_cls_infer.onnx"));
    try {
      const length = 4 * 3 * 48 * 192;
      const first = model.newInput("FP32", length);
      first.fill(0.5 as never);
      await model.run({ x: { datatype: "FP32", shape: [4, 3, 48, 192], data: first } }, ["softmax_0.tmp_0"]);
      const recycled = model.newInput("FP32", length) as Float32Array;
      expect(recycled.length).toBe(length);
      expect(recycled[length - 1]).toBe(0.5); // the first batch's data: the same memory came back
      const pixels = Float32Array.from({ length }, (_, i) => Math.sin(i));
      recycled.set(pixels);
      const viaRecycled = await model.run({ x: { datatype: "FP32", shape: [4, 3, 48, 192], data: recycled } }, [
        "softmax_0.tmp_0",
      ]);
      const viaFresh = await model.run({ x: { datatype: "FP32", shape: [4, 3, 48, 192], data: pixels } }, [
        "softmax_0.tmp_0",
      ]);
      expect(Array.from(viaRecycled["softmax_0.tmp_0"]!.data as Float32Array)).toEqual(
        Array.from(viaFresh["softmax_0.tmp_0"]!.data as Float32Array),
      );
      expect(model.newInput("FP32", length / 2)[0]).toBe(0); // another size: a fresh buffer
    } finally {
      await model.dispose();
    }
  });

  it("refuses a file that is not a model, with onnxruntime's reason", async () => {
    await expect(OnnxModel.load(sharedModel("all-MiniLM-L6-v2.tokenizer.json"))).rejects.toThrow(
      /protobuf|parse|Load model/i,
    );
  });
});
