// npm run bench:metrics: how fast /metrics renders while 256 sequences run, the load at which the Gateway API
// Inference Extension's endpoint picker scrapes every 50 ms (stale metrics count as saturation; the target is
// under 5 ms p99). Loom runs in its own process on the tiny model; latency is measured at the client on loopback,
// so it is an upper bound on the server's time.
// usage: npm run bench:metrics -- [--running 256] [--scrapes 2000] [--interval-ms 0] [--dry-run]
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { DEFAULT_MODEL_PATH } from "../models/ensure-default.js";
import { startLoom } from "./server-process.js";
import { serverTimeMs } from "./scrape.js";
import { percentile } from "./stats.js";

const { values } = parseArgs({
  options: {
    running: { type: "string", default: "256" },
    scrapes: { type: "string", default: "2000" },
    "interval-ms": { type: "string", default: "0" },
    "dry-run": { type: "boolean", default: false },
  },
});
const running = values["dry-run"] ? 8 : Number(values.running);
const scrapes = values["dry-run"] ? 50 : Number(values.scrapes);
const intervalMs = Number(values["interval-ms"]);

const server = await startLoom(DEFAULT_MODEL_PATH, 18090, [
  "--threads",
  "1",
  "--max-running",
  String(running),
  "--kv-tokens",
  // Room for every sequence to generate its whole max_tokens, so none is preempted while scrapes are timed.
  String(running * 1024),
  "--kv-layout",
  "unified",
  "--no-ui",
  "--log-level",
  "warn",
]);
try {
  // Each client streams one long completion after another (read and dropped: a stream whose body is cancelled is a
  // client gone, which the server ends), so `running` sequences run for the whole measurement. The clients live on a
  // worker thread: 256 streams read on this thread would delay the timed scrapes in the client, not the server.
  const load = new Worker(
    `const { workerData, parentPort } = require("node:worker_threads");
        const controller = new AbortController();
        parentPort.on("message", () => controller.abort());
    const client = async (i) => {
      while (!controller.signal.aborted) {
        const response = await fetch(workerData.url + "/v1/completions", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: "tiny", prompt: "story " + i, max_tokens: 900, ignore_eos: true, stream: true }),
          signal: controller.signal,
        }).catch(() => null);
        await response?.body?.pipeTo(new WritableStream()).catch(() => undefined);
      }
    };
    Promise.all(Array.from({ length: workerData.running }, (_, i) => client(i))).then(() => process.exit(0));`,
    { eval: true, workerData: { url: server.url, running } },
  );
  const stopped = new Promise((resolve) => load.once("exit", resolve));
  const runningNow = async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    return Number(/^vllm:num_requests_running\{[^}]*\} (\S+)$/m.exec(text)?.[1] ?? 0);
  };
  for (let waited = 0; (await runningNow()) < running; waited++) {
    if (waited === 120)
      throw new Error(
        `fewer than ${running} sequences run after a minute: ${await (await fetch(`${server.url}/metrics`)).text()}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const latencies: number[] = [];
  const inServer: number[] = [];
  let bytes = 0;
  for (let i = 0; i < scrapes; i++) {
    const started = performance.now();
    const response = await fetch(`${server.url}/metrics`);
    bytes = (await response.text()).length;
    latencies.push(performance.now() - started);
    inServer.push(serverTimeMs(response));
    if (intervalMs > 0) await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  // The floor of a loopback round trip on this machine under the same load: a route that renders nothing.
  const probes: number[] = [];
  for (let i = 0; i < scrapes; i++) {
    const started = performance.now();
    await (await fetch(`${server.url}/health/live`)).text();
    probes.push(performance.now() - started);
  }
  const running_ = await runningNow();
  const ms = (values: number[]) =>
    `p50 ${percentile(values, 50).toFixed(2)} ms, p99 ${percentile(values, 99).toFixed(2)} ms, ` +
    `max ${Math.max(...values).toFixed(2)} ms`;
  console.log(`/metrics with ${running_} running sequences, ${scrapes} scrapes, ${bytes} bytes: ${ms(latencies)}`);
  console.log(`  in the server (Server-Timing app;dur): ${ms(inServer)}`);
  console.log(`  GET /health/live round trip under the same load: ${ms(probes)}`);
  load.postMessage("stop");
  await stopped;
} finally {
  server.process.kill("SIGTERM");
}
