// Model files for tests: the shared trained fixtures beside the repository, and synthetic models made on demand.
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ChatFamilyName, synthChatModel } from "../../models/chat-families.js";
import { PRESETS } from "../../models/presets.js";
import { synthLora } from "../../models/synth-lora.js";
import { synthModel } from "../../models/synth-model.js";

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const sharedModels = join(repoRoot, "..", "shared", "models");
const madeDir = join(repoRoot, "models");

/** A file of ../shared/models; throws (never skips) when the fixtures are not beside the repository. */
export function sharedModel(name: string): string {
  const path = join(sharedModels, name);
  if (!existsSync(path))
    throw new Error(`test fixture ${path} is missing: ../shared/models must sit beside the repository`);
  return path;
}

export const STORIES_260K = "stories260K.gguf";
export const STORIES_LORA = "stories260K-lora-synthetic-untrained.gguf";

/** models/tiny.gguf, made on first use (about a second). */
export function tinyModel(): string {
  const path = join(madeDir, "tiny.gguf");
  if (!existsSync(path)) {
    mkdirSync(madeDir, { recursive: true });
    synthModel({ preset: PRESETS.tiny, name: "tiny", out: path });
  }
  return path;
}

/** A synthetic LoRA for models/tiny.gguf. */
/** The two GGUF models the engine tests run on: a trained one and a synthetic one with a real vocabulary. */
export const ENGINE_MODELS: readonly (readonly [string, () => string])[] = [
  ["stories260K", () => sharedModel(STORIES_260K)],
  ["synthetic tiny", () => tinyModel()],
];

export function tinyLora(): string {
  const path = join(madeDir, "tiny-lora.gguf");
  if (!existsSync(path)) synthLora({ base: tinyModel(), out: path });
  return path;
}

/** models/chat-FAMILY.gguf: a tiny random model with the family's real chat template, made on first use. */
export function chatModel(family: ChatFamilyName): string {
  const path = join(madeDir, `chat-${family}.gguf`);
  if (!existsSync(path)) {
    mkdirSync(madeDir, { recursive: true });
    synthChatModel(family, path);
  }
  return path;
}
