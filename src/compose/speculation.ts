// Speculative decoding as the config asks for it: the Speculation policy the scheduler plans with, over prompt
// lookup or a draft model; a draft model also brings the drafter the engine runs between steps, with its own
// context and KV (a unified pool holding every running sequence plus its drafts).
import { LlamaModel } from "../backend/llama/llama-model.js";
import { type Config, ConfigError } from "../config.js";
import { DraftModelDrafter } from "../engine/draft-model.js";
import { samplingParams } from "../sampling-params.js";
import { NgramDrafter } from "../scheduler/ngram-drafter.js";
import { Speculation } from "../scheduler/speculation.js";

export interface LoadedSpeculation {
  readonly speculation?: Speculation;
  /** The draft model's drafter, for the engine (it closes the draft model with the engine). */
  readonly drafter?: DraftModelDrafter;
}

export interface SpeculationTarget {
  readonly vocabSize: number;
  readonly kvTokens: number;
  readonly maxRunning: number;
  readonly gpuLayers: number;
}

/** Throws ConfigError for options that do not go together or a draft model that cannot draft for this model. */
export async function loadSpeculation(config: Config, target: SpeculationTarget): Promise<LoadedSpeculation> {
  const { speculative, draftModel, numSpeculativeTokens } = config;
  if (draftModel !== undefined && speculative !== "draft")
    throw new ConfigError("--draft-model is the draft model of --speculative draft; pass both, or neither");
  const policy = { numSpeculativeTokens, maxStepRows: config.speculativeStepRows };
  if (speculative === "off") return {};
  if (speculative === "ngram") return { speculation: new Speculation({ drafter: new NgramDrafter(), ...policy }) };
  if (draftModel === undefined) throw new ConfigError("--speculative draft needs --draft-model PATH");
  const model = await LlamaModel.load(draftModel, { gpuLayers: target.gpuLayers });
  if (model.info.vocabSize !== target.vocabSize) {
    model.dispose();
    throw new ConfigError(
      `the draft model ${draftModel} has a vocabulary of ${model.info.vocabSize} tokens, the served model ` +
        `${target.vocabSize}: a draft model must share the served model's vocabulary`,
    );
  }
  try {
    const context = await model.createContext({
      // Every running sequence, each with up to K drafted tokens past its length.
      kvTokens: target.kvTokens + target.maxRunning * (numSpeculativeTokens + 1),
      maxSequences: target.maxRunning,
      batchTokens: config.maxBatchTokens,
      flashAttention: config.flashAttention,
      ...(config.threads === undefined ? {} : { threads: config.threads }),
      ...(config.threadsBatch === undefined ? {} : { threadsBatch: config.threadsBatch }),
    });
    const greedy = context.createSampler(samplingParams({ temperature: 0 }));
    const drafter = new DraftModelDrafter({
      backend: context,
      greedy,
      numSlots: target.maxRunning,
      maxBatchTokens: context.batchTokens,
      release: async () => {
        greedy.dispose();
        await context.dispose();
        model.dispose();
      },
    });
    return { speculation: new Speculation({ drafter, ...policy }), drafter };
  } catch (error) {
    model.dispose();
    throw error;
  }
}
