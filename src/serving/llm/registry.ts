// ModelRegistry: served model name (or alias, like vLLM's several --served-model-name) -> LlmServing. Routes look
// models up here and get a ModelNotFoundError (404) for names it does not hold. Versions of a model (a --config
// file's models, the LLM repository) are served as NAME@VERSION, and NAME alone names the newest version loaded
// (Triton's "latest" version policy).
import { ConfigError } from "../../config.js";
import { ModelNotFoundError } from "../errors.js";
import type { LlmServing } from "./llm-serving.js";

/** `story@2` -> {base: "story", version: 2}; null for a name without a version. */
export function parseVersioned(name: string): { readonly base: string; readonly version: number } | null {
  const match = /^(.+)@([1-9]\d*)$/.exec(name);
  return match ? { base: match[1]!, version: Number(match[2]) } : null;
}

export class ModelRegistry {
  readonly #models = new Map<string, LlmServing>();
  /** Base name -> version -> serving, for models served by version. */
  readonly #versions = new Map<string, Map<number, LlmServing>>();

  /** Serves `serving` under its name and every alias; a name already taken is a configuration error. */
  add(serving: LlmServing): void {
    for (const name of [serving.name, ...serving.aliases]) {
      if (this.#models.has(name)) throw new ConfigError(`a model named ${name} is already served`);
    }
    for (const name of [serving.name, ...serving.aliases]) this.#models.set(name, serving);
  }

  /**
   * Serves `serving` (named BASE@VERSION) as that version of BASE, in place of the one already there (a reload:
   * the swap is atomic, requests that started on the old one finish there). Returns the serving it replaced.
   */
  putVersion(serving: LlmServing): LlmServing | null {
    const versioned = parseVersioned(serving.name);
    if (!versioned) throw new Error(`a versioned model is named NAME@VERSION, got ${serving.name}`);
    const { base, version } = versioned;
    const taken = this.#models.get(base);
    if (taken && !this.#versions.has(base)) throw new ConfigError(`a model named ${base} is already served`);
    const versions = this.#versions.get(base) ?? new Map<number, LlmServing>();
    const old = versions.get(version) ?? null;
    versions.set(version, serving);
    this.#versions.set(base, versions);
    this.#models.set(serving.name, serving);
    this.#pointLatest(base);
    return old;
  }

  /** Stops serving one version (NAME@VERSION); NAME moves to the newest version left. Null when not served. */
  removeVersion(name: string): LlmServing | null {
    const versioned = parseVersioned(name);
    const versions = versioned ? this.#versions.get(versioned.base) : undefined;
    const serving = versions?.get(versioned!.version);
    if (!versioned || !versions || !serving) return null;
    versions.delete(versioned.version);
    this.#models.delete(name);
    if (versions.size === 0) {
      this.#versions.delete(versioned.base);
      this.#models.delete(versioned.base);
    } else this.#pointLatest(versioned.base);
    return serving;
  }

  /** Loaded versions of a model served by version, oldest first (empty for other names). */
  versionsOf(base: string): number[] {
    return [...(this.#versions.get(base)?.keys() ?? [])].sort((a, b) => a - b);
  }

  has(name: string): boolean {
    return this.#models.has(name);
  }

  get(name: string): LlmServing {
    const serving = this.#models.get(name);
    if (!serving) throw this.#notFound(name);
    return serving;
  }

  /**
   * A request's `model`: a served model (NAME@VERSION for one version), a LoRA adapter of one by its name (vLLM),
   * or `base:adapter` (SGLang).
   */
  resolve(model: string): { readonly serving: LlmServing; readonly adapterName: string | null } {
    const served = this.#models.get(model);
    if (served) return { serving: served, adapterName: null };
    const colon = model.indexOf(":");
    if (colon > 0) {
      const base = this.#models.get(model.slice(0, colon));
      const adapterName = model.slice(colon + 1);
      if (base?.adapters.has(adapterName)) return { serving: base, adapterName };
    }
    for (const serving of this.#models.values())
      if (serving.adapters.has(model)) return { serving, adapterName: model };
    throw this.#notFound(model);
  }

  /** The model to use when a request names none (tokenizer routes). */
  first(): LlmServing {
    const serving = this.#models.values().next().value;
    if (!serving) throw new ModelNotFoundError("(none loaded)");
    return serving;
  }

  /** Every name served (names, aliases, NAME@VERSION and NAME for the newest version) with what serves it. */
  names(): [string, LlmServing][] {
    return [...this.#models.entries()];
  }

  /** Each serving once, in the order added. */
  list(): LlmServing[] {
    return [...new Set(this.#models.values())];
  }

  async close(): Promise<void> {
    const models = this.list();
    this.#models.clear();
    this.#versions.clear();
    await Promise.all(models.map((m) => m.close()));
  }

  #pointLatest(base: string): void {
    const versions = this.#versions.get(base)!;
    this.#models.set(base, versions.get(Math.max(...versions.keys()))!);
  }

  /** A version that is not loaded is named as such, with the versions that are. */
  #notFound(name: string): ModelNotFoundError {
    const versioned = parseVersioned(name.split(":")[0]!);
    const loaded = versioned ? this.versionsOf(versioned.base) : [];
    if (!versioned || loaded.length === 0) return new ModelNotFoundError(name);
    return new ModelNotFoundError(name, `version ${versioned.version} of '${versioned.base}' is not loaded`, loaded);
  }
}
