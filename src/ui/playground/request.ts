// The playground's form as an OpenAI chat completion request, and that request as a curl command. Fields left
// empty are left out, so the server's defaults apply.

/** The form's fields as typed (inputs give strings). */
export interface PlaygroundSettings {
  readonly model: string;
  readonly system: string;
  readonly temperature: string;
  readonly topP: string;
  readonly maxTokens: string;
  readonly seed: string;
  /** One stop string per line. */
  readonly stop: string;
  /** A JSON schema, or a full `{name, schema, strict}` json_schema object. */
  readonly jsonSchema: string;
  /** OpenAI tool definitions: one object or an array of them. */
  readonly tools: string;
  readonly logprobs: boolean;
  readonly topLogprobs: string;
}

export const DEFAULT_SETTINGS: PlaygroundSettings = {
  model: "",
  system: "",
  temperature: "0.8",
  topP: "1",
  maxTokens: "256",
  seed: "",
  stop: "",
  jsonSchema: "",
  tools: "",
  logprobs: false,
  topLogprobs: "3",
};

export interface ChatTurn {
  readonly role: "user" | "assistant";
  readonly content: string;
}

/** A form field that cannot be sent as it is; `field` names the input. */
export class SettingsError extends Error {
  readonly field: string;

  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

function numberField(field: string, label: string, text: string, integer: boolean): number | undefined {
  if (text.trim() === "") return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || (integer && !Number.isInteger(value)))
    throw new SettingsError(field, `${label} must be ${integer ? "an integer" : "a number"}, got '${text}'`);
  return value;
}

function jsonField(field: string, label: string, text: string): unknown {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SettingsError(field, `${label} is not valid JSON: ${(error as Error).message}`);
  }
}

/** The streaming request body for `turns` after the system prompt; throws SettingsError for a field it cannot read. */
export function chatRequest(settings: PlaygroundSettings, turns: readonly ChatTurn[]): Record<string, unknown> {
  const body: Record<string, unknown> = {
    model: settings.model,
    messages: [...(settings.system.trim() === "" ? [] : [{ role: "system", content: settings.system }]), ...turns],
    stream: true,
    stream_options: { include_usage: true },
  };
  const numbers = [
    ["temperature", "temperature", "Temperature", settings.temperature, false],
    ["top_p", "topP", "Top p", settings.topP, false],
    ["max_tokens", "maxTokens", "Max tokens", settings.maxTokens, true],
    ["seed", "seed", "Seed", settings.seed, true],
  ] as const;
  for (const [name, field, label, text, integer] of numbers) {
    const value = numberField(field, label, text, integer);
    if (value !== undefined) body[name] = value;
  }
  const stop = settings.stop.split("\n").filter((s) => s !== "");
  if (stop.length > 0) body.stop = stop;
  const schema = jsonField("jsonSchema", "The JSON schema", settings.jsonSchema);
  if (schema !== undefined) {
    const named = typeof schema === "object" && schema !== null && "schema" in schema;
    body.response_format = { type: "json_schema", json_schema: named ? schema : { name: "reply", schema } };
  }
  const tools = jsonField("tools", "The tool definitions", settings.tools);
  if (tools !== undefined) body.tools = Array.isArray(tools) ? tools : [tools];
  if (settings.logprobs) {
    body.logprobs = true;
    body.top_logprobs = numberField("topLogprobs", "Top logprobs", settings.topLogprobs, true) ?? 0;
  }
  return body;
}

/** `body` as a curl command against `origin`; the key stays in $LOOM_API_KEY rather than on screen. */
export function curlCommand(origin: string, body: unknown, withKey: boolean): string {
  const json = JSON.stringify(body).replaceAll("'", "'\\''");
  return [
    `curl -N ${origin}/v1/chat/completions`,
    `-H 'content-type: application/json'`,
    ...(withKey ? [`-H "authorization: Bearer $LOOM_API_KEY"`] : []),
    `-d '${json}'`,
  ].join(" \\\n  ");
}
