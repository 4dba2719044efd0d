// Which adapter group a step serves. llama.cpp applies LoRA adapters to a whole decode, so a step holds sequences
// of one adapter id only. Groups take turns, least recently served first (the larger group on a tie), so every
// sequence gets tokens at the same pace whatever its group's size and no group starves: a group waits at most
// (groups - 1) turns. A turn lasts ADAPTER_TURN_STEPS steps because switching adapters makes llama.cpp
// re-reserve its compute graphs (4 to 20 ms measured on 2 cores, a third of a batch-8 step).
import type { Sequence } from "./sequence.js";

export interface AdapterGroup {
  readonly adapterId: number;
  /** Sequences of the group that could take tokens this step (running, or waiting to be admitted). */
  readonly numReady: number;
  /** When the group was last served, or when its oldest ready sequence arrived if never. */
  readonly lastServedMs: number;
}

export const ADAPTER_TURN_STEPS = 3;

export interface AdapterTurn {
  readonly adapterId: number;
  /** Consecutive steps the group has had so far. */
  readonly numSteps: number;
}

/**
 * The adapter groups of the sequences that could take tokens this step, each with its size and when it was last
 * served (or, never served, when its oldest sequence arrived).
 */
export function adapterGroups(ready: readonly Sequence[], lastServedMs: ReadonlyMap<number, number>): AdapterGroup[] {
  const groups = new Map<number, { numReady: number; oldestArrivalMs: number }>();
  for (const seq of ready) {
    const group = groups.get(seq.adapterId) ?? { numReady: 0, oldestArrivalMs: seq.arrivalMs };
    group.numReady++;
    group.oldestArrivalMs = Math.min(group.oldestArrivalMs, seq.arrivalMs);
    groups.set(seq.adapterId, group);
  }
  return [...groups].map(([adapterId, g]) => ({
    adapterId,
    numReady: g.numReady,
    lastServedMs: lastServedMs.get(adapterId) ?? g.oldestArrivalMs,
  }));
}

/** The group to serve: the current turn's until it has had ADAPTER_TURN_STEPS steps, else the least recently served. */
export function chooseAdapterGroup(groups: readonly AdapterGroup[], turn: AdapterTurn | null = null): number | null {
  const ready = groups.filter((g) => g.numReady > 0);
  if (turn !== null && turn.numSteps < ADAPTER_TURN_STEPS && ready.some((g) => g.adapterId === turn.adapterId))
    return turn.adapterId;
  let best: AdapterGroup | null = null;
  for (const group of ready) {
    if (
      best === null ||
      group.lastServedMs < best.lastServedMs ||
      (group.lastServedMs === best.lastServedMs &&
        (group.numReady > best.numReady || (group.numReady === best.numReady && group.adapterId < best.adapterId)))
    ) {
      best = group;
    }
  }
  return best?.adapterId ?? null;
}
