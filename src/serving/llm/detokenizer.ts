// IncrementalDetokenizer: token ids to UTF-8-safe text deltas. A token may end inside a multi-byte character;
// the streaming decoder holds those bytes back until the character completes.

export type TokenBytes = (token: number) => Uint8Array;

export class IncrementalDetokenizer {
  readonly #tokenBytes: TokenBytes;
  readonly #decoder = new TextDecoder("utf-8");

  constructor(tokenBytes: TokenBytes) {
    this.#tokenBytes = tokenBytes;
  }

  /** The text that this token completes (possibly empty). */
  push(token: number): string {
    return this.#decoder.decode(this.#tokenBytes(token), { stream: true });
  }

  /** Whatever was held back, with U+FFFD for bytes that never completed a character. */
  flush(): string {
    return this.#decoder.decode();
  }
}
