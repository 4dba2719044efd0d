// Drives a LlamaContext by hand, without the scheduler: the reference the batched paths are compared with.
import type { LlamaContext } from "../../src/backend/llama/llama-context.js";
import type { SequenceSampler } from "../../src/backend/types.js";
import { samplingParams } from "../../src/sampling-params.js";

export interface Stream {
  readonly seqId: number;
  readonly prompt: Int32Array;
  readonly sampler?: SequenceSampler;
}

/**
 * Greedy-decodes several sequences together: one step prefills every prompt, then each step decodes one token of
 * every sequence. Returns the generated tokens of each stream.
 */
export async function generateTogether(
  context: LlamaContext,
  streams: readonly Stream[],
  maxTokens: number,
): Promise<number[][]> {
  const samplers = streams.map((s) => s.sampler ?? context.createSampler(samplingParams({ temperature: 0 })));
  const outputs: number[][] = streams.map(() => []);
  const tokens: number[] = [],
    positions: number[] = [],
    seqIds: number[] = [],
    outputRows: number[] = [];
  for (const stream of streams) {
    stream.prompt.forEach((token, position) => {
      tokens.push(token);
      positions.push(position);
      seqIds.push(stream.seqId);
    });
    outputRows.push(tokens.length - 1);
  }
  let next = await context.step({
    tokens: Int32Array.from(tokens),
    positions: Int32Array.from(positions),
    seqIds: Int32Array.from(seqIds),
    outputRows: Int32Array.from(outputRows),
    samplers,
  });
  for (let step = 1; step <= maxTokens; step++) {
    streams.forEach((_, i) => outputs[i]!.push(next.tokens[i]!));
    if (step === maxTokens) break;
    next = await context.step({
      tokens: Int32Array.from(streams.map((_, i) => outputs[i]!.at(-1)!)),
      positions: Int32Array.from(streams.map((s) => s.prompt.length + step - 1)),
      seqIds: Int32Array.from(streams.map((s) => s.seqId)),
      outputRows: Int32Array.from(streams.map((_, i) => i)),
      samplers,
    });
  }
  return outputs;
}

/** Removes every sequence's cells, so the next test starts from an empty pool. */
export async function clearPool(context: LlamaContext): Promise<void> {
  await context.step({
    tokens: new Int32Array(0),
    positions: new Int32Array(0),
    seqIds: new Int32Array(0),
    outputRows: new Int32Array(0),
    samplers: [],
    kvOps: Int32Array.of(3, 0, 0, 0, 0),
  });
}

/**
 * Decodes one sequence from its prompt until the model ends it (an end-of-generation token, not returned) or
 * maxTokens are generated; throws with the backend's code when a step fails for the sequence.
 */
export async function generateUntilEnd(
  context: LlamaContext,
  { prompt, sampler }: { prompt: Int32Array; sampler: SequenceSampler },
  maxTokens: number,
): Promise<{ tokens: number[]; ended: boolean }> {
  const tokens: number[] = [];
  let input = prompt;
  while (tokens.length < maxTokens) {
    const start = prompt.length + tokens.length - input.length;
    const result = await context.step({
      tokens: input,
      positions: Int32Array.from(input, (_, i) => start + i),
      seqIds: new Int32Array(input.length),
      outputRows: Int32Array.of(input.length - 1),
      samplers: [sampler],
    });
    const error = result.errors[0];
    if (error) throw Object.assign(new Error(error.message), { code: error.code });
    const token = result.tokens[0]!;
    if (context.model.isEndOfGeneration(token)) return { tokens, ended: true };
    tokens.push(token);
    input = Int32Array.of(token);
  }
  return { tokens, ended: false };
}
