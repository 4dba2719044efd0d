// OnnxModel: an onnxruntime-node InferenceSession (or several, for parallel instances), its input and output
// metadata, and run(feeds). No policy: batching and validation live above it.
import * as ort from "onnxruntime-node";
import { allocate, datatypeOfOrt, ortType, type KserveDatatype, type TensorData } from "./tensors.js";

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

function specOf(meta: unknown, fallbackName: string): TensorSpec {
  const m = meta as { name?: string; isTensor?: boolean; type?: string; shape?: readonly (number | string)[] };
  return {
    name: m.name ?? fallbackName,
    datatype: m.type ? datatypeOfOrt(m.type) : null,
    shape: m.shape ? m.shape.map((d) => (typeof d === "number" && d >= 0 ? d : -1)) : null,
  };
}

export class OnnxModel {
  readonly path: string;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  readonly #sessions: ort.InferenceSession[];
  readonly #idle: ort.InferenceSession[];
  readonly #waiters: ((session: ort.InferenceSession) => void)[] = [];

  private constructor(path: string, sessions: ort.InferenceSession[]) {
    this.path = path;
    this.#sessions = sessions;
    this.#idle = [...sessions];
    const first = sessions[0]!;
    const inputMeta = (first as unknown as { inputMetadata?: readonly unknown[] }).inputMetadata ?? [];
    const outputMeta = (first as unknown as { outputMetadata?: readonly unknown[] }).outputMetadata ?? [];
    this.inputs = first.inputNames.map((name, i) => specOf(inputMeta[i] ?? { name }, name));
    this.outputs = first.outputNames.map((name, i) => specOf(outputMeta[i] ?? { name }, name));
  }

  static async load(path: string, { instances = 1, threadsPerInstance = 1, device = "cpu" }: OnnxModelOptions = {}): Promise<OnnxModel> {
    if (!(Number.isInteger(instances) && instances > 0)) throw new RangeError(`instances must be a positive integer, got ${instances}`);
    const options: ort.InferenceSession.SessionOptions = {
      executionProviders: [device], intraOpNumThreads: threadsPerInstance, interOpNumThreads: 1, graphOptimizationLevel: "all",
    };
    const sessions: ort.InferenceSession[] = [];
    try {
      for (let i = 0; i < instances; i++) sessions.push(await ort.InferenceSession.create(path, options));
    } catch (error) {
      await Promise.all(sessions.map((s) => s.release()));
      throw error;
    }
    return new OnnxModel(path, sessions);
  }

  /** Runs on the next free instance; outputs in the order of `outputNames`. */
  async run(feeds: Readonly<Record<string, Tensor>>, outputNames: readonly string[]): Promise<Record<string, Tensor>> {
    const session = await this.#acquire();
    try {
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor(ortType(t.datatype) as "float32", t.data as Float32Array, [...t.shape]);
      const results = await session.run(ortFeeds, [...outputNames]);
      const out: Record<string, Tensor> = {};
      for (const name of outputNames) {
        const r = results[name]!;
        const datatype = datatypeOfOrt(r.type);
        if (!datatype) throw new Error(`output ${name} has type ${r.type}, which Loom cannot return`);
        const data = allocate(datatype, r.data.length);
        data.set(r.data as never);
        out[name] = { datatype, shape: [...r.dims], data };
      }
      return out;
    } finally {
      this.#release(session);
    }
  }

  /** Waits for runs in flight, then frees the sessions. */
  async dispose(): Promise<void> {
    while (this.#idle.length < this.#sessions.length) await new Promise((resolve) => this.#waiters.push((session) => { this.#release(session); resolve(undefined); }));
    await Promise.all(this.#sessions.map((s) => s.release()));
  }

  #acquire(): Promise<ort.InferenceSession> {
    const session = this.#idle.pop();
    if (session) return Promise.resolve(session);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #release(session: ort.InferenceSession): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter(session);
    else this.#idle.push(session);
  }
}
