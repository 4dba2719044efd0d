// Anthropic Messages API request shapes (POST /v1/messages and /v1/messages/count_tokens), as @anthropic-ai/sdk and
// coding agents send them. Unknown fields are stripped; blocks Loom cannot read (images, documents, server tools)
// are refused by the conversion with a 400 naming them.
import { z } from "zod";

const TextBlock = z.object({ type: z.literal("text"), text: z.string() }).loose();
const ToolUseBlock = z.object({
  type: z.literal("tool_use"),
  id: z.string().min(1),
  name: z.string().min(1),
  input: z.unknown(),
});
const ToolResultBlock = z.object({
  type: z.literal("tool_result"),
  tool_use_id: z.string().min(1),
  content: z.union([z.string(), z.array(z.object({ type: z.string() }).loose())]).nullish(),
  is_error: z.boolean().nullish(),
});
const ThinkingBlock = z.object({ type: z.literal("thinking"), thinking: z.string(), signature: z.string().nullish() });
const RedactedThinkingBlock = z.object({ type: z.literal("redacted_thinking"), data: z.string() });
const OtherBlock = z.object({ type: z.string() }).loose();
const ContentBlock = z.union([
  TextBlock,
  ToolUseBlock,
  ToolResultBlock,
  ThinkingBlock,
  RedactedThinkingBlock,
  OtherBlock,
]);
export type ContentBlock = z.infer<typeof ContentBlock>;

const MessageParam = z.object({
  role: z.enum(["user", "assistant"]),
  content: z.union([z.string(), z.array(ContentBlock)]),
});
export type MessageParam = z.infer<typeof MessageParam>;

const CustomTool = z.object({
  type: z.literal("custom").nullish(),
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,128}$/, "tool names are 1 to 128 of a-z, A-Z, 0-9, _ and -"),
  description: z.string().nullish(),
  input_schema: z.record(z.string(), z.unknown()),
});
/** Server tools (web_search, bash, ...) carry a versioned `type`; Loom refuses them by name. */
const Tool = z.union([CustomTool, z.object({ type: z.string(), name: z.string().optional() }).loose()]);

const ToolChoice = z.discriminatedUnion("type", [
  z.object({ type: z.literal("auto"), disable_parallel_tool_use: z.boolean().nullish() }),
  z.object({ type: z.literal("any"), disable_parallel_tool_use: z.boolean().nullish() }),
  z.object({ type: z.literal("tool"), name: z.string().min(1), disable_parallel_tool_use: z.boolean().nullish() }),
  z.object({ type: z.literal("none") }),
]);

const Thinking = z.discriminatedUnion("type", [
  z.object({ type: z.literal("enabled"), budget_tokens: z.number().int().min(1).nullish() }),
  z.object({ type: z.literal("disabled") }),
  z.object({ type: z.literal("adaptive") }).loose(),
]);

const Fields = {
  model: z.string().min(1),
  messages: z.array(MessageParam).min(1, "messages: at least one message is required"),
  system: z.union([z.string(), z.array(TextBlock)]).nullish(),
  tools: z.array(Tool).nullish(),
  tool_choice: ToolChoice.nullish(),
  thinking: Thinking.nullish(),
  output_config: z
    .object({
      format: z.object({ type: z.literal("json_schema"), schema: z.record(z.string(), z.unknown()) }).nullish(),
    })
    .loose()
    .nullish(),
};

export const CountTokensRequest = z.object(Fields);
export type CountTokensRequest = z.infer<typeof CountTokensRequest>;

export const MessagesRequest = z
  .object({
    ...Fields,
    max_tokens: z.number().int().min(1),
    stop_sequences: z.array(z.string()).max(16).nullish(),
    stream: z.boolean().nullish(),
    temperature: z.number().min(0).max(1).nullish(),
    top_p: z.number().gt(0).max(1).nullish(),
    top_k: z.number().int().min(0).nullish(),
    metadata: z.object({ user_id: z.string().nullish() }).loose().nullish(),
  })
  .superRefine((body, ctx) => {
    const choice = body.tool_choice;
    if (choice?.type === "tool" && !(body.tools ?? []).some((t) => t.name === choice.name)) {
      ctx.addIssue({
        code: "custom",
        path: ["tool_choice", "name"],
        message: `tool_choice names tool '${choice.name}', which is not among the tools`,
      });
    }
  });
export type MessagesRequest = z.infer<typeof MessagesRequest>;
