// What happens around a generation rather than inside it: its record once settled (metrics, log line), and the
// native errors at its start that are the client's fault.
import { isNativeError } from "../../backend/llama/addon.js";
import type { Logger } from "../../ops/logger.js";
import type { Metrics } from "../../ops/metrics.js";
import { InvalidRequestError } from "../errors.js";
import type { GenerationSummary } from "./generation.js";

/** Records a settled generation: its metrics (vLLM's request histograms) and its one log line. */
export function observeGeneration(
  model: string,
  { input, usage, reasons, queueMs, ttftMs, interTokenMs, e2eMs }: GenerationSummary,
  { metrics, logger }: { metrics: Metrics | undefined; logger: Logger },
): void {
  const finishReason = reasons.find((r) => r !== "stop" && r !== "length") ?? reasons[0]!;
  metrics?.observeRequest(model, {
    loraName: input.adapter?.name ?? null,
    route: input.route ?? null,
    finishReason,
    promptTokens: usage.promptTokens,
    outputTokens: usage.completionTokens,
    e2eSeconds: e2eMs / 1000,
    queueSeconds: queueMs === null ? null : queueMs / 1000,
    ttftSeconds: ttftMs === null ? null : ttftMs / 1000,
    interTokenSeconds: interTokenMs.map((ms) => ms / 1000),
  });
  logger.log("info", "request", {
    request_id: input.traceId ?? null,
    id: input.requestId,
    model,
    lora: input.adapter?.name ?? null,
    ...(input.route ? { route: input.route.name, variant: input.route.variant } : {}),
    n: input.params.n,
    prompt_tokens: usage.promptTokens,
    cached_tokens: usage.cachedPromptTokens,
    output_tokens: usage.completionTokens,
    queue_ms: queueMs === null ? null : Math.round(queueMs),
    ttft_ms: ttftMs === null ? null : Math.round(ttftMs),
    total_ms: Math.round(e2eMs),
    finish_reason: reasons,
  });
}

/** Runs `start`; a grammar llama.cpp cannot compile is the client's schema or tools, so it becomes a 400. */
export function clientErrorsOf<T>(start: () => T): T {
  try {
    return start();
  } catch (error) {
    if (isNativeError(error, "LOOM_INVALID_GRAMMAR")) {
      throw new InvalidRequestError(`the grammar for this request does not compile: ${error.message}`, {
        param: "response_format",
      });
    }
    throw error;
  }
}
