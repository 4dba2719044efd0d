// RedisJobStore: the JobStore shared by every replica and worker. A record is a hash of JSON-encoded fields at
// `loom:{kind}:{id}`, indexed newest first in the sorted set `loom:index:{kind}`; a batch's input lines, results and
// result counts sit beside it. Compare-and-set updates and first-write-wins results are Lua scripts, so concurrent
// workers never see a half-made transition.
import type { Redis } from "ioredis";
import { redisUnavailableReason } from "../ops/redis.js";
import type { JobStore, Page, RecordKind, ResultCounts, StoredRecord, StoredResult } from "./store.js";

const CANCEL_CHANNEL = "loom:cancel";
/** Lines written per HSET, so a 50,000-line batch does not build one huge command. */
const CHUNK = 1000;

// KEYS[1] record; ARGV[1] n allowed statuses (0: any), ARGV[2..n+1] them JSON-encoded, then field/value pairs.
const UPDATE_IF_STATUS = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local n = tonumber(ARGV[1])
if n > 0 then
  local status = redis.call('HGET', KEYS[1], 'status')
  local ok = false
  for i = 2, n + 1 do if ARGV[i] == status then ok = true end end
  if not ok then return 0 end
end
for i = n + 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1`;

// KEYS[1] results, KEYS[2] counts; ARGV[1] custom_id, ARGV[2] 'completed' | 'failed', ARGV[3] the output line.
const STORE_RESULT = `
local added = redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[3])
if added == 1 then redis.call('HINCRBY', KEYS[2], ARGV[2], 1) end
local counts = redis.call('HMGET', KEYS[2], 'completed', 'failed')
return {added, tonumber(counts[1]) or 0, tonumber(counts[2]) or 0}`;

const recordKey = (kind: RecordKind, id: string) => `loom:${kind}:${id}`;
const indexKey = (kind: RecordKind) => `loom:index:${kind}`;
const batchKey = (batchId: string, part: "input" | "results" | "counts") => `loom:batch:${batchId}:${part}`;

export class RedisJobStore implements JobStore {
  readonly #redis: Redis;
  readonly #subscriber: Redis;
  readonly #url: string;
  readonly #listeners: ((id: string) => void)[] = [];

  /** `redis` fails fast while disconnected; `subscriber` is a connection of its own for cancel messages. */
  constructor({ redis, subscriber, url }: { redis: Redis; subscriber: Redis; url: string }) {
    this.#redis = redis;
    this.#subscriber = subscriber;
    this.#url = url;
    subscriber.on("message", (channel: string, id: string) => {
      if (channel === CANCEL_CHANNEL) for (const listener of this.#listeners) listener(id);
    });
    subscriber.subscribe(CANCEL_CHANNEL).catch(() => {
      // ioredis resubscribes by itself once connected.
    });
  }

  unavailableReason(): string | null {
    return redisUnavailableReason(this.#redis, this.#url);
  }

  async create(kind: RecordKind, id: string, record: StoredRecord): Promise<void> {
    await this.#redis
      .multi()
      .hset(recordKey(kind, id), encodeFields(record))
      .zadd(indexKey(kind), Date.now(), id)
      .exec()
      .then(throwIfFailed);
  }

  async get(kind: RecordKind, id: string): Promise<StoredRecord | null> {
    const fields = await this.#redis.hgetall(recordKey(kind, id));
    if (Object.keys(fields).length === 0) return null;
    return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, JSON.parse(v)]));
  }

  async update(kind: RecordKind, id: string, patch: StoredRecord, ifStatusIn?: readonly string[]): Promise<boolean> {
    const allowed = (ifStatusIn ?? []).map((s) => JSON.stringify(s));
    const pairs = Object.entries(encodeFields(patch)).flat();
    const done = await this.#redis.eval(UPDATE_IF_STATUS, 1, recordKey(kind, id), allowed.length, ...allowed, ...pairs);
    return done === 1;
  }

  async remove(kind: RecordKind, id: string): Promise<boolean> {
    const results = await this.#redis.multi().del(recordKey(kind, id)).zrem(indexKey(kind), id).exec();
    throwIfFailed(results);
    return results![0]![1] === 1;
  }

  async list(kind: RecordKind, after: string | null, limit: number): Promise<Page> {
    const rank = after === null ? null : await this.#redis.zrevrank(indexKey(kind), after);
    const start = rank === null ? 0 : rank + 1;
    // One more than asked says whether there are more.
    const ids = await this.#redis.zrevrange(indexKey(kind), start, start + limit);
    return { ids: ids.slice(0, limit), hasMore: ids.length > limit };
  }

  async putBlob(key: string, bytes: Uint8Array): Promise<void> {
    await this.#redis.set(key, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  getBlob(key: string): Promise<Buffer | null> {
    return this.#redis.getBuffer(key);
  }

  async deleteBlob(key: string): Promise<void> {
    await this.#redis.del(key);
  }

  async putLines(batchId: string, lines: readonly string[]): Promise<void> {
    for (let start = 0; start < lines.length; start += CHUNK) {
      const entries = lines.slice(start, start + CHUNK).flatMap((line, i) => [String(start + i), line]);
      await this.#redis.hset(batchKey(batchId, "input"), ...entries);
    }
  }

  getLine(batchId: string, index: number): Promise<string | null> {
    return this.#redis.hget(batchKey(batchId, "input"), String(index));
  }

  async getLines(batchId: string, count: number): Promise<(string | null)[]> {
    const lines: (string | null)[] = [];
    for (let start = 0; start < count; start += CHUNK) {
      const fields = Array.from({ length: Math.min(CHUNK, count - start) }, (_, i) => String(start + i));
      lines.push(...(await this.#redis.hmget(batchKey(batchId, "input"), ...fields)));
    }
    return lines;
  }

  async storeResult(
    batchId: string,
    customId: string,
    outcome: keyof ResultCounts,
    line: string,
  ): Promise<StoredResult> {
    const keys = [batchKey(batchId, "results"), batchKey(batchId, "counts")];
    const [added, completed, failed] = (await this.#redis.eval(STORE_RESULT, 2, ...keys, customId, outcome, line)) as [
      number,
      number,
      number,
    ];
    return { stored: added === 1, completed, failed };
  }

  async hasResult(batchId: string, customId: string): Promise<boolean> {
    return (await this.#redis.hexists(batchKey(batchId, "results"), customId)) === 1;
  }

  async getResults(batchId: string): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.#redis.hgetall(batchKey(batchId, "results"))));
  }

  async resultCounts(batchId: string): Promise<ResultCounts> {
    const [completed, failed] = await this.#redis.hmget(batchKey(batchId, "counts"), "completed", "failed");
    return { completed: Number(completed ?? 0), failed: Number(failed ?? 0) };
  }

  async dropBatchData(batchId: string): Promise<void> {
    await this.#redis.del(batchKey(batchId, "input"), batchKey(batchId, "results"), batchKey(batchId, "counts"));
  }

  async publishCancel(id: string): Promise<void> {
    await this.#redis.publish(CANCEL_CHANNEL, id);
  }

  onCancel(listener: (id: string) => void): void {
    this.#listeners.push(listener);
  }

  async close(): Promise<void> {
    this.#subscriber.disconnect();
    this.#redis.disconnect();
  }
}

function encodeFields(record: StoredRecord): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, JSON.stringify(v ?? null)]));
}

function throwIfFailed(results: [Error | null, unknown][] | null): void {
  const failure = results?.find(([error]) => error !== null);
  if (failure) throw failure[0];
  if (results === null) throw new Error("the Redis transaction was aborted");
}
