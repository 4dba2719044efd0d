// OpenAI wire shapes: zod schemas are both the validation and the types. Unknown fields are stripped (ignored);
// known fields Loom does not support are refused with a clear 400 by the routes.
import { z } from "zod";

const Stop = z.union([z.string(), z.array(z.string()).max(4)]).nullish();
const LogitBias = z
  .record(z.string().regex(/^\d+$/, "logit_bias keys must be token ids"), z.number().min(-100).max(100))
  .nullish();

const TextPart = z.object({ type: z.literal("text"), text: z.string() });
const ContentPart = z.union([TextPart, z.object({ type: z.string() }).loose()]);

export const ChatMessage = z.object({
  role: z.enum(["system", "developer", "user", "assistant", "tool"]),
  content: z.union([z.string(), z.array(ContentPart), z.null()]).optional(),
  name: z.string().optional(),
  tool_calls: z.array(z.unknown()).optional(),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

const ResponseFormat = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text") }),
  z.object({ type: z.literal("json_object") }),
  z.object({
    type: z.literal("json_schema"),
    json_schema: z.object({
      name: z.string().optional(),
      schema: z.record(z.string(), z.unknown()).optional(),
      strict: z.boolean().nullish(),
    }),
  }),
]);

/** Fields shared by chat and text completions, including vLLM's sampling extensions. */
const SamplingFields = {
  model: z.string().min(1),
  max_tokens: z.number().int().min(1).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  top_k: z.number().int().min(-1).nullish(),
  min_p: z.number().min(0).max(1).nullish(),
  n: z.number().int().min(1).max(128).nullish(),
  seed: z.number().int().nullish(),
  stop: Stop,
  stop_token_ids: z.array(z.number().int().min(0)).nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  repetition_penalty: z.number().gt(0).max(2).nullish(),
  logit_bias: LogitBias,
  ignore_eos: z.boolean().nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
  user: z.string().nullish(),
  priority: z.number().int().nullish(),
  /** Loom's extension: seconds before the request is ended with a timeout error (the server default otherwise). */
  timeout: z.number().positive().max(86_400).nullish(),
  /** Loom's extension: the scale of the LoRA adapter named in `model` (1 by default). */
  lora_scale: z.number().min(0).max(4).nullish(),
  response_format: ResponseFormat.nullish(),
};

export const ChatCompletionRequest = z.object({
  ...SamplingFields,
  messages: z.array(ChatMessage).min(1, "messages must not be empty"),
  max_completion_tokens: z.number().int().min(1).nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
  tools: z.array(z.unknown()).nullish(),
  tool_choice: z.unknown().optional(),
  functions: z.array(z.unknown()).nullish(),
  function_call: z.unknown().optional(),
  audio: z.unknown().optional(),
  modalities: z.array(z.string()).nullish(),
  chat_template: z.string().nullish(),
});
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequest>;

const TokenIds = z.array(z.number().int());
export const CompletionRequest = z.object({
  ...SamplingFields,
  prompt: z.union([z.string(), z.array(z.string()).min(1), TokenIds.min(1), z.array(TokenIds.min(1)).min(1)]),
  logprobs: z.number().int().min(0).max(20).nullish(),
  echo: z.boolean().nullish(),
  suffix: z.string().nullish(),
  best_of: z.number().int().min(1).nullish(),
});
export type CompletionRequest = z.infer<typeof CompletionRequest>;

export const EmbeddingRequest = z.object({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(z.string()).min(1), TokenIds.min(1), z.array(TokenIds.min(1)).min(1)]),
  encoding_format: z.enum(["float", "base64"]).nullish(),
  dimensions: z.number().int().nullish(),
  user: z.string().nullish(),
});
export type EmbeddingRequest = z.infer<typeof EmbeddingRequest>;

export const TokenizeRequest = z.union([
  z.object({ model: z.string().optional(), prompt: z.string(), add_special_tokens: z.boolean().optional() }),
  z.object({
    model: z.string().optional(),
    messages: z.array(ChatMessage).min(1),
    add_generation_prompt: z.boolean().optional(),
  }),
]);
export const DetokenizeRequest = z.object({ model: z.string().optional(), tokens: TokenIds });

export const LoadLoraRequest = z.object({ lora_name: z.string().min(1), lora_path: z.string().min(1) });
export const UnloadLoraRequest = z.object({ lora_name: z.string().min(1) });
