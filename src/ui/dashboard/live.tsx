// Live: the server's numbers now (tiles) and over the last CHART_POINTS samples (charts). Throughput charts draw
// every model and route variant; latency, sequence and cache charts draw the one picked.
import { useMemo, useState } from "preact/hooks";
import type uPlot from "uplot";
import { formatCount, formatMs, formatPercent, formatRate } from "../lib/format.js";
import type { Ring } from "../lib/ring.js";
import type { Theme } from "../lib/theme.js";
import { Chart } from "./chart.js";
import { type Quantiles, type SeriesSample, type StatsSample, seriesName, useStatsStream } from "./stats.js";

type Read = (s: SeriesSample) => number | null;

function columns(samples: Ring<StatsSample>, names: readonly string[], reads: readonly Read[]): uPlot.AlignedData {
  const xs = samples.map((s) => s.timestamp_ms / 1000);
  const ys = names.flatMap((name) =>
    reads.map((read) =>
      samples.map((s) => {
        const series = s.series.find((x) => seriesName(x) === name);
        return series ? read(series) : null;
      }),
    ),
  );
  return [xs, ...ys];
}

const ms = (v: number) => `${v >= 100 ? v.toFixed(0) : v.toPrecision(2)} ms`;
const perSecond = (v: number) => (v >= 100 ? v.toFixed(0) : v.toPrecision(2));
const percent = (v: number) => `${v.toFixed(0)} %`;
const whole = (v: number) => v.toFixed(0);
const inMs = (pick: (q: Quantiles) => number | null, field: (s: SeriesSample) => Quantiles): Read => {
  return (s) => {
    const v = pick(field(s));
    return v === null ? null : v * 1000;
  };
};
const quantileReads = (field: (s: SeriesSample) => Quantiles): Read[] => [
  inMs((q) => q.p50, field),
  inMs((q) => q.p95, field),
  inMs((q) => q.p99, field),
];
const asPercent =
  (read: Read): Read =>
  (s) => {
    const v = read(s);
    return v === null ? null : v * 100;
  };

function Tile({ label, value, metric }: { label: string; value: string; metric: string }) {
  return (
    <div class="tile">
      <span class="label">{label}</span>
      <span class="value" data-metric={metric}>
        {value}
      </span>
    </div>
  );
}

export function Live({ intervalMs, theme }: { intervalMs: number; theme: Theme }) {
  const stream = useStatsStream(intervalMs);
  const latest = stream.samples.last();
  const names = useMemo(() => (latest?.series ?? []).map(seriesName), [latest]);
  const [picked, setPicked] = useState<string | null>(null);
  const selected = picked !== null && names.includes(picked) ? picked : (names[0] ?? null);
  const current = latest?.series.find((s) => seriesName(s) === selected);
  const one = selected === null ? [] : [selected];
  // The ring changes in place; `version` marks each change.
  const charts = useMemo(
    () => [
      {
        title: "Output tokens/s",
        lines: names,
        data: columns(stream.samples, names, [(s) => s.output_tokens_per_second]),
        format: perSecond,
      },
      {
        title: "Requests finished/s",
        lines: names,
        data: columns(stream.samples, names, [(s) => s.requests_per_second]),
        format: perSecond,
      },
      ...(
        [
          ["Time to first token", (s: SeriesSample) => s.ttft_seconds],
          ["Time per output token", (s: SeriesSample) => s.tpot_seconds],
          ["Inter-token latency", (s: SeriesSample) => s.itl_seconds],
        ] as const
      ).map(([title, field]) => ({
        title,
        lines: ["p50", "p95", "p99"],
        data: columns(stream.samples, one, quantileReads(field)),
        format: ms,
      })),
      {
        title: "Sequences",
        lines: ["running", "waiting"],
        data: columns(stream.samples, one, [(s) => s.num_requests_running, (s) => s.num_requests_waiting]),
        format: whole,
        integer: true,
      },
      {
        title: "KV cache",
        lines: ["KV blocks in use", "prefix-cache hit rate"],
        data: columns(stream.samples, one, [
          asPercent((s) => s.kv_cache_usage),
          asPercent((s) => s.prefix_cache_hit_rate),
        ]),
        format: percent,
        yMax: 100,
      },
    ],
    [stream.version, names.join("\n"), selected],
  );

  return (
    <section aria-labelledby="live-title" data-samples={stream.samples.pushed}>
      <div class="section-head">
        <h1 id="live-title">Live</h1>
        <span class={`badge ${stream.status}`} role="status">
          {stream.status}
        </span>
        {names.length > 1 && (
          <label class="inline">
            Model{" "}
            <select value={selected ?? ""} onChange={(e) => setPicked(e.currentTarget.value)}>
              {names.map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
          </label>
        )}
      </div>
      {stream.error !== null && <p class="error">Stats stream: {stream.error}</p>}
      {latest !== undefined && current === undefined && <p class="hint">No model is loaded.</p>}
      <div class="tiles">
        <Tile
          label="Output tokens/s"
          metric="output_tokens_per_second"
          value={formatRate(current?.output_tokens_per_second)}
        />
        <Tile label="Requests/s" metric="requests_per_second" value={formatRate(current?.requests_per_second)} />
        <Tile label="Running" metric="num_requests_running" value={formatCount(current?.num_requests_running)} />
        <Tile label="Waiting" metric="num_requests_waiting" value={formatCount(current?.num_requests_waiting)} />
        <Tile label="TTFT p50" metric="ttft_p50" value={formatMs(current?.ttft_seconds.p50)} />
        <Tile label="TPOT p50" metric="tpot_p50" value={formatMs(current?.tpot_seconds.p50)} />
        <Tile label="KV in use" metric="kv_cache_usage" value={formatPercent(current?.kv_cache_usage)} />
        <Tile
          label="Prefix hits"
          metric="prefix_cache_hit_rate"
          value={formatPercent(current?.prefix_cache_hit_rate)}
        />
      </div>
      <div class="charts">
        {charts.map((chart) => (
          <Chart key={chart.title} theme={theme} {...chart} />
        ))}
      </div>
    </section>
  );
}
