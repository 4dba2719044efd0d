// LlmRepository: the LLM side of the model repository. Versions come from Triton's layout, DIR/NAME/VERSION/ with
// one GGUF in each version folder (model.gguf, or the folder's only .gguf), and from a --config file's models, which
// may name their file anywhere and carry their own engine options. Each loaded version is its own LlmServing
// (engine, KV pool, limits), served as NAME@VERSION. A load swaps the new version into the registry at once; the
// version it replaces (a reload) or removes (an unload) takes no new requests and is freed once the ones it runs
// have finished (draining), so a blue-green switch loses nothing.
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { ModelInfo } from "../../backend/types.js";
import type { Logger } from "../../ops/logger.js";
import type { Metrics } from "../../ops/metrics.js";
import { ConflictError, ModelLoadError, ModelNotFoundError } from "../errors.js";
import type { LlmServing } from "./llm-serving.js";
import { type MemoryBudget, type MemoryReservation, modelBytes } from "./memory-budget.js";
import type { ModelRegistry } from "./registry.js";

/** Where one version of a model comes from. */
export interface VersionSource {
  readonly name: string;
  readonly version: number;
  /** The GGUF file (or a model URI the loader resolves); undefined: found in the repository's layout. */
  readonly path?: string;
  /** The version's own options (a config file's entry), passed to the loader as they are. */
  readonly options: Readonly<Record<string, unknown>>;
}

/**
 * Builds a serving for a version, named NAME@VERSION. It calls `admit` once the weights are loaded and before the
 * KV pool is made; `admit` throws to refuse the load (the memory budget).
 */
export type LoadVersion = (
  source: VersionSource & { readonly path: string },
  admit: (info: ModelInfo, kvTokens: number) => void,
) => Promise<LlmServing>;

/** One version as the repository index shows it (Triton's repository index, with the memory it holds). */
export interface LlmIndexEntry {
  readonly name: string;
  readonly version: string;
  readonly state: "READY" | "LOADING" | "DRAINING" | "UNAVAILABLE";
  readonly reason: string;
  /** Weights plus KV pool, for a loaded version. */
  readonly memoryBytes: number | null;
}

export interface LlmRepositoryOptions {
  readonly dir: string;
  readonly registry: ModelRegistry;
  readonly load: LoadVersion;
  readonly budget: MemoryBudget;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  /** Versions a config file declares, in its order. */
  readonly declared?: readonly VersionSource[];
  /** Why NAME@VERSION may not be unloaded now (a route names it), or null. */
  readonly unloadGuard?: (id: string) => string | null;
}

const idOf = (name: string, version: number) => `${name}@${version}`;

export class LlmRepository {
  readonly dir: string;
  readonly #options: LlmRepositoryOptions;
  readonly #declared = new Map<string, VersionSource>();
  readonly #reservations = new Map<LlmServing, MemoryReservation>();
  readonly #loading = new Map<string, Promise<LlmServing>>();
  readonly #draining = new Set<LlmServing>();
  readonly #failures = new Map<string, string>();

  constructor(options: LlmRepositoryOptions) {
    this.dir = options.dir;
    this.#options = options;
    for (const source of options.declared ?? []) this.#declared.set(idOf(source.name, source.version), source);
  }

  /** What loaded versions may use together. */
  get budget(): MemoryBudget {
    return this.#options.budget;
  }

  /** Loads every declared version in order; the first that fails stops the start (it names its reason). */
  async loadDeclared(): Promise<void> {
    for (const source of this.#declared.values()) await this.#loadVersion(source);
  }

  /**
   * Loads one version (the newest known when `version` is undefined); loading a loaded version reloads it. Resolves
   * with the version's id once it serves; the version it replaced has drained by then. Throws ModelNotFoundError for
   * a version neither declared nor in the repository, ModelLoadError with the reason when it cannot load.
   */
  async load(name: string, version?: number): Promise<string> {
    const sources = await this.#sourcesOf(name);
    const source = version === undefined ? sources.at(-1) : sources.find((s) => s.version === version);
    if (!source) {
      if (version === undefined || sources.length === 0) throw new ModelNotFoundError(name);
      throw new ModelNotFoundError(
        idOf(name, version),
        "no such version",
        sources.map((s) => s.version),
      );
    }
    await this.#loadVersion(source);
    return idOf(source.name, source.version);
  }

  /** Stops serving one version, or every version of `name`; resolves once they have drained and been freed. */
  async unload(name: string, version?: number): Promise<string[]> {
    const versions = version === undefined ? this.#options.registry.versionsOf(name) : [version];
    const ids = versions.map((v) => idOf(name, v)).filter((id) => this.#options.registry.has(id));
    if (ids.length === 0) throw new ModelNotFoundError(version === undefined ? name : idOf(name, version));
    for (const id of ids) {
      const blocked = this.#options.unloadGuard?.(id) ?? null;
      if (blocked !== null) throw new ConflictError(`${id} cannot be unloaded: ${blocked}`);
    }
    const removed = ids.map((id) => this.#options.registry.removeVersion(id)!);
    for (const serving of removed) this.#options.metrics?.removeModel(serving.name);
    await Promise.all(removed.map((serving) => this.#drain(serving)));
    for (const id of ids) this.#options.logger.log("info", "model_unloaded", { model: id });
    return ids;
  }

  /** Every version known (declared, in the repository, loaded or draining), by name then version. */
  async index(): Promise<LlmIndexEntry[]> {
    const entries: LlmIndexEntry[] = [];
    const names = new Set([...(await this.#diskNames()), ...[...this.#declared.values()].map((s) => s.name)]);
    for (const serving of this.#reservations.keys()) names.add(serving.name.replace(/@\d+$/, ""));
    for (const name of [...names].sort()) {
      const versions = new Set((await this.#sourcesOf(name)).map((s) => s.version));
      for (const v of this.#options.registry.versionsOf(name)) versions.add(v);
      for (const version of [...versions].sort((a, b) => a - b)) entries.push(...this.#entriesOf(name, version));
    }
    return entries;
  }

  /** Frees what is draining (what is served is the registry's to close). */
  async close(): Promise<void> {
    await Promise.all([...this.#draining].map((s) => s.close()));
  }

  #entriesOf(name: string, version: number): LlmIndexEntry[] {
    const id = idOf(name, version);
    const entry = (state: LlmIndexEntry["state"], reason: string, serving?: LlmServing): LlmIndexEntry => ({
      name,
      version: String(version),
      state,
      reason,
      memoryBytes: serving ? (this.#reservations.get(serving)?.bytes ?? null) : null,
    });
    const out: LlmIndexEntry[] = [];
    const served = this.#options.registry.has(id) ? this.#options.registry.get(id) : undefined;
    if (this.#loading.has(id)) out.push(entry("LOADING", "loading"));
    if (served) out.push(entry("READY", "", served));
    for (const serving of this.#draining)
      if (serving.name === id) out.push(entry("DRAINING", "finishing the requests it runs", serving));
    if (out.length === 0) out.push(entry("UNAVAILABLE", this.#failures.get(id) ?? "unloaded"));
    return out;
  }

  #loadVersion(source: VersionSource): Promise<LlmServing> {
    const id = idOf(source.name, source.version);
    let loading = this.#loading.get(id);
    if (!loading) {
      loading = this.#loadOnce(source).finally(() => this.#loading.delete(id));
      this.#loading.set(id, loading);
    }
    return loading;
  }

  async #loadOnce(source: VersionSource): Promise<LlmServing> {
    const id = idOf(source.name, source.version);
    const started = performance.now();
    const held: { reservation: MemoryReservation | null } = { reservation: null };
    let serving: LlmServing | undefined;
    try {
      const path = source.path ?? (await this.#layoutFile(source.name, source.version));
      serving = await this.#options.load({ ...source, path }, (info, kvTokens) => {
        held.reservation = this.#options.budget.reserve(id, modelBytes(info, kvTokens));
      });
      const replaced = this.#options.registry.putVersion(serving);
      if (held.reservation) this.#reservations.set(serving, held.reservation);
      this.#failures.delete(id);
      this.#options.logger.log("info", "model_loaded", {
        model: id,
        path,
        reload: replaced !== null,
        load_ms: Math.round(performance.now() - started),
      });
      if (replaced) await this.#drain(replaced);
      return serving;
    } catch (error) {
      held.reservation?.release();
      if (serving && !this.#options.registry.has(id)) await serving.close();
      const message = error instanceof Error ? error.message : String(error);
      this.#failures.set(id, message);
      if (error instanceof ModelNotFoundError || error instanceof ModelLoadError) throw error;
      throw new ModelLoadError(`model ${id} could not be loaded: ${message}`);
    }
  }

  async #drain(serving: LlmServing): Promise<void> {
    this.#draining.add(serving);
    serving.stopAccepting();
    try {
      await serving.engine.drain();
      await serving.close();
    } finally {
      this.#draining.delete(serving);
      this.#reservations.get(serving)?.release();
      this.#reservations.delete(serving);
    }
  }

  /** Declared versions and those of the repository's layout, oldest first. */
  async #sourcesOf(name: string): Promise<VersionSource[]> {
    const byVersion = new Map<number, VersionSource>();
    for (const version of await this.#diskVersions(name)) byVersion.set(version, { name, version, options: {} });
    for (const source of this.#declared.values()) if (source.name === name) byVersion.set(source.version, source);
    return [...byVersion.values()].sort((a, b) => a.version - b.version);
  }

  /** Model folders of the repository holding GGUF versions (ONNX models, with a config.json, are the other path's). */
  async #diskNames(): Promise<string[]> {
    if (!existsSync(this.dir)) return [];
    const entries = await readdir(this.dir, { withFileTypes: true });
    const names: string[] = [];
    for (const e of entries) if (e.isDirectory() && (await this.#diskVersions(e.name)).length > 0) names.push(e.name);
    return names;
  }

  async #diskVersions(name: string): Promise<number[]> {
    const folder = join(this.dir, name);
    if (!existsSync(folder) || existsSync(join(folder, "config.json"))) return [];
    const entries = await readdir(folder, { withFileTypes: true });
    const versions: number[] = [];
    for (const e of entries) {
      if (!(e.isDirectory() && /^[1-9]\d*$/.test(e.name))) continue;
      const files = await readdir(join(folder, e.name));
      if (files.some((f) => f.endsWith(".gguf"))) versions.push(Number(e.name));
    }
    return versions;
  }

  /** DIR/NAME/VERSION/model.gguf, or the folder's only .gguf. */
  async #layoutFile(name: string, version: number): Promise<string> {
    const folder = join(this.dir, name, String(version));
    const files = existsSync(folder) ? (await readdir(folder)).filter((f) => f.endsWith(".gguf")).sort() : [];
    if (files.includes("model.gguf")) return join(folder, "model.gguf");
    if (files.length === 1) return join(folder, files[0]!);
    throw new ModelLoadError(
      files.length === 0
        ? `model ${idOf(name, version)} has no path and ${folder} holds no .gguf file`
        : `${folder} holds several .gguf files (${files.join(", ")}): name one model.gguf`,
    );
  }
}
