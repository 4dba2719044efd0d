// gpu-bench.md: the GPU benchmark's report (GpuBenchReport) as Markdown, for BENCHMARKS.md and a reader's eyes.
import type { Summary } from "../stats.js";
import type { BenchResult, GpuBenchReport, LevelResult, TestCounts } from "./results.js";

const fixed = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : "-");
const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(0)} ms` : "-");

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [
    `| ${header.join(" | ")} |`,
    `|${header.map(() => " --- ").join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ];
}

function machine(environment: Readonly<Record<string, string>>): string {
  const parts = [environment.gpu ?? "no GPU", environment.driver && `driver ${environment.driver}`];
  parts.push(environment.nvcc && `nvcc ${environment.nvcc}`, environment.cores && `${environment.cores} cores`);
  parts.push(environment.cpu);
  return parts.filter(Boolean).join(", ");
}

function testsSection(tests: TestCounts | null): string[] {
  if (tests === null) return ["No test results (the tests phase did not write any; see the log)."];
  const line = `${tests.passed} passed, ${tests.failed} failed, ${tests.skipped} skipped in ${tests.files} files.`;
  return [line, ...tests.failures.map((name) => `- failed: ${name}`)];
}

function defaultsSection(bench: BenchResult): string[] {
  if ("error" in bench.defaults) return [`Loom did not serve with its defaults: ${bench.defaults.error}`];
  const { serving, concurrency, summary } = bench.defaults;
  const s = serving ?? {};
  const devices = Array.isArray(s.devices) && s.devices.length > 0 ? s.devices.join(", ") : "the CPU";
  return [
    `\`loom serve MODEL\` with no other flag: gpu_layers ${s.gpu_layers} on ${devices}; ${s.kv_tokens} KV tokens ` +
      `(${s.kv_tokens_from}); ${s.kv_layout} layout (${s.kv_layout_reason}); ${s.threads} threads.`,
    `Uniform, c=${concurrency}: ${summary.completed}/${summary.requests} completed, ` +
      `${fixed(summary.outputTokensPerSecond)} output tok/s, TTFT p50 ${ms(summary.ttftMs.p50)}.`,
  ];
}

function levelRow({ workload, concurrency, loom, llamaServer: peer }: LevelResult): string[] {
  const ratio = (a: number, b: number | undefined) => (b === undefined ? "-" : fixed(a / b, 2));
  const done = (s: Summary | null) => (s === null ? "-" : `${s.completed}/${s.requests}`);
  return [
    workload,
    String(concurrency),
    fixed(loom.outputTokensPerSecond),
    peer ? fixed(peer.outputTokensPerSecond) : "-",
    ratio(loom.outputTokensPerSecond, peer?.outputTokensPerSecond),
    ms(loom.ttftMs.p50),
    peer ? ms(peer.ttftMs.p50) : "-",
    ms(loom.tpotMs.p50),
    peer ? ms(peer.tpotMs.p50) : "-",
    `${done(loom)} / ${done(peer)}`,
  ];
}

function sideBySideSection(bench: BenchResult): string[] {
  const { kvTokens, maxRunning, threads, maxTokens } = bench.settings;
  const header = ["workload", "c", "Loom out tok/s", "llama-server out tok/s", "Loom / llama-server"];
  header.push("Loom TTFT p50", "llama-server TTFT p50", "Loom TPOT p50", "llama-server TPOT p50", "completed");
  const peerArgs = (bench.serverArgs["llama-server"] ?? []).join(" ");
  const serving = bench.loomServing;
  const placement = serving ? `${serving.kv_layout} layout, devices ${JSON.stringify(serving.devices)}` : "unknown";
  return [
    `Both servers: ${kvTokens} KV tokens in all, ${maxRunning} slots, ${threads} CPU threads; every layer on the ` +
      `GPU where there is one (Loom's default, llama-server \`${peerArgs}\`). ` +
      `Streaming chat completions, ignore_eos, ${maxTokens} output tokens. Loom's placement: ${placement}.`,
    "",
    ...table(header, bench.levels.map(levelRow)),
    ...(bench.skipped.length === 0
      ? []
      : ["", `Not run (deadline): ${bench.skipped.map((l) => `${l.workload} c=${l.concurrency}`).join(", ")}.`]),
  ];
}

export function reportMarkdown(report: GpuBenchReport): string {
  const { bench } = report;
  const title =
    report.mode === "gpu"
      ? "# GPU benchmark: Loom against llama-server"
      : "# GPU benchmark, dry run: every step on the CPU with the small model";
  const lines = [
    title,
    "",
    `${machine(report.environment)}; finished ${report.finishedAt}.`,
    ...(bench ? [`Model: ${bench.model.name} (${fixed(bench.model.bytes / 1e9, 2)} GB, synthetic weights).`] : []),
    "",
    "## Phases",
    "",
    ...table(
      ["phase", "seconds", "exit"],
      [
        ...report.phases.map((p) => [p.name, fixed(p.seconds), String(p.exitCode)]),
        ["total", fixed(report.totalSeconds), ""],
      ],
    ),
    "",
    "## Model tests",
    "",
    ...testsSection(report.tests),
    "",
    "## Loom with its defaults",
    "",
    ...(bench ? defaultsSection(bench) : ["The benchmark did not run."]),
    "",
    "## Side by side",
    "",
    ...(bench ? sideBySideSection(bench) : ["The benchmark did not run."]),
    ...(bench && bench.errors.length > 0 ? ["", ...bench.errors.map((e) => `- error: ${e}`)] : []),
  ];
  return `${lines.join("\n")}\n`;
}
