// usePoll: a JSON resource fetched now and every `intervalMs`, for the tables beside the live charts.
import { useCallback, useEffect, useState } from "preact/hooks";
import { getJson } from "./api.js";

export interface Polled<T> {
  readonly data: T | null;
  readonly error: string | null;
  /** Fetches again at once (after an action changed the resource). */
  readonly refresh: () => void;
}

/** `path` is fetched while the component is mounted; a failed fetch keeps the last data and reports the error. */
export function usePoll<T>(path: string | null, intervalMs: number): Polled<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const refresh = useCallback(() => setTick((t) => t + 1), []);
  // `tick` is in the dependencies so that refresh() fetches at once.
  useEffect(() => {
    if (path === null) return;
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      try {
        setData(await getJson<T>(path, controller.signal));
        setError(null);
      } catch (e) {
        if (controller.signal.aborted) return;
        setError((e as Error).message);
      }
      if (!controller.signal.aborted) timer = setTimeout(load, intervalMs);
    };
    void load();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [path, intervalMs, tick]);
  return { data, error, refresh };
}
