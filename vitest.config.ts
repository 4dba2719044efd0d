import { defineConfig } from "vitest/config";

// One file at a time: model tests run the real llama.cpp addon, whose compute threads must not compete for the
// machine's cores with another test file's.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
