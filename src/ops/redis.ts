// Redis connections with ioredis, the one client of the deployment's shared state (job store, queues, caches).
// Interactive serving never waits on Redis: request-path connections fail fast while it is away (no offline queue,
// one retry) and reconnect in the background; queue workers' connections wait for it instead, as BullMQ requires.
import { Redis } from "ioredis";
import type { Logger } from "./logger.js";

export interface RedisConnectOptions {
  readonly logger: Logger;
  /** Names the connection in logs. */
  readonly name: string;
  /**
   * Queue workers and blocking commands: commands wait (unbounded) for a reconnect, as BullMQ's workers need.
   * Otherwise commands fail at once while Redis is unreachable, so callers can answer 503 or treat a cache as missed.
   */
  readonly waitForReconnect?: boolean;
  /** Fail a command that has no answer after this many milliseconds (request-path connections). */
  readonly commandTimeoutMs?: number;
}

/** Reconnect after 50 ms, doubling to at most 2 s between tries, forever. */
const reconnectDelayMs = (attempt: number) => Math.min(2000, 50 * 2 ** Math.min(attempt, 6));

/** Connects in the background: a server whose Redis is down starts anyway and picks it up when it comes back. */
export function connectRedis(url: string, options: RedisConnectOptions): Redis {
  const redis = new Redis(url, {
    connectionName: `loom-${options.name}`,
    retryStrategy: reconnectDelayMs,
    ...(options.waitForReconnect
      ? { maxRetriesPerRequest: null, enableOfflineQueue: true }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false }),
    ...(options.commandTimeoutMs === undefined ? {} : { commandTimeout: options.commandTimeoutMs }),
  });
  // One log line per outage, not one per reconnect attempt.
  let down = false;
  redis.on("error", (error: Error) => {
    if (down) return;
    down = true;
    options.logger.log("warn", "redis_unavailable", {
      connection: options.name,
      url: redactUrl(url),
      message: error.message,
    });
  });
  redis.on("ready", () => {
    if (down) options.logger.log("info", "redis_reconnected", { connection: options.name, url: redactUrl(url) });
    down = false;
  });
  return redis;
}

/** The URL without its password, for logs and error messages. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparsable Redis URL)";
  }
}

/** Null while `redis` can take commands, else a sentence saying it cannot. */
export function redisUnavailableReason(redis: Redis, url: string): string | null {
  if (redis.status === "ready") return null;
  return `Redis at ${redactUrl(url)} is unreachable (connection ${redis.status}); reconnecting`;
}
