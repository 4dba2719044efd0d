// The classic (ONNX) path's metrics, loom:inference_*: requests by outcome, and per batch its rows, its requests'
// time in the batcher and onnxruntime's time. Registered on the server's one registry by Metrics.
import { Counter, Histogram, type Registry } from "prom-client";

type VersionLabels = { readonly model_name: string; readonly model_version: string };

const LABELS = ["model_name", "model_version"];

export class InferenceMetrics {
  readonly #requests: Counter<string>;
  readonly #queue: Histogram<string>;
  readonly #compute: Histogram<string>;
  readonly #batch: Histogram<string>;

  constructor(registry: Registry, latencyBuckets: number[]) {
    const histogram = (name: string, help: string, buckets: number[]) =>
      new Histogram({ name, help, buckets, labelNames: LABELS, registers: [registry] });
    this.#requests = new Counter({
      name: "loom:inference_requests_total",
      help: "Classic-model requests by outcome.",
      labelNames: [...LABELS, "outcome"],
      registers: [registry],
    });
    this.#queue = histogram(
      "loom:inference_queue_seconds",
      "Time a classic-model request waited in the batcher.",
      latencyBuckets,
    );
    this.#compute = histogram("loom:inference_compute_seconds", "onnxruntime time per batch.", latencyBuckets);
    this.#batch = histogram(
      "loom:inference_batch_size",
      "Rows per onnxruntime run.",
      [1, 2, 4, 8, 16, 32, 64, 128, 256],
    );
  }

  observeBatch(labels: VersionLabels, rows: number, queueSeconds: readonly number[], computeSeconds: number): void {
    this.#batch.observe(labels, rows);
    this.#compute.observe(labels, computeSeconds);
    for (const q of queueSeconds) this.#queue.observe(labels, q);
  }

  observeRequest(labels: VersionLabels, ok: boolean): void {
    this.#requests.inc({ ...labels, outcome: ok ? "success" : "failure" });
  }
}
