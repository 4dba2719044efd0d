// The options of jobs and caches (Batch API, background requests, webhooks, response and embedding caches): a
// block of config.ts's option table, kept in a file of its own so the table's file stays within its size. A leaf.
import { z } from "zod";
import type { OptionSpec } from "./config.js";

const MiB = 1024 * 1024;

export const JOB_OPTIONS = {
  redisUrl: {
    schema: z.string().min(1).optional(),
    cli: {
      flag: "--redis",
      arg: "URL",
      env: "LOOM_REDIS_URL",
      help:
        "redis://host:port holding what replicas and workers share: job queues, files, batches, caches " +
        "(none: this process's memory)",
    },
  },
  maxFileBytes: {
    schema: z
      .number()
      .int()
      .min(1)
      .default(200 * MiB),
    cli: { flag: "--max-file-bytes", arg: "N", env: "LOOM_MAX_FILE_BYTES", help: "largest file upload, in bytes" },
  },
  batchConcurrency: {
    schema: z.number().int().min(0).optional(),
    cli: {
      flag: "--batch-concurrency",
      arg: "N",
      env: "LOOM_BATCH_CONCURRENCY",
      help:
        "batch lines and background requests this process runs at once, 0 for none " +
        "(default: half of --max-running for loom serve, all of it for loom worker)",
    },
  },
  backgroundStepTokens: {
    schema: z.number().int().min(1).default(4),
    cli: {
      flag: "--background-step-tokens",
      arg: "N",
      env: "LOOM_BACKGROUND_STEP_TOKENS",
      help:
        "tokens of a step that batch lines and shadows share while interactive requests run or ran within " +
        "--background-hold-ms, so they fill spare capacity only",
    },
  },
  backgroundHoldMs: {
    schema: z.number().int().min(0).default(5000),
    cli: {
      flag: "--background-hold-ms",
      arg: "MS",
      env: "LOOM_BACKGROUND_HOLD_MS",
      help: "how long after the last interactive request batch lines and shadows stay held to --background-step-tokens",
    },
  },
  jobLockSeconds: {
    schema: z.number().min(1).default(30),
    cli: {
      flag: "--job-lock-seconds",
      arg: "S",
      env: "LOOM_JOB_LOCK_SECONDS",
      help: "a running job whose worker stopped answering (killed, lost) goes to another worker after S seconds",
    },
  },
  webhookUrls: {
    schema: z.array(z.url({ protocol: /^https?$/ })).default([]),
    cli: {
      flag: "--webhook-url",
      arg: "URL",
      env: "LOOM_WEBHOOK_URL",
      help: "POST batch and background request events here, signed as Standard Webhooks (repeatable)",
    },
  },
  webhookSecret: {
    schema: z.string().min(1).optional(),
    cli: {
      flag: "--webhook-secret",
      arg: "SECRET",
      env: "LOOM_WEBHOOK_SECRET",
      help: "the whsec_... secret events are signed with (openai's webhooks.unwrap verifies them)",
    },
  },
  webhookRetrySeconds: {
    schema: z
      .number()
      .min(0)
      .default(72 * 3600),
    cli: {
      flag: "--webhook-retry-seconds",
      arg: "S",
      env: "LOOM_WEBHOOK_RETRY_SECONDS",
      help: "how long an undelivered event keeps being retried, with exponential backoff",
    },
  },
  responseCache: {
    schema: z.boolean().default(false),
    cli: {
      flag: "--response-cache",
      env: "LOOM_RESPONSE_CACHE",
      help: "answer repeated deterministic requests (temperature 0 or a seed) from a cache",
    },
  },
  embeddingCache: {
    schema: z.boolean().default(true),
    cli: {
      flag: "--no-embedding-cache",
      env: "LOOM_EMBEDDING_CACHE",
      help: "do not cache embeddings by content and model version",
    },
  },
  cacheTtlSeconds: {
    schema: z.number().min(1).default(3600),
    cli: { flag: "--cache-ttl", arg: "S", env: "LOOM_CACHE_TTL", help: "seconds a cache entry lives" },
  },
  cacheMaxBytes: {
    schema: z
      .number()
      .int()
      .min(0)
      .default(256 * MiB),
    cli: {
      flag: "--cache-max-bytes",
      arg: "N",
      env: "LOOM_CACHE_MAX_BYTES",
      help: "size of the in-process cache, in front of Redis with --redis (Redis bounds its own with maxmemory)",
    },
  },
} as const satisfies Record<string, OptionSpec>;
