// BatchedRunner: how requests reach one version of a classic model. With dynamic batching configured they go
// through the DynamicBatcher; without it each runs alone as soon as an instance is free. Either way the model's
// batch, queue and compute metrics are recorded the same way.
import { DynamicBatcher, QueueFullError, type BatcherOptions } from "../../engine/dynamic-batcher.js";
import type { Metrics } from "../../ops/metrics.js";
import { OverloadedError } from "../errors.js";
import type { ResolvedConfig } from "./model-config.js";

export interface BatchedRunnerOptions<I, O> extends Pick<BatcherOptions<I, O>, "rowsOf" | "keyOf" | "run"> {
  readonly name: string;
  readonly version: number;
  readonly config: ResolvedConfig;
  readonly metrics?: Metrics;
}

export class BatchedRunner<I, O> {
  readonly #options: BatchedRunnerOptions<I, O>;
  readonly #batcher: DynamicBatcher<I, O> | null;
  #closed = false;

  constructor(options: BatchedRunnerOptions<I, O>) {
    this.#options = options;
    const { config, metrics, name, version } = options;
    this.#batcher =
      config.batching === null
        ? null
        : new DynamicBatcher<I, O>({
            maxBatchSize: config.maxBatchSize,
            preferredBatchSizes: config.batching.preferredBatchSizes,
            maxQueueDelayMs: config.batching.maxQueueDelayMs,
            maxQueueSize: config.batching.maxQueueSize,
            maxConcurrentRuns: config.instances,
            rowsOf: options.rowsOf,
            keyOf: options.keyOf,
            run: options.run,
            onBatch: ({ rows, queueMs, computeMs }) =>
              metrics?.observeInferenceBatch(
                name,
                String(version),
                rows,
                queueMs.map((ms) => ms / 1000),
                computeMs / 1000,
              ),
          });
  }

  async submit(input: I): Promise<O> {
    if (this.#batcher) {
      return this.#batcher.submit(input).catch((error: unknown) => {
        throw error instanceof QueueFullError ? new OverloadedError(error.message) : error;
      });
    }
    if (this.#closed) throw new Error("the model was unloaded");
    const started = performance.now();
    const [output] = await this.#options.run([input]);
    this.#options.metrics?.observeInferenceBatch(
      this.#options.name,
      String(this.#options.version),
      this.#options.rowsOf(input),
      [0],
      (performance.now() - started) / 1000,
    );
    return output!;
  }

  /** New requests are refused; queued ones still run. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#batcher?.close();
  }
}
