// The last step of loadtest/gpu/run.sh: gathers what the run left in its work folder (phase times, the model tests'
// JSON, the benchmark's JSON, the machine) into OUT/gpu-bench.json and OUT/gpu-bench.md, and prints the Markdown.
// Missing pieces (a phase that failed) are reported as missing, never fatal.
// usage: tsx loadtest/gpu/report.ts --mode gpu|dry-run --work DIR --out DIR --total-seconds N
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parseEnvironment, parsePhases, testCounts, type VitestJson } from "./report-inputs.js";
import { reportMarkdown } from "./report-markdown.js";
import type { BenchResult, GpuBenchReport } from "./results.js";

const { values } = parseArgs({
  options: {
    mode: { type: "string" },
    work: { type: "string" },
    out: { type: "string" },
    "total-seconds": { type: "string" },
  },
});
if (!(values.mode === "gpu" || values.mode === "dry-run") || !values.work || !values.out)
  throw new RangeError("usage: report.ts --mode gpu|dry-run --work DIR --out DIR --total-seconds N");
const read = (name: string) => {
  const path = join(values.work!, name);
  return existsSync(path) ? readFileSync(path, "utf8") : null;
};
const testsJson = read("tests.json");
const benchJson = read("bench.json");
const report: GpuBenchReport = {
  mode: values.mode,
  finishedAt: new Date().toISOString(),
  environment: parseEnvironment(read("environment.txt") ?? ""),
  phases: parsePhases(read("phases.tsv") ?? ""),
  totalSeconds: Number(values["total-seconds"]),
  tests: testsJson === null ? null : testCounts(JSON.parse(testsJson) as VitestJson),
  bench: benchJson === null ? null : (JSON.parse(benchJson) as BenchResult),
};
const markdown = reportMarkdown(report);
writeFileSync(join(values.out, "gpu-bench.json"), `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(join(values.out, "gpu-bench.md"), markdown);
process.stdout.write(markdown);
