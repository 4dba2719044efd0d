// ReplicaSet: the replicas the router spreads requests over, from a static list and/or a DNS name looked up again
// periodically (a Kubernetes headless Service resolves to its ready pods), each probed on GET /health/ready and,
// for the load-aware policies, scraped on GET /metrics every probe interval.
import { lookup } from "node:dns/promises";
import type { Dispatcher } from "undici";
import type { Logger } from "../ops/logger.js";
import { parseLoad } from "./load-metrics.js";
import { Replica } from "./replica.js";

export interface ReplicaSetOptions {
  /** Static replica URLs (http://host:port). */
  readonly urls: readonly string[];
  /** A name whose addresses are replicas too, on `port`, looked up every `intervalMs`. */
  readonly dns?: { readonly name: string; readonly port: number; readonly intervalMs: number };
  readonly probeIntervalMs: number;
  readonly probeTimeoutMs: number;
  /** Scrape each replica's load gauges (least-load and prefix policies). */
  readonly scrapeLoad: boolean;
  readonly dispatcher: Dispatcher;
  readonly logger: Logger;
}

/** http://host:port without a trailing slash, so that two spellings of one replica are one replica. */
function normalizeUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/+$/, "")}`;
}

function isTimeout(error: unknown): boolean {
  const { name, code } = error as { name?: string; code?: string };
  return name === "TimeoutError" || code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT";
}

export class ReplicaSet {
  readonly #options: ReplicaSetOptions;
  readonly #static: readonly string[];
  #replicas = new Map<string, Replica>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #closed = false;

  constructor(options: ReplicaSetOptions) {
    this.#options = options;
    this.#static = [...new Set(options.urls.map(normalizeUrl))];
    for (const url of this.#static) this.#replicas.set(url, new Replica(url));
  }

  get all(): readonly Replica[] {
    return [...this.#replicas.values()];
  }

  /** The replicas taking traffic now, in list order. */
  routable(): Replica[] {
    return this.all.filter((r) => r.routable);
  }

  /** Base model names the replicas report (their load gauges' model_name labels). */
  baseModels(): Set<string> {
    return new Set(this.all.flatMap((r) => r.load?.models ?? []));
  }

  /** Resolves DNS and probes every replica once, then keeps doing both on their intervals until close(). */
  async start(): Promise<void> {
    if (this.#options.dns) await this.#resolve();
    await this.probeAll();
    this.#every(this.#options.probeIntervalMs, () => this.probeAll());
    if (this.#options.dns) this.#every(this.#options.dns.intervalMs, () => this.#resolve());
  }

  close(): void {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
  }

  /** One probe round over all replicas, in parallel. */
  async probeAll(): Promise<void> {
    await Promise.all(this.all.map((replica) => this.#probe(replica)));
  }

  #every(intervalMs: number, run: () => Promise<void>): void {
    const tick = () => {
      if (this.#closed) return;
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        run().finally(tick);
      }, intervalMs);
      this.#timers.add(timer);
    };
    tick();
  }

  async #get(replica: Replica, path: string): Promise<{ status: number; text: string }> {
    const timeout = this.#options.probeTimeoutMs;
    const response = await this.#options.dispatcher.request({
      origin: replica.url,
      path,
      method: "GET",
      headersTimeout: timeout,
      bodyTimeout: timeout,
      signal: AbortSignal.timeout(timeout),
    });
    return { status: response.statusCode, text: await response.body.text() };
  }

  async #probe(replica: Replica): Promise<void> {
    const before = replica.state;
    try {
      const { status } = await this.#get(replica, "/health/ready");
      if (status === 200) replica.probePassed(Date.now());
      else replica.probeFailed(`GET /health/ready answered ${status}`);
    } catch (error) {
      replica.probeFailed(`GET /health/ready failed: ${(error as Error).message}`, { timeout: isTimeout(error) });
    }
    if (this.#options.scrapeLoad && replica.routable) {
      try {
        const { status, text } = await this.#get(replica, "/metrics");
        replica.updateLoad(status === 200 ? parseLoad(text) : null);
      } catch {
        replica.updateLoad(null);
      }
    }
    if (replica.state !== before)
      this.#options.logger.log(replica.routable ? "info" : "warn", "replica_state", {
        replica: replica.url,
        from: before,
        to: replica.state,
        problem: replica.lastProblem,
      });
  }

  async #resolve(): Promise<void> {
    const dns = this.#options.dns!;
    let urls: string[];
    try {
      const addresses = await lookup(dns.name, { all: true });
      urls = addresses.map((a) => normalizeUrl(`http://${a.family === 6 ? `[${a.address}]` : a.address}:${dns.port}`));
    } catch (error) {
      // Keep the last known replicas: a DNS hiccup must not empty the pool.
      this.#options.logger.log("warn", "replicas_dns_failed", { name: dns.name, message: (error as Error).message });
      return;
    }
    const wanted = new Set([...this.#static, ...urls]);
    const next = new Map<string, Replica>();
    for (const url of wanted) next.set(url, this.#replicas.get(url) ?? new Replica(url));
    const added = [...wanted].filter((url) => !this.#replicas.has(url));
    const removed = [...this.#replicas.keys()].filter((url) => !wanted.has(url));
    this.#replicas = next;
    if (added.length > 0 || removed.length > 0) {
      this.#options.logger.log("info", "replicas_changed", { added, removed });
      await Promise.all(added.map((url) => this.#probe(next.get(url)!)));
    }
  }
}
