// What loadtest/gpu/run.sh and the tools it runs leave behind, read into the report's shapes: vitest's JSON report,
// the phases' times and the machine's description.
import type { PhaseResult, TestCounts } from "./results.js";

/** vitest's JSON reporter output (Jest's shape), the parts read here. */
export interface VitestJson {
  readonly numPassedTests: number;
  readonly numFailedTests: number;
  readonly numPendingTests: number;
  readonly numTodoTests?: number;
  readonly testResults: readonly { readonly assertionResults: readonly { fullName: string; status: string }[] }[];
}

/** The counts and failed names of a vitest JSON report. */
export function testCounts(report: VitestJson): TestCounts {
  return {
    files: report.testResults.length,
    passed: report.numPassedTests,
    failed: report.numFailedTests,
    skipped: report.numPendingTests + (report.numTodoTests ?? 0),
    failures: report.testResults.flatMap((file) =>
      file.assertionResults.filter((t) => t.status === "failed").map((t) => t.fullName),
    ),
  };
}

/** run.sh's phases.tsv: NAME, seconds, exit status per line. */
export function parsePhases(tsv: string): PhaseResult[] {
  return tsv
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const [name = "", seconds = "NaN", exitCode = "NaN"] = line.split("\t");
      return { name, seconds: Number(seconds), exitCode: Number(exitCode) };
    });
}

/** run.sh's environment.txt: "key: value" per line. */
export function parseEnvironment(text: string): Record<string, string> {
  const entries = text.split("\n").flatMap((line) => {
    const at = line.indexOf(": ");
    return at > 0 ? [[line.slice(0, at), line.slice(at + 2).trim()] as const] : [];
  });
  return Object.fromEntries(entries);
}
