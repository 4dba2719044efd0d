// Model configuration: Triton's field names validated with messages that name the model and the field, defaults
// read from the model's own tensor specs, and a config that disagrees with its file refused.
import { describe, expect, it } from "vitest";
import { parseModelConfig, resolveConfig, selectVersions } from "../../../src/serving/classic/model-config.js";

const classifier = {
  inputs: [{ name: "x", datatype: "FP32" as const, shape: [-1, 3, 48, 192] }],
  outputs: [{ name: "probs", datatype: "FP32" as const, shape: [-1, 2] }],
};

describe("model config", () => {
  it("fills dims and datatypes from the model and drops the batch axis when max_batch_size > 0", () => {
    const resolved = resolveConfig(
      "cls",
      parseModelConfig("cls", { max_batch_size: 32, dynamic_batching: { max_queue_delay_microseconds: 2000 } }),
      classifier,
    );
    expect(resolved.inputs).toEqual([{ name: "x", datatype: "FP32", dims: [3, 48, 192] }]);
    expect(resolved.outputs).toEqual([{ name: "probs", datatype: "FP32", dims: [2] }]);
    expect(resolved.batching).toEqual({ preferredBatchSizes: [], maxQueueDelayMs: 2, maxQueueSize: 1024 });
    expect(resolveConfig("cls", parseModelConfig("cls", {}), classifier).inputs[0]!.dims).toEqual([-1, 3, 48, 192]);
  });

  it("refuses configs that are malformed or disagree with the model, naming what is wrong", () => {
    const resolve = (config: object) => () => resolveConfig("cls", parseModelConfig("cls", config), classifier);
    expect(resolve({ max_batch_size: -1 })).toThrow(/model 'cls': invalid config.json: max_batch_size/);
    expect(resolve({ name: "other" })).toThrow(/names it 'other' but its folder is 'cls'/);
    expect(resolve({ max_batch_size: 8, input: [{ name: "x", datatype: "INT64" }] })).toThrow(
      /input 'x' is FP32 in the model, not INT64/,
    );
    expect(resolve({ max_batch_size: 8, input: [{ name: "x", dims: [3, 32, 192] }] })).toThrow(
      /dims \[3, 32, 192\] in config.json but \[3, 48, 192\] in the model/,
    );
    expect(resolve({ max_batch_size: 8, input: [{ name: "image" }] })).toThrow(
      /input 'image' is not in the model \(it has x\)/,
    );
    expect(resolve({ dynamic_batching: {} })).toThrow(/dynamic_batching needs max_batch_size > 0/);
    expect(resolve({ max_batch_size: 8, dynamic_batching: { preferred_batch_size: [16] } })).toThrow(
      /preferred_batch_size 16 exceeds max_batch_size 8/,
    );
    expect(resolve({ unknown_field: 1 })).toThrow(/Unrecognized key/);
    const fixedBatch = { inputs: [{ name: "x", datatype: "FP32" as const, shape: [1, 28, 28] }], outputs: [] };
    expect(() => resolveConfig("m", parseModelConfig("m", { max_batch_size: 4 }), fixedBatch)).toThrow(
      /no dynamic batch axis/,
    );
  });

  it("picks versions by policy", () => {
    expect(selectVersions({ latest: { num_versions: 2 } }, [1, 3, 2])).toEqual([3, 2]);
    expect(selectVersions({ all: {} }, [1, 3, 2])).toEqual([3, 2, 1]);
    expect(selectVersions({ specific: { versions: [1, 5] } }, [1, 3, 2])).toEqual([1]);
  });
});
