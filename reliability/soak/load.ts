// The soak's steady mixed load, through the official openai client: chat (the base model and its LoRA adapter in
// turn, so batches keep switching adapters), streamed chat, completions, embeddings, streams the client abandons
// after the first chunk, run-time adapter loads and unloads, and small batches when the server has Redis. Every
// answer is timed; a request that fails is an error of the run (the load only sends valid requests).
import OpenAI from "openai";
import { Agent, request } from "undici";
import type { ServerUnderTest } from "../common/stack.js";

/** What one kind of request does; `weight` is its share of the mix. */
interface Scenario {
  readonly name: string;
  readonly weight: number;
  /** Counted in the latency percentiles: inference answered in full (not abandoned streams, uploads, admin calls). */
  readonly timed: boolean;
  run(): Promise<void>;
}

export interface LoadOptions {
  readonly concurrency: number;
  /** Send batches (the server has Redis and the jobs routes). */
  readonly batches: boolean;
  /** Only these scenarios (by name), to tell which kind of request a memory trend comes from; all when absent. */
  readonly only?: readonly string[];
}

/** Latencies (ms) and errors since the last `drain()`; totals for the whole run. */
export interface LoadWindow {
  readonly latenciesMs: number[];
  readonly errors: string[];
  readonly byScenario: Record<string, number>;
}

const PROMPTS = ["Once upon a time", "The little dog", "Lily wanted to", "One day, a bird", "Tom and Sue went"];

export class MixedLoad {
  readonly #server: ServerUnderTest;
  readonly #client: OpenAI;
  readonly #agent: Agent;
  readonly #scenarios: readonly Scenario[];
  #window: LoadWindow = { latenciesMs: [], errors: [], byScenario: {} };
  #stopping = false;
  #turn = 0;
  #adapterBusy = false;
  #polling = false;
  /** Batches created and not yet seen completed: id -> lines sent. */
  readonly batchesInFlight = new Map<string, number>();
  batchesCompleted = 0;
  requests = 0;

  constructor(
    server: ServerUnderTest,
    readonly options: LoadOptions,
  ) {
    this.#server = server;
    // Its own pool, closed at the end, so the server's descriptors can be checked back at their idle count.
    this.#agent = new Agent({ connections: options.concurrency * 2 });
    this.#client = new OpenAI({
      baseURL: `${server.url}/v1`,
      apiKey: "unused",
      maxRetries: 0,
      timeout: 120_000,
      fetchOptions: { dispatcher: this.#agent } as never,
    });
    const scenarios: Scenario[] = [
      { name: "chat", timed: true, weight: 25, run: () => this.#chat() },
      { name: "chat-stream", timed: true, weight: 20, run: () => this.#chatStream(false) },
      { name: "completion", timed: true, weight: 15, run: () => this.#completion() },
      { name: "embedding", timed: true, weight: 15, run: () => this.#embedding() },
      { name: "aborted-stream", timed: false, weight: 10, run: () => this.#chatStream(true) },
      { name: "adapter-load", timed: false, weight: 5, run: () => this.#adapterLoad() },
    ];
    if (options.batches) scenarios.push({ name: "batch", timed: false, weight: 5, run: () => this.#batch() });
    const unknown = options.only?.filter((name) => !scenarios.some((s) => s.name === name)) ?? [];
    if (unknown.length > 0)
      throw new Error(
        `unknown or unavailable scenarios: ${unknown.join(", ")} (of ${scenarios.map((s) => s.name).join(", ")}; batch needs --redis)`,
      );
    this.#scenarios = options.only ? scenarios.filter((s) => options.only!.includes(s.name)) : scenarios;
  }

  /** Runs `concurrency` workers until stop(). */
  async run(): Promise<void> {
    await Promise.all(Array.from({ length: this.options.concurrency }, () => this.#worker()));
  }

  stop(): void {
    this.#stopping = true;
  }

  /** The window since the last call, and a fresh one started. */
  drain(): LoadWindow {
    const window = this.#window;
    this.#window = { latenciesMs: [], errors: [], byScenario: {} };
    return window;
  }

  /** Waits for every batch sent to complete (nothing accepted may be lost), then closes the connection pool. */
  async finish(timeoutMs: number): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.batchesInFlight.size > 0 && Date.now() < deadline) {
      await this.#pollBatches();
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const lost = [...this.batchesInFlight.keys()].map((id) => `batch ${id} did not complete within ${timeoutMs} ms`);
    await this.#agent.close();
    return lost;
  }

  async #worker(): Promise<void> {
    const total = this.#scenarios.reduce((n, s) => n + s.weight, 0);
    while (!this.#stopping) {
      let pick = Math.random() * total;
      const scenario = this.#scenarios.find((s) => (pick -= s.weight) < 0) ?? this.#scenarios[0]!;
      const started = performance.now();
      try {
        await scenario.run();
        if (scenario.timed) this.#window.latenciesMs.push(performance.now() - started);
      } catch (error) {
        this.#window.errors.push(`${scenario.name}: ${(error as Error).message}`);
      }
      this.requests++;
      this.#window.byScenario[scenario.name] = (this.#window.byScenario[scenario.name] ?? 0) + 1;
    }
  }

  /** The base model and its adapter in turn. */
  #model(): string {
    const { model } = this.#server;
    return this.#turn++ % 2 === 0 ? model.name : model.adapterName;
  }

  #prompt(): string {
    return PROMPTS[this.#turn % PROMPTS.length]!;
  }

  async #chat(): Promise<void> {
    const messages = [{ role: "user" as const, content: this.#prompt() }];
    const answer = await this.#client.chat.completions.create({ model: this.#model(), messages, max_tokens: 16 });
    if (!answer.choices[0]?.finish_reason) throw new Error("a chat completion without a finish_reason");
  }

  async #chatStream(abandon: boolean): Promise<void> {
    const controller = new AbortController();
    const stream = await this.#client.chat.completions.create(
      { model: this.#model(), messages: [{ role: "user", content: this.#prompt() }], max_tokens: 32, stream: true },
      { signal: controller.signal },
    );
    let finished = false;
    try {
      for await (const chunk of stream) {
        if (abandon) {
          controller.abort();
          return;
        }
        if (chunk.choices[0]?.finish_reason) finished = true;
      }
    } catch (error) {
      if (abandon && controller.signal.aborted) return;
      throw error;
    }
    if (!finished) throw new Error("a stream that ended without a finish_reason");
  }

  async #completion(): Promise<void> {
    const answer = await this.#client.completions.create({
      model: this.#model(),
      prompt: this.#prompt(),
      max_tokens: 16,
    });
    if (!answer.choices[0]?.finish_reason) throw new Error("a completion without a finish_reason");
  }

  async #embedding(): Promise<void> {
    const input = [this.#prompt(), `${this.#prompt()} ${this.#turn}`];
    const answer = await this.#client.embeddings.create({ model: this.#server.model.name, input });
    if (answer.data.length !== 2) throw new Error(`${answer.data.length} embeddings for 2 inputs`);
  }

  /** Loads the adapter again under another name from --lora-dir, uses it once, unloads it (one worker at a time). */
  async #adapterLoad(): Promise<void> {
    if (this.#adapterBusy) return this.#chat();
    this.#adapterBusy = true;
    const { url, loraDir, model } = this.#server;
    const lora = { lora_name: "soak-extra", lora_path: `${loraDir}/${model.adapterName}.gguf` };
    try {
      await this.#post(`${url}/v1/load_lora_adapter`, lora);
      const messages = [{ role: "user" as const, content: this.#prompt() }];
      await this.#client.chat.completions.create({ model: lora.lora_name, messages, max_tokens: 8 });
      await this.#post(`${url}/v1/unload_lora_adapter`, { lora_name: lora.lora_name });
    } finally {
      this.#adapterBusy = false;
    }
  }

  async #post(url: string, body: unknown): Promise<void> {
    const response = await request(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      dispatcher: this.#agent,
    });
    const text = await response.body.text();
    if (response.statusCode !== 200) throw new Error(`${url}: ${response.statusCode} ${text.slice(0, 300)}`);
  }

  /** Uploads three chat lines and starts a batch over them; its completion is checked by #pollBatches. */
  async #batch(): Promise<void> {
    // One model per batch, as OpenAI's Batch API requires.
    const model = this.#model();
    const lines = [0, 1, 2].map((i) =>
      JSON.stringify({
        custom_id: `soak-${this.#turn}-${i}`,
        method: "POST",
        url: "/v1/chat/completions",
        body: { model, messages: [{ role: "user", content: this.#prompt() }], max_tokens: 8 },
      }),
    );
    const file = await this.#client.files.create({
      file: new File([lines.join("\n")], "soak.jsonl"),
      purpose: "batch",
    });
    const batch = await this.#client.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    this.batchesInFlight.set(batch.id, lines.length);
    await this.#pollBatches();
  }

  /** Retrieves the batches in flight (one poller at a time) and records the finished ones. */
  async #pollBatches(): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    try {
      await this.#pollOnce();
    } finally {
      this.#polling = false;
    }
  }

  async #pollOnce(): Promise<void> {
    for (const [id, lines] of this.batchesInFlight) {
      const batch = await this.#client.batches.retrieve(id);
      if (batch.status === "in_progress" || batch.status === "validating" || batch.status === "finalizing") continue;
      this.batchesInFlight.delete(id);
      const done = batch.request_counts?.completed ?? 0;
      if (batch.status !== "completed" || done !== lines)
        this.#window.errors.push(
          `batch ${id}: ${batch.status}, ${done} of ${lines} lines completed ${JSON.stringify(batch.errors ?? "")}`,
        );
      else this.batchesCompleted++;
    }
  }
}
