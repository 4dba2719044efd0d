// RolloutController: a progressive rollout's stages. The candidate's share of traffic follows a schedule of steps
// (5% -> 25% -> 50% -> 100%); a stage advances once it has lasted its time and the candidate has served enough
// requests with its guards holding: error rate, and p99 TTFT and TPOT against the primary's over the same window. A
// breach goes back one stage (from the first stage, to 0%) and stops the rollout from advancing again; it keeps
// guarding, so a candidate that still fails goes back further. (Argo Rollouts' and Flagger's canary analysis.)
import type { WindowStats } from "./outcomes.js";

export interface RolloutGuards {
  readonly maxErrorRate: number;
  readonly maxTtftP99Ratio: number;
  readonly maxTpotP99Ratio: number;
}

export interface RolloutOptions {
  /** The candidate's share at each stage, 0 to 1, increasing. */
  readonly steps: readonly number[];
  readonly stageMs: number;
  readonly minRequests: number;
  readonly guards: RolloutGuards;
  readonly now: () => number;
}

export type RolloutState = "progressing" | "complete" | "rolled_back";

export interface RolloutStatus {
  /** Index into the steps; -1 once rolled back past the first stage (the candidate gets nothing). */
  readonly stage: number;
  readonly weight: number;
  readonly state: RolloutState;
  /** Why the last rollback happened; null before any. */
  readonly reason: string | null;
}

/** A stage change the last evaluation made. */
export interface RolloutChange {
  readonly kind: "advance" | "rollback";
  readonly from: number;
  readonly to: number;
  readonly reason: string;
}

const percent = (x: number) => `${(x * 100).toFixed(1)}%`;

export class RolloutController {
  readonly #options: RolloutOptions;
  #stage = 0;
  #stageSince: number;
  #state: RolloutState;
  #reason: string | null = null;

  constructor(options: RolloutOptions) {
    this.#options = options;
    this.#stageSince = options.now();
    this.#state = options.steps.length === 1 ? "complete" : "progressing";
  }

  get status(): RolloutStatus {
    return { stage: this.#stage, weight: this.weight, state: this.#state, reason: this.#reason };
  }

  /** The candidate's share of traffic now, 0 to 1. */
  get weight(): number {
    return this.#stage < 0 ? 0 : this.#options.steps[this.#stage]!;
  }

  /** Judges the candidate's window against the primary's; applies and returns the change it makes, if any. */
  evaluate(primary: WindowStats, candidate: WindowStats): RolloutChange | null {
    const { minRequests, stageMs, steps, now } = this.#options;
    if (this.#stage < 0 || candidate.count < minRequests) return null;
    const breach = this.#breach(primary, candidate);
    const from = this.weight;
    if (breach !== null) {
      this.#stage--;
      this.#state = "rolled_back";
      this.#reason = breach;
      this.#stageSince = now();
      return { kind: "rollback", from, to: this.weight, reason: breach };
    }
    if (this.#state !== "progressing" || now() - this.#stageSince < stageMs) return null;
    this.#stage++;
    this.#stageSince = now();
    if (this.#stage === steps.length - 1) this.#state = "complete";
    return { kind: "advance", from, to: this.weight, reason: `guards held over ${candidate.count} requests` };
  }

  #breach(primary: WindowStats, candidate: WindowStats): string | null {
    const { guards, minRequests } = this.#options;
    if (candidate.errorRate > guards.maxErrorRate) {
      return (
        `candidate error rate ${percent(candidate.errorRate)} over ${candidate.count} requests is above ` +
        `${percent(guards.maxErrorRate)}`
      );
    }
    // Latency is judged against the primary only while the primary has served enough in the window too.
    if (primary.count < minRequests) return null;
    const ratios = [
      ["TTFT", candidate.ttftP99Ms, primary.ttftP99Ms, guards.maxTtftP99Ratio],
      ["TPOT", candidate.tpotP99Ms, primary.tpotP99Ms, guards.maxTpotP99Ratio],
    ] as const;
    for (const [name, mine, theirs, max] of ratios) {
      if (mine === null || theirs === null || theirs <= 0) continue;
      if (mine / theirs <= max) continue;
      const ratio = (mine / theirs).toFixed(2);
      const primaryMs = theirs.toFixed(1);
      return `candidate p99 ${name} ${mine.toFixed(1)} ms is ${ratio}x the primary's ${primaryMs} ms (at most ${max}x)`;
    }
    return null;
  }
}
