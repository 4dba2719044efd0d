// The errors ioredis itself raises when the job store's connection is gone between a request's availability check and
// its next command map to 503 jobs_unavailable, not a 500 (the chaos run's redis-restart fault saw a 500 when Redis
// stopped just as a request came in). The errors are the real library's, against a port where nothing listens.
import { createServer } from "node:net";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { toApiError } from "../../../src/api/errors.js";

const clients: Redis[] = [];
afterAll(() => {
  for (const client of clients) client.disconnect();
});

async function deadPort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** What a command on a lost connection rejects with, as Loom's store connection is configured (ops/redis.ts). */
async function lostCommandError(options: { enableOfflineQueue: boolean }): Promise<Error> {
  const client = new Redis(`redis://127.0.0.1:${await deadPort()}`, {
    ...options,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => (times > 2 ? null : 10),
  });
  client.on("error", () => {});
  clients.push(client);
  return client.get("loom:file:x").then(
    () => {
      throw new Error("the command succeeded on a dead port");
    },
    (error: Error) => error,
  );
}

describe("the job store's connection lost", () => {
  it.each([
    ["a command sent while the connection is down", false],
    ["a command queued until the connection gave up", true],
  ])("answers 503 jobs_unavailable for %s", async (_, enableOfflineQueue) => {
    const error = await lostCommandError({ enableOfflineQueue });
    const answer = toApiError(error);
    expect(answer.status).toBe(503);
    expect(answer.message).toMatch(/^the jobs API is unavailable: the job store's connection was lost/);
  });

  it("still answers 500 for an error that is no lost connection", () => {
    expect(toApiError(new Error("Connection refused by the model hub")).status).toBe(500);
  });
});
