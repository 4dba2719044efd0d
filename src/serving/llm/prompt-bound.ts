// A prompt too long for the context whatever it tokenizes to is refused before the tokenizer runs: tokenizing a
// body of tens of megabytes holds the event loop for seconds, and every other client with it.
import { InvalidRequestError } from "../errors.js";

/** What the bound reads of a model: its vocabulary's token pieces. */
export interface PieceSource {
  readonly info: { readonly vocabSize: number };
  tokenToBytes(token: number): Uint8Array;
}

/**
 * Text of `bytes` UTF-8 bytes tokenizes to at least `bytes / longest piece` tokens, so above `maxModelLen` times
 * the vocabulary's longest piece it cannot fit, and that is known without tokenizing. The longest piece is found
 * once (one pass over the vocabulary), and only when a prompt is longer than `maxModelLen` bytes.
 */
export class PromptBound {
  readonly #model: PieceSource;
  readonly #maxModelLen: number;
  #longestPiece: number | null = null;

  constructor(model: PieceSource, maxModelLen: number) {
    this.#model = model;
    this.#maxModelLen = maxModelLen;
  }

  /**
   * Throws InvalidRequestError (code context_length_exceeded, on `param`, OpenAI's shape for a prompt over the
   * context) when `texts`, which all go into one prompt, cannot fit the context.
   */
  check(texts: readonly string[], param: string): void {
    let bytes = 0;
    for (const text of texts) bytes += Buffer.byteLength(text, "utf8");
    if (bytes <= this.#maxModelLen) return;
    const fewest = Math.ceil(bytes / this.#longest());
    if (fewest <= this.#maxModelLen) return;
    throw new InvalidRequestError(
      `This model's maximum context length is ${this.#maxModelLen} tokens. However, your ${param} is ${bytes} ` +
        `bytes long, which is at least ${fewest} tokens. Please reduce the length of the ${param}.`,
      { param, code: "context_length_exceeded" },
    );
  }

  #longest(): number {
    if (this.#longestPiece === null) {
      let longest = 1;
      for (let id = 0; id < this.#model.info.vocabSize; id++)
        longest = Math.max(longest, this.#model.tokenToBytes(id).length);
      this.#longestPiece = longest;
    }
    return this.#longestPiece;
  }
}
