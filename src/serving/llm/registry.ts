// ModelRegistry: served model name (or alias, like vLLM's several --served-model-name) -> LlmServing. Routes look
// models up here and get a ModelNotFoundError (404) for names it does not hold.
import { ConfigError } from "../../config.js";
import { ModelNotFoundError } from "../errors.js";
import type { LlmServing } from "./llm-serving.js";

export class ModelRegistry {
  readonly #models = new Map<string, LlmServing>();

  /** Serves `serving` under its name and every alias; a name already taken is a configuration error. */
  add(serving: LlmServing): void {
    for (const name of [serving.name, ...serving.aliases]) {
      if (this.#models.has(name)) throw new ConfigError(`a model named ${name} is already served`);
    }
    for (const name of [serving.name, ...serving.aliases]) this.#models.set(name, serving);
  }

  has(name: string): boolean {
    return this.#models.has(name);
  }

  get(name: string): LlmServing {
    const serving = this.#models.get(name);
    if (!serving) throw new ModelNotFoundError(name);
    return serving;
  }

  /**
   * A request's `model`: a served model, a LoRA adapter of one by its name (vLLM), or `base:adapter` (SGLang).
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
    throw new ModelNotFoundError(model);
  }

  /** The model to use when a request names none (tokenizer routes). */
  first(): LlmServing {
    const serving = this.#models.values().next().value;
    if (!serving) throw new ModelNotFoundError("(none loaded)");
    return serving;
  }

  /** Each serving once, in the order added. */
  list(): LlmServing[] {
    return [...new Set(this.#models.values())];
  }

  async close(): Promise<void> {
    const models = this.list();
    this.#models.clear();
    await Promise.all(models.map((m) => m.close()));
  }
}
