// JinjaChatFormat: chats rendered through the GGUF's Jinja chat template (or ChatML) with @huggingface/jinja, for
// plain chats; structured output through our JSON-schema grammar; output read as plain content.
import { Template } from "@huggingface/jinja";
import type { LlamaModel } from "../../backend/llama/llama-model.js";
import { InvalidRequestError } from "../errors.js";
import { type ChatFormat, type ChatInput, type OutputFormat, plainContent, type RenderedChat } from "./chat.js";
import { jsonObjectGbnf, jsonSchemaToGbnf } from "./json-grammar.js";

export const CHATML_TEMPLATE =
  "{% for message in messages %}" +
  "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

const utf8 = new TextDecoder();

function grammarFor(format: OutputFormat): string | null {
  if (format.type === "text") return null;
  return format.type === "json_object" ? jsonObjectGbnf() : jsonSchemaToGbnf(format.schema);
}

export class JinjaChatFormat implements ChatFormat {
  readonly #template: Template;
  readonly #model: LlamaModel;
  readonly #bosText: string;
  readonly #eosText: string;

  /** Compiled once per model; throws a SyntaxError-like error when the template does not parse. */
  constructor(source: string, model: LlamaModel) {
    this.#template = new Template(source);
    this.#model = model;
    const text = (token: number) => (token < 0 ? "" : utf8.decode(model.tokenToBytes(token, { special: true })));
    this.#bosText = text(model.info.bosToken);
    this.#eosText = text(model.info.eosToken);
  }

  /** A template that writes BOS itself gets no second one from the tokenizer. */
  render(input: ChatInput): RenderedChat {
    if (input.tools.length > 0 || input.messages.some((m) => m.toolCalls?.length || m.role === "tool")) {
      throw new InvalidRequestError("'tools' are not supported by this model's chat format", {
        param: "tools",
        code: "unsupported_parameter",
      });
    }
    let text: string;
    try {
      text = this.#template.render({
        messages: input.messages.map((m) => ({
          role: m.role,
          content: m.content ?? "",
          ...(m.name ? { name: m.name } : {}),
        })),
        add_generation_prompt: true,
        bos_token: this.#bosText,
        eos_token: this.#eosText,
      });
    } catch (error) {
      throw new InvalidRequestError(`the chat template failed on these messages: ${(error as Error).message}`, {
        param: "messages",
      });
    }
    const templateWritesBos = this.#bosText !== "" && text.startsWith(this.#bosText);
    return {
      promptTokens: this.#model.tokenize(text, { addSpecial: !templateWritesBos, parseSpecial: true }),
      grammar: grammarFor(input.format),
      parse: plainContent,
    };
  }
}
