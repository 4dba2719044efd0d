// OpenAI Responses API request shapes (POST /v1/responses), as the openai clients and the Vercel AI SDK send them.
// Unknown fields are stripped; known ones Loom cannot honour (built-in tools, stored prompts, conversations, images)
// are refused by the route with a 400 naming them.
import { z } from "zod";

const InputText = z.object({ type: z.literal("input_text"), text: z.string() });
const OutputText = z.object({ type: z.literal("output_text"), text: z.string() }).loose();
const Refusal = z.object({ type: z.literal("refusal"), refusal: z.string() });
/** Parts Loom cannot read (images, files, audio): kept by type so the route can refuse them by name. */
const OtherPart = z.object({ type: z.string() }).loose();
const ContentPart = z.union([InputText, OutputText, Refusal, OtherPart]);

/** A message item: `role` and content as text or parts (EasyInputMessage, or a Message / output message item). */
const MessageItem = z.object({
  type: z.literal("message").optional(),
  id: z.string().nullish(),
  role: z.enum(["user", "assistant", "system", "developer"]),
  content: z.union([z.string(), z.array(ContentPart)]),
  status: z.string().nullish(),
});

const FunctionCallItem = z.object({
  type: z.literal("function_call"),
  id: z.string().nullish(),
  call_id: z.string().min(1),
  name: z.string().min(1),
  arguments: z.string(),
  status: z.string().nullish(),
});

const FunctionCallOutputItem = z.object({
  type: z.literal("function_call_output"),
  id: z.string().nullish(),
  call_id: z.string().min(1),
  output: z.union([z.string(), z.array(ContentPart)]),
  status: z.string().nullish(),
});

/** Reasoning items a client sends back; their text (when present) replays as the assistant's reasoning. */
const ReasoningItem = z.object({
  type: z.literal("reasoning"),
  id: z.string().nullish(),
  summary: z.array(z.object({ text: z.string() }).loose()).nullish(),
  content: z.array(z.object({ text: z.string() }).loose()).nullish(),
  encrypted_content: z.string().nullish(),
});

const OtherItem = z.object({ type: z.string() }).loose();

export const InputItem = z.union([MessageItem, FunctionCallItem, FunctionCallOutputItem, ReasoningItem, OtherItem]);
export type InputItem = z.infer<typeof InputItem>;

/** Responses' function tools are flat: {type, name, description, parameters, strict}. Others are refused by name. */
const FunctionToolSchema = z.object({
  type: z.literal("function"),
  name: z.string().regex(/^[a-zA-Z0-9_.-]{1,64}$/, "function names are 1 to 64 of a-z, A-Z, 0-9, _, . and -"),
  description: z.string().nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
  strict: z.boolean().nullish(),
});
const Tool = z.union([FunctionToolSchema, z.object({ type: z.string() }).loose()]);

const ToolChoice = z.union([
  z.enum(["none", "auto", "required"]),
  z.object({ type: z.literal("function"), name: z.string().min(1) }),
  z.object({ type: z.string() }).loose(),
]);

const TextFormat = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text") }),
  z.object({ type: z.literal("json_object") }),
  z.object({
    type: z.literal("json_schema"),
    name: z.string().nullish(),
    schema: z.record(z.string(), z.unknown()),
    description: z.string().nullish(),
    strict: z.boolean().nullish(),
  }),
]);

export const ResponseCreateRequest = z
  .object({
    model: z.string().min(1),
    input: z.union([z.string(), z.array(InputItem)]).nullish(),
    instructions: z.string().nullish(),
    tools: z.array(Tool).nullish(),
    tool_choice: ToolChoice.nullish(),
    parallel_tool_calls: z.boolean().nullish(),
    text: z.object({ format: TextFormat.nullish() }).loose().nullish(),
    max_output_tokens: z.number().int().min(1).nullish(),
    temperature: z.number().min(0).max(2).nullish(),
    top_p: z.number().gt(0).max(1).nullish(),
    top_logprobs: z.number().int().min(0).max(20).nullish(),
    store: z.boolean().nullish(),
    previous_response_id: z.string().min(1).nullish(),
    stream: z.boolean().nullish(),
    background: z.boolean().nullish(),
    metadata: z.record(z.string(), z.string()).nullish(),
    user: z.string().nullish(),
    reasoning: z.object({ effort: z.string().nullish(), summary: z.string().nullish() }).loose().nullish(),
    truncation: z.enum(["auto", "disabled"]).nullish(),
    conversation: z.unknown().optional(),
    prompt: z.unknown().optional(),
    /** vLLM-style extensions, as on chat completions. */
    seed: z.number().int().nullish(),
    priority: z.number().int().nullish(),
    timeout: z.number().positive().max(86_400).nullish(),
  })
  .superRefine((body, ctx) => {
    if (body.background === true && body.store === false) {
      ctx.addIssue({ code: "custom", path: ["background"], message: "background responses need store to be true" });
    }
    const functions = (body.tools ?? []).filter((t) => t.type === "function") as z.infer<typeof FunctionToolSchema>[];
    const choice = body.tool_choice;
    if (choice !== undefined && choice !== null && (body.tools ?? []).length === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["tool_choice"],
        message: "'tool_choice' is only allowed when 'tools' are specified.",
      });
    }
    if (typeof choice === "object" && choice?.type === "function") {
      const name = (choice as { name: string }).name;
      if (!functions.some((f) => f.name === name)) {
        ctx.addIssue({
          code: "custom",
          path: ["tool_choice"],
          message: `tool_choice names function '${name}', which is not among the tools`,
        });
      }
    }
  });
export type ResponseCreateRequest = z.infer<typeof ResponseCreateRequest>;
export type FunctionToolSpec = z.infer<typeof FunctionToolSchema>;
