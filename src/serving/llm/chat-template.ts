// renderChat: a chat as the model's prompt text, through the GGUF's Jinja chat template (or ChatML).
import { Template } from "@huggingface/jinja";

export interface ChatMessage {
  readonly role: string;
  readonly content: string;
  readonly name?: string;
}

export const CHATML_TEMPLATE =
  "{% for message in messages %}" +
  "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

export interface ChatTemplateOptions {
  readonly bosToken: string;
  readonly eosToken: string;
  readonly addGenerationPrompt?: boolean;
}

/** A compiled chat template; compiling once per model keeps rendering cheap per request. */
export class ChatTemplate {
  readonly source: string;
  readonly #template: Template;

  /** Throws a SyntaxError-like error when the template does not parse. */
  constructor(source: string) {
    this.source = source;
    this.#template = new Template(source);
  }

  render(
    messages: readonly ChatMessage[],
    { bosToken, eosToken, addGenerationPrompt = true }: ChatTemplateOptions,
  ): string {
    return this.#template.render({
      messages: messages.map((m) => ({ ...m })),
      add_generation_prompt: addGenerationPrompt,
      bos_token: bosToken,
      eos_token: eosToken,
    });
  }
}
