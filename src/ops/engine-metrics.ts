// The engine's gauges and cumulative counters in Prometheus: running and waiting sequences, KV usage and blocks,
// the prefix cache, preemptions, tokens as they are made, speculative decoding, and vLLM's two info gauges. They are
// read from a stats callback per model at scrape time, so nothing below serving needs to know prom-client.
import { Counter, Gauge, type Registry } from "prom-client";

/** The numbers a model's engine reports; a structural copy of EngineStats, so ops imports nothing above it. */
export interface ModelStatsSnapshot {
  readonly numRunning: number;
  readonly numWaiting: number;
  readonly numPreemptions: number;
  /** Tokens sampled by engine steps so far, counted as they are made. */
  readonly numGeneratedTokens: number;
  readonly kvSpanCells: number;
  /** LoRA adapters by name: the most resident at once, and those with running and with waiting sequences. */
  readonly lora: {
    readonly maxLoras: number;
    readonly running: readonly string[];
    readonly waiting: readonly string[];
  };
  /** How the KV cache is laid out, for vllm:cache_config_info. */
  readonly cacheConfig: { readonly layout: string; readonly enablePrefixCaching: boolean };
  readonly kv: {
    readonly numBlocks: number;
    readonly blockSize: number;
    readonly numUsedBlocks: number;
    readonly numCachedBlocks: number;
    readonly numFreeBlocks: number;
    readonly prefixCacheQueries: number;
    readonly prefixCacheHits: number;
  };
  /** Speculative decoding's cumulative counts; null (or absent) when the model does not speculate. */
  readonly specDecode?: {
    readonly numDrafts: number;
    readonly numDraftTokens: number;
    readonly numAcceptedTokens: number;
    readonly numAcceptedPerPosition: readonly number[];
  } | null;
}

export class EngineMetrics {
  // Created before the constructor runs (field initializers), so each registers in the constructor.
  readonly #metrics: (Gauge<string> | Counter<string>)[] = [];
  readonly #sources = new Map<string, () => ModelStatsSnapshot>();
  // Cumulative engine counters become prom-client counters by adding what changed since the last scrape.
  readonly #lastTotals = new Map<string, number>();

  readonly #running = this.#gauge("vllm:num_requests_running", "Sequences in the running batch.");
  readonly #waiting = this.#gauge("vllm:num_requests_waiting", "Sequences waiting to be scheduled.");
  readonly #kvUsage = this.#gauge(
    "vllm:kv_cache_usage_perc",
    "Fraction of KV blocks held by running sequences (1 is full).",
  );
  readonly #kvSpan = this.#gauge(
    "loom:kv_attention_span_cells",
    "KV cells each token's attention scans after the last step: one past the highest cell in use of the unified pool.",
  );
  // vLLM's info gauges, read by the Gateway API Inference Extension's endpoint picker: the value of
  // lora_requests_info is the time of its last update (the picker keeps the newest series), cache_config_info is 1.
  readonly #loraInfo = this.#own(
    new Gauge({
      name: "vllm:lora_requests_info",
      help:
        "Running stats on LoRA requests: adapters with running and waiting sequences; " +
        "the value is the update time.",
      labelNames: ["model_name", "max_lora", "running_lora_adapters", "waiting_lora_adapters"],
      registers: [],
    }),
  );
  readonly #cacheInfo = this.#own(
    new Gauge({
      name: "vllm:cache_config_info",
      help: "Information of the KV cache configuration.",
      labelNames: ["model_name", "block_size", "num_gpu_blocks", "enable_prefix_caching", "kv_layout"],
      registers: [],
    }),
  );
  readonly #kvBlocks = this.#own(
    new Gauge({
      name: "loom:kv_blocks",
      help: "KV blocks by state: used by running sequences, cached for prefix reuse, free.",
      labelNames: ["model_name", "state"],
      registers: [],
    }),
  );
  readonly #prefixQueries = this.#counter(
    "vllm:prefix_cache_queries_total",
    "Prompt tokens looked up in the prefix cache.",
  );
  readonly #prefixHits = this.#counter("vllm:prefix_cache_hits_total", "Prompt tokens found in the prefix cache.");
  readonly #preemptions = this.#counter(
    "vllm:num_preemptions_total",
    "Sequences preempted (freed and recomputed later).",
  );
  // A live rate needs tokens as they are made: a long stream adds nothing to the counter above until it ends.
  readonly #stepGenerationTokens = this.#counter(
    "loom:step_generation_tokens_total",
    "Tokens sampled by engine steps, counted as they are made (vllm:generation_tokens_total counts them at the end).",
  );

  // vLLM's speculative decoding counters (vllm/v1/spec_decode/metrics.py), with the same meanings.
  readonly #specDrafts = this.#counter("vllm:spec_decode_num_drafts_total", "Verified drafts (verify chunks).");
  readonly #specDraftTokens = this.#counter("vllm:spec_decode_num_draft_tokens_total", "Draft tokens verified.");
  readonly #specAccepted = this.#counter("vllm:spec_decode_num_accepted_tokens_total", "Draft tokens accepted.");
  readonly #specAcceptedPerPos = this.#own(
    new Counter({
      name: "vllm:spec_decode_num_accepted_tokens_per_pos_total",
      help: "Accepted draft tokens per position within the draft (0 first).",
      labelNames: ["model_name", "position"],
      registers: [],
    }),
  );

  constructor(registry: Registry) {
    for (const metric of this.#metrics) registry.registerMetric(metric);
  }

  /**
   * Registers a model whose gauges and cumulative counters are read from `stats` at every scrape; a model loaded
   * again under a name (a reload) counts afresh from its own engine's totals.
   */
  addModel(model: string, stats: () => ModelStatsSnapshot): void {
    this.#sources.set(model, stats);
    for (const key of [...this.#lastTotals.keys()]) if (key.startsWith(`${model}\u0000`)) this.#lastTotals.delete(key);
  }

  /** Stops reading an unloaded model: its gauges go. */
  removeModel(model: string): void {
    this.#sources.delete(model);
    for (const gauge of [this.#running, this.#waiting, this.#kvUsage, this.#kvSpan])
      gauge.remove({ model_name: model });
    for (const state of ["used", "cached", "free"]) this.#kvBlocks.remove({ model_name: model, state });
  }

  /** Reads every model's stats into the metrics; run before each scrape. */
  collect(): void {
    this.#loraInfo.reset();
    this.#cacheInfo.reset();
    const now = Date.now() / 1000;
    for (const [model, read] of this.#sources) {
      const s = read();
      const labels = { model_name: model };
      this.#loraInfo.set(
        {
          ...labels,
          max_lora: String(s.lora.maxLoras),
          running_lora_adapters: s.lora.running.join(","),
          waiting_lora_adapters: s.lora.waiting.join(","),
        },
        now,
      );
      this.#cacheInfo.set(
        {
          ...labels,
          block_size: String(s.kv.blockSize),
          num_gpu_blocks: String(s.kv.numBlocks),
          enable_prefix_caching: String(s.cacheConfig.enablePrefixCaching),
          kv_layout: s.cacheConfig.layout,
        },
        1,
      );
      this.#running.set(labels, s.numRunning);
      this.#waiting.set(labels, s.numWaiting);
      this.#kvUsage.set(labels, s.kv.numBlocks === 0 ? 0 : s.kv.numUsedBlocks / s.kv.numBlocks);
      if (s.kvSpanCells >= 0) this.#kvSpan.set(labels, s.kvSpanCells);
      this.#kvBlocks.set({ ...labels, state: "used" }, s.kv.numUsedBlocks);
      this.#kvBlocks.set({ ...labels, state: "cached" }, s.kv.numCachedBlocks);
      this.#kvBlocks.set({ ...labels, state: "free" }, s.kv.numFreeBlocks);
      this.#advance(this.#prefixQueries, model, "prefixQueries", s.kv.prefixCacheQueries);
      this.#advance(this.#prefixHits, model, "prefixHits", s.kv.prefixCacheHits);
      this.#advance(this.#preemptions, model, "preemptions", s.numPreemptions);
      this.#advance(this.#stepGenerationTokens, model, "stepGenerationTokens", s.numGeneratedTokens);
      if (s.specDecode) this.#collectSpecDecode(model, s.specDecode);
    }
  }

  #collectSpecDecode(model: string, spec: NonNullable<ModelStatsSnapshot["specDecode"]>): void {
    this.#advance(this.#specDrafts, model, "specDrafts", spec.numDrafts);
    this.#advance(this.#specDraftTokens, model, "specDraftTokens", spec.numDraftTokens);
    this.#advance(this.#specAccepted, model, "specAccepted", spec.numAcceptedTokens);
    spec.numAcceptedPerPosition.forEach((total, position) =>
      this.#advance(this.#specAcceptedPerPos, model, `specAccepted@${position}`, total, { position: String(position) }),
    );
  }

  #advance(counter: Counter<string>, model: string, key: string, total: number, labels = {}): void {
    const id = `${model}\u0000${key}`;
    const delta = total - (this.#lastTotals.get(id) ?? 0);
    if (delta > 0) counter.inc({ model_name: model, ...labels }, delta);
    this.#lastTotals.set(id, total);
  }

  #gauge(name: string, help: string): Gauge<string> {
    return this.#own(new Gauge({ name, help, labelNames: ["model_name"], registers: [] }));
  }

  #counter(name: string, help: string): Counter<string> {
    return this.#own(new Counter({ name, help, labelNames: ["model_name"], registers: [] }));
  }

  #own<M extends Gauge<string> | Counter<string>>(metric: M): M {
    this.#metrics.push(metric);
    return metric;
  }
}
