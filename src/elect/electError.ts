/**
 * Why an elect message, block or certificate was refused. Codes are cairn's own (the field has no standard ones for
 * an MQTT quorum chain); the ones that mirror Bitcoin Core's reject reasons use its strings (`high-hash`,
 * `bad-prevblk`).
 */
export type ElectErrorCode =
  | 'bad-genesis'
  | 'bad-envelope'
  | 'wrong-chain'
  | 'non-member'
  | 'bad-signature'
  | 'bad-message'
  | 'high-hash'
  | 'bad-prevblk'
  | 'bad-height'
  | 'bad-difficulty'
  | 'bad-block'
  | 'bad-certificate'
  | 'double-vote'
  | 'conflicting-commit'
  | 'locked'
  | 'bad-key';

/** An elect rule violation: `code` says which rule, the message says what was seen. */
export class ElectError extends Error {
  constructor(
    readonly code: ElectErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'ElectError';
  }
}
