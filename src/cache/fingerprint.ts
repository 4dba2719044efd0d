// fileFingerprint: a content fingerprint of a model or adapter file, the "model version" caches key on. It reads
// the file's size, its first 4 MiB (a GGUF's header and metadata), its last 1 MiB and 16 evenly spaced 64 KiB
// samples, so a multi-gigabyte model is fingerprinted in milliseconds, equal on every replica that has the same
// file, and different for any retrained or requantized file.
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";

const HEAD = 4 << 20;
const TAIL = 1 << 20;
const SAMPLES = 16;
const SAMPLE = 64 << 10;

/** 16 hex digits of SHA-256 over the file's size and sampled content. */
export async function fileFingerprint(path: string): Promise<string> {
  const file = await open(path, "r");
  try {
    const { size } = await file.stat();
    const hash = createHash("sha256").update(String(size));
    const read = async (position: number, length: number) => {
      const buffer = Buffer.alloc(Math.max(0, Math.min(length, size - position)));
      await file.read(buffer, 0, buffer.length, position);
      hash.update(buffer);
    };
    await read(0, HEAD);
    for (let k = 1; k <= SAMPLES; k++) await read(Math.floor((size * k) / (SAMPLES + 1)), SAMPLE);
    await read(Math.max(0, size - TAIL), TAIL);
    return hash.digest("hex").slice(0, 16);
  } finally {
    await file.close();
  }
}
