// GPU by default: all layers offloaded when a GPU backend exists, and KV cells sized from its free memory.
import { describe, expect, it } from "vitest";
import { CPU_KV_TOKENS, defaultKvTokens, gpuLayersFor, kvBytesPerToken } from "../../../src/compose/device.js";

const GIB = 2 ** 30;
const h200 = { name: "CUDA0", description: "NVIDIA H200", memoryFreeBytes: 130 * GIB, memoryTotalBytes: 141 * GIB };
// Llama 3.2 1B's shape: 16 layers, 32 heads of 64, 8 KV heads.
const llama1b = { layerCount: 16, headCount: 32, headCountKv: 8, embeddingSize: 2048, contextLengthTrain: 131072 };

describe("gpuLayersFor", () => {
  it("offloads every layer when a GPU is there and the flag says nothing, and keeps what the flag says", () => {
    expect(gpuLayersFor(undefined, [h200])).toBe(-1);
    expect(gpuLayersFor(undefined, [])).toBe(0);
    expect(gpuLayersFor(12, [h200])).toBe(12);
    expect(gpuLayersFor(0, [h200])).toBe(0);
  });
});

describe("defaultKvTokens", () => {
  it("counts K and V of every layer at f16", () => {
    expect(kvBytesPerToken(llama1b)).toBe(16 * 8 * 64 * 2 * 2);
  });

  it("takes 80% of free device memory in whole blocks, capped at what the running sequences could use", () => {
    const roomy = defaultKvTokens(llama1b, { devices: [h200], gpuLayers: -1, maxRunning: 32, blockSize: 16 });
    const fits = Math.floor((130 * GIB * 0.8) / kvBytesPerToken(llama1b));
    expect(roomy.kvTokens).toBe(Math.floor(fits / 16) * 16);
    expect(roomy.reason).toMatch(/80% of 130\.0 GiB free on CUDA0/);
    const small = { ...llama1b, contextLengthTrain: 2048 };
    expect(defaultKvTokens(small, { devices: [h200], gpuLayers: -1, maxRunning: 32, blockSize: 16 }).kvTokens).toBe(
      32 * 2048,
    );
  });

  it("keeps the CPU default without a GPU or with --gpu-layers 0", () => {
    expect(defaultKvTokens(llama1b, { devices: [], gpuLayers: 0, maxRunning: 32, blockSize: 16 }).kvTokens).toBe(
      CPU_KV_TOKENS,
    );
    expect(defaultKvTokens(llama1b, { devices: [h200], gpuLayers: 0, maxRunning: 32, blockSize: 16 }).kvTokens).toBe(
      CPU_KV_TOKENS,
    );
  });
});
