// RedisResponseStore: the Responses API's stored responses in Redis, at `loom:response:{id}`, so every replica
// answers GET /v1/responses/{id} and continues previous_response_id chains started on another. Kept 30 days, as
// OpenAI keeps stored responses.
import type { Redis } from "ioredis";
import type { ResponseStore, StoredResponse } from "./response-store.js";

const TTL_SECONDS = 30 * 24 * 3600;
const keyOf = (id: string) => `loom:response:${id}`;

export class RedisResponseStore implements ResponseStore {
  readonly #redis: Redis;

  constructor(redis: Redis) {
    this.#redis = redis;
  }

  async get(id: string): Promise<StoredResponse | null> {
    const text = await this.#redis.get(keyOf(id));
    return text === null ? null : (JSON.parse(text) as StoredResponse);
  }

  async put(id: string, record: StoredResponse): Promise<void> {
    await this.#redis.set(keyOf(id), JSON.stringify(record), "EX", TTL_SECONDS);
  }

  async delete(id: string): Promise<boolean> {
    return (await this.#redis.del(keyOf(id))) === 1;
  }
}
