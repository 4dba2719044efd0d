// MemoryBudget: the memory all loaded LLMs may use together (--memory-budget). A model counts its weights (the
// tensor bytes llama.cpp reports) plus its KV pool (cells times bytes per cell, f16 K and V in every layer, the
// estimate the addon checks pools against too); a load that would pass the budget is refused before its KV pool is
// made. A version being drained still counts until it is freed, so a reload needs room for both for a while.
import type { ModelInfo } from "../../backend/types.js";
import { ModelLoadError } from "../errors.js";

/** Bytes one KV cell takes: K and V of every layer at f16 (llama.cpp's default cache type). */
function kvBytesPerCell(info: ModelInfo): number {
  const headDim = info.embeddingSize / Math.max(1, info.headCount);
  return info.layerCount * headDim * info.headCountKv * (2 + 2);
}

/** What a model with `kvTokens` KV cells needs, in bytes. */
export function modelBytes(info: ModelInfo, kvTokens: number): number {
  return info.sizeBytes + kvTokens * kvBytesPerCell(info);
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;

export interface MemoryReservation {
  readonly bytes: number;
  /** Gives the bytes back (the model was freed, or its load failed); idempotent. */
  release(): void;
}

export class MemoryBudget {
  /** Bytes, or null for no limit. */
  readonly limitBytes: number | null;
  readonly #held = new Map<object, { readonly what: string; readonly bytes: number }>();

  constructor(limitBytes: number | null) {
    if (limitBytes !== null && !(Number.isFinite(limitBytes) && limitBytes > 0))
      throw new RangeError(`limitBytes must be a positive number or null, got ${limitBytes}`);
    this.limitBytes = limitBytes;
  }

  get usedBytes(): number {
    let used = 0;
    for (const { bytes } of this.#held.values()) used += bytes;
    return used;
  }

  /** Holds `bytes` for `what` (a model version); throws ModelLoadError, naming what holds the rest, when over. */
  reserve(what: string, bytes: number): MemoryReservation {
    const used = this.usedBytes;
    if (this.limitBytes !== null && used + bytes > this.limitBytes) {
      const holders = [...this.#held.values()].map((h) => `${h.what} ${gib(h.bytes)}`).join(", ");
      throw new ModelLoadError(
        `${what} needs about ${gib(bytes)} (weights and KV cache), but only ${gib(this.limitBytes - used)} of the ` +
          `${gib(this.limitBytes)} memory budget is free${holders === "" ? "" : ` (held: ${holders})`}; unload a ` +
          "model, lower its kv_tokens or raise --memory-budget",
      );
    }
    const key = {};
    this.#held.set(key, { what, bytes });
    return { bytes, release: () => this.#held.delete(key) };
  }
}
