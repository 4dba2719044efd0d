// Which adapter group a step serves. llama.cpp applies LoRA adapters to a whole decode, so a step holds sequences
// of one adapter id only. The policy prefers the largest ready group (full batches) but weighs each group by how
// long it has gone unserved, so a small group's weight grows until it wins: no group starves.

export interface AdapterGroup {
  readonly adapterId: number;
  /** Sequences of the group that could take tokens this step (running, or waiting at the head of its line). */
  readonly numReady: number;
  /** When the group was last served, or when its oldest ready sequence arrived if never. */
  readonly lastServedMs: number;
}

/** Waiting this long doubles a group's weight. */
export const ADAPTER_AGING_MS = 100;

export function chooseAdapterGroup(groups: readonly AdapterGroup[], nowMs: number): number | null {
  let best: AdapterGroup | null = null;
  let bestWeight = -1;
  for (const group of groups) {
    if (group.numReady === 0) continue;
    const weight = group.numReady * (1 + Math.max(0, nowMs - group.lastServedMs) / ADAPTER_AGING_MS);
    if (weight > bestWeight || (weight === bestWeight && best !== null && group.adapterId < best.adapterId)) {
      best = group;
      bestWeight = weight;
    }
  }
  return best?.adapterId ?? null;
}
