// EventDelivery: a step's events reach their channels a slice per event-loop turn, in order, with I/O in between.
import { describe, expect, it } from "vitest";
import { EventChannel } from "../../../src/engine/event-channel.js";
import { EventDelivery } from "../../../src/engine/event-delivery.js";

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function collect<T>(channel: EventChannel<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of channel) items.push(item);
  return items;
}

describe("EventDelivery", () => {
  it("pushes one slice at once and the rest a slice per event-loop turn, in order", async () => {
    const channels = [new EventChannel<number>(() => {}), new EventChannel<number>(() => {})];
    const delivery = new EventDelivery<number>(4);
    for (let i = 0; i < 10; i++) delivery.push(channels[i % 2]!, i);
    for (const channel of channels) delivery.end(channel);
    delivery.flush();
    expect(delivery.pending).toBe(8);
    await nextTurn();
    expect(delivery.pending).toBe(4);
    const [even, odd] = await Promise.all(channels.map(collect));
    expect(even).toEqual([0, 2, 4, 6, 8]);
    expect(odd).toEqual([1, 3, 5, 7, 9]);
    expect(delivery.pending).toBe(0);
  });

  it("lets a socket's data be read between two slices of one step", async () => {
    const { createServer, connect } = await import("node:net");
    const server = createServer((socket) => socket.end("x"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    const channel = new EventChannel<number>(() => {});
    const delivery = new EventDelivery<number>(8);
    const pendingWhenRead = await new Promise<number>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("data", () => resolve(delivery.pending));
      socket.once("connect", () => {
        // Each push makes work for the consumer; a step of 100 000 events keeps the loop busy for many turns.
        for (let i = 0; i < 100_000; i++) delivery.push(channel, i);
        delivery.end(channel);
        delivery.flush();
      });
    });
    server.close();
    expect(pendingWhenRead).toBeGreaterThan(0);
    expect((await collect(channel)).length).toBe(100_000);
  });

  it("keeps the order of a later step's events behind an earlier step's still queued", async () => {
    const channel = new EventChannel<string>(() => {});
    const delivery = new EventDelivery<string>(2);
    for (const item of ["a1", "a2", "a3", "a4"]) delivery.push(channel, item);
    delivery.flush();
    for (const item of ["b1", "b2"]) delivery.push(channel, item);
    delivery.end(channel);
    delivery.flush();
    expect(await collect(channel)).toEqual(["a1", "a2", "a3", "a4", "b1", "b2"]);
  });

  it("refuses a slice that is not a positive integer", () => {
    expect(() => new EventDelivery(0)).toThrow(RangeError);
  });
});
