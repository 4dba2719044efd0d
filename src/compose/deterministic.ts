// What --deterministic changes in the composition. A row's logits must not depend on the rows it shares a step
// with, nor on where its cells lie (loadtest/determinism-probe.ts measures each cause): so a stream per sequence (in
// a unified pool, attention's reduction follows where a sequence's cells landed among others'), flash attention
// (without it, attention's matmuls change kernel with the rows per stream), and the context's batch-invariant steps
// (native/src/decode-calls.cpp: no micro-batch of one row, long chunks cut below the tiled-attention size). The
// scheduler, the prefix cache and speculative decoding stay as they are: with those, a row computes the same
// wherever it is planned, so cached prefixes and verified drafts give the bits a solo run gives.
import { type Config, ConfigError } from "../config.js";
import { type StepShape, slotRunSteps } from "../scheduler/step-shape.js";
import type { KvLayoutName } from "./kv-layout.js";

/** The KV layout and context options of deterministic mode; ConfigError for options that contradict it. */
export function deterministicSetup(config: Pick<Config, "kvLayout" | "flashAttention">): {
  readonly kvLayout: { readonly name: KvLayoutName; readonly reason: string };
  readonly contextOptions: { readonly batchInvariant: true; readonly flashAttention: "on" };
} {
  if (config.kvLayout === "unified")
    throw new ConfigError("--deterministic needs a stream per sequence: --kv-layout per-sequence (or auto)");
  if (config.flashAttention === "off")
    throw new ConfigError("--deterministic needs flash attention: --flash-attention on (or auto)");
  return {
    kvLayout: { name: "per-sequence", reason: "--deterministic needs a stream per sequence" },
    contextOptions: { batchInvariant: true, flashAttention: "on" },
  };
}

/**
 * Per-sequence steps without filler rows: a filler would get a row of its own where it has no neighbour, which is
 * only wasted work, and could reach past its stream.
 */
export const deterministicSteps: StepShape = slotRunSteps({ fillGaps: () => [] });
