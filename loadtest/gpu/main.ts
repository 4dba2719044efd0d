// npm run bench:gpu: Loom against llama-server, both on llama.cpp built with CUDA from the same source, on a
// synthetic Llama-3.2-1B-shaped model: the model tests on the GPU, then the serving benchmark (uniform and shared
// prefix at concurrency 1, 16 and 64). The work is in loadtest/gpu/run.sh, which needs no Node.js; this entry makes
// the carry folder it runs from (.gpu-bench, see prepare.ts) and runs it in a copy of exactly what would travel to a
// device machine (tracked and untracked-not-ignored files plus .gpu-bench, at most 64 MiB), so a dry run here proves
// the device run's inputs too. BENCHMARKS.md ("GPU run") has the device machine's command.
// usage: npm run bench:gpu -- [--prepare | --dry-run] [--fresh]
//   --prepare  only make or refresh .gpu-bench, and print what would travel
//   --dry-run  every step on this machine's CPU: llama.cpp without CUDA, the tiny model, concurrency 1 and 2
//   (neither)  the GPU run, on this machine's NVIDIA GPU
//   --fresh    drop the llama.cpp build a previous run left in the work folder
// Results: loadtest/results/gpu/gpu-bench.{json,md,log}.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { root } from "../server-process.js";
import { preparePack } from "./prepare.js";

/** What the device tool carries at most: the working tree that travels, carried folders included. */
const TRAVEL_LIMIT_BYTES = 64 * 2 ** 20;
const PACK_DIR = ".gpu-bench";

const { values } = parseArgs({
  options: { prepare: { type: "boolean" }, "dry-run": { type: "boolean" }, fresh: { type: "boolean" } },
});
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** The files that travel with the working tree: tracked ones and untracked ones git does not ignore. */
function travellingFiles(): string[] {
  const listed = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: root,
    encoding: "utf8",
  });
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  return listed.stdout.split("\0").filter((path) => path !== "" && existsSync(join(root, path)));
}

function folderBytes(dir: string): number {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).reduce((sum, path) => {
    const stat = lstatSync(join(dir, path));
    return sum + (stat.isFile() ? stat.size : 0);
  }, 0);
}

const started = Date.now();
const manifest = preparePack(root, join(root, PACK_DIR));
const files = travellingFiles();
const treeBytes = files.reduce((sum, path) => sum + lstatSync(join(root, path)).size, 0);
const packBytes = folderBytes(join(root, PACK_DIR));
for (const part of Object.values(manifest.parts)) console.error(`  ${PACK_DIR}/${part.file}: ${mib(part.bytes)}`);
console.error(
  `travels: ${mib(treeBytes)} of files (${files.length}) + ${mib(packBytes)} of ${PACK_DIR} = ` +
    `${mib(treeBytes + packBytes)} (limit ${mib(TRAVEL_LIMIT_BYTES)})`,
);
if (treeBytes + packBytes > TRAVEL_LIMIT_BYTES) {
  console.error("bench:gpu: too large to travel to a device machine");
  process.exit(1);
}
if (values.prepare) process.exit(0);

const dryRun = values["dry-run"] === true;
const stage = join(tmpdir(), "loom-gpu-bench-stage");
const work = join(tmpdir(), `loom-gpu-bench-work-${dryRun ? "cpu" : "gpu"}`);
if (values.fresh) rmSync(work, { recursive: true, force: true });
rmSync(stage, { recursive: true, force: true });
const copy = join(stage, "repo");
for (const path of [...files, PACK_DIR]) {
  mkdirSync(join(copy, path, ".."), { recursive: true });
  cpSync(join(root, path), join(copy, path), { recursive: true, verbatimSymlinks: true });
}
const out = join(root, "loadtest", "results", "gpu");
mkdirSync(out, { recursive: true });
console.error(`running loadtest/gpu/run.sh${dryRun ? " --dry-run" : ""} in ${copy}`);
const run = spawnSync("bash", [join(copy, "loadtest", "gpu", "run.sh"), ...(dryRun ? ["--dry-run"] : [])], {
  stdio: "inherit",
  env: { ...process.env, OUT: out, LOOM_GPU_WORK: work },
});
const written = ["gpu-bench.json", "gpu-bench.md", "gpu-bench.log"].filter((f) => existsSync(join(out, f)));
console.error(
  `bench:gpu: run.sh exited ${run.status} after ${((Date.now() - started) / 1000).toFixed(0)} s in all; ` +
    `wrote ${written.map((f) => `${out}/${f} (${mib(statSync(join(out, f)).size)})`).join(", ")}`,
);
process.exit(run.status === 0 && written.length === 3 ? 0 : 1);
