// The scheduler's background policy (scheduler/background.ts) from the config: batch lines and everything below
// them (shadows) are background; a model on the CPU also watches the foreground turns of the other models it shares
// the process-wide compute with, so a shadow on a second model stays out of the primary's way.
import { cpuCompute } from "../backend/llama/compute-arbiter.js";
import type { Config } from "../config.js";
import { BATCH_PRIORITY } from "../jobs/executor.js";
import type { BackgroundPolicy } from "../scheduler/background.js";

export function backgroundPolicy(
  config: Pick<Config, "backgroundStepTokens" | "backgroundHoldMs">,
  sharedCompute: boolean,
): BackgroundPolicy {
  return {
    priority: BATCH_PRIORITY,
    stepTokens: config.backgroundStepTokens,
    holdMs: config.backgroundHoldMs,
    ...(sharedCompute ? { foregroundElsewhereMs: cpuCompute.askedBelow(BATCH_PRIORITY) } : {}),
  };
}
