// CancelRegistry: in-process abort signals for running jobs, keyed by the id a client cancels (a batch or a
// background request), fed by the store's cancel messages so a cancel on any replica reaches the worker running it.
import type { JobStore } from "./store.js";

export class CancelRegistry {
  readonly #controllers = new Map<string, Set<AbortController>>();

  constructor(store: JobStore) {
    store.onCancel((id) => {
      for (const controller of this.#controllers.get(id) ?? []) controller.abort("cancel");
    });
  }

  /**
   * A signal that aborts with `queueSignal`'s reason (a worker shutting down) or with reason "cancel" when `id` is
   * cancelled in any process. Call release() when the work is done.
   */
  track(id: string, queueSignal: AbortSignal): { signal: AbortSignal; release: () => void } {
    const controller = new AbortController();
    let set = this.#controllers.get(id);
    if (!set) this.#controllers.set(id, (set = new Set()));
    set.add(controller);
    return {
      signal: AbortSignal.any([queueSignal, controller.signal]),
      release: () => {
        set.delete(controller);
        if (set.size === 0) this.#controllers.delete(id);
      },
    };
  }
}
