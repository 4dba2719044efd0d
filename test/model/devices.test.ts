// The installed llama.cpp variant's devices, and a model with every layer offloaded. A GPU variant lists its GPUs,
// and a model offloaded to them takes device memory and decodes the CPU's greedy tokens; the CPU variant lists none,
// and asking for every layer on the GPU leaves the model on the CPU. npm test covers the CPU variant; the GPU
// benchmark (npm run bench:gpu) runs this file on a CUDA build.
import { statSync } from "node:fs";
import { expect, it } from "vitest";
import { gpuDevices, loadAddon } from "../../src/backend/llama/addon.js";
import { LlamaModel } from "../../src/backend/llama/llama-model.js";
import { generateTogether } from "../helpers/llama.js";
import { tinyModel } from "../helpers/models.js";

const freeDeviceBytes = () => gpuDevices().reduce((sum, d) => sum + d.memoryFreeBytes, 0);

async function greedy(gpuLayers: number): Promise<{ tokens: number[][]; deviceBytesTaken: number }> {
  const before = freeDeviceBytes();
  const model = await LlamaModel.load(tinyModel(), { gpuLayers });
  const deviceBytesTaken = before - freeDeviceBytes();
  const context = await model.createContext({ kvTokens: 512, maxSequences: 2, threads: 1 });
  try {
    const prompts = ["Once upon a time", "The quick brown fox jumps over"].map((text) => model.tokenize(text));
    const tokens = await generateTogether(
      context,
      prompts.map((prompt, seqId) => ({ seqId, prompt })),
      24,
    );
    return { tokens, deviceBytesTaken };
  } finally {
    await context.dispose();
    model.dispose();
  }
}

it("lists a GPU exactly when the installed variant has a GPU backend", () => {
  const { variant } = loadAddon();
  const devices = gpuDevices();
  if (variant === "cpu") expect(devices).toEqual([]);
  else expect(devices.length).toBeGreaterThan(0);
  if (variant === "cuda") for (const d of devices) expect(d.name).toMatch(/^CUDA\d+$/);
  for (const d of devices) expect(d.memoryTotalBytes).toBeGreaterThan(0);
});

it("decodes the CPU's greedy tokens with every layer offloaded, whose weights then sit in device memory", async () => {
  const cpu = await greedy(0);
  const offloaded = await greedy(-1);
  expect(offloaded.tokens).toEqual(cpu.tokens);
  expect(cpu.tokens.flat().length).toBe(48);
  const weights = statSync(tinyModel()).size;
  if (gpuDevices().length === 0) expect(offloaded.deviceBytesTaken).toBe(0);
  else expect(offloaded.deviceBytesTaken).toBeGreaterThan(weights / 2);
});
