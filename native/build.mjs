#!/usr/bin/env node
// Builds native/build/Release/loom.node against the llama.cpp libraries that node-llama-cpp ships prebuilt,
// compiling against the headers of the same llama.cpp version, taken from the source bundle inside node-llama-cpp.
//
// Variant: LOOM_GPU=cpu|cuda|vulkan|metal|auto (or `npm ci --loom-gpu=cuda`); auto picks CUDA when an NVIDIA
// driver is present and the CUDA libraries are installed, Metal on Apple silicon, else CPU.
// Plain JavaScript on purpose: it runs during `npm ci`, before any TypeScript tooling is usable.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, cpSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const nativeDir = dirname(fileURLToPath(import.meta.url));
const headersDir = join(nativeDir, ".headers");
const buildDir = join(nativeDir, "build");
const require = createRequire(import.meta.url);
const force = process.argv.includes("--force");

function fail(message) {
  console.error(`loom native build: ${message}`);
  process.exit(1);
}

// Package folders are found through node_modules lookup paths: these packages do not export ./package.json.
function packageDir(name, fromDir) {
  const bases = [...(fromDir ? [join(fromDir, "node_modules")] : []), ...(require.resolve.paths(name) ?? [])];
  return bases.map((base) => join(base, name)).find((dir) => existsSync(join(dir, "package.json")));
}

const nodeLlamaCppDir = packageDir("node-llama-cpp") ?? fail("node-llama-cpp is not installed; run npm ci first");
const llamaVersion = JSON.parse(readFileSync(join(nodeLlamaCppDir, "llama", "llama.cpp.info.json"), "utf8")).tag;

function hasNvidiaDriver() {
  return existsSync("/proc/driver/nvidia/version") || existsSync("/dev/nvidiactl");
}

function platformPackages(variant) {
  const { platform, arch } = process;
  const base = { linux: "linux", darwin: "mac", win32: "win" }[platform];
  if (base === undefined) fail(`no prebuilt llama.cpp libraries exist for platform ${platform}`);
  const suffix = { cpu: "", cuda: "-cuda", vulkan: "-vulkan", metal: "-metal" }[variant];
  if (suffix === undefined) fail(`unknown LOOM_GPU variant "${variant}" (expected cpu, cuda, vulkan, metal or auto)`);
  // CUDA builds come in two packages; the -ext one carries the CUDA runtime libraries for machines without them.
  return variant === "cuda" ? [`${base}-${arch}-cuda`, `${base}-${arch}-cuda-ext`] : [`${base}-${arch}${suffix}`];
}

function findLibDir(packageName) {
  const dir = packageDir(`@node-llama-cpp/${packageName}`, nodeLlamaCppDir);
  const libDir = dir && join(dir, "bins", packageName);
  return libDir && existsSync(libDir) ? libDir : undefined;
}

function chooseVariant() {
  const requested = (process.env.LOOM_GPU ?? process.env.npm_config_loom_gpu ?? "auto").toLowerCase();
  if (requested !== "auto") return requested;
  if (process.platform === "darwin" && process.arch === "arm64") return "metal";
  if (hasNvidiaDriver() && platformPackages("cuda").some((name) => findLibDir(name))) return "cuda";
  return "cpu";
}

function locateLibraries(variant) {
  const candidates = platformPackages(variant);
  for (const name of candidates) {
    const libDir = findLibDir(name);
    if (!libDir) continue;
    const files = readdirSync(libDir);
    const llama = files.find((f) => /^libllama(\.[a-z]+)?\.v[\d.]+\.(so|dylib)$/.test(f));
    const ggml = files.find((f) => /^libggml(\.[a-z]+)?\.v[\d.]+\.(so|dylib)$/.test(f));
    const ggmlBase = files.find((f) => /^libggml-base\.(so|dylib)$/.test(f));
    // llama.cpp's common library: the chat layer (templates, tool-call parsers) and the JSON-schema converter.
    const common = files.find((f) => /^libllama-common\.(so|dylib)$/.test(f));
    if (llama && ggml && ggmlBase && common) return { libDir, llama, ggml, ggmlBase, common, packageName: name };
  }
  fail(
    `the ${variant} llama.cpp libraries for ${process.platform}-${process.arch} are not installed ` +
      `(looked for @node-llama-cpp/${candidates.join(" or @node-llama-cpp/")} ${llamaVersion}). ` +
      `Install them with npm, or build for another variant with LOOM_GPU=cpu.`,
  );
}

// Header files of a folder and its subfolders (common/ keeps jinja/ beside it, which chat.h includes relatively).
function headerFiles(dir, prefix = "") {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) return headerFiles(dir, path);
    return /\.(h|hpp)$/.test(entry.name) ? [path] : [];
  });
}

// Headers come from the git bundle inside node-llama-cpp: a temporary clone is read and removed again. The stamp
// names the folders too, so a checkout extracted before common/ was needed is extracted again.
function extractHeaders() {
  const stamp = join(headersDir, "VERSION");
  const stampText = `${llamaVersion} include ggml/include src common`;
  if (!force && existsSync(stamp) && readFileSync(stamp, "utf8") === stampText) return;
  const cloneDir = mkdtempSync(join(tmpdir(), "loom-llama-src-"));
  try {
    execFileSync(
      "git",
      ["clone", "--quiet", "--no-checkout", join(nodeLlamaCppDir, "llama", "gitRelease.bundle"), cloneDir],
      { stdio: "inherit" },
    );
    execFileSync(
      "git",
      [
        "-C",
        cloneDir,
        "-c",
        "advice.detachedHead=false",
        "checkout",
        "--quiet",
        "HEAD",
        "--",
        "include",
        "ggml/include",
        "src",
        "common",
      ],
      { stdio: "inherit" },
    );
    rmSync(headersDir, { recursive: true, force: true });
    for (const folder of ["include", "ggml/include"])
      cpSync(join(cloneDir, folder), join(headersDir, folder), { recursive: true });
    for (const folder of ["src", "common"]) {
      for (const file of headerFiles(join(cloneDir, folder))) {
        mkdirSync(dirname(join(headersDir, folder, file)), { recursive: true });
        cpSync(join(cloneDir, folder, file), join(headersDir, folder, file));
      }
    }
    writeFileSync(stamp, stampText);
  } finally {
    rmSync(cloneDir, { recursive: true, force: true });
  }
}

const variant = chooseVariant();
const libs = locateLibraries(variant);
const releaseDir = join(buildDir, "Release");
const manifestPath = join(buildDir, "loom-native.json");
// The sources' hash is part of the manifest, so a checkout whose native code changed is rebuilt by npm ci.
const sourceHash = createHash("sha256");
for (const file of [
  "binding.gyp",
  ...readdirSync(join(nativeDir, "src"))
    .sort()
    .map((f) => join("src", f)),
]) {
  sourceHash.update(file).update(readFileSync(join(nativeDir, file)));
}
const manifest = {
  variant,
  llamaVersion,
  libDir: libs.libDir,
  packageName: libs.packageName,
  sources: sourceHash.digest("hex").slice(0, 16),
};

if (
  !force &&
  existsSync(join(releaseDir, "loom.node")) &&
  existsSync(manifestPath) &&
  readFileSync(manifestPath, "utf8") === JSON.stringify(manifest, null, 2)
) {
  console.log(`loom native build: up to date (${variant}, llama.cpp ${llamaVersion})`);
  process.exit(0);
}

extractHeaders();
const started = Date.now();
// npm bundles node-gyp and names it in npm_config_node_gyp inside npm scripts; outside them, find npm's copy.
const nodeGypScript = [
  process.env.npm_config_node_gyp,
  join(dirname(process.execPath), "..", "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"),
].find((candidate) => candidate && existsSync(candidate));
if (!nodeGypScript) fail("node-gyp was not found; it ships with npm, so run this through npm (npm run build:native)");
// Node's own headers are used where the installation ships them, so node-gyp never downloads a headers tarball.
const nodePrefix = dirname(dirname(process.execPath));
const nodeDir =
  process.env.npm_config_nodedir ??
  (existsSync(join(nodePrefix, "include", "node", "node_api.h")) ? nodePrefix : undefined);
const gypArgs = [
  "rebuild",
  ...(nodeDir ? [`--nodedir=${nodeDir}`] : []),
  `--directory=${nativeDir}`,
  "--",
  `-Dllama_lib_dir=${libs.libDir}`,
  `-Dllama_rpath=${relative(releaseDir, libs.libDir)}`,
  `-Dllama_lib=${libs.llama}`,
  `-Dggml_lib=${libs.ggml}`,
  `-Dggml_base_lib=${libs.ggmlBase}`,
  `-Dcommon_lib=${libs.common}`,
];
try {
  execFileSync(process.execPath, [nodeGypScript, ...gypArgs], { stdio: "inherit", cwd: nativeDir });
} catch (error) {
  fail(`node-gyp failed (${error.message.split("\n")[0]}); see the compiler output above`);
}
writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
console.log(
  `loom native build: ${variant} addon built in ${((Date.now() - started) / 1000).toFixed(1)} s against llama.cpp ${llamaVersion}`,
);
