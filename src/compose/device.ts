// Where a model runs and how much KV memory it gets, decided before its context exists: with a GPU backend every
// layer goes to the GPU unless --gpu-layers says otherwise (llama-server's default), and --kv-tokens defaults to what
// the device's free memory holds after the weights; on the CPU, 32768 tokens (the benchmark's setting).
import type { NativeDevice } from "../backend/llama/addon.js";
import type { ModelInfo } from "../backend/types.js";

/** KV tokens on the CPU when --kv-tokens is not given. */
export const CPU_KV_TOKENS = 32768;
/** The share of a device's free memory (after the weights) the KV cache takes; the rest is compute buffers. */
const KV_MEMORY_SHARE = 0.8;

/** Layers to offload: the flag's, else all of them when a GPU can take them. */
export function gpuLayersFor(requested: number | undefined, devices: readonly NativeDevice[]): number {
  return requested ?? (devices.length > 0 ? -1 : 0);
}

/** Bytes one token's K and V take in all layers, at f16 (llama.cpp's default cache type). */
export function kvBytesPerToken(
  info: Pick<ModelInfo, "layerCount" | "headCountKv" | "headCount" | "embeddingSize">,
): number {
  const headDim = info.embeddingSize / Math.max(1, info.headCount);
  return info.layerCount * info.headCountKv * headDim * 2 * 2;
}

/**
 * KV tokens for a model with no --kv-tokens: on a GPU, KV_MEMORY_SHARE of the devices' free memory (read after the
 * weights loaded) over the bytes a token takes, capped at what maxRunning sequences of the model's training context
 * could use, in whole blocks; on the CPU, CPU_KV_TOKENS. The reason is for the startup log.
 */
export function defaultKvTokens(
  info: Pick<ModelInfo, "layerCount" | "headCountKv" | "headCount" | "embeddingSize" | "contextLengthTrain">,
  {
    devices,
    gpuLayers,
    maxRunning,
    blockSize,
  }: { devices: readonly NativeDevice[]; gpuLayers: number; maxRunning: number; blockSize: number },
): { readonly kvTokens: number; readonly reason: string } {
  if (devices.length === 0 || gpuLayers === 0) return { kvTokens: CPU_KV_TOKENS, reason: "the CPU default" };
  const free = devices.reduce((sum, d) => sum + d.memoryFreeBytes, 0);
  const fits = Math.floor((free * KV_MEMORY_SHARE) / kvBytesPerToken(info));
  const useful = maxRunning * info.contextLengthTrain;
  const kvTokens = Math.max(blockSize * 4, Math.floor(Math.min(fits, useful) / blockSize) * blockSize);
  const gib = (free / 2 ** 30).toFixed(1);
  return {
    kvTokens,
    reason:
      fits <= useful
        ? `${Math.round(KV_MEMORY_SHARE * 100)}% of ${gib} GiB free on ${devices.map((d) => d.name).join(", ")}`
        : `${maxRunning} sequences of the model's ${info.contextLengthTrain}-token context (${gib} GiB free)`,
  };
}
