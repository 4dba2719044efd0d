// Anthropic's request shapes as serving's chat input: system prompt and text blocks as messages, tool_use blocks as
// the assistant's calls, tool_result blocks as tool messages, thinking blocks as replayed reasoning.
import { InvalidRequestError } from "../../serving/errors.js";
import type { ChatInput, ChatMessage, ToolChoice } from "../../serving/llm/chat.js";
import type { ContentBlock, CountTokensRequest, MessageParam } from "./schemas.js";

// Anthropic's error shape has no field for the parameter: the message names it.
function unsupported(param: string, what: string): never {
  throw new InvalidRequestError(`${param}: this server does not support ${what}`, {
    param,
    code: "unsupported_parameter",
  });
}

function textOfBlocks(blocks: readonly { type: string; text?: unknown }[], param: string): string {
  return blocks
    .map((block, k) => {
      if (block.type === "text" && typeof block.text !== "string") {
        throw new InvalidRequestError(`${param}.${k}.text: a text block needs its text as a string`, {
          param: `${param}.${k}.text`,
        });
      }
      if (block.type !== "text") unsupported(`${param}.${k}`, `content blocks of type '${block.type}'`);
      return block.text as string;
    })
    .join("\n");
}

function userTurn(message: MessageParam, i: number, calls: ReadonlySet<string>): ChatMessage[] {
  if (typeof message.content === "string") return [{ role: "user", content: message.content }];
  const out: ChatMessage[] = [];
  const text: { type: string; text?: unknown }[] = [];
  message.content.forEach((block, k) => {
    const param = `messages.${i}.content.${k}`;
    if (block.type !== "tool_result") {
      text.push(block);
      return;
    }
    const result = block as Extract<ContentBlock, { type: "tool_result" }>;
    if (!calls.has(result.tool_use_id)) {
      throw new InvalidRequestError(
        `${param}.tool_use_id: tool_result block references tool_use id '${result.tool_use_id}', which no earlier ` +
          "tool_use block has",
        {
          param: `${param}.tool_use_id`,
        },
      );
    }
    const content = result.content ?? "";
    const body = typeof content === "string" ? content : textOfBlocks(content, `${param}.content`);
    out.push({ role: "tool", toolCallId: result.tool_use_id, content: result.is_error ? `Error: ${body}` : body });
  });
  if (text.length > 0) out.push({ role: "user", content: textOfBlocks(text, `messages.${i}.content`) });
  return out;
}

function assistantTurn(message: MessageParam, i: number, calls: Set<string>): ChatMessage {
  if (typeof message.content === "string") return { role: "assistant", content: message.content };
  const text: string[] = [];
  const reasoning: string[] = [];
  const toolCalls: { id: string; name: string; arguments: string }[] = [];
  message.content.forEach((block, k) => {
    if (block.type === "text") text.push((block as { text: string }).text);
    else if (block.type === "thinking") reasoning.push((block as { thinking: string }).thinking);
    else if (block.type === "redacted_thinking") return;
    else if (block.type === "tool_use") {
      const use = block as Extract<ContentBlock, { type: "tool_use" }>;
      if (typeof use.id !== "string" || use.id === "" || typeof use.name !== "string" || use.name === "") {
        throw new InvalidRequestError(`messages.${i}.content.${k}: a tool_use block needs an id and a name`, {
          param: `messages.${i}.content.${k}`,
        });
      }
      calls.add(use.id);
      toolCalls.push({ id: use.id, name: use.name, arguments: JSON.stringify(use.input ?? {}) });
    } else unsupported(`messages.${i}.content.${k}`, `content blocks of type '${block.type}'`);
  });
  return {
    role: "assistant",
    content: text.length > 0 ? text.join("\n") : null,
    ...(toolCalls.length > 0 ? { toolCalls } : {}),
    ...(reasoning.length > 0 ? { reasoningContent: reasoning.join("\n") } : {}),
  };
}

/** An Anthropic request as serving's chat input; throws a 400 for blocks and tools Loom cannot take. */
export function toChatInput(body: CountTokensRequest): ChatInput {
  const system =
    body.system === undefined || body.system === null
      ? null
      : typeof body.system === "string"
        ? body.system
        : textOfBlocks(body.system, "system");
  const calls = new Set<string>();
  const messages: ChatMessage[] = system ? [{ role: "system", content: system }] : [];
  body.messages.forEach((message, i) => {
    if (message.role === "user") messages.push(...userTurn(message, i, calls));
    else messages.push(assistantTurn(message, i, calls));
  });
  const tools = (body.tools ?? []).map((tool, i) => {
    if (tool.type !== undefined && tool.type !== null && tool.type !== "custom")
      unsupported(`tools.${i}`, `the server tool '${tool.type}'`);
    const custom = tool as { name: string; description?: string | null; input_schema: Record<string, unknown> };
    return {
      name: custom.name,
      ...(custom.description ? { description: custom.description } : {}),
      parameters: custom.input_schema,
    };
  });
  const choice = body.tool_choice;
  const toolChoice: ToolChoice =
    choice === undefined || choice === null || choice.type === "auto"
      ? tools.length > 0
        ? "auto"
        : "none"
      : choice.type === "any"
        ? "required"
        : choice.type === "none"
          ? "none"
          : { name: choice.name };
  const format = body.output_config?.format;
  return {
    messages,
    tools,
    toolChoice,
    parallelToolCalls: !(choice && "disable_parallel_tool_use" in choice && choice.disable_parallel_tool_use),
    format: format ? { type: "json_schema", schema: format.schema, param: "output_config.format" } : { type: "text" },
    ...(body.thinking?.type === "enabled"
      ? { enableThinking: true }
      : body.thinking?.type === "disabled"
        ? { enableThinking: false }
        : {}),
  };
}
