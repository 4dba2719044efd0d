// HfTokenizer: a Hugging Face tokenizer.json (the format text ONNX models ship with), through the pure-JS
// @huggingface/tokenizers. That library does not apply the file's truncation settings, so this wrapper does,
// keeping the special tokens the post-processor adds ([CLS] ... [SEP]) when it cuts.
import { readFile } from "node:fs/promises";
import { Tokenizer } from "@huggingface/tokenizers";

interface TokenizerJson {
  readonly truncation?: { readonly max_length?: number; readonly direction?: string } | null;
}

export class HfTokenizer {
  /** The truncation length tokenizer.json asks for, or null. */
  readonly truncationLength: number | null;
  readonly #tokenizer: Tokenizer;
  readonly #truncateLeft: boolean;

  private constructor(json: TokenizerJson) {
    this.#tokenizer = new Tokenizer(json, {});
    this.truncationLength = json.truncation?.max_length ?? null;
    this.#truncateLeft = json.truncation?.direction === "Left";
  }

  static async load(path: string): Promise<HfTokenizer> {
    const text = await readFile(path, "utf8");
    let json: TokenizerJson;
    try {
      json = JSON.parse(text) as TokenizerJson;
    } catch (error) {
      throw new Error(`${path} is not valid JSON: ${(error as Error).message}`);
    }
    return new HfTokenizer(json);
  }

  /** Ids with special tokens; longer than maxTokens, the content is cut and the special tokens around it kept. */
  encode(text: string, maxTokens: number): number[] {
    const full = this.#tokenizer.encode(text).ids;
    if (full.length <= maxTokens) return full;
    const content = this.#tokenizer.encode(text, { add_special_tokens: false }).ids;
    const prefix = findContent(full, content);
    if (prefix < 0) return this.#truncateLeft ? full.slice(full.length - maxTokens) : full.slice(0, maxTokens);
    const specials = full.length - content.length;
    if (specials >= maxTokens)
      throw new RangeError(`max_sequence_length ${maxTokens} leaves no room beside ${specials} special tokens`);
    const kept = this.#truncateLeft
      ? content.slice(content.length - (maxTokens - specials))
      : content.slice(0, maxTokens - specials);
    return [...full.slice(0, prefix), ...kept, ...full.slice(prefix + content.length)];
  }
}

function findContent(full: readonly number[], content: readonly number[]): number {
  for (let start = 0; start + content.length <= full.length; start++) {
    if (content.every((id, i) => full[start + i] === id)) return start;
  }
  return -1;
}
