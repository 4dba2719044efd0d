// The model of the serving benchmarks: synthetic (random weights) of SmolLM2-135M's shape, made offline on first use,
// so every machine measures the same model.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { PRESETS } from "../models/presets.js";
import { synthModel } from "../models/synth-model.js";
import { root } from "./server-process.js";

export const BENCH_MODEL_NAME = "smollm2-135m";

/** The path of models/smollm2-135m.gguf, made first (about a minute) when it is missing. */
export function benchModel(): string {
  const path = join(root, "models", `${BENCH_MODEL_NAME}.gguf`);
  if (!existsSync(path)) {
    console.error(`making ${path} (about a minute)`);
    synthModel({ preset: PRESETS[BENCH_MODEL_NAME], name: BENCH_MODEL_NAME, out: path });
  }
  return path;
}
