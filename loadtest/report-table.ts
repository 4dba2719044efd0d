// The plain-text summary table printed after a run, one line per run.
import type { RunResult } from "./runner.js";

export function summaryTable(runs: readonly RunResult[]): string {
  const header =
    "run                               server                      done  out tok/s  req/s  goodput  TTFT p50  TTFT p99  TPOT p50  ITL p99  E2E p50";
  const lines = runs.map((r) => {
    const s = r.summary;
    const ms = (x: number) => (Number.isFinite(x) ? x.toFixed(0).padStart(8) : "       -");
    return `${r.label.padEnd(33)} ${r.url.padEnd(28)}${`${s.completed}/${s.requests}`.padStart(6)}${s.outputTokensPerSecond.toFixed(1).padStart(11)}${s.requestsPerSecond.toFixed(2).padStart(7)}${s.goodput.toFixed(2).padStart(9)}${ms(s.ttftMs.p50)}  ${ms(s.ttftMs.p99)}  ${ms(s.tpotMs.p50)} ${ms(s.itlMs.p99)} ${ms(s.e2eMs.p50)}`;
  });
  return [header, ...lines].join("\n");
}
