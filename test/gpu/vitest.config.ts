import { defineConfig } from "vitest/config";

// The model tests of npm run bench:gpu (loadtest/gpu/run.sh): the engine and backend tests of test/model, whose
// models are the synthetic tiny one and ../shared/models' stories260K, with every layer offloaded to the GPU
// (offload-all-layers.ts). The chat-template and tool-call tests are left out: they exercise the chat layer, which
// runs on the CPU, and their models need vocabularies the GPU run does not carry.
export default defineConfig({
  test: {
    include: [
      "test/model/devices.test.ts",
      "test/model/engine.test.ts",
      "test/model/batch-equivalence.test.ts",
      "test/model/per-sequence-kv.test.ts",
      "test/model/prefix-sharing.test.ts",
      "test/model/concurrent-steps.test.ts",
      "test/model/stories-greedy.test.ts",
      "test/model/synthetic-models.test.ts",
      "test/model/lora.test.ts",
      "test/model/bad-input.test.ts",
    ],
    setupFiles: ["test/gpu/offload-all-layers.ts"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
