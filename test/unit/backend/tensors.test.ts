import { describe, expect, it } from "vitest";
import { fromBytes } from "../../../src/backend/onnx/tensors.js";

describe("fromBytes", () => {
  const values = [1.5, -2, 3.25];
  const bytesAt = (offset: number) => {
    const buffer = new Uint8Array(offset + 12);
    buffer.set(new Uint8Array(Float32Array.from(values).buffer), offset);
    return buffer.subarray(offset);
  };

  it("views bytes that are aligned for the datatype where they lie", () => {
    const bytes = bytesAt(8);
    const data = fromBytes("FP32", bytes);
    expect(Array.from(data as Float32Array)).toEqual(values);
    expect(data.buffer).toBe(bytes.buffer);
  });

  it("copies bytes that are not aligned, with the same values", () => {
    const bytes = bytesAt(3);
    const data = fromBytes("FP32", bytes);
    expect(Array.from(data as Float32Array)).toEqual(values);
    expect(data.buffer).not.toBe(bytes.buffer);
    expect(data.byteOffset).toBe(0);
  });

  it("refuses a byte count that is not whole elements", () => {
    expect(() => fromBytes("INT64", new Uint8Array(12))).toThrow(/12 bytes is not a whole number of INT64 elements/);
  });
});
