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
import { EngineMetrics, type ModelStatsSnapshot } from "./engine-metrics.js";

export type { ModelStatsSnapshot };

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
  readonly #engines = new EngineMetrics(this.registry);
  readonly #promptTokens = this.#counter("vllm:prompt_tokens_total", "Prompt tokens of finished requests.");
  readonly #generationTokens = this.#counter("vllm:generation_tokens_total", "Generated tokens of finished requests.");
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
  readonly #inferRequests = new Counter({
    name: "loom:inference_requests_total",
    help: "Classic-model requests by outcome.",
    labelNames: ["model_name", "model_version", "outcome"],
    registers: [this.registry],
  });
  readonly #inferQueue = new Histogram({
    name: "loom:inference_queue_seconds",
    help: "Time a classic-model request waited in the batcher.",
    buckets: LATENCY_BUCKETS,
    labelNames: ["model_name", "model_version"],
    registers: [this.registry],
  });
  readonly #inferCompute = new Histogram({
    name: "loom:inference_compute_seconds",
    help: "onnxruntime time per batch.",
    buckets: LATENCY_BUCKETS,
    labelNames: ["model_name", "model_version"],
    registers: [this.registry],
  });
  readonly #inferBatch = new Histogram({
    name: "loom:inference_batch_size",
    help: "Rows per onnxruntime run.",
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    labelNames: ["model_name", "model_version"],
    registers: [this.registry],
  });
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

  /** Registers a model whose gauges and cumulative counters are read from `stats` at every scrape. */
  addModel(model: string, stats: () => ModelStatsSnapshot): void {
    this.#engines.addModel(model, stats);
  }

  /** Stops reading an unloaded model: its gauges go. */
  removeModel(model: string): void {
    this.#engines.removeModel(model);
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
  ): void {
    const labels = { model_name: model, model_version: version };
    this.#inferBatch.observe(labels, rows);
    this.#inferCompute.observe(labels, computeSeconds);
    for (const q of queueSeconds) this.#inferQueue.observe(labels, q);
  }

  observeInferenceRequest(model: string, version: string, ok: boolean): void {
    this.#inferRequests.inc({ model_name: model, model_version: version, outcome: ok ? "success" : "failure" });
  }

  observeHttp(status: number): void {
    this.#http.inc({ status_class: `${Math.floor(status / 100)}xx` });
  }

  async text(): Promise<string> {
    this.#engines.collect();
    return this.registry.metrics();
  }

  /**
   * The current values of the named metrics in prom-client's JSON form (histograms as `_bucket`, `_sum` and `_count`
   * values), with the models' gauges and counters refreshed first; names not registered are left out.
   */
  async read(names: readonly string[]): Promise<MetricObjectWithValues<MetricValue<string>>[]> {
    this.#engines.collect();
    const metrics = names.flatMap((name) => this.registry.getSingleMetric(name) ?? []);
    return Promise.all(metrics.map((m) => m.get() as Promise<MetricObjectWithValues<MetricValue<string>>>));
  }

  get contentType(): string {
    return this.registry.contentType;
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
