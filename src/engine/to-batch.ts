// toBatch: a StepPlan as the backend's flat arrays.
import { KV_OP_WIDTH, KvOpCode, type Batch, type SequenceSampler } from "../backend/types.js";
import type { KvOp } from "../kv/types.js";
import type { StepPlan } from "../scheduler/step-plan.js";

/** KvOps as Batch.kvOps: five integers each (see KvOpCode). */
export function encodeKvOps(ops: readonly KvOp[]): Int32Array {
  const out = new Int32Array(ops.length * KV_OP_WIDTH);
  ops.forEach((op, i) => {
    out.set(
      op.kind === "copy"
        ? [KvOpCode.copy, op.srcSlot, op.dstSlot, op.fromPos, op.toPos]
        : [KvOpCode.remove, op.slot, 0, op.fromPos, op.toPos],
      i * KV_OP_WIDTH,
    );
  });
  return out;
}

/**
 * Rows in chunk order, a verify chunk's draft rows right after its own, filler rows (token 0, no output) between
 * chunks by slot: chunks are in slot order whenever there are fillers. Its priority (the turn at shared compute) is
 * its most urgent sequence's.
 */
export function toBatch(plan: StepPlan): Batch {
  const numRows = plan.numTokens + plan.fillers.length;
  const tokens = new Int32Array(numRows);
  const positions = new Int32Array(numRows);
  const seqIds = new Int32Array(numRows);
  const outputRows: number[] = [];
  const samplers: SequenceSampler[] = [];
  const topLogprobs: number[] = [];
  const draftsAfter: number[] = [];
  let row = 0;
  let filler = 0;
  const fillersBelow = (slot: number) => {
    for (; filler < plan.fillers.length && plan.fillers[filler]!.slot < slot; filler++, row++) {
      positions[row] = plan.fillers[filler]!.position;
      seqIds[row] = plan.fillers[filler]!.slot;
    }
  };
  for (const { seq, fromIndex, numTokens, sample, draft } of plan.chunks) {
    const slot = seq.table!.slot;
    fillersBelow(slot);
    for (let i = 0; i < numTokens + draft.length; i++, row++) {
      tokens[row] = i < numTokens ? seq.tokens[fromIndex + i]! : draft[i - numTokens]!;
      positions[row] = fromIndex + i;
      seqIds[row] = slot;
    }
    if (!sample) continue;
    for (let d = draft.length; d >= 0; d--) {
      outputRows.push(row - 1 - d);
      samplers.push(seq.sampler);
      topLogprobs.push(seq.params.logprobs ?? -1);
      draftsAfter.push(d);
    }
  }
  fillersBelow(Infinity);
  let priority = Infinity;
  for (const { seq } of plan.chunks) priority = Math.min(priority, seq.priority);
  return {
    tokens,
    positions,
    seqIds,
    samplers,
    outputRows: Int32Array.from(outputRows),
    ...(topLogprobs.some((n) => n >= 0) ? { topLogprobs: Int32Array.from(topLogprobs) } : {}),
    ...(draftsAfter.some((n) => n > 0) ? { draftsAfter: Int32Array.from(draftsAfter) } : {}),
    ...(plan.kvOps.length > 0 ? { kvOps: encodeKvOps(plan.kvOps) } : {}),
    ...(priority === Infinity ? {} : { priority }),
  };
}
