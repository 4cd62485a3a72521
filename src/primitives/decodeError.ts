/**
 * The one error every decoder in cairn throws on malformed bytes. `reason` is a short machine-readable code
 * (`unexpected-end`, `non-canonical-compact-size`, `size-too-large`, `trailing-bytes`, `superfluous-witness`,
 * `unknown-segwit-flag`, …) and `offset` the byte position where decoding failed.
 */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  /** Machine-readable reason code. */
  readonly reason: string;
  /** Byte offset in the input at which the problem was found. */
  readonly offset: number;

  constructor(reason: string, offset: number, detail?: string) {
    super(`${reason} at byte ${offset}${detail ? `: ${detail}` : ''}`);
    this.reason = reason;
    this.offset = offset;
  }
}
