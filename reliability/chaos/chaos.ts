// npm run chaos: the fault runs, one after another, each checking what the server must do (keep serving the others,
// lose no accepted work, answer a clear error). Writes reliability/results/chaos-last.json; fails when any fault's
// checks fail. usage: npm run chaos -- [--only NAME[,NAME...]]
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Fault } from "./fault.js";
import { FAULTS } from "./faults/index.js";

const { values } = parseArgs({ options: { only: { type: "string" } } });
const only = values.only?.split(",");
const chosen: readonly Fault[] = only ? FAULTS.filter((f) => only.includes(f.name)) : FAULTS;
if (only && chosen.length !== only.length)
  throw new Error(`unknown fault in --only; the faults are ${FAULTS.map((f) => f.name).join(", ")}`);

const results = [];
for (const fault of chosen) {
  console.log(`\n== ${fault.name}: ${fault.what}`);
  const started = Date.now();
  const result = await fault.run().catch((error: Error) => ({
    problems: [`the run threw: ${error.stack ?? error.message}`],
    figures: {},
  }));
  const seconds = Math.round((Date.now() - started) / 1000);
  console.log(`   expect: ${fault.expect}`);
  console.log(
    `   ${result.problems.length === 0 ? "passed" : "FAILED"} in ${seconds} s ${JSON.stringify(result.figures)}`,
  );
  for (const problem of result.problems) console.log(`   - ${problem}`);
  results.push({ name: fault.name, what: fault.what, expect: fault.expect, seconds, ...result });
}

const dir = join(import.meta.dirname, "..", "results");
mkdirSync(dir, { recursive: true });
const passed = results.every((r) => r.problems.length === 0);
const file = join(dir, "chaos-last.json");
// Only a run of every fault is the last run's record.
if (!only) writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), passed, results }, null, 2));
console.log(
  `\n${results.filter((r) => r.problems.length === 0).length}/${results.length} faults passed${only ? "" : `; wrote ${file}`}`,
);
process.exit(passed ? 0 : 1);
