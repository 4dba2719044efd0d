// Deterministic workloads: every prompt comes from a seeded generator, so two servers (or two runs) see the same
// requests. A conversation is one request, or several turns where each turn extends the last (multi-turn).
import { mulberry32 } from "../models/weights.js";

export type WorkloadName = "uniform" | "shared-prefix" | "multi-tenant" | "multi-turn" | "mixed" | "copy";
export const WORKLOADS: readonly WorkloadName[] = [
  "uniform",
  "shared-prefix",
  "multi-tenant",
  "multi-turn",
  "mixed",
  "copy",
];

export interface Turn {
  readonly user: string;
  readonly maxTokens: number;
}

export interface Conversation {
  readonly system: string | null;
  readonly turns: readonly Turn[];
}

// Common English words: about one token each in the usual BPE and SentencePiece vocabularies.
const WORDS = (
  "the of and to in is was for on that with as by at from it his an were are which this be or has had not but " +
  "first one their its new after who they have her she two been other when there all during into school time may " +
  "years more most only over city some world would where later up such used many can state about national out " +
  "known university united then made through team under war year well since three people season because series"
).split(" ");

function words(random: () => number, count: number): string {
  return Array.from({ length: count }, () => WORDS[Math.floor(random() * WORDS.length)]!).join(" ");
}

export interface WorkloadOptions {
  readonly seed: number;
  readonly maxTokens: number;
  /** Length of the uniform prompt and of unique user turns, in words. */
  readonly promptWords?: number;
  /** Length of the shared system prompt, in words. */
  readonly sharedWords?: number;
  /** multi-tenant: how many different system prompts (tenants) conversations draw from (default 8). */
  readonly tenants?: number;
}

/** Conversation `index` of the workload; the same arguments always give the same conversation. */
export function conversation(name: WorkloadName, index: number, options: WorkloadOptions): Conversation {
  const random = mulberry32(options.seed * 1_000_003 + index);
  switch (name) {
    case "uniform":
      return {
        system: null,
        turns: [{ user: words(random, options.promptWords ?? 120), maxTokens: options.maxTokens }],
      };
    case "shared-prefix":
      return {
        system: words(mulberry32(options.seed), options.sharedWords ?? 440),
        turns: [{ user: words(random, options.promptWords ?? 24), maxTokens: options.maxTokens }],
      };
    case "multi-tenant": {
      // Each conversation belongs to one of `tenants` tenants at random, each with its own long system prompt.
      const tenant = Math.floor(random() * (options.tenants ?? 8));
      return {
        system: words(mulberry32(options.seed * 7919 + tenant + 1), options.sharedWords ?? 440),
        turns: [{ user: words(random, options.promptWords ?? 24), maxTokens: options.maxTokens }],
      };
    }
    case "multi-turn":
      return {
        system: null,
        turns: Array.from({ length: 4 }, () => ({
          user: words(random, options.promptWords ?? 40),
          maxTokens: options.maxTokens,
        })),
      };
    case "copy": {
      // The output copies the prompt (editing, extraction, quoting): a passage twice, asked for again, its first
      // words given, so an instruction model repeats it and a base model continues the repetition.
      const passage = words(random, options.promptWords ?? 120);
      const opening = passage.split(" ").slice(0, 8).join(" ");
      return {
        system: null,
        turns: [
          {
            user: `Repeat the text word for word.\n\n${passage}\n\n${passage}\n\n${opening}`,
            maxTokens: options.maxTokens,
          },
        ],
      };
    }
    case "mixed": {
      // Log-uniform prompt lengths (16..1024 words) and output lengths (8..2*maxTokens), as real traffic is skewed.
      const logUniform = (low: number, high: number) =>
        Math.round(Math.exp(Math.log(low) + random() * (Math.log(high) - Math.log(low))));
      return {
        system: null,
        turns: [
          { user: words(random, logUniform(16, 1024)), maxTokens: logUniform(8, Math.max(9, options.maxTokens * 2)) },
        ],
      };
    }
  }
}
