// The stats stream (GET /loom/v1/stats/stream) as the dashboard keeps it: the latest samples in a fixed-size ring,
// read over a fetch stream that reconnects when the server goes away and comes back.
import { useEffect, useRef, useState } from "preact/hooks";
import { call, HttpError, serverEvents } from "../lib/api.js";
import { Ring } from "../lib/ring.js";

/** Seconds; null when no request finished in the window. */
export interface Quantiles {
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
}

/** One model, or one route variant of it, as the server sends it. */
export interface SeriesSample {
  readonly model: string;
  readonly variant: string | null;
  readonly output_tokens_per_second: number | null;
  readonly requests_per_second: number | null;
  readonly ttft_seconds: Quantiles;
  readonly tpot_seconds: Quantiles;
  readonly itl_seconds: Quantiles;
  readonly num_requests_running: number | null;
  readonly num_requests_waiting: number | null;
  readonly kv_cache_usage: number | null;
  readonly prefix_cache_hit_rate: number | null;
}

export interface StatsSample {
  readonly timestamp_ms: number;
  readonly window_seconds: number;
  readonly series: readonly SeriesSample[];
}

/** Points each chart keeps: ten minutes at the default interval of a second. */
const CHART_POINTS = 600;

export function seriesName(s: SeriesSample): string {
  return s.variant === null ? s.model : `${s.model} · ${s.variant}`;
}

type StreamStatus = "connecting" | "live" | "reconnecting";

export interface StatsStream {
  readonly samples: Ring<StatsSample>;
  /** Grows with every redraw-worthy change; the ring itself is mutated in place. */
  readonly version: number;
  readonly status: StreamStatus;
  readonly error: string | null;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
  });

/** Samples every `intervalMs`; redraws at most once per animation frame, none while the tab is hidden. */
export function useStatsStream(intervalMs: number): StatsStream {
  const samples = useRef(new Ring<StatsSample>(CHART_POINTS)).current;
  const [version, setVersion] = useState(0);
  const [status, setStatus] = useState<StreamStatus>("connecting");
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const controller = new AbortController();
    let frame = 0;
    const redraw = () => {
      if (frame !== 0) return;
      frame = requestAnimationFrame(() => {
        frame = 0;
        setVersion((v) => v + 1);
      });
    };
    const run = async () => {
      let retryMs = 1000;
      while (!controller.signal.aborted) {
        try {
          const response = await call(`/loom/v1/stats/stream?interval_ms=${intervalMs}`, {
            headers: { accept: "text/event-stream" },
            signal: controller.signal,
          });
          setStatus("live");
          setError(null);
          retryMs = 1000;
          for await (const message of serverEvents(response)) {
            if (message.event !== "stats") continue;
            samples.push(JSON.parse(message.data) as StatsSample);
            redraw();
          }
        } catch (e) {
          if (controller.signal.aborted || (e instanceof HttpError && e.status === 401)) return;
          setError((e as Error).message);
        }
        setStatus("reconnecting");
        await sleep(retryMs, controller.signal);
        retryMs = Math.min(retryMs * 2, 10_000);
      }
    };
    void run();
    return () => {
      controller.abort();
      cancelAnimationFrame(frame);
    };
  }, [intervalMs, samples]);
  return { samples, version, status, error };
}
