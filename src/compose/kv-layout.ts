// KV layouts as named policies, chosen at composition: the llama.cpp context each needs, the allocator that
// accounts its cells, and the step shape the scheduler plans with. The scheduler and engine see only the
// KvAllocator and StepShape interfaces.
import { KvManager } from "../kv/kv-manager.js";
import { StreamKvManager } from "../kv/stream-kv-manager.js";
import type { KvAllocator } from "../kv/types.js";
import { packedSteps, type StepShape, slotRunSteps } from "../scheduler/step-shape.js";

/** llama.cpp validates sequence ids below this bound; parked prefix holders share the range with running sequences. */
const MAX_LLAMA_SEQUENCES = 256;

export type KvLayoutName = "unified" | "per-sequence";

/**
 * A stream this long is enough for the automatic choice to take the per-sequence layout (unless the model's own
 * context is shorter): on 2 CPU cores at 32 concurrent requests it served 1.4x the unified pool's output tokens/s
 * and about llama-server's (BENCHMARKS.md), while streams shorter than this would refuse ordinary prompts.
 */
const AUTO_MIN_STREAM_TOKENS = 1024;

/**
 * The layout `--kv-layout auto` takes, and why: per-sequence when each of maxRunning streams (kvTokens / maxRunning
 * cells) can hold what a sequence needs (an explicit maxModelLen, else the model's context up to
 * AUTO_MIN_STREAM_TOKENS), else the unified pool, whose sequences may grow to all of kvTokens.
 */
export function chooseKvLayout(
  requested: KvLayoutName | "auto",
  {
    kvTokens,
    maxRunning,
    maxModelLen,
    contextLengthTrain,
  }: { kvTokens: number; maxRunning: number; maxModelLen?: number; contextLengthTrain: number },
): { readonly name: KvLayoutName; readonly reason: string } {
  if (requested !== "auto") return { name: requested, reason: "asked for with --kv-layout" };
  const streamTokens = Math.floor(kvTokens / maxRunning);
  const needed = maxModelLen ?? Math.min(contextLengthTrain, AUTO_MIN_STREAM_TOKENS);
  return streamTokens >= needed
    ? { name: "per-sequence", reason: `a stream of ${streamTokens} tokens per sequence holds the ${needed} needed` }
    : {
        name: "unified",
        reason:
          `a stream of ${streamTokens} tokens per sequence (kv-tokens / max-running) ` +
          `is shorter than the ${needed} needed`,
      };
}

export interface KvLayoutParams {
  readonly kvTokens: number;
  readonly maxRunning: number;
  readonly blockSize: number;
  readonly enablePrefixCaching: boolean;
  /** Cells kept for finished prompts in the unified pool (KvManagerOptions.retainedTokens). */
  readonly prefixCacheTokens: number;
}

/** What the context that llama.cpp created for a layout reports back. */
export interface KvContextShape {
  readonly maxSequences: number;
  readonly cellsPerSequence: number;
}

export interface KvLayout {
  /** The context options the layout needs: how many sequence ids, and whether they share one pool of cells. */
  contextOptions(params: KvLayoutParams): { readonly maxSequences: number; readonly kvUnified: boolean };
  /** The allocator over the created context's cells and the matching step shape. */
  build(params: KvLayoutParams, context: KvContextShape): { readonly kv: KvAllocator; readonly shape: StepShape };
  /** Why `maxModelLen` cannot be served, or null when it can. */
  checkMaxModelLen(maxModelLen: number, params: KvLayoutParams, context: KvContextShape): string | null;
}

/**
 * unified: one pool of kvTokens cells shared by all sequences, prefixes shared in place (DESIGN.md's layout).
 * per-sequence: a stream of kvTokens / maxRunning cells per sequence (llama-server's -np layout): attention scans
 * one stream instead of the whole pool, prefixes are shared by copying streams.
 */
export const KV_LAYOUTS: Readonly<Record<KvLayoutName, KvLayout>> = {
  unified: {
    // Twice the running cap leaves as many ids again for parked sequences that hold cached prefixes.
    contextOptions: ({ maxRunning }) => ({
      maxSequences: Math.min(MAX_LLAMA_SEQUENCES, maxRunning * 2),
      kvUnified: true,
    }),
    build: (params, context) => ({
      kv: new KvManager({
        numBlocks: Math.floor(params.kvTokens / params.blockSize),
        blockSize: params.blockSize,
        numSlots: context.maxSequences,
        enablePrefixCaching: params.enablePrefixCaching,
        retainedTokens: params.prefixCacheTokens,
      }),
      shape: packedSteps,
    }),
    checkMaxModelLen: (maxModelLen, { kvTokens }) =>
      maxModelLen > kvTokens ? `maxModelLen (${maxModelLen}) cannot exceed kvTokens (${kvTokens})` : null,
  },
  "per-sequence": {
    // One stream per running sequence; finished streams stay as prefix cache until reused.
    contextOptions: ({ maxRunning }) => ({ maxSequences: maxRunning, kvUnified: false }),
    build: (params, context) => {
      const kv = new StreamKvManager({
        numSlots: context.maxSequences,
        cellsPerSlot: context.cellsPerSequence,
        blockSize: params.blockSize,
        enablePrefixCaching: params.enablePrefixCaching,
      });
      return { kv, shape: slotRunSteps(kv) };
    },
    checkMaxModelLen: (maxModelLen, _params, { cellsPerSequence }) =>
      maxModelLen > cellsPerSequence
        ? `maxModelLen (${maxModelLen}) cannot exceed a sequence's stream ` +
          `(kvTokens / maxRunning = ${cellsPerSequence} cells)`
        : null,
  },
};
