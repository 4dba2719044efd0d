// Messages between OnnxModel and its session workers. Tensor data travels as typed arrays whose buffers are
// transferred, not copied.
import type { TensorData } from "./tensors.js";

export interface WireTensor {
  readonly name: string;
  /** onnxruntime's element type name ("float32", "int64", ...). */
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: TensorData;
}

export interface SessionSettings {
  readonly path: string;
  readonly threads: number;
  readonly device: "cpu" | "cuda";
}

export type WorkerReply =
  | { readonly type: "ready"; readonly inputs: readonly unknown[]; readonly outputs: readonly unknown[] }
  /** feedBuffers: the buffers of the run's feeds, handed back for reuse. */
  | {
      readonly type: "result";
      readonly id: number;
      readonly outputs: readonly WireTensor[];
      readonly feedBuffers: readonly ArrayBuffer[];
    }
  | { readonly type: "error"; readonly id: number | null; readonly message: string };

export interface RunMessage {
  readonly id: number;
  readonly feeds: readonly WireTensor[];
  readonly outputNames: readonly string[];
}

/** The buffers to transfer with these tensors; a view over part of a buffer is copied first, so only its bytes move. */
export function transferable(tensors: readonly WireTensor[]): { tensors: WireTensor[]; transfer: ArrayBuffer[] } {
  const owned = tensors.map((t) =>
    t.data.byteOffset === 0 && t.data.byteLength === t.data.buffer.byteLength
      ? t
      : { ...t, data: t.data.slice() as TensorData },
  );
  return { tensors: owned, transfer: owned.map((t) => t.data.buffer as ArrayBuffer) };
}
