// Batch API helpers for tests: input lines, upload through the official client, polling until a status.
import type OpenAI from "openai";
import { toFile } from "openai";
import type { Batch } from "openai/resources/batches";

export interface InputLine {
  readonly custom_id: string;
  readonly method: "POST";
  readonly url: string;
  readonly body: Record<string, unknown>;
}

/** `count` greedy chat lines of `maxTokens` tokens each, with distinct prompts. */
export function chatLines(model: string, count: number, maxTokens = 8): InputLine[] {
  return Array.from({ length: count }, (_, i) => ({
    custom_id: `request-${i}`,
    method: "POST",
    url: "/v1/chat/completions",
    body: {
      model,
      messages: [{ role: "user", content: `Tell me about the number ${i}` }],
      max_tokens: maxTokens,
      temperature: 0,
      ignore_eos: true,
    },
  }));
}

export const toJsonl = (lines: readonly unknown[]) => `${lines.map((line) => JSON.stringify(line)).join("\n")}\n`;

export function parseJsonl<T = Record<string, unknown>>(text: string): T[] {
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as T);
}

export async function uploadJsonl(client: OpenAI, content: string, name = "input.jsonl") {
  return client.files.create({ file: await toFile(Buffer.from(content), name), purpose: "batch" });
}

const TERMINAL = ["completed", "failed", "expired", "cancelled"];

/** Polls batches.retrieve until `done` holds (a terminal status by default); fails with the last batch seen. */
export async function waitForBatch(
  client: OpenAI,
  id: string,
  done: (batch: Batch) => boolean = (b) => TERMINAL.includes(b.status),
  timeoutMs = 60_000,
): Promise<Batch> {
  const deadline = Date.now() + timeoutMs;
  let batch = await client.batches.retrieve(id);
  while (!done(batch)) {
    if (Date.now() > deadline)
      throw new Error(`batch ${id} did not get there in ${timeoutMs} ms: ${JSON.stringify(batch)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    batch = await client.batches.retrieve(id);
  }
  return batch;
}
