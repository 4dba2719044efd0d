// Object ids in OpenAI's styles (file-..., batch_..., batch_req_..., evt_...), random or derived.
import { createHash, randomBytes } from "node:crypto";

/** `prefix` and 24 random hex digits, e.g. newId("batch_") -> "batch_5f0c...". */
export function newId(prefix: string): string {
  return `${prefix}${randomBytes(12).toString("hex")}`;
}

/** `prefix` and 24 hex digits of SHA-256 over `parts`: the same id for the same parts, on any worker. */
export function derivedId(prefix: string, ...parts: readonly string[]): string {
  return `${prefix}${createHash("sha256").update(parts.join("\u0000")).digest("hex").slice(0, 24)}`;
}

/** Unix time in whole seconds, OpenAI's timestamp unit. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
