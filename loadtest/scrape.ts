// Reading what a server says of itself in a benchmark: the sum of a metric's series in its Prometheus text
// (/metrics), so a run's share of a counter is the difference of two reads; and its own time for one answer.

/**
 * The sum of every series of `name` whose labels include `labels` (exact values), labelled (`name{...} v`) or not
 * (`name v`, as llama-server writes its counters); 0 when the server has no such series or no /metrics at all.
 */
export async function metricSum(url: string, name: string, labels: Readonly<Record<string, string>> = {}) {
  const response = await fetch(`${url}/metrics`);
  if (!response.ok) return 0;
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  return (await response.text())
    .split("\n")
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .filter((line) => wanted.every((label) => line.includes(label)))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);
}

/** The server's own time for a response (its `Server-Timing: app;dur=MS`), in ms; NaN when it sent none. */
export function serverTimeMs(response: Response): number {
  return Number(/(?:^|,\s*)app;dur=([\d.]+)/.exec(response.headers.get("server-timing") ?? "")?.[1] ?? Number.NaN);
}
