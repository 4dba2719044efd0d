// OpenAI wire shapes: zod schemas are both the validation and the types. Unknown fields are stripped (ignored);
// known fields Loom does not support are refused with a clear 400 by the routes. Rules that tie one field to another
// (stream_options needs stream, ...) are refinements here too, each naming the parameter as OpenAI does; `null`
// stays accepted wherever OpenAI accepts it.
import { z } from "zod";

// OpenAI allows 4 stop sequences; vLLM and llama-server any number, which agent frameworks rely on.
const Stop = z
  .union([z.string(), z.array(z.string()).max(256)], {
    error: "stop must be a string or an array of up to 256 strings",
  })
  .nullish();
const LogitBias = z
  .record(z.string().regex(/^\d+$/, "logit_bias keys must be token ids"), z.number().min(-100).max(100))
  .nullish();

const TextPart = z.object({ type: z.literal("text"), text: z.string() });
const ContentPart = z.union([TextPart, z.object({ type: z.string() }).loose()]);

/** A call the assistant made, as chat history carries it back. */
const ToolCall = z.object({
  id: z.string().min(1),
  type: z.literal("function"),
  function: z.object({ name: z.string().min(1), arguments: z.string() }),
});

export const ChatMessage = z.object({
  role: z.enum(["system", "developer", "user", "assistant", "tool"]),
  content: z.union([z.string(), z.array(ContentPart), z.null()]).optional(),
  name: z.string().nullish(),
  tool_calls: z.array(ToolCall).nullish(),
  /** A tool message answers the assistant's call with this id. */
  tool_call_id: z.string().nullish(),
  /** Reasoning text of an earlier assistant turn (vLLM's and llama-server's field), for templates that replay it. */
  reasoning_content: z.string().nullish(),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

/** Function names as OpenAI accepts them. */
const FunctionName = z
  .string()
  .regex(/^[a-zA-Z0-9_.-]{1,64}$/, "function names are 1 to 64 of a-z, A-Z, 0-9, _, . and -");

export const FunctionTool = z.object({
  type: z.literal("function"),
  function: z.object({
    name: FunctionName,
    description: z.string().nullish(),
    /** A JSON schema for the arguments; none means an object of any shape. */
    parameters: z.record(z.string(), z.unknown()).nullish(),
    strict: z.boolean().nullish(),
  }),
});
export type FunctionTool = z.infer<typeof FunctionTool>;

export const ToolChoice = z.union([
  z.enum(["none", "auto", "required"]),
  z.object({ type: z.literal("function"), function: z.object({ name: z.string().min(1) }) }),
]);
export type ToolChoice = z.infer<typeof ToolChoice>;

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
  // Logits are divided by it in float32: below 1e-6 they overflow to infinity and no token can be drawn.
  repetition_penalty: z.number().min(1e-6, "repetition_penalty must be at least 1e-6").max(2).nullish(),
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
  /** Loom's extension: false keeps the request out of speculative decoding (the output is the same either way). */
  speculative: z.boolean().nullish(),
  response_format: ResponseFormat.nullish(),
};

const given = (value: unknown) => value !== undefined && value !== null;

/** OpenAI's rule: stream_options is only allowed when stream is enabled. */
function streamOptionsNeedStream(body: { stream?: boolean | null; stream_options?: unknown }, ctx: z.RefinementCtx) {
  if (given(body.stream_options) && body.stream !== true) {
    ctx.addIssue({
      code: "custom",
      path: ["stream_options"],
      message: "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
    });
  }
}

export const ChatCompletionRequest = z
  .object({
    ...SamplingFields,
    messages: z.array(ChatMessage).min(1, "messages must not be empty"),
    max_completion_tokens: z.number().int().min(1).nullish(),
    logprobs: z.boolean().nullish(),
    top_logprobs: z.number().int().min(0).max(20).nullish(),
    tools: z.array(FunctionTool).nullish(),
    tool_choice: ToolChoice.nullish(),
    parallel_tool_calls: z.boolean().nullish(),
    functions: z.array(z.unknown()).nullish(),
    function_call: z.unknown().optional(),
    audio: z.unknown().optional(),
    modalities: z.array(z.string()).nullish(),
    chat_template: z.string().nullish(),
    /** vLLM's and llama-server's switch for templates that can think or not (Qwen3, DeepSeek R1, ...). */
    chat_template_kwargs: z.record(z.string(), z.unknown()).nullish(),
    reasoning_effort: z.enum(["minimal", "low", "medium", "high"]).nullish(),
  })
  .superRefine((body, ctx) => {
    streamOptionsNeedStream(body, ctx);
    if (given(body.top_logprobs) && body.logprobs !== true) {
      ctx.addIssue({
        code: "custom",
        path: ["top_logprobs"],
        message: "top_logprobs is only allowed when logprobs is true",
      });
    }
    const tools = body.tools ?? [];
    for (const field of ["tool_choice", "parallel_tool_calls"] as const) {
      if (given(body[field]) && tools.length === 0) {
        ctx.addIssue({
          code: "custom",
          path: [field],
          message: `'${field}' is only allowed when 'tools' are specified.`,
        });
      }
    }
    const names = tools.map((t) => t.function.name);
    names.forEach((name, i) => {
      if (names.indexOf(name) !== i) {
        ctx.addIssue({
          code: "custom",
          path: ["tools", i, "function", "name"],
          message: `two tools are named '${name}'`,
        });
      }
    });
    const choice = body.tool_choice;
    if (typeof choice === "object" && choice !== null && tools.length > 0 && !names.includes(choice.function.name)) {
      ctx.addIssue({
        code: "custom",
        path: ["tool_choice"],
        message:
          `tool_choice names function '${choice.function.name}', ` +
          `which is not among the tools (${names.join(", ")})`,
      });
    }
    checkToolHistory(body.messages, ctx);
  });
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequest>;

const TokenIds = z.array(z.number().int());
export const CompletionRequest = z
  .object({
    ...SamplingFields,
    prompt: z.union([z.string(), z.array(z.string()).min(1), TokenIds.min(1), z.array(TokenIds.min(1)).min(1)]),
    logprobs: z.number().int().min(0).max(20).nullish(),
    echo: z.boolean().nullish(),
    suffix: z.string().nullish(),
    best_of: z.number().int().min(1).nullish(),
  })
  .superRefine(streamOptionsNeedStream);
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

/** Every tool message answers a call that an earlier assistant message made, by its id. */
function checkToolHistory(messages: readonly ChatMessage[], ctx: z.RefinementCtx): void {
  const calls = new Set<string>();
  messages.forEach((message, i) => {
    for (const call of message.tool_calls ?? []) calls.add(call.id);
    if (message.role !== "tool") return;
    if (!given(message.tool_call_id)) {
      ctx.addIssue({
        code: "custom",
        path: ["messages", i, "tool_call_id"],
        message: "a tool message needs tool_call_id",
      });
    } else if (!calls.has(message.tool_call_id!)) {
      ctx.addIssue({
        code: "custom",
        path: ["messages", i, "tool_call_id"],
        message: `no earlier assistant message made a tool call with id '${message.tool_call_id}'`,
      });
    }
  });
}
