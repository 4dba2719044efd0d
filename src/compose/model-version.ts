// The model version every cache key carries: what a served model computes with (its file, chat template and
// context length) and, for a request naming a LoRA adapter, the adapter's file. Content fingerprints, so replicas
// with the same files share entries and a changed or reloaded file never reads another's.
import { createHash } from "node:crypto";
import { fileFingerprint } from "../cache/fingerprint.js";
import type { Config } from "../config.js";
import type { LlmServing } from "../serving/llm/llm-serving.js";
import type { ModelRegistry } from "../serving/llm/registry.js";

const hash = (...parts: string[]) => createHash("sha256").update(parts.join("\u0000")).digest("hex").slice(0, 16);

/**
 * A memoized `model name -> version` of the serving that computes it (each version of a --config file's models has
 * its own file); throws ModelNotFoundError (404) for a name the registry does not hold.
 */
export function modelVersions(config: Config, registry: ModelRegistry): (model: string) => Promise<string> {
  const memo = new Map<string, Promise<string>>();
  const once = (key: string, make: () => Promise<string>) => {
    let version = memo.get(key);
    if (!version) {
      memo.set(key, (version = make()));
      version.catch(() => memo.delete(key));
    }
    return version;
  };
  // Keyed by the serving object: a reload of the same name is a new serving, fingerprinted again.
  const bases = new WeakMap<LlmServing, Promise<string>>();
  const base = (serving: LlmServing) => {
    let version = bases.get(serving);
    if (!version) {
      version = (async () =>
        hash(
          await fileFingerprint(serving.model.path),
          config.chatTemplateFile === undefined ? "" : await fileFingerprint(config.chatTemplateFile),
          String(serving.maxModelLen),
        ))();
      bases.set(serving, version);
      version.catch(() => bases.delete(serving));
    }
    return version;
  };
  return async (model) => {
    const { serving, adapterName } = registry.resolve(model);
    const version = await base(serving);
    if (adapterName === null) return version;
    const adapter = serving.adapters.list().find((a) => a.name === adapterName);
    if (!adapter) return version;
    // A reload of the adapter is a new load (createdSeconds), fingerprinted again.
    return once(`adapter\u0000${adapter.path}\u0000${adapter.createdSeconds}`, async () =>
      hash(version, await fileFingerprint(adapter.path)),
    );
  };
}
