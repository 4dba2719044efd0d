// The real tokenizer vocabularies from the llama.cpp source bundle inside node-llama-cpp, cached in models/.vocab/.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
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

/** Path of models/ggml-vocab-NAME.gguf from the bundled llama.cpp source. */
export function vocabFile(name: string): string {
  const target = join(cacheDir, `ggml-vocab-${name}.gguf`);
  if (existsSync(target)) return target;
  mkdirSync(cacheDir, { recursive: true });
  const clone = mkdtempSync(join(tmpdir(), "loom-vocab-"));
  try {
    execFileSync("git", ["clone", "--quiet", "--bare", bundlePath(), clone], { stdio: "inherit" });
    const bytes = execFileSync("git", ["--git-dir", clone, "show", `HEAD:models/ggml-vocab-${name}.gguf`], {
      maxBuffer: 64 << 20,
    });
    writeFileSync(target, bytes);
  } finally {
    rmSync(clone, { recursive: true, force: true });
  }
  return target;
}
