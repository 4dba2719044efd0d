// The KV pool exhausted: a server with a pool of 256 tokens takes far more concurrent generation than fits (the
// scheduler must queue and preempt), plus a prompt that alone is larger than the whole pool (and so than the longest
// sequence, which Loom keeps within the pool). Every fitting request
// must complete (none lost to preemption), the oversized one must answer a clear 400 at once instead of waiting
// forever, and the pool must be empty afterwards.
import { getOnce, metricSum } from "../../common/counters.js";
import { startStack } from "../../common/stack.js";
import { eventually, type Fault, unclearError } from "../fault.js";

const POOL_TOKENS = 256;
const CONCURRENT = 16;

async function generate(url: string, content: string, maxTokens: number): Promise<{ status: number; text: string }> {
  const response = await fetch(`${url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "tiny", prompt: content, max_tokens: maxTokens, ignore_eos: true }),
    signal: AbortSignal.timeout(180_000),
  });
  return { status: response.status, text: await response.text() };
}

export const kvExhaust: Fault = {
  name: "kv-exhaust",
  what: `${CONCURRENT} requests of up to 120 tokens each on a KV pool of ${POOL_TOKENS} tokens, and a prompt larger than the pool`,
  expect:
    "every fitting request completes (queued or preempted, never lost); the oversized prompt answers a clear 400; " +
    "no KV block stays used",
  async run() {
    const problems: string[] = [];
    const server = await startStack({
      extraArgs: ["--kv-tokens", String(POOL_TOKENS), "--max-model-len", String(POOL_TOKENS)],
    });
    try {
      const fitting = Array.from({ length: CONCURRENT }, (_, i) =>
        generate(server.url, `request ${i} says`, 100 + (i % 4) * 5),
      );
      const huge = await generate(server.url, "word ".repeat(POOL_TOKENS * 2), 8);
      if (huge.status !== 400) problems.push(`a prompt larger than the pool answered ${huge.status}: ${huge.text}`);
      const unclear = unclearError(huge.status, huge.text);
      if (unclear) problems.push(unclear);
      const answers = await Promise.all(fitting);
      let tokens = 0;
      for (const answer of answers) {
        if (answer.status !== 200) {
          problems.push(`a fitting request failed: ${answer.status} ${answer.text.slice(0, 200)}`);
          continue;
        }
        tokens += (JSON.parse(answer.text) as { usage: { completion_tokens: number } }).usage.completion_tokens;
      }
      const metrics = () => getOnce(`${server.url}/metrics`);
      const preemptions = metricSum(await metrics(), "vllm:num_preemptions_total");
      const empty = await eventually(
        async () => metricSum(await metrics(), "loom:kv_blocks", { state: "used" }) === 0,
        10_000,
      );
      if (!empty) problems.push("KV blocks still used after every request ended");
      return {
        problems,
        figures: {
          requests_completed: answers.filter((a) => a.status === 200).length,
          tokens,
          preemptions,
          huge_status: huge.status,
        },
      };
    } finally {
      await server.stop();
    }
  },
};
