// The server's counters that must come back to their idle values once a load stops: sequences running and
// waiting, KV blocks in use, batch lines and queued jobs, and the process's open file descriptors (read from
// /proc, so sockets, pipes and files all count).
import { readdirSync, readlinkSync } from "node:fs";
import { get } from "node:http";

/** The sum of every sample of `name` whose labels include all of `labels` (Prometheus text format). */
export function metricSum(text: string, name: string, labels: Readonly<Record<string, string>> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (!/^[\s{]/.test(rest)) continue;
    const labelText = rest.startsWith("{") ? rest.slice(1, rest.indexOf("}")) : "";
    if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`)))
      sum += Number(line.split(/\s+/).at(-1));
  }
  return sum;
}

export interface Counters {
  readonly running: number;
  readonly waiting: number;
  readonly kvBlocksUsed: number;
  /** Jobs waiting or active in any queue (delayed ones, such as a batch's expiry, are timers, not work). */
  readonly jobs: number;
  readonly batchLinesInProgress: number;
  readonly openFds: number;
}

const IDLE_KEYS = ["running", "waiting", "kvBlocksUsed", "jobs", "batchLinesInProgress"] as const;

/** The open file descriptors of process `pid`, by what they point at (socket:[...], pipe:[...], paths). */
export function openFds(pid: number): string[] {
  const dir = `/proc/${pid}/fd`;
  return readdirSync(dir).flatMap((fd) => {
    try {
      return [readlinkSync(`${dir}/${fd}`)];
    } catch {
      return []; // closed between the listing and the read
    }
  });
}

/**
 * GET on a connection of its own, closed after the answer: a pooled keep-alive connection would hold a descriptor
 * of the server open and blur the count.
 */
export function getOnce(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false, headers: { connection: "close" } }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (text += chunk));
      response.on("end", () => resolve(text));
      response.on("error", reject);
    }).on("error", reject);
  });
}

/** The counters now; the descriptors are counted before /metrics is read, so its own connection is not among them. */
export async function readCounters(url: string, pid: number): Promise<Counters> {
  const openFdCount = openFds(pid).length;
  const text = await getOnce(`${url}/metrics`);
  return {
    running: metricSum(text, "vllm:num_requests_running"),
    waiting: metricSum(text, "vllm:num_requests_waiting"),
    kvBlocksUsed: metricSum(text, "loom:kv_blocks", { state: "used" }),
    jobs:
      metricSum(text, "loom:job_queue_depth", { state: "waiting" }) +
      metricSum(text, "loom:job_queue_depth", { state: "active" }),
    batchLinesInProgress: metricSum(text, "loom:batch_lines_in_progress"),
    openFds: openFdCount,
  };
}

/**
 * Polls until every idle counter is 0 and the descriptors are back to `baselineFds` or fewer; resolves with the
 * problems left at the deadline (none: idle).
 */
export async function waitIdle(url: string, pid: number, baselineFds: number, timeoutMs = 60_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const counters = await readCounters(url, pid);
    const problems = IDLE_KEYS.filter((k) => counters[k] !== 0).map((k) => `${k} is ${counters[k]}, not 0`);
    if (counters.openFds > baselineFds)
      problems.push(`${counters.openFds} open file descriptors, ${baselineFds} before the run`);
    if (problems.length === 0 || Date.now() > deadline) return problems;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
