// run.sh's check that Loom's addon runs on the llama.cpp this run built: every llama.cpp library mapped into the
// process comes from the build's folder, each once (a second copy of ggml would hold a second backend registry that
// never saw the GPU), and the devices are the expected ones: a CUDA device on the GPU run, none on the dry run.
// usage: LD_LIBRARY_PATH=BUILD/bin tsx loadtest/gpu/check-libraries.ts --expect cuda|none
import { readFileSync, realpathSync } from "node:fs";
import { basename, dirname } from "node:path";
import { parseArgs } from "node:util";
import { gpuDevices, loadAddon } from "../../src/backend/llama/addon.js";

const { values } = parseArgs({ options: { expect: { type: "string" } } });
if (values.expect !== "cuda" && values.expect !== "none") throw new RangeError("--expect cuda|none is required");

const { init, variant, libDir } = loadAddon();
const mapped = [
  ...new Set(
    readFileSync("/proc/self/maps", "utf8")
      .split("\n")
      .map((line) => line.slice(line.indexOf("/")))
      .filter((path) => /\/lib(llama|ggml)[^/]*\.so[.\d]*$/.test(path)),
  ),
].sort();
const problems: string[] = [];
const buildDir = realpathSync(libDir);
for (const path of mapped) if (dirname(path) !== buildDir) problems.push(`${path} is not from ${buildDir}`);
const families = mapped.map((path) => basename(path).replace(/\.so.*$/, ""));
for (const family of new Set(families))
  if (families.filter((f) => f === family).length > 1) problems.push(`${family} is mapped twice`);
for (const family of ["libllama", "libllama-common", "libggml", "libggml-base", "libggml-cpu"])
  if (!families.includes(family)) problems.push(`${family} is not loaded`);
const gpus = gpuDevices();
if (values.expect === "cuda" && !gpus.some((d) => d.name.startsWith("CUDA"))) problems.push("no CUDA device");
if (values.expect === "none" && gpus.length > 0) problems.push(`unexpected devices ${gpus.map((d) => d.name)}`);

console.log(`addon variant ${variant}, libraries from ${buildDir}:`);
for (const path of mapped) console.log(`  ${basename(path)}`);
console.log(`devices: ${JSON.stringify(init.devices)}`);
console.log(`system: ${init.systemInfo}`);
for (const problem of problems) console.error(`check-libraries: ${problem}`);
process.exitCode = problems.length === 0 ? 0 : 1;
