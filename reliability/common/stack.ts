// The server the reliability runs drive: `loom serve` in its own process over a small LLM (models/tiny.gguf, or
// ../shared/models' stories260K.gguf) with a LoRA adapter (and a --lora-dir to load it from at run time), a model repository of two small ONNX models for KServe (a batched
// one written by test/helpers/onnx-writer.ts, and MNIST from ../shared/models), and Redis when asked.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { STORIES_260K, STORIES_LORA, sharedModel, tinyLora, tinyModel } from "../../test/helpers/models.js";
import { ElementType, onnxModel } from "../../test/helpers/onnx-writer.js";
import { type Launched, launchLoom } from "../../test/helpers/processes.js";

/** An LLM and its LoRA adapter, by the names they are served under. */
export interface StackModel {
  readonly name: string;
  readonly path: () => string;
  readonly adapterName: string;
  readonly adapterPath: () => string;
}

/** models/tiny.gguf (made on demand, fastest) and its synthetic adapter. */
const TINY: StackModel = { name: "tiny", path: tinyModel, adapterName: "tiny-lora", adapterPath: tinyLora };
/** ../shared/models' stories260K (a trained tiny llama) and its adapter. */
export const STORIES: StackModel = {
  name: "stories260K",
  path: () => sharedModel(STORIES_260K),
  adapterName: "stories-lora",
  adapterPath: () => sharedModel(STORIES_LORA),
};

export interface StackOptions {
  /** TINY unless said otherwise. */
  readonly model?: StackModel;
  readonly redisUrl?: string;
  /** More `loom serve` options, after the defaults (a later flag wins). */
  readonly extraArgs?: readonly string[];
  readonly port?: number;
}

export interface ServerUnderTest {
  readonly url: string;
  readonly pid: number;
  readonly launched: Launched;
  readonly model: StackModel;
  /** The folder run-time adapter loads may read (holds the adapter as ADAPTER-NAME.gguf). */
  readonly loraDir: string;
  /** The ONNX model repository (models `scale` and `mnist`). */
  readonly repository: string;
  /** SIGTERM, wait for the exit, remove the temporary folders. */
  stop(): Promise<void>;
}

/** A repository model that multiplies a [batch, 4] FP32 tensor by 2: tiny, batched by the dynamic batcher. */
function writeScaleModel(repository: string): void {
  const dir = join(repository, "scale", "1");
  mkdirSync(dir, { recursive: true });
  const model = onnxModel({
    inputs: [{ name: "x", elementType: ElementType.FLOAT, shape: ["batch", 4] }],
    outputs: [{ name: "y", elementType: ElementType.FLOAT, shape: ["batch", 4] }],
    nodes: [{ op: "Mul", inputs: ["x", "two"], outputs: ["y"] }],
    initializers: [{ name: "two", dims: [1], data: Float32Array.of(2) }],
  });
  writeFileSync(join(dir, "model.onnx"), model);
  writeFileSync(join(repository, "scale", "config.json"), JSON.stringify({ max_batch_size: 8 }));
}

/** The `loom serve` arguments of the stack (without the port). */
function stackArgs(loraDir: string, repository: string, options: StackOptions = {}): string[] {
  const model = options.model ?? TINY;
  return [
    "serve",
    model.path(),
    "--served-model-name",
    model.name,
    "--threads",
    "1",
    "--kv-tokens",
    "4096",
    "--max-running",
    "16",
    "--max-model-len",
    "1024",
    "--lora",
    `${model.adapterName}=${join(loraDir, `${model.adapterName}.gguf`)}`,
    "--lora-dir",
    loraDir,
    "--model-repository",
    repository,
    "--log-level",
    "warn",
    ...(options.redisUrl ? ["--redis", options.redisUrl] : []),
    ...(options.extraArgs ?? []),
  ];
}

/** Makes the stack's folders and starts the server; resolves once it listens with its models loaded. */
export async function startStack(options: StackOptions = {}): Promise<ServerUnderTest> {
  const root = mkdtempSync(join(tmpdir(), "loom-reliability-"));
  const loraDir = join(root, "lora");
  const repository = join(root, "repository");
  mkdirSync(loraDir);
  const model = options.model ?? TINY;
  copyFileSync(model.adapterPath(), join(loraDir, `${model.adapterName}.gguf`));
  writeScaleModel(repository);
  mkdirSync(join(repository, "mnist", "1"), { recursive: true });
  copyFileSync(sharedModel("mnist-8.onnx"), join(repository, "mnist", "1", "model.onnx"));
  writeFileSync(join(repository, "mnist", "config.json"), JSON.stringify({ max_batch_size: 0 }));
  const args = [...stackArgs(loraDir, repository, options), "--port", String(options.port ?? 0)];
  const launched = launchLoom(args, { timeoutMs: 120_000 });
  const url = await launched.url;
  await waitReady(url);
  return {
    url,
    pid: launched.child.pid!,
    launched,
    model,
    loraDir,
    repository,
    async stop() {
      if (launched.child.exitCode === null) launched.child.kill("SIGTERM");
      await launched.exited;
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Polls /health/ready until it answers 200 (the models are loaded). */
async function waitReady(url: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(`${url}/health/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} was not ready within ${timeoutMs} ms`);
}
