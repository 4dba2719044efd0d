// Makes models/tiny.gguf, the default model of `npm start`, when it is missing. Offline: the vocabulary comes
// from the llama.cpp source bundle inside node-llama-cpp.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { PRESETS } from "./presets.js";
import { synthModel } from "./synth-model.js";

export const DEFAULT_MODEL_PATH = join(dirname(fileURLToPath(import.meta.url)), "tiny.gguf");

if (!existsSync(DEFAULT_MODEL_PATH)) {
  synthModel({ preset: PRESETS.tiny, name: "tiny", out: DEFAULT_MODEL_PATH });
  console.log(`made ${DEFAULT_MODEL_PATH}`);
}
