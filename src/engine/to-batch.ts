// toBatch: a StepPlan as the backend's flat arrays.
import { KV_OP_WIDTH, KvOpCode, type Batch, type SequenceSampler } from "../backend/types.js";
import type { KvOp } from "../kv/types.js";
import type { StepPlan } from "../scheduler/step-plan.js";

export function encodeKvOps(ops: readonly KvOp[]): Int32Array {
  const out = new Int32Array(ops.length * KV_OP_WIDTH);
  ops.forEach((op, i) => {
    out.set(op.kind === "copy"
      ? [KvOpCode.copy, op.srcSlot, op.dstSlot, op.fromPos, op.toPos]
      : [KvOpCode.remove, op.slot, 0, op.fromPos, op.toPos], i * KV_OP_WIDTH);
  });
  return out;
}

export function toBatch(plan: StepPlan): Batch {
  const tokens = new Int32Array(plan.numTokens);
  const positions = new Int32Array(plan.numTokens);
  const seqIds = new Int32Array(plan.numTokens);
  const outputRows: number[] = [];
  const samplers: SequenceSampler[] = [];
  const topLogprobs: number[] = [];
  let row = 0;
  for (const { seq, fromIndex, numTokens, sample } of plan.chunks) {
    const slot = seq.table!.slot;
    for (let i = fromIndex; i < fromIndex + numTokens; i++, row++) {
      tokens[row] = seq.tokens[i]!;
      positions[row] = i;
      seqIds[row] = slot;
    }
    if (sample) {
      outputRows.push(row - 1);
      samplers.push(seq.sampler);
      topLogprobs.push(seq.params.logprobs ?? -1);
    }
  }
  return {
    tokens, positions, seqIds, samplers,
    outputRows: Int32Array.from(outputRows),
    ...(topLogprobs.some((n) => n >= 0) ? { topLogprobs: Int32Array.from(topLogprobs) } : {}),
    ...(plan.kvOps.length > 0 ? { kvOps: encodeKvOps(plan.kvOps) } : {}),
  };
}
