// Cache keys: `loom:cache:{kind}:{modelVersion}:{sha256 of the canonical request}`. The model version is part of
// the key, so a reloaded or changed model never reads what another version wrote.
import { createHash } from "node:crypto";

/** JSON with object keys sorted and null or undefined members left out, so equal requests serialize equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const members = Object.entries(value)
      .filter(([, v]) => v !== undefined && v !== null)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`);
    return `{${members.join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The key of `content` (a canonical request, or an input's bytes) of `kind` computed by `modelVersion`. */
export function cacheKeyOf(kind: string, content: string | Uint8Array, modelVersion: string): string {
  return `loom:cache:${kind}:${modelVersion}:${createHash("sha256").update(content).digest("hex")}`;
}
