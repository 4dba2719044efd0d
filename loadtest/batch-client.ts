// The Batch API side of the batch benchmark: lines made from a loadtest workload (so the batch and the loadtest send
// the same requests), submitted with the official openai client, timed to completion, and counted.
import OpenAI, { toFile } from "openai";
import type { Batch } from "openai/resources/batches";
import { conversation, type WorkloadName } from "./workloads.js";

export interface BatchSpec {
  readonly model: string;
  readonly workload: WorkloadName;
  readonly seed: number;
  readonly lines: number;
  readonly maxTokens: number;
}

export function batchClient(url: string, apiKey?: string): OpenAI {
  return new OpenAI({ baseURL: `${url}/v1`, apiKey: apiKey ?? "unused", maxRetries: 2, timeout: 600_000 });
}

/** Chat lines of conversations 0..lines-1 of the workload: the first turn of each, greedy, ignoring EOS. */
export function batchLines({ model, workload, seed, lines, maxTokens }: BatchSpec): string {
  return Array.from({ length: lines }, (_, i) => {
    const { system, turns } = conversation(workload, i, { seed, maxTokens });
    const messages = [
      ...(system === null ? [] : [{ role: "system", content: system }]),
      { role: "user", content: turns[0]!.user },
    ];
    const body = { model, messages, max_tokens: turns[0]!.maxTokens, temperature: 0, ignore_eos: true };
    return `${JSON.stringify({ custom_id: `line-${i}`, method: "POST", url: "/v1/chat/completions", body })}\n`;
  }).join("");
}

export async function submitBatch(client: OpenAI, spec: BatchSpec): Promise<Batch> {
  const file = await client.files.create({
    file: await toFile(Buffer.from(batchLines(spec)), "bench.jsonl"),
    purpose: "batch",
  });
  return client.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
}

/** Polls until `done` (a terminal status by default); `seconds` from the call to the poll that saw it. */
export async function waitForBatch(
  client: OpenAI,
  id: string,
  done: (b: Batch) => boolean = (b) => ["completed", "failed", "expired", "cancelled"].includes(b.status),
  pollMs = 100,
): Promise<{ batch: Batch; seconds: number }> {
  const started = performance.now();
  for (;;) {
    const batch = await client.batches.retrieve(id);
    if (done(batch)) return { batch, seconds: (performance.now() - started) / 1000 };
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** Output tokens of every line of a finished batch's output file. */
export async function batchOutputTokens(client: OpenAI, batch: Batch): Promise<number> {
  if (!batch.output_file_id) return 0;
  const text = await (await client.files.content(batch.output_file_id)).text();
  return text
    .split("\n")
    .filter((line) => line !== "")
    .reduce((sum, line) => sum + (JSON.parse(line).response.body.usage.completion_tokens as number), 0);
}
