// toBatch: a StepPlan as the backend's flat arrays.
import { KV_OP_WIDTH, KvOpCode, type Batch, type SequenceSampler } from "../backend/types.js";
import type { KvOp } from "../kv/types.js";
import type { StepPlan } from "../scheduler/step-plan.js";

function encodeKvOps(ops: readonly KvOp[]): Int32Array {
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
 * Rows in chunk order, filler rows (token 0, no output) between them by slot: chunks are in slot order whenever there
 * are fillers.
 */
export function toBatch(plan: StepPlan): Batch {
  const numRows = plan.numTokens + plan.fillers.length;
  const tokens = new Int32Array(numRows);
  const positions = new Int32Array(numRows);
  const seqIds = new Int32Array(numRows);
  const outputRows: number[] = [];
  const samplers: SequenceSampler[] = [];
  const topLogprobs: number[] = [];
  let row = 0;
  let filler = 0;
  const fillersBelow = (slot: number) => {
    for (; filler < plan.fillers.length && plan.fillers[filler]!.slot < slot; filler++, row++) {
      positions[row] = plan.fillers[filler]!.position;
      seqIds[row] = plan.fillers[filler]!.slot;
    }
  };
  for (const { seq, fromIndex, numTokens, sample } of plan.chunks) {
    const slot = seq.table!.slot;
    fillersBelow(slot);
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
  fillersBelow(Infinity);
  return {
    tokens,
    positions,
    seqIds,
    samplers,
    outputRows: Int32Array.from(outputRows),
    ...(topLogprobs.some((n) => n >= 0) ? { topLogprobs: Int32Array.from(topLogprobs) } : {}),
    ...(plan.kvOps.length > 0 ? { kvOps: encodeKvOps(plan.kvOps) } : {}),
  };
}
