// resolveModelSource: what `loom serve MODEL` names, as a local GGUF path. A path is used as it is; a Hugging Face
// URI (hf:OWNER/REPO:QUANT, hf:OWNER/REPO/FILE.gguf) or an http(s) URL is downloaded into the model cache through
// node-llama-cpp's downloader (ipull underneath: parallel ranged requests, resumable from its .ipull progress file)
// with the size checked against the server's, and found again later by its resolver, offline too. HF_ENDPOINT
// (or MODEL_ENDPOINT) points hf: URIs at a mirror, as in llama.cpp and huggingface_hub; HF_TOKEN authenticates.
import { stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import type { Logger } from "../ops/logger.js";

const URI = /^(hf:|hf:\/\/|huggingface:|https?:\/\/)/i;

/** Whether `model` must be resolved (downloaded or found in the cache) rather than opened as a path. */
function isModelUri(model: string): boolean {
  return URI.test(model);
}

/** $LOOM_MODEL_CACHE, else $XDG_CACHE_HOME/loom/models, else ~/.cache/loom/models. */
export function defaultModelCache(env: Record<string, string | undefined> = process.env): string {
  return env.LOOM_MODEL_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "loom", "models");
}

/**
 * The served name a URI gets by default: hf:OWNER/REPO:QUANT -> OWNER/REPO:QUANT (vLLM serves a repository under its
 * id, Ollama a model as name:tag), hf:OWNER/REPO/FILE.gguf -> OWNER/REPO/FILE, a URL -> its file name.
 */
export function uriModelName(uri: string): string {
  const name = uri.replace(/^(hf:\/\/|hf:|huggingface:)/i, "");
  if (name === uri) return decodeURIComponent(new URL(uri).pathname.split("/").at(-1) ?? uri).replace(/\.gguf$/i, "");
  return name.replace(/\.gguf$/i, "");
}

export interface ModelSourceOptions {
  /** Folder downloads go to and are found in. */
  readonly cacheDir: string;
  /** Use only what the cache holds; fail rather than reach the network. */
  readonly offline: boolean;
  readonly logger: Logger;
  /** Draw node-llama-cpp's progress bar (on a terminal); otherwise progress is logged every 10%. */
  readonly progressBar?: boolean;
  readonly signal?: AbortSignal;
}

export interface ModelSource {
  readonly path: string;
  /** The default served model name. */
  readonly name: string;
}

/**
 * `model` as a local file. Online, a cached file is checked against the remote size (and downloaded again when it
 * differs); when that check cannot reach the server, the cached copy is used with a warning. Throws an Error that
 * names the URI and the cache when the model is neither cached nor downloadable.
 */
export async function resolveModelSource(model: string, options: ModelSourceOptions): Promise<ModelSource> {
  if (!isModelUri(model)) return { path: model, name: model.replace(/^.*[\\/]/, "").replace(/\.gguf$/i, "") };
  const { cacheDir, offline, logger, signal } = options;
  const name = uriModelName(model);
  const cached = async () => {
    const { resolveModelFile } = await import("node-llama-cpp");
    return resolveModelFile(model, { directory: cacheDir, download: false, cli: false });
  };
  if (offline) {
    try {
      return { path: await cached(), name };
    } catch (error) {
      throw new Error(`${model} is not in the model cache ${cacheDir} and --offline forbids downloading it`, {
        cause: error,
      });
    }
  }
  let reported = -1;
  const { createModelDownloader } = await import("node-llama-cpp");
  let downloader: Awaited<ReturnType<typeof createModelDownloader>>;
  try {
    downloader = await createModelDownloader({
      modelUri: model,
      dirPath: cacheDir,
      showCliProgress: options.progressBar ?? false,
      deleteTempFileOnCancel: false,
      onProgress: ({ totalSize, downloadedSize }) => {
        const tenth = totalSize > 0 ? Math.floor((downloadedSize / totalSize) * 10) : 0;
        if (tenth === reported) return;
        reported = tenth;
        logger.log("info", "model_download", { model, downloaded_bytes: downloadedSize, total_bytes: totalSize });
      },
    });
  } catch (error) {
    // The server could not even be asked what the file is: a cached copy is served unverified.
    const fallback = await cached().catch(() => null);
    if (fallback === null) throw new Error(`cannot download ${model}: ${(error as Error).message}`, { cause: error });
    logger.log("warn", "model_unverified", { model, path: fallback, message: (error as Error).message });
    return { path: fallback, name };
  }
  const path = downloader.entrypointFilePath;
  const single = downloader.totalFiles === 1;
  const sizeOnDisk = () =>
    stat(path).then(
      (s) => s.size,
      () => null,
    );
  const before = await sizeOnDisk();
  if (single && before === downloader.totalSize) {
    await downloader.cancel({ deleteTempFile: false });
    return { path, name };
  }
  // A cached copy of the wrong size (cut short, or changed upstream) is downloaded again over itself.
  if (before !== null)
    logger.log("warn", "model_size_mismatch", { model, path, bytes: before, expected: downloader.totalSize });
  await downloader.download(signal ? { signal } : {});
  const after = await sizeOnDisk();
  if (single && after !== downloader.totalSize)
    throw new Error(`${path} has ${after} bytes after the download; the server announced ${downloader.totalSize}`);
  return { path, name };
}
