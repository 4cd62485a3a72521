/**
 * The error every crypto/ function throws on malformed keys, signatures, seeds, paths or mnemonics; never a raw library
 * error. `code` is a short machine-readable code: `bad-private-key`, `bad-public-key`, `bad-message-length`,
 * `bad-signature-length`, `bad-aux-length`, `bad-tweak`, `bad-merkle-root`, `bad-seed`, `bad-extended-key`, `bad-path`,
 * `bad-derivation`, `bad-entropy`, `bad-mnemonic`.
 */
export class CryptoError extends Error {
  override readonly name: string = 'CryptoError';
  /** Machine-readable code. */
  readonly code: string;

  constructor(code: string, detail?: string) {
    super(detail ? `${code}: ${detail}` : code);
    this.code = code;
  }
}
