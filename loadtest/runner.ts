// Runs a workload against a target: closed loop at a fixed concurrency, or open loop with Poisson arrivals,
// bounded by a request count and optionally a duration. Multi-turn conversations run their turns in order, each
// turn carrying the replies so far.
import { mulberry32 } from "../models/weights.js";
import { streamRequest, type Message, type Target } from "./client.js";
import { summarize, type RequestRecord, type Slo, type Summary } from "./stats.js";
import { conversation, type WorkloadName, type WorkloadOptions } from "./workloads.js";

export interface RunOptions {
  readonly target: Target;
  readonly workload: WorkloadName;
  readonly workloadOptions: WorkloadOptions;
  /** Closed loop: this many conversations in flight. */
  readonly concurrency?: number;
  /** Open loop: mean requests per second, Poisson arrivals. */
  readonly rate?: number;
  readonly requests: number;
  readonly durationSeconds?: number;
  readonly slo: Slo;
  /** Models (e.g. LoRA adapters) conversations take in turn; the target's model when absent. */
  readonly models?: readonly string[];
  readonly onProgress?: (line: string) => void;
}

export interface RunResult {
  readonly label: string;
  readonly workload: WorkloadName;
  readonly endpoint: Target["endpoint"];
  readonly model: string;
  readonly url: string;
  readonly concurrency: number | null;
  readonly rate: number | null;
  readonly startedAt: string;
  readonly summary: Summary;
  readonly records: RequestRecord[];
}

export async function runWorkload(options: RunOptions): Promise<RunResult> {
  const { target, workload, requests, concurrency, rate } = options;
  if ((concurrency === undefined) === (rate === undefined))
    throw new RangeError("give exactly one of concurrency and rate");
  if (!(Number.isInteger(requests) && requests > 0))
    throw new RangeError(`requests must be a positive integer, got ${requests}`);
  const records: RequestRecord[] = [];
  const startedAt = new Date().toISOString();
  const started = performance.now();
  const deadline =
    options.durationSeconds === undefined ? Number.POSITIVE_INFINITY : started + options.durationSeconds * 1000;
  let issued = 0;
  let nextConversation = 0;
  const canIssue = () => issued < requests && performance.now() < deadline;

  async function runConversation(index: number): Promise<void> {
    const { system, turns } = conversation(workload, index, options.workloadOptions);
    const models = options.models ?? [];
    const conversationTarget = models.length === 0 ? target : { ...target, model: models[index % models.length]! };
    const history: Message[] = system === null ? [] : [{ role: "system", content: system }];
    for (const turn of turns) {
      if (!canIssue()) return;
      const requestIndex = issued++;
      history.push({ role: "user", content: turn.user });
      const startMs = performance.now() - started;
      try {
        const outcome = await streamRequest(conversationTarget, history, turn.maxTokens);
        records.push({
          index: requestIndex,
          startMs,
          ok: true,
          error: null,
          promptTokens: outcome.promptTokens,
          outputTokens: outcome.outputTokens,
          ttftMs: outcome.ttftMs,
          e2eMs: outcome.e2eMs,
          itlMs: outcome.itlMs,
        });
        history.push({ role: "assistant", content: outcome.text });
      } catch (error) {
        records.push({
          index: requestIndex,
          startMs,
          ok: false,
          error: (error as Error).message,
          promptTokens: 0,
          outputTokens: 0,
          ttftMs: null,
          e2eMs: performance.now() - started - startMs,
          itlMs: [],
        });
        return;
      }
    }
  }

  const progress = setInterval(
    () => options.onProgress?.(progressLine(records, issued, requests, (performance.now() - started) / 1000)),
    1000,
  );
  try {
    if (concurrency !== undefined) {
      if (!(Number.isInteger(concurrency) && concurrency > 0))
        throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (canIssue()) await runConversation(nextConversation++);
        }),
      );
    } else {
      if (!(rate! > 0)) throw new RangeError(`rate must be positive, got ${rate}`);
      const random = mulberry32(options.workloadOptions.seed ^ 0x5bd1e995);
      const inFlight: Promise<void>[] = [];
      while (canIssue()) {
        inFlight.push(runConversation(nextConversation++));
        const gapMs = (-Math.log(1 - random()) / rate!) * 1000;
        await new Promise((resolve) => setTimeout(resolve, gapMs));
      }
      await Promise.all(inFlight);
    }
  } finally {
    clearInterval(progress);
  }
  const durationSeconds = (performance.now() - started) / 1000;
  records.sort((a, b) => a.index - b.index);
  const label = `${workload} ${concurrency !== undefined ? `c=${concurrency}` : `rate=${rate}/s`}`;
  return {
    label,
    workload,
    endpoint: target.endpoint,
    model: target.model,
    url: target.url,
    concurrency: concurrency ?? null,
    rate: rate ?? null,
    startedAt,
    summary: summarize(records, durationSeconds, options.slo),
    records,
  };
}

function progressLine(records: readonly RequestRecord[], issued: number, requests: number, seconds: number): string {
  const done = records.filter((r) => r.ok);
  const tokens = done.reduce((sum, r) => sum + r.outputTokens, 0);
  return `${done.length}/${requests} done, ${records.length - done.length} failed, ${issued - records.length} in flight, ${(tokens / seconds).toFixed(1)} output tok/s`;
}
