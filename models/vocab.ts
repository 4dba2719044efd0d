// Files of the llama.cpp source bundle inside node-llama-cpp, cached in models/.vocab/: the real tokenizer
// vocabularies (models/ggml-vocab-*.gguf) and the real chat templates (models/templates/*.jinja).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const cacheDir = join(dirname(fileURLToPath(import.meta.url)), ".vocab");

function bundlePath(): string {
  const require = createRequire(import.meta.url);
  for (const base of require.resolve.paths("node-llama-cpp") ?? []) {
    const candidate = join(base, "node-llama-cpp", "llama", "gitRelease.bundle");
    if (existsSync(candidate)) return candidate;
  }
  throw new Error("node-llama-cpp's llama.cpp source bundle was not found; run npm ci first");
}

/** Runs fn on a temporary bare clone of the bundle (a few seconds), removed afterwards. */
function withClone<T>(fn: (gitDir: string) => T): T {
  const clone = mkdtempSync(join(tmpdir(), "loom-vocab-"));
  try {
    execFileSync("git", ["clone", "--quiet", "--bare", bundlePath(), clone], { stdio: "inherit" });
    return fn(clone);
  } finally {
    rmSync(clone, { recursive: true, force: true });
  }
}

const show = (gitDir: string, path: string) =>
  execFileSync("git", ["--git-dir", gitDir, "show", `HEAD:${path}`], { maxBuffer: 64 << 20 });

/** Path of models/ggml-vocab-NAME.gguf from the bundled llama.cpp source. */
export function vocabFile(name: string): string {
  const target = join(cacheDir, `ggml-vocab-${name}.gguf`);
  if (existsSync(target)) return target;
  mkdirSync(cacheDir, { recursive: true });
  withClone((gitDir) => writeFileSync(target, show(gitDir, `models/ggml-vocab-${name}.gguf`)));
  return target;
}

/** The Jinja source of models/templates/NAME.jinja; the first miss caches every template of the bundle. */
export function chatTemplateSource(name: string): string {
  const dir = join(cacheDir, "templates");
  const target = join(dir, `${name}.jinja`);
  if (!existsSync(target)) {
    mkdirSync(dir, { recursive: true });
    withClone((gitDir) => {
      const listing = execFileSync("git", ["--git-dir", gitDir, "ls-tree", "--name-only", "HEAD", "models/templates/"]);
      for (const path of listing
        .toString()
        .split("\n")
        .filter((p) => p.endsWith(".jinja"))) {
        writeFileSync(join(dir, path.slice("models/templates/".length)), show(gitDir, path));
      }
    });
    if (!existsSync(target))
      throw new Error(`the llama.cpp bundle has no chat template models/templates/${name}.jinja`);
  }
  return readFileSync(target, "utf8");
}
