// The playground's request settings: model or adapter, system prompt, sampling, stop strings, a JSON schema,
// tool definitions and log-probabilities. Every field is a labelled native control.
import type { ModelCard } from "../lib/models.js";
import type { PlaygroundSettings } from "./request.js";

interface SettingsProps {
  readonly settings: PlaygroundSettings;
  readonly models: readonly ModelCard[];
  readonly onChange: (settings: PlaygroundSettings) => void;
  /** The field the last SettingsError named, marked invalid. */
  readonly invalid: string | null;
}

type TextField = Exclude<keyof PlaygroundSettings, "logprobs">;

export function Settings({ settings, models, onChange, invalid }: SettingsProps) {
  const set = (field: keyof PlaygroundSettings, value: string | boolean) => onChange({ ...settings, [field]: value });
  const input = (field: TextField, label: string, attrs: Record<string, string> = {}) => (
    <div class="field">
      <label for={`pg-${field}`}>{label}</label>
      <input
        id={`pg-${field}`}
        value={settings[field]}
        aria-invalid={invalid === field}
        onInput={(e) => set(field, e.currentTarget.value)}
        {...attrs}
      />
    </div>
  );
  const area = (field: TextField, label: string, placeholder: string, rows = 3) => (
    <div class="field wide">
      <label for={`pg-${field}`}>{label}</label>
      <textarea
        id={`pg-${field}`}
        rows={rows}
        placeholder={placeholder}
        spellcheck={false}
        value={settings[field]}
        aria-invalid={invalid === field}
        onInput={(e) => set(field, e.currentTarget.value)}
      />
    </div>
  );
  return (
    <form class="settings" aria-label="Request settings" onSubmit={(e) => e.preventDefault()}>
      <div class="field wide">
        <label for="pg-model">Model or adapter</label>
        <select id="pg-model" value={settings.model} onChange={(e) => set("model", e.currentTarget.value)}>
          {models.map((m) => (
            <option key={m.id} value={m.id}>
              {m.parent ? `${m.id} (adapter of ${m.parent})` : m.id}
            </option>
          ))}
        </select>
      </div>
      {area("system", "System prompt", "You are a helpful assistant.")}
      <div class="row">
        {input("temperature", "Temperature", { type: "number", min: "0", max: "2", step: "0.1" })}
        {input("topP", "Top p", { type: "number", min: "0", max: "1", step: "0.05" })}
        {input("maxTokens", "Max tokens", { type: "number", min: "1", step: "1" })}
        {input("seed", "Seed", { type: "number", step: "1", placeholder: "random" })}
      </div>
      {area("stop", "Stop strings (one per line)", "", 2)}
      {area("jsonSchema", "JSON schema (response_format)", '{"type": "object", "properties": {...}}')}
      {area("tools", "Tools (OpenAI function definitions)", '[{"type": "function", "function": {"name": ...}}]')}
      <div class="row">
        <div class="field check">
          <input
            id="pg-logprobs"
            type="checkbox"
            checked={settings.logprobs}
            onChange={(e) => set("logprobs", e.currentTarget.checked)}
          />
          <label for="pg-logprobs">Log-probabilities heat map</label>
        </div>
        {settings.logprobs && input("topLogprobs", "Alternatives", { type: "number", min: "0", max: "20", step: "1" })}
      </div>
    </form>
  );
}
