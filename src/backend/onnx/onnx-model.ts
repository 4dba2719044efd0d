// OnnxModel: one ONNX model served by a pool of onnxruntime sessions (Triton's instance_group count), each on its
// own worker thread; its input and output metadata; and run(feeds). No policy: batching and validation live above.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { BufferPool } from "./buffer-pool.js";
import { bytesPerElement, datatypeOfOrt, ortType, viewOf, type KserveDatatype, type TensorData } from "./tensors.js";
import { transferable, type RunMessage, type SessionSettings, type WorkerReply } from "./worker-protocol.js";

export interface TensorSpec {
  readonly name: string;
  /** Null when the model's element type has no KServe datatype here (e.g. strings). */
  readonly datatype: KserveDatatype | null;
  /** -1 for a dynamic axis; null when the model does not say. */
  readonly shape: readonly number[] | null;
}

export interface Tensor {
  readonly datatype: KserveDatatype;
  readonly shape: readonly number[];
  readonly data: TensorData;
}

export interface OnnxModelOptions {
  /** Sessions that may run at once (Triton's instance_group count). */
  readonly instances?: number;
  readonly threadsPerInstance?: number;
  readonly device?: "cpu" | "cuda";
}

function specOf(meta: unknown): TensorSpec {
  const m = meta as { name: string; type?: string; shape?: readonly (number | string)[] };
  return {
    name: m.name,
    datatype: m.type ? datatypeOfOrt(m.type) : null,
    shape: m.shape ? m.shape.map((d) => (typeof d === "number" && d >= 0 ? d : -1)) : null,
  };
}

// tsx's ESM loader API by its package exports (its CommonJS build cannot register from a worker's eval code).
function tsxEsmApi(): string {
  const require = createRequire(import.meta.url);
  const manifestPath = require.resolve("tsx/package.json");
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {
    exports: Record<string, { import: { default: string } }>;
  };
  return pathToFileURL(join(dirname(manifestPath), manifest.exports["./esm/api"]!.import.default)).href;
}

// Run from source (tsx, vitest) the worker is TypeScript too, so it registers tsx's loader before importing it.
function startWorker(settings: SessionSettings): Worker {
  if (!import.meta.url.endsWith(".ts"))
    return new Worker(new URL("./session-worker.js", import.meta.url), { workerData: settings });
  const entry = new URL("./session-worker.ts", import.meta.url).href;
  const bootstrap =
    `import(${JSON.stringify(tsxEsmApi())})` +
    `.then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(bootstrap, { eval: true, workerData: settings });
}

type RunResult = Extract<WorkerReply, { type: "result" }>;

class SessionWorker {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (result: RunResult) => void; reject: (error: Error) => void }>();
  #nextId = 0;
  #failure: Error | null = null;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on("message", (message: WorkerReply) => {
      if (message.type === "ready" || message.id === null) return;
      const pending = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      if (message.type === "result") pending?.resolve(message);
      else pending?.reject(new Error(message.message));
    });
    const fail = (error: Error) => {
      this.#failure ??= error;
      for (const { reject } of this.#pending.values()) reject(error);
      this.#pending.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`the onnxruntime session thread exited (code ${code})`)));
  }

  static start(
    settings: SessionSettings,
  ): Promise<{ session: SessionWorker; inputs: readonly unknown[]; outputs: readonly unknown[] }> {
    const worker = startWorker(settings);
    return new Promise((resolve, reject) => {
      const onMessage = (message: WorkerReply) => {
        worker.off("error", onError);
        if (message.type === "ready")
          resolve({ session: new SessionWorker(worker), inputs: message.inputs, outputs: message.outputs });
        else
          void worker
            .terminate()
            .then(() =>
              reject(
                new Error(
                  message.type === "error" ? message.message : "the session thread answered before it was ready",
                ),
              ),
            );
      };
      const onError = (error: Error) => reject(error);
      worker.once("message", onMessage);
      worker.once("error", onError);
    });
  }

  run(feeds: Readonly<Record<string, Tensor>>, outputNames: readonly string[]): Promise<RunResult> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    const { tensors, transfer } = transferable(
      Object.entries(feeds).map(([name, t]) => ({ name, type: ortType(t.datatype), dims: t.shape, data: t.data })),
    );
    const message: RunMessage = { id, feeds: tensors, outputNames };
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage(message, transfer);
    });
  }

  async stop(): Promise<void> {
    this.#worker.removeAllListeners("exit");
    await this.#worker.terminate();
  }
}

export class OnnxModel {
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  readonly #sessions: SessionWorker[];
  readonly #idle: SessionWorker[];
  readonly #waiters: ((session: SessionWorker) => void)[] = [];
  readonly #inputBuffers: BufferPool;

  private constructor(sessions: SessionWorker[], inputs: readonly unknown[], outputs: readonly unknown[]) {
    this.#sessions = sessions;
    this.#idle = [...sessions];
    // Enough for the batches in flight on every instance plus a few batch sizes in rotation.
    this.#inputBuffers = new BufferPool(2 * sessions.length + 6);
    this.inputs = inputs.map(specOf);
    this.outputs = outputs.map(specOf);
  }

  static async load(
    path: string,
    { instances = 1, threadsPerInstance = 1, device = "cpu" }: OnnxModelOptions = {},
  ): Promise<OnnxModel> {
    if (!(Number.isInteger(instances) && instances > 0))
      throw new RangeError(`instances must be a positive integer, got ${instances}`);
    const started = await Promise.allSettled(
      Array.from({ length: instances }, () => SessionWorker.start({ path, threads: threadsPerInstance, device })),
    );
    const sessions = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed) {
      await Promise.all(sessions.map((s) => s.session.stop()));
      throw failed.reason;
    }
    return new OnnxModel(
      sessions.map((s) => s.session),
      sessions[0]!.inputs,
      sessions[0]!.outputs,
    );
  }

  /**
   * Runs on the next free instance; outputs in the order of `outputNames`. The feeds' buffers move to the session
   * thread (a feed that views part of a larger buffer is copied instead), so callers must not reuse them.
   */
  async run(feeds: Readonly<Record<string, Tensor>>, outputNames: readonly string[]): Promise<Record<string, Tensor>> {
    const session = await this.#acquire();
    try {
      const { outputs, feedBuffers } = await session.run(feeds, outputNames);
      for (const buffer of feedBuffers) this.#inputBuffers.give(buffer);
      const out: Record<string, Tensor> = {};
      for (const r of outputs) {
        const datatype = datatypeOfOrt(r.type);
        if (!datatype) throw new Error(`output ${r.name} has type ${r.type}, which Loom cannot return`);
        out[r.name] = { datatype, shape: r.dims, data: r.data };
      }
      return out;
    } finally {
      this.#release(session);
    }
  }

  /**
   * A typed array for a batched input that the caller fills whole: its buffer may come back from an earlier run,
   * with that run's data in it.
   */
  newInput(datatype: KserveDatatype, length: number): TensorData {
    return viewOf(datatype, this.#inputBuffers.take(length * bytesPerElement(datatype)));
  }

  /** Waits for runs in flight, then stops the session threads. */
  async dispose(): Promise<void> {
    while (this.#idle.length < this.#sessions.length)
      await new Promise((resolve) =>
        this.#waiters.push((session) => {
          this.#release(session);
          resolve(undefined);
        }),
      );
    await Promise.all(this.#sessions.map((s) => s.stop()));
  }

  #acquire(): Promise<SessionWorker> {
    const session = this.#idle.pop();
    if (session) return Promise.resolve(session);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #release(session: SessionWorker): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter(session);
    else this.#idle.push(session);
  }
}
