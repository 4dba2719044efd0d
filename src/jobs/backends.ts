// Where the jobs layer keeps its state: Redis (a JobStore and BullMQ queues shared by every replica and worker)
// or this process's memory (a single server; everything lives and dies with it).
import type { Redis } from "ioredis";
import type { Logger } from "../ops/logger.js";
import { connectRedis } from "../ops/redis.js";
import { BullQueue } from "./bull-queue.js";
import { MemoryJobStore } from "./memory-store.js";
import { MemoryQueue } from "./memory-queue.js";
import type { Backoff, WorkQueue } from "./queue.js";
import { RedisJobStore } from "./redis-store.js";
import type { JobStore } from "./store.js";

export interface JobsBackend {
  readonly store: JobStore;
  /** Redis or memory, for logs and docs. */
  readonly kind: "redis" | "memory";
  queue<T>(name: string, backoff: Backoff): WorkQueue<T>;
  /** Closes the store and the connections; queues are closed by their owner first. */
  close(): Promise<void>;
}

export function memoryBackend(logger: Logger): JobsBackend {
  const store = new MemoryJobStore();
  return {
    store,
    kind: "memory",
    queue: <T>(name: string, backoff: Backoff) => new MemoryQueue<T>(name, { backoff, logger }),
    close: () => store.close(),
  };
}

/**
 * Four connections: requests (fail fast while Redis is away, so the API answers 503), cancel messages (a
 * subscriber), queue producers, and queue workers (which wait for reconnects, as BullMQ requires).
 */
export function redisBackend(url: string, { logger, lockMs }: { logger: Logger; lockMs: number }): JobsBackend {
  const connections: Redis[] = [];
  const connect = (name: string, waitForReconnect = false) => {
    const redis = connectRedis(url, { logger, name, waitForReconnect });
    connections.push(redis);
    return redis;
  };
  const store = new RedisJobStore({ redis: connect("jobs"), subscriber: connect("jobs-cancel", true), url });
  const producer = connect("queue-producer");
  const worker = connect("queue-worker", true);
  return {
    store,
    kind: "redis",
    queue: <T>(name: string, backoff: Backoff) =>
      new BullQueue<T>(name, { connection: producer, workerConnection: worker, backoff, lockMs, logger }),
    async close() {
      await store.close();
      for (const redis of connections) redis.disconnect();
    },
  };
}
