// Prometheus metrics with prom-client. vLLM's names and meanings wherever vLLM has the metric (so dashboards and
// routers built for vLLM read Loom unchanged), loom:* otherwise. Gauges and cumulative counters are read from a
// stats callback per model at scrape time, so nothing below serving needs to know prom-client.
import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  type MetricObjectWithValues,
  type MetricValue,
  Registry,
} from "prom-client";
import { InferenceMetrics } from "./inference-metrics.js";

/** The numbers a model's engine reports; a structural copy of EngineStats, so ops imports nothing above it. */
export interface ModelStatsSnapshot {
  readonly numRunning: number;
  readonly numWaiting: number;
  readonly numPreemptions: number;
  /** Tokens sampled by engine steps so far, counted as they are made. */
  readonly numGeneratedTokens: number;
  readonly kvSpanCells: number;
  readonly kv: {
    readonly numBlocks: number;
    readonly numUsedBlocks: number;
    readonly numCachedBlocks: number;
    readonly numFreeBlocks: number;
    readonly prefixCacheQueries: number;
    readonly prefixCacheHits: number;
  };
}

export interface RequestObservation {
  /** The LoRA adapter the request used, if any. */
  readonly loraName: string | null;
  /** The route that chose the model and its variant (labels `route` and `variant`), if a route did. */
  readonly route?: { readonly name: string; readonly variant: string } | null;
  readonly finishReason: string;
  readonly promptTokens: number;
  readonly outputTokens: number;
  readonly queueSeconds: number | null;
  readonly ttftSeconds: number | null;
  readonly e2eSeconds: number;
  readonly interTokenSeconds: readonly number[];
}

const LATENCY_BUCKETS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560,
];
const TOKEN_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000];
/** Request-level series carry the route and variant that chose the model when a route did (issue 18). */
const MODEL_LABELS = ["model_name", "route", "variant"];

export class Metrics {
  readonly registry = new Registry();
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
  readonly #kvBlocks = new Gauge({
    name: "loom:kv_blocks",
    help: "KV blocks by state: used by running sequences, cached for prefix reuse, free.",
    labelNames: ["model_name", "state"],
    registers: [this.registry],
  });
  readonly #prefixQueries = this.#counter(
    "vllm:prefix_cache_queries_total",
    "Prompt tokens looked up in the prefix cache.",
  );
  readonly #prefixHits = this.#counter("vllm:prefix_cache_hits_total", "Prompt tokens found in the prefix cache.");
  readonly #preemptions = this.#counter(
    "vllm:num_preemptions_total",
    "Sequences preempted (freed and recomputed later).",
  );
  readonly #promptTokens = this.#counter("vllm:prompt_tokens_total", "Prompt tokens of finished requests.");
  readonly #generationTokens = this.#counter("vllm:generation_tokens_total", "Generated tokens of finished requests.");
  // A live rate needs tokens as they are made: a long stream adds nothing to the counter above until it ends.
  readonly #stepGenerationTokens = this.#counter(
    "loom:step_generation_tokens_total",
    "Tokens sampled by engine steps, counted as they are made (vllm:generation_tokens_total counts them at the end).",
  );
  readonly #success = new Counter({
    name: "vllm:request_success_total",
    help: "Finished requests by finish reason.",
    labelNames: [...MODEL_LABELS, "finished_reason"],
    registers: [this.registry],
  });
  readonly #http = new Counter({
    name: "loom:http_requests_total",
    help: "HTTP responses by status class.",
    labelNames: ["status_class"],
    registers: [this.registry],
  });
  readonly #ttft = this.#histogram("vllm:time_to_first_token_seconds", "Time to first token.", LATENCY_BUCKETS);
  readonly #itl = this.#histogram(
    "vllm:inter_token_latency_seconds",
    "Time between successive output tokens.",
    LATENCY_BUCKETS,
  );
  readonly #tpot = this.#histogram(
    "vllm:request_time_per_output_token_seconds",
    "Mean time per output token after the first, per request.",
    LATENCY_BUCKETS,
  );
  readonly #e2e = this.#histogram("vllm:e2e_request_latency_seconds", "End-to-end request latency.", LATENCY_BUCKETS);
  readonly #queue = this.#histogram(
    "vllm:request_queue_time_seconds",
    "Time from arrival to first scheduled step.",
    LATENCY_BUCKETS,
  );
  readonly #promptLength = this.#histogram(
    "vllm:request_prompt_tokens",
    "Prompt length of finished requests.",
    TOKEN_BUCKETS,
  );
  readonly #outputLength = this.#histogram(
    "vllm:request_generation_tokens",
    "Output length of finished requests.",
    TOKEN_BUCKETS,
  );
  readonly #loraRequests = new Counter({
    name: "loom:lora_requests_total",
    help: "Finished requests per LoRA adapter.",
    labelNames: ["model_name", "lora_name"],
    registers: [this.registry],
  });
  readonly #loraTokens = new Counter({
    name: "loom:lora_generation_tokens_total",
    help: "Generated tokens per LoRA adapter.",
    labelNames: ["model_name", "lora_name"],
    registers: [this.registry],
  });
  readonly #lorasLoaded = this.#gauge("loom:loras_loaded", "LoRA adapters resident for the model.");
  readonly #loraLoadSeconds = this.#histogram(
    "loom:lora_load_seconds",
    "Time to load a LoRA adapter file.",
    LATENCY_BUCKETS,
  );
  readonly #inference = new InferenceMetrics(this.registry, LATENCY_BUCKETS);
  readonly #stepTokens = this.#histogram(
    "vllm:iteration_tokens_total",
    "Tokens computed per engine step.",
    [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096],
  );
  readonly #stepSeconds = this.#histogram(
    "loom:step_duration_seconds",
    "Wall time of one engine step (decode and sampling).",
    LATENCY_BUCKETS,
  );
  readonly #schedulerSeconds = this.#histogram(
    "loom:scheduler_overhead_seconds",
    "Event-loop time per step spent planning and applying results.",
    LATENCY_BUCKETS,
  );

  constructor({ processMetrics = true }: { processMetrics?: boolean } = {}) {
    if (processMetrics) collectDefaultMetrics({ register: this.registry });
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

  observeRequest(model: string, o: RequestObservation): void {
    const labels = o.route
      ? { model_name: model, route: o.route.name, variant: o.route.variant }
      : { model_name: model };
    this.#success.inc({ ...labels, finished_reason: o.finishReason });
    this.#promptTokens.inc(labels, o.promptTokens);
    this.#generationTokens.inc(labels, o.outputTokens);
    this.#promptLength.observe(labels, o.promptTokens);
    this.#outputLength.observe(labels, o.outputTokens);
    this.#e2e.observe(labels, o.e2eSeconds);
    if (o.queueSeconds !== null) this.#queue.observe(labels, o.queueSeconds);
    if (o.ttftSeconds !== null) {
      this.#ttft.observe(labels, o.ttftSeconds);
      if (o.outputTokens > 1) this.#tpot.observe(labels, (o.e2eSeconds - o.ttftSeconds) / (o.outputTokens - 1));
    }
    for (const gap of o.interTokenSeconds) this.#itl.observe(labels, gap);
    if (o.loraName !== null) {
      this.#loraRequests.inc({ model_name: model, lora_name: o.loraName });
      this.#loraTokens.inc({ model_name: model, lora_name: o.loraName }, o.outputTokens);
    }
  }

  /** An adapter load took `seconds` (null: an unload); `numLoaded` are resident now. */
  observeAdapterLoad(model: string, seconds: number | null, numLoaded: number): void {
    if (seconds !== null) this.#loraLoadSeconds.observe({ model_name: model }, seconds);
    this.#lorasLoaded.set({ model_name: model }, numLoaded);
  }

  observeStep(model: string, numTokens: number, stepSeconds: number, schedulerSeconds: number): void {
    this.#stepTokens.observe({ model_name: model }, numTokens);
    this.#stepSeconds.observe({ model_name: model }, stepSeconds);
    this.#schedulerSeconds.observe({ model_name: model }, schedulerSeconds);
  }

  observeInferenceBatch(
    model: string,
    version: string,
    rows: number,
    queueSeconds: readonly number[],
    computeSeconds: number,
  ) {
    this.#inference.observeBatch({ model_name: model, model_version: version }, rows, queueSeconds, computeSeconds);
  }

  observeInferenceRequest(model: string, version: string, ok: boolean): void {
    this.#inference.observeRequest({ model_name: model, model_version: version }, ok);
  }

  observeHttp(status: number): void {
    this.#http.inc({ status_class: `${Math.floor(status / 100)}xx` });
  }

  async text(): Promise<string> {
    this.#collect();
    return this.registry.metrics();
  }

  /**
   * The current values of the named metrics in prom-client's JSON form (histograms as `_bucket`, `_sum` and `_count`
   * values), with the models' gauges and counters refreshed first; names not registered are left out.
   */
  async read(names: readonly string[]): Promise<MetricObjectWithValues<MetricValue<string>>[]> {
    this.#collect();
    const metrics = names.flatMap((name) => this.registry.getSingleMetric(name) ?? []);
    return Promise.all(metrics.map((m) => m.get() as Promise<MetricObjectWithValues<MetricValue<string>>>));
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  #collect(): void {
    for (const [model, read] of this.#sources) {
      const s = read();
      const labels = { model_name: model };
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
    }
  }

  #advance(counter: Counter<string>, model: string, key: string, total: number): void {
    const id = `${model}\u0000${key}`;
    const delta = total - (this.#lastTotals.get(id) ?? 0);
    if (delta > 0) counter.inc({ model_name: model }, delta);
    this.#lastTotals.set(id, total);
  }

  #gauge(name: string, help: string): Gauge<string> {
    return new Gauge({ name, help, labelNames: ["model_name"], registers: [this.registry] });
  }

  #counter(name: string, help: string): Counter<string> {
    return new Counter({ name, help, labelNames: MODEL_LABELS, registers: [this.registry] });
  }

  #histogram(name: string, help: string, buckets: number[]): Histogram<string> {
    return new Histogram({ name, help, buckets, labelNames: MODEL_LABELS, registers: [this.registry] });
  }
}
