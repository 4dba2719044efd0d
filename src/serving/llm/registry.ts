// ModelRegistry: served model name -> LlmServing. Routes look models up here and get a ModelNotFoundError (404)
// for names it does not hold.
import { ModelNotFoundError } from "../errors.js";
import type { LlmServing } from "./llm-serving.js";

export class ModelRegistry {
  readonly #models = new Map<string, LlmServing>();

  add(serving: LlmServing): void {
    if (this.#models.has(serving.name)) throw new RangeError(`a model named ${serving.name} is already served`);
    this.#models.set(serving.name, serving);
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

  list(): LlmServing[] {
    return [...this.#models.values()];
  }

  async close(): Promise<void> {
    const models = this.list();
    this.#models.clear();
    await Promise.all(models.map((m) => m.close()));
  }
}
