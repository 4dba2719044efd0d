// The GPU benchmark's bookkeeping on inputs whose answers are known by hand: which file of a plain llama.cpp build
// stands in for each library the addon links, what vitest's JSON report and run.sh's phase file say, and the
// Markdown report's side-by-side table.
import { describe, expect, it } from "vitest";
import { parsePhases, testCounts } from "../../../loadtest/gpu/report-inputs.js";
import { reportMarkdown } from "../../../loadtest/gpu/report-markdown.js";
import { cmakeLibraryName } from "../../../loadtest/gpu/prepare.js";
import type { GpuBenchReport } from "../../../loadtest/gpu/results.js";
import { summarize, type RequestRecord } from "../../../loadtest/stats.js";

describe("cmakeLibraryName", () => {
  it("drops node-llama-cpp's variant and version from the name, and keeps names cmake already uses", () => {
    expect(cmakeLibraryName("libllama.v0.5.0.so")).toBe("libllama.so");
    expect(cmakeLibraryName("libllama.cuda.v0.5.0.so")).toBe("libllama.so");
    expect(cmakeLibraryName("libggml.vulkan.v0.5.0.so")).toBe("libggml.so");
    expect(cmakeLibraryName("libggml-base.so")).toBe("libggml-base.so");
    expect(cmakeLibraryName("libllama-common.so")).toBe("libllama-common.so");
  });
});

describe("report inputs", () => {
  it("counts vitest's JSON report and names the failed tests", () => {
    const counts = testCounts({
      numPassedTests: 3,
      numFailedTests: 1,
      numPendingTests: 1,
      numTodoTests: 0,
      testResults: [
        { assertionResults: [{ fullName: "engine decodes", status: "passed" }] },
        {
          assertionResults: [
            { fullName: "offload matches", status: "failed" },
            { fullName: "b", status: "passed" },
            { fullName: "c", status: "passed" },
            { fullName: "d", status: "pending" },
          ],
        },
      ],
    });
    expect(counts).toEqual({ files: 2, passed: 3, failed: 1, skipped: 1, failures: ["offload matches"] });
  });

  it("reads run.sh's phases: name, seconds, exit status", () => {
    expect(parsePhases("unpack\t4.250\t0\nbuild\t181.003\t2\n")).toEqual([
      { name: "unpack", seconds: 4.25, exitCode: 0 },
      { name: "build", seconds: 181.003, exitCode: 2 },
    ]);
  });
});

const record = (ttftMs: number, e2eMs: number): RequestRecord => ({
  index: 0,
  startMs: 0,
  ok: true,
  error: null,
  promptTokens: 100,
  outputTokens: 65,
  ttftMs,
  e2eMs,
  itlMs: [],
});
const slo = { ttftMs: 1000, tpotMs: 100 };

describe("reportMarkdown", () => {
  const loom = summarize([record(50, 690)], 2, slo); // 32.5 output tok/s, TPOT (690 - 50) / 64 = 10 ms
  const peer = summarize([record(100, 1380)], 5, slo); // 13 output tok/s
  const report: GpuBenchReport = {
    mode: "gpu",
    finishedAt: "2026-12-01T00:00:00.000Z",
    environment: { gpu: "NVIDIA H200, 143771 MiB", driver: "580.159.03", nvcc: "13.0", cores: "16" },
    phases: [{ name: "build", seconds: 200, exitCode: 0 }],
    totalSeconds: 420,
    tests: { files: 10, passed: 51, failed: 0, skipped: 0, failures: [] },
    bench: {
      model: { name: "llama-3.2-1b", path: "models/llama-3.2-1b.gguf", bytes: 1.6e9 },
      settings: {
        kvTokens: 131072,
        maxRunning: 64,
        threads: 15,
        maxTokens: 64,
        workloads: ["uniform"],
        concurrency: [1, 64],
      },
      defaults: { error: "out of memory" },
      loomServing: { kv_layout: "per-sequence", devices: ["CUDA0 (NVIDIA H200)"] },
      serverArgs: { loom: [], "llama-server": ["-ngl", "99"] },
      levels: [{ workload: "uniform", concurrency: 1, loom, llamaServer: peer }],
      skipped: [{ workload: "uniform", concurrency: 64 }],
      errors: ["Loom with its defaults: out of memory"],
    },
  };

  it("puts each level's throughputs, their ratio and latencies in one row", () => {
    const markdown = reportMarkdown(report);
    expect(markdown).toContain("| uniform | 1 | 32.5 | 13.0 | 2.50 | 50 ms | 100 ms | 10 ms | 20 ms | 1/1 / 1/1 |");
    expect(markdown).toContain("Not run (deadline): uniform c=64.");
    expect(markdown).toContain("Loom did not serve with its defaults: out of memory");
    expect(markdown).toContain("NVIDIA H200, 143771 MiB, driver 580.159.03, nvcc 13.0, 16 cores");
    expect(markdown).toContain("51 passed, 0 failed, 0 skipped in 10 files.");
    expect(markdown).toContain("| total | 420.0 |  |");
  });

  it("names a dry run as one, and says what is missing when the benchmark did not run", () => {
    const markdown = reportMarkdown({ ...report, mode: "dry-run", tests: null, bench: null });
    expect(markdown).toMatch(/^# GPU benchmark, dry run/);
    expect(markdown).toContain("No test results");
    expect(markdown).toContain("The benchmark did not run.");
  });
});
