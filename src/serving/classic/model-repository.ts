// ModelRepository: Triton's model repository for classic models. DIR/NAME/config.json and
// DIR/NAME/VERSION/model.onnx; models load at start-up and through the repository API, and a reload swaps the
// new versions in before the old ones close, so traffic keeps flowing.
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { HfTokenizer } from "../../backend/onnx/hf-tokenizer.js";
import { OnnxModel } from "../../backend/onnx/onnx-model.js";
import type { Logger } from "../../ops/logger.js";
import type { Metrics } from "../../ops/metrics.js";
import { ClassicServing } from "./classic-serving.js";
import { ModelLoadError, ModelNotFoundError } from "../errors.js";
import { instanceGroup, parseModelConfig, resolveConfig, selectVersions, textSettings } from "./model-config.js";

export interface RepositoryEntry {
  readonly name: string;
  readonly version: string;
  readonly state: "READY" | "UNAVAILABLE";
  readonly reason: string;
}

export class ModelRepository {
  readonly dir: string;
  readonly #metrics: Metrics | undefined;
  readonly #logger: Logger;
  readonly #threads: number;
  readonly #loaded = new Map<string, ClassicServing[]>();
  readonly #failures = new Map<string, string>();

  constructor({
    dir,
    metrics,
    logger,
    threads = 1,
  }: { dir: string; metrics?: Metrics; logger: Logger; threads?: number }) {
    this.dir = dir;
    this.#metrics = metrics;
    this.#logger = logger;
    this.#threads = threads;
  }

  /** Folders of the repository that hold a config.json: the models it can serve. */
  async modelNames(): Promise<string[]> {
    if (!existsSync(this.dir)) return [];
    const entries = await readdir(this.dir, { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory() && existsSync(join(this.dir, e.name, "config.json")))
      .map((e) => e.name)
      .sort();
  }

  /** Loads every model; one that fails is logged and listed UNAVAILABLE with its reason, and the rest still load. */
  async loadAll(): Promise<void> {
    for (const name of await this.modelNames()) {
      await this.load(name).catch((error: unknown) =>
        this.#logger.log("error", "model_load_failed", { model: name, message: (error as Error).message }),
      );
    }
  }

  async load(name: string): Promise<void> {
    if (!(await this.modelNames()).includes(name)) throw new ModelNotFoundError(name);
    try {
      const servings = await this.#loadVersions(name);
      const old = this.#loaded.get(name) ?? [];
      this.#loaded.set(name, servings);
      this.#failures.delete(name);
      await Promise.all(old.map((s) => s.close()));
      this.#logger.log("info", "model_loaded", { model: name, versions: servings.map((s) => s.version) });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.#failures.set(name, message);
      throw new ModelLoadError(message.startsWith(`model '${name}'`) ? message : `model '${name}': ${message}`);
    }
  }

  async unload(name: string): Promise<void> {
    const servings = this.#loaded.get(name);
    if (!servings) throw new ModelNotFoundError(name);
    this.#loaded.delete(name);
    await Promise.all(servings.map((s) => s.close()));
  }

  /** The version asked for, or the newest loaded one. */
  get(name: string, version?: number): ClassicServing {
    const servings = this.#loaded.get(name);
    const serving = version === undefined ? servings?.[0] : servings?.find((s) => s.version === version);
    if (!serving) throw new ModelNotFoundError(version === undefined ? name : `${name}/${version}`);
    return serving;
  }

  /** Loaded text models whose newest version embeds strings (served on /v1/embeddings). */
  textModels(): ClassicServing[] {
    return [...this.#loaded.values()].map((servings) => servings[0]!).filter((s) => s.embedder !== null);
  }

  /** Loaded versions of the model, newest first. */
  versions(name: string): number[] {
    return (this.#loaded.get(name) ?? []).map((s) => s.version);
  }

  async index(): Promise<RepositoryEntry[]> {
    const entries: RepositoryEntry[] = [];
    for (const name of await this.modelNames()) {
      const servings = this.#loaded.get(name);
      if (servings)
        for (const s of servings) entries.push({ name, version: String(s.version), state: "READY", reason: "" });
      else entries.push({ name, version: "", state: "UNAVAILABLE", reason: this.#failures.get(name) ?? "unloaded" });
    }
    return entries;
  }

  async close(): Promise<void> {
    const all = [...this.#loaded.values()].flat();
    this.#loaded.clear();
    await Promise.all(all.map((s) => s.close()));
  }

  async #loadVersions(name: string): Promise<ClassicServing[]> {
    const folder = join(this.dir, name);
    const config = parseModelConfig(name, JSON.parse(await readFile(join(folder, "config.json"), "utf8")));
    const onDisk = (await readdir(folder, { withFileTypes: true }))
      .filter((e) => e.isDirectory() && /^[1-9]\d*$/.test(e.name) && existsSync(join(folder, e.name, "model.onnx")))
      .map((e) => Number(e.name));
    const versions = selectVersions(config.version_policy, onDisk);
    if (versions.length === 0)
      throw new Error(`model '${name}': no version folder with a model.onnx matches its version policy`);
    const settings = textSettings(name, config, existsSync(join(folder, "tokenizer.json")));
    const text = settings
      ? { settings, tokenizer: await HfTokenizer.load(resolve(folder, settings.tokenizer)) }
      : undefined;
    const sessions = { ...instanceGroup(config), threadsPerInstance: this.#threads };
    const servings: ClassicServing[] = [];
    try {
      for (const version of versions) {
        const model = await OnnxModel.load(join(folder, String(version), "model.onnx"), sessions);
        try {
          servings.push(
            new ClassicServing({
              name,
              version,
              config: resolveConfig(name, config, model),
              model,
              metrics: this.#metrics,
              text,
            }),
          );
        } catch (error) {
          await model.dispose();
          throw error;
        }
      }
    } catch (error) {
      await Promise.all(servings.map((s) => s.close()));
      throw error;
    }
    return servings;
  }
}
