// HealthState: the server's phase for Kubernetes-style probes. startup: models loaded; live: the process
// answers; ready: loaded, not draining, and every engine loop alive.

export type Phase = "starting" | "serving" | "draining";

export class HealthState {
  #phase: Phase = "starting";
  readonly #checks: (() => string | null)[] = [];

  get phase(): Phase {
    return this.#phase;
  }

  /** A check returns null when healthy, or why not (e.g. an engine loop that died). */
  addCheck(check: () => string | null): void {
    this.#checks.push(check);
  }

  serving(): void {
    if (this.#phase === "starting") this.#phase = "serving";
  }

  draining(): void {
    this.#phase = "draining";
  }

  get started(): boolean {
    return this.#phase !== "starting";
  }

  /** Null when ready, else why not. */
  notReadyReason(): string | null {
    if (this.#phase === "starting") return "the model is still loading";
    if (this.#phase === "draining") return "the server is shutting down";
    for (const check of this.#checks) {
      const problem = check();
      if (problem !== null) return problem;
    }
    return null;
  }
}
