/**
 * The one error every decoder in cairn throws on malformed bytes. `code` is a short machine-readable code
 * (`unexpected-end`, `non-canonical-compact-size`, `size-too-large`, `trailing-bytes`, `superfluous-witness`,
 * `unknown-segwit-flag`, …) and `offset` the byte position where decoding failed.
 */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  /** Machine-readable code. */
  readonly code: string;
  /** Byte offset in the input at which the problem was found. */
  readonly offset: number;

  constructor(code: string, offset: number, detail?: string) {
    super(`${code} at byte ${offset}${detail ? `: ${detail}` : ''}`);
    this.code = code;
    this.offset = offset;
  }
}
