// The load gauges a replica exposes on GET /metrics, read from Prometheus' text format (version 0.0.4): vLLM's
// vllm:num_requests_running, vllm:num_requests_waiting and vllm:kv_cache_usage_perc, one sample per model_name.
// The same three the Gateway API Inference Extension's endpoint picker reads, so any vLLM-compatible server works.
import type { ReplicaLoad } from "./replica.js";

const GAUGES = {
  "vllm:num_requests_running": "running",
  "vllm:num_requests_waiting": "waiting",
  "vllm:kv_cache_usage_perc": "kvUsage",
} as const;

// name{labels} value [timestamp]; label values may hold escaped quotes.
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[^"}]|"(?:[^"\\]|\\.)*")*)\})?\s+(\S+)/;
const MODEL_LABEL = /(?:^|,)\s*model_name="((?:[^"\\]|\\.)*)"/;

/** Null when the text has none of the three gauges (not a vLLM-compatible server, or its metrics are off). */
export function parseLoad(text: string): ReplicaLoad | null {
  let running = 0;
  let waiting = 0;
  let kvUsage = 0;
  let seen = false;
  const models = new Set<string>();
  for (const line of text.split("\n")) {
    if (!line.startsWith("vllm:")) continue;
    const match = SAMPLE.exec(line);
    if (!match) continue;
    const field = GAUGES[match[1] as keyof typeof GAUGES];
    const value = Number(match[3]);
    if (field === undefined || !Number.isFinite(value)) continue;
    seen = true;
    const model = MODEL_LABEL.exec(match[2] ?? "")?.[1];
    if (model !== undefined) models.add(model.replace(/\\(.)/g, "$1"));
    if (field === "running") running += value;
    else if (field === "waiting") waiting += value;
    else kvUsage = Math.max(kvUsage, value);
  }
  return seen ? { running, waiting, kvUsage, models: [...models] } : null;
}
