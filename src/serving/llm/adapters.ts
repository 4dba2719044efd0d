// AdapterRegistry: the LoRA adapters of one base model. Names to loaded files, run-time loads confined to the
// configured folders, at most maxLoras resident (idle ones unloaded least recently used), reference counts so an
// adapter in use is never unloaded, and adapter ids per (adapter, scale) variant for the scheduler and the prefix
// cache: a reloaded file gets new ids, so blocks cached under the old file are never reused for it.
import { realpath } from "node:fs/promises";
import { isAbsolute, resolve, sep } from "node:path";
import type { NativeLoraAdapter } from "../../backend/llama/addon.js";
import type { LlamaModel } from "../../backend/llama/llama-model.js";
import type { ResolvedAdapter } from "../../engine/engine.js";
import type { Metrics } from "../../ops/metrics.js";
import { AdapterNotFoundError, ConflictError, InvalidRequestError, PermissionDeniedError } from "../errors.js";

export interface LoadedAdapter {
  readonly name: string;
  readonly path: string;
  readonly handle: NativeLoraAdapter;
  readonly createdSeconds: number;
  lastUsedMs: number;
  numActiveRequests: number;
}

export interface AdapterLease {
  readonly adapterId: number;
  readonly name: string;
  release(): void;
}

export interface AdapterRegistryOptions {
  readonly model: LlamaModel;
  readonly modelName: string;
  /** Folders run-time loads may read from; none means run-time loading is refused. */
  readonly loraDirs: readonly string[];
  readonly maxLoras: number;
  readonly metrics?: Metrics;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._\-/]{0,127}$/;

export class AdapterRegistry {
  readonly #model: LlamaModel;
  readonly #modelName: string;
  readonly #loraDirs: readonly string[];
  readonly #maxLoras: number;
  readonly #metrics: Metrics | undefined;
  readonly #adapters = new Map<string, LoadedAdapter>();
  readonly #loading = new Set<string>();
  readonly #variants = new Map<number, { readonly adapter: LoadedAdapter; readonly scale: number }>();
  readonly #variantIds = new Map<LoadedAdapter, Map<number, number>>();
  #nextAdapterId = 1;

  constructor({ model, modelName, loraDirs, maxLoras, metrics }: AdapterRegistryOptions) {
    if (!(Number.isInteger(maxLoras) && maxLoras > 0))
      throw new RangeError(`maxLoras must be a positive integer, got ${maxLoras}`);
    this.#model = model;
    this.#modelName = modelName;
    this.#loraDirs = loraDirs.map((dir) => resolve(dir));
    this.#maxLoras = maxLoras;
    this.#metrics = metrics;
  }

  /**
   * Loads an adapter file under `name`. `trusted` loads (from the command line) may read any path; run-time loads
   * only inside the configured folders, after symbolic links and `..` are resolved.
   */
  async load(name: string, path: string, { trusted = false }: { trusted?: boolean } = {}): Promise<LoadedAdapter> {
    if (!NAME.test(name) || name.includes(":") || name === this.#modelName) {
      throw new InvalidRequestError(
        `'${name}' is not a usable adapter name: ` +
          "use letters, digits, '.', '_', '-' or '/', not ':' nor the base model's name",
        { param: "lora_name" },
      );
    }
    if (this.#adapters.has(name) || this.#loading.has(name))
      throw new InvalidRequestError(`a LoRA adapter named '${name}' is already loaded`, { param: "lora_name" });
    const realPath = trusted ? resolve(path) : await this.#confine(path);
    this.#loading.add(name);
    try {
      this.#makeRoom();
      const started = performance.now();
      let handle: NativeLoraAdapter;
      try {
        handle = await this.#model.loadAdapter(realPath);
      } catch (error) {
        throw new InvalidRequestError(
          `cannot load LoRA adapter '${name}' for ${this.#modelName}: ${(error as Error).message}`,
          { param: "lora_path" },
        );
      }
      const adapter: LoadedAdapter = {
        name,
        path: realPath,
        handle,
        createdSeconds: Math.floor(Date.now() / 1000),
        lastUsedMs: performance.now(),
        numActiveRequests: 0,
      };
      this.#adapters.set(name, adapter);
      this.#metrics?.observeAdapterLoad(this.#modelName, (performance.now() - started) / 1000, this.#adapters.size);
      return adapter;
    } finally {
      this.#loading.delete(name);
    }
  }

  /** Refuses (409) while requests use the adapter; they would otherwise lose it mid-generation. */
  unload(name: string): void {
    const adapter = this.#adapters.get(name);
    if (!adapter) throw new AdapterNotFoundError(name);
    if (adapter.numActiveRequests > 0) {
      throw new ConflictError(
        `LoRA adapter '${name}' is in use by ${adapter.numActiveRequests} request(s); unload it when they finish`,
      );
    }
    this.#remove(adapter);
  }

  has(name: string): boolean {
    return this.#adapters.has(name);
  }

  list(): LoadedAdapter[] {
    return [...this.#adapters.values()];
  }

  /** Takes a reference for one request; the adapter id is shared by every request at the same scale. */
  acquire(name: string, scale: number): AdapterLease {
    const adapter = this.#adapters.get(name);
    if (!adapter) throw new AdapterNotFoundError(name);
    if (!(Number.isFinite(scale) && scale >= 0 && scale <= 4))
      throw new InvalidRequestError(`lora_scale must be in [0, 4], got ${scale}`, { param: "lora_scale" });
    const ids = this.#variantIds.get(adapter) ?? new Map<number, number>();
    this.#variantIds.set(adapter, ids);
    let adapterId = ids.get(scale);
    if (adapterId === undefined) {
      adapterId = this.#nextAdapterId++;
      ids.set(scale, adapterId);
      this.#variants.set(adapterId, { adapter, scale });
    }
    adapter.numActiveRequests++;
    adapter.lastUsedMs = performance.now();
    let released = false;
    return {
      adapterId,
      name,
      release: () => {
        if (released) return;
        released = true;
        adapter.numActiveRequests--;
        adapter.lastUsedMs = performance.now();
      },
    };
  }

  /** The name of the adapter an adapter id stands for, or null when it was unloaded. */
  nameOf(adapterId: number): string | null {
    return this.#variants.get(adapterId)?.adapter.name ?? null;
  }

  resolve(adapterId: number): ResolvedAdapter | null {
    const variant = this.#variants.get(adapterId);
    return variant ? { handle: variant.adapter.handle, scale: variant.scale } : null;
  }

  close(): void {
    for (const adapter of this.list()) this.#remove(adapter);
  }

  async #confine(path: string): Promise<string> {
    if (this.#loraDirs.length === 0)
      throw new PermissionDeniedError(
        "loading LoRA adapters at run time is disabled: start the server with --lora-dir DIR to allow a folder",
      );
    let real: string;
    try {
      real = await realpath(isAbsolute(path) ? path : resolve(this.#loraDirs[0]!, path));
    } catch {
      throw new InvalidRequestError(`cannot open LoRA adapter file '${path}'`, { param: "lora_path" });
    }
    for (const dir of this.#loraDirs) {
      const realDir = await realpath(dir).catch(() => null);
      if (realDir !== null && (real === realDir || real.startsWith(realDir.endsWith(sep) ? realDir : realDir + sep)))
        return real;
    }
    throw new PermissionDeniedError(`'${path}' is outside the folders LoRA adapters may be loaded from`);
  }

  // Unloads the least recently used idle adapters until one more fits.
  #makeRoom(): void {
    while (this.#adapters.size + this.#loading.size > this.#maxLoras) {
      const idle = this.list()
        .filter((a) => a.numActiveRequests === 0)
        .sort((a, b) => a.lastUsedMs - b.lastUsedMs)[0];
      if (!idle)
        throw new ConflictError(
          `all ${this.#maxLoras} LoRA adapter slots (--max-loras) are in use; retry when requests finish`,
        );
      this.#remove(idle);
    }
  }

  #remove(adapter: LoadedAdapter): void {
    this.#adapters.delete(adapter.name);
    for (const adapterId of this.#variantIds.get(adapter)?.values() ?? []) this.#variants.delete(adapterId);
    this.#variantIds.delete(adapter);
    // The context keeps its own reference while the adapter is applied, so this is safe mid-step.
    adapter.handle.dispose();
    this.#metrics?.observeAdapterLoad(this.#modelName, null, this.#adapters.size);
  }
}
