// The routing policies as pure functions of a routing key and replica views.
import { describe, expect, it } from "vitest";
import { LeastLoadPolicy } from "../../../src/router/policies/least-load.js";
import { PrefixAffinityPolicy } from "../../../src/router/policies/prefix-affinity.js";
import { rendezvousOrder } from "../../../src/router/policies/rendezvous.js";
import { RoundRobinPolicy } from "../../../src/router/policies/round-robin.js";
import type { ReplicaView } from "../../../src/router/replica.js";
import type { RoutingKey } from "../../../src/router/request-key.js";

const view = (url: string, inFlight = 0, running = 0, kvUsage = 0): ReplicaView => ({
  url,
  inFlight,
  load: { running, waiting: 0, kvUsage, models: ["base"] },
});
const urls = ["http://a:1", "http://b:1", "http://c:1", "http://d:1"];
const prefixKey = (prefix: string): RoutingKey => ({ model: "base", adapter: null, prefix });

describe("rendezvousOrder", () => {
  it("moves only the keys of a removed replica, and each of those to its second choice", () => {
    const replicas = urls.map((url) => view(url));
    const keys = Array.from({ length: 400 }, (_, i) => `tenant ${i}`);
    const before = keys.map((k) => rendezvousOrder(k, replicas));
    const without = replicas.filter((r) => r.url !== "http://c:1");
    for (const [i, key] of keys.entries()) {
      const after = rendezvousOrder(key, without)[0]!.url;
      const [first, second] = before[i]!;
      expect(after).toBe(first!.url === "http://c:1" ? second!.url : first!.url);
    }
    const share = before.filter((order) => order[0]!.url === "http://c:1").length / keys.length;
    expect(share).toBeGreaterThan(0.15);
    expect(share).toBeLessThan(0.35);
  });
});

describe("PrefixAffinityPolicy", () => {
  const policy = new PrefixAffinityPolicy({ absThreshold: 4, relThreshold: 1.5 });

  it("keeps a key on its replica until that one carries more than both thresholds over the least loaded", () => {
    const idle = urls.map((url) => view(url));
    const home = policy.choose(prefixKey("system prompt"), idle);
    expect(home.decision).toBe("affinity");
    const homeUrl = home.order[0]!.url;
    const loaded = (n: number) => idle.map((r) => (r.url === homeUrl ? view(r.url, n) : view(r.url, 2)));
    expect(policy.choose(prefixKey("system prompt"), loaded(6)).order[0]!.url).toBe(homeUrl);
    const spilled = policy.choose(prefixKey("system prompt"), loaded(7));
    expect(spilled.decision).toBe("affinity_overflow");
    expect(spilled.order[0]!.url).not.toBe(homeUrl);
    expect(spilled.order.map((r) => r.url).sort()).toEqual([...urls].sort());
  });

  it("places a new key on the least loaded replica and keeps it there while that one is not overloaded", () => {
    const fresh = new PrefixAffinityPolicy({ absThreshold: 4, relThreshold: 1.5 });
    const pair = (a: number, b: number) => [view(urls[0]!, a), view(urls[1]!, b)];
    expect(fresh.choose(prefixKey("tenant one"), pair(3, 0)).order[0]!.url).toBe(urls[1]);
    expect(fresh.choose(prefixKey("tenant two"), pair(0, 3)).order[0]!.url).toBe(urls[0]);
    const kept = fresh.choose(prefixKey("tenant one"), pair(0, 4));
    expect([kept.order[0]!.url, kept.decision]).toEqual([urls[1], "affinity"]);
  });

  it("gives an overloaded key a second replica, then spreads it over both by load", () => {
    const fresh = new PrefixAffinityPolicy({ absThreshold: 4, relThreshold: 1.5 });
    const pair = (a: number, b: number) => [view(urls[0]!, a), view(urls[1]!, b)];
    expect(fresh.choose(prefixKey("hot tenant"), pair(1, 0)).order[0]!.url).toBe(urls[1]);
    const spilled = fresh.choose(prefixKey("hot tenant"), pair(1, 9));
    expect([spilled.order[0]!.url, spilled.decision]).toEqual([urls[0], "affinity_overflow"]);
    for (const [a, b, to] of [
      [3, 2, urls[1]],
      [2, 3, urls[0]],
    ] as const) {
      const choice = fresh.choose(prefixKey("hot tenant"), pair(a, b));
      expect([choice.order[0]!.url, choice.decision]).toEqual([to, "affinity"]);
    }
  });

  it("forgets an owner that has not been chosen for ownerTtlMs", async () => {
    const fresh = new PrefixAffinityPolicy({ absThreshold: 4, relThreshold: 1.5, ownerTtlMs: 20 });
    const pair = (a: number, b: number) => [view(urls[0]!, a), view(urls[1]!, b)];
    expect(fresh.choose(prefixKey("tenant"), pair(1, 0)).order[0]!.url).toBe(urls[1]);
    expect(fresh.choose(prefixKey("tenant"), pair(0, 1)).order[0]!.url).toBe(urls[1]);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(fresh.choose(prefixKey("tenant"), pair(0, 1)).order[0]!.url).toBe(urls[0]);
  });

  it("routes by adapter over prompt, and by least load without either", () => {
    const replicas = urls.map((url, i) => view(url, 0, 3 - i));
    const byAdapter = (prefix: string) => policy.choose({ model: "legal", adapter: "legal", prefix }, replicas);
    expect(byAdapter("one prompt").decision).toBe("adapter_affinity");
    expect(byAdapter("one prompt").order[0]).toBe(byAdapter("another prompt entirely").order[0]);
    const none = policy.choose({ model: null, adapter: null, prefix: null }, replicas);
    expect(none.decision).toBe("no_key");
    expect(none.order.map((r) => r.url)).toEqual([...urls].reverse());
  });
});

describe("round-robin and least-load", () => {
  it("round-robin rotates the whole list; least-load orders by load, then KV usage, ties in turn", () => {
    const rr = new RoundRobinPolicy();
    const replicas = urls.slice(0, 3).map((url) => view(url));
    expect(
      [0, 1, 2, 3].map(() =>
        rr
          .choose(null, replicas)
          .order.map((r) => r.url.slice(7, 8))
          .join(""),
      ),
    ).toEqual(["abc", "bca", "cab", "abc"]);
    const ll = new LeastLoadPolicy();
    const loaded = [view(urls[0]!, 2), view(urls[1]!, 0, 1, 0.5), view(urls[2]!, 0, 1, 0.1)];
    expect(ll.choose(null, loaded).order.map((r) => r.url)).toEqual([urls[2], urls[1], urls[0]]);
    const even = [view(urls[0]!), view(urls[1]!)];
    const firsts = [0, 1, 2, 3].map(() => ll.choose(null, even).order[0]!.url);
    expect(firsts[0]).not.toBe(firsts[1]);
    expect(firsts).toEqual([firsts[0], firsts[1], firsts[0], firsts[1]]);
  });
});
