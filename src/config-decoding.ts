// The options of how tokens are decoded: speculative decoding and the deterministic mode. A block of config.ts's
// option table, kept in a file of its own so the table's file stays within its size. A leaf.
import { z } from "zod";
import type { OptionSpec } from "./config.js";

export const DECODING_OPTIONS = {
  speculative: {
    schema: z.enum(["ngram", "draft", "off"]).default("off"),
    cli: {
      flag: "--speculative",
      arg: "METHOD",
      env: "LOOM_SPECULATIVE",
      help:
        "speculative decoding: ngram (drafts looked up in the sequence's own prompt and output), draft (a draft " +
        "model, --draft-model) or off; drafts are verified beside other sequences' rows, only while the step is " +
        "small enough to be memory-bound, and the output is unchanged (a request opts out with speculative: false)",
    },
  },
  numSpeculativeTokens: {
    schema: z.number().int().min(1).max(16).default(5),
    cli: {
      flag: "--num-speculative-tokens",
      arg: "K",
      env: "LOOM_NUM_SPECULATIVE_TOKENS",
      help: "most draft tokens a sequence verifies per step; each drafts fewer while its drafts are rejected",
    },
  },
  draftModel: {
    schema: z.string().min(1).optional(),
    cli: {
      flag: "--draft-model",
      arg: "PATH",
      env: "LOOM_DRAFT_MODEL",
      help: "the GGUF draft model of --speculative draft: small, with the served model's vocabulary",
    },
  },
  speculativeStepRows: {
    schema: z.number().int().min(1).max(512).default(8),
    cli: {
      flag: "--speculative-step-rows",
      arg: "N",
      env: "LOOM_SPECULATIVE_STEP_ROWS",
      help:
        "drafts only fill a step up to N rows (decode rows plus drafts): past it a step is compute-bound and " +
        "drafts would slow it down (no drafts at all in a step that prefills)",
    },
  },
  deterministic: {
    schema: z.boolean().default(false),
    cli: {
      flag: "--deterministic",
      env: "LOOM_DETERMINISTIC",
      help:
        "a request's output depends only on its prompt, parameters and seed, never on the requests it shares " +
        "steps with or on the prefix cache: a stream per sequence, flash attention, and batch-invariant micro-batches",
    },
  },
} as const satisfies Record<string, OptionSpec>;
