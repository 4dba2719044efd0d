// The jobs layer and the caches of a process, on Redis when the config names one and in memory otherwise, with
// the executor that runs batch lines and background requests through the HTTP app in-process.
import { type Caches, cacheStore } from "../cache/caches.js";
import { EmbeddingCache } from "../cache/embedding-cache.js";
import { RedisResponseStore } from "../cache/redis-response-store.js";
import { ResponseCache } from "../cache/response-cache.js";
import { MemoryResponseStore, type ResponseStore } from "../cache/response-store.js";
import { type Config, ConfigError } from "../config.js";
import { memoryBackend, redisBackend } from "../jobs/backends.js";
import type { Executor } from "../jobs/executor.js";
import { type JobWorkers, Jobs } from "../jobs/jobs.js";
import { webhookSecretProblem } from "../jobs/webhook-delivery.js";
import type { Logger } from "../ops/logger.js";
import { CacheMetrics } from "../ops/cache-metrics.js";
import { JobsMetrics } from "../ops/jobs-metrics.js";
import type { Metrics } from "../ops/metrics.js";
import { connectRedis } from "../ops/redis.js";
import { LOOM_VERSION } from "../ops/version.js";
import type { ModelRepository } from "../serving/classic/model-repository.js";
import type { ModelRegistry } from "../serving/llm/registry.js";
import { modelVersions } from "./model-version.js";

/** What the executor needs of the Hono app: its in-process request method. */
interface InProcessApp {
  request(path: string, init: RequestInit): Response | Promise<Response>;
}

/** A cache lookup that takes longer than this is a miss: the cache must never slow a request down. */
const CACHE_TIMEOUT_MS = 50;

export interface JobServices {
  readonly jobs: Jobs;
  readonly caches: Caches;
  /** The Responses API's stored responses: in Redis when there is one, so every replica sees them. */
  readonly responses: ResponseStore;
  /** Starts this process's workers, which run jobs through `app` (once its models are loaded). */
  startWorkers(app: InProcessApp, concurrency: number): void;
  /** Stops taking jobs; lines in hand finish for up to `graceMs`, then go back to the queue. */
  stopWorkers(graceMs: number): Promise<void>;
  /** Closes the queues and the Redis connections. */
  close(): Promise<void>;
}

export interface JobServicesDeps {
  readonly registry: ModelRegistry;
  readonly repository: ModelRepository;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

export function buildJobServices(
  config: Config,
  { registry, repository, metrics, logger }: JobServicesDeps,
): JobServices {
  const secretProblem = config.webhookSecret === undefined ? null : webhookSecretProblem(config.webhookSecret);
  if (secretProblem !== null) throw new ConfigError(`--webhook-secret: ${secretProblem}`);
  if (config.webhookUrls.length > 0 && config.webhookSecret === undefined)
    throw new ConfigError("--webhook-url needs --webhook-secret to sign events with");
  const backend = config.redisUrl
    ? redisBackend(config.redisUrl, { logger, lockMs: config.jobLockSeconds * 1000 })
    : memoryBackend(logger);
  const isServedModel = (model: string) => {
    try {
      registry.resolve(model);
      return true;
    } catch {
      return repository.textModels().some((s) => s.name === model);
    }
  };
  // On the server's registry, so /metrics shows them beside the engine's.
  const jobsMetrics = new JobsMetrics(metrics.registry);
  const cacheMetrics = new CacheMetrics(metrics.registry);
  const jobs = new Jobs({
    backend,
    maxFileBytes: config.maxFileBytes,
    webhookUrls: config.webhookUrls,
    webhookSecret: config.webhookSecret ?? null,
    webhookRetrySeconds: config.webhookRetrySeconds,
    isServedModel,
    logger,
    metrics: jobsMetrics,
    userAgent: `Loom/${LOOM_VERSION}`,
  });
  jobsMetrics.readQueuesWith(() => jobs.queueStats());
  const cacheRedis = config.redisUrl
    ? connectRedis(config.redisUrl, { logger, name: "cache", commandTimeoutMs: CACHE_TIMEOUT_MS })
    : null;
  const store = cacheStore({ redis: cacheRedis, maxBytes: config.cacheMaxBytes, ttlSeconds: config.cacheTtlSeconds });
  const caches: Caches = {
    responses: config.responseCache ? new ResponseCache(store, { metrics: cacheMetrics }) : null,
    embeddings: config.embeddingCache ? new EmbeddingCache(store, { metrics: cacheMetrics }) : null,
    versionOf: modelVersions(config, registry),
  };
  const responsesRedis = config.redisUrl ? connectRedis(config.redisUrl, { logger, name: "responses" }) : null;
  let workers: JobWorkers | null = null;
  return {
    jobs,
    caches,
    responses: responsesRedis ? new RedisResponseStore(responsesRedis) : new MemoryResponseStore(),
    startWorkers(app, concurrency) {
      workers = jobs.startWorkers({ executor: inProcessExecutor(app, config.apiKeys[0]), concurrency });
    },
    async stopWorkers(graceMs) {
      await workers?.close(graceMs);
      workers = null;
    },
    async close() {
      await jobs.close();
      cacheRedis?.disconnect();
      responsesRedis?.disconnect();
    },
  };
}

/**
 * Runs a job's body through the app as an in-process request (no socket): the same validation, routing, limits,
 * metrics and caching as HTTP. The body's `priority` is the job's (vLLM's field, which the engine admits by).
 */
function inProcessExecutor(app: InProcessApp, apiKey: string | undefined): Executor {
  return async (endpoint, body, { priority, signal, headers = {} }) => {
    const response = await app.request(endpoint, {
      method: "POST",
      headers: {
        ...headers,
        "content-type": "application/json",
        ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
      },
      body: JSON.stringify({ ...body, priority }),
      signal,
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = { error: { message: text, type: "server_error", param: null, code: "invalid_response" } };
    }
    return { status: response.status, body: parsed, requestId: response.headers.get("x-request-id") };
  };
}
