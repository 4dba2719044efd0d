// The near cache: an in-process LRU in front of a real Redis. What one replica stores, another reads from Redis once
// and then from its own memory; Redis dropping the entry does not take it from a process that has it.
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cacheStore } from "../../../src/cache/caches.js";
import { startRedis, type TestRedis } from "../../helpers/redis.js";

let redis: TestRedis;
let client: Redis;
beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  await new Promise((resolve) => client.once("ready", resolve));
});
afterAll(async () => {
  client?.disconnect();
  await redis?.close();
});

describe("NearCacheStore over Redis", () => {
  it("shares entries through Redis and answers them from memory once seen", async () => {
    const replicaA = cacheStore({ redis: client, maxBytes: 1 << 20, ttlSeconds: 60 });
    const replicaB = cacheStore({ redis: client, maxBytes: 1 << 20, ttlSeconds: 60 });
    await replicaA.setMany([["loom:cache:test:a", "answer a"]]);
    expect(await client.get("loom:cache:test:a")).toBe("answer a");
    expect(await replicaB.getMany(["loom:cache:test:missing", "loom:cache:test:a"])).toEqual([null, "answer a"]);
    await client.del("loom:cache:test:a");
    expect(await replicaB.getMany(["loom:cache:test:a"])).toEqual(["answer a"]);
    expect(await replicaA.getMany(["loom:cache:test:a"])).toEqual(["answer a"]);
    const replicaC = cacheStore({ redis: client, maxBytes: 1 << 20, ttlSeconds: 60 });
    expect(await replicaC.getMany(["loom:cache:test:a"])).toEqual([null]);
  });

  it("keeps answering from memory while Redis is down, and misses what it never saw", async () => {
    const store = cacheStore({ redis: client, maxBytes: 1 << 20, ttlSeconds: 60 });
    await store.setMany([["loom:cache:test:b", "answer b"]]);
    await redis.stop();
    try {
      expect(await store.getMany(["loom:cache:test:b", "loom:cache:test:c"])).toEqual(["answer b", null]);
    } finally {
      await redis.restart();
    }
  });
});
