// The models the server serves (GET /v1/models): base models and the LoRA adapters loaded on them, as vLLM lists
// them (an adapter's `parent` is its base model, its `root` the file it was loaded from).
import { type Polled, usePoll } from "./poll.js";

export interface ModelCard {
  readonly id: string;
  readonly created: number;
  readonly root?: string;
  readonly parent?: string | null;
  readonly max_model_len?: number;
  /** Sent once models carry versions; the dashboard shows the column only then. */
  readonly version?: string;
}

const MODELS_REFRESH_MS = 5000;

/** Re-read every few seconds: adapters load and unload at run time. */
export function useModels(): Polled<{ data: ModelCard[] }> {
  return usePoll<{ data: ModelCard[] }>("/v1/models", MODELS_REFRESH_MS);
}
