import type { Sats } from '../primitives/types.js';

/**
 * Machine-readable reasons of a WalletError:
 * - keystore: `wrong-password` (the password does not open the keystore), `bad-password` (empty, when creating),
 *   `corrupt-keystore` (unreadable JSON, bad fields, out-of-range scrypt parameters, or ciphertext/tag/metadata that
 *   fail authentication under the right password), `keystore-exists` (refusing to overwrite), `keystore-io` (the
 *   file cannot be read or written);
 * - node client: `http-error` (the server answered 4xx/5xx; `httpStatus` and the server's message), `not-found`
 *   (404), `network-error` (no answer), `timeout`, `bad-response` (a body that is not the Esplora shape);
 * - payments: `insufficient-funds` (`shortfallSats` says how much is missing), `bad-address`, `bad-amount`,
 *   `dust-output`, `bad-fee-rate`, `too-many-inputs`, `fee-too-high` (above the wallet's fee-rate or absolute fee
 *   ceiling: refused as a likely mistake unless the payment allows high fees; `feeSats` says what it would pay);
 * - fee bumping: `not-own-tx` (an input is not the wallet's), `tx-confirmed`, `has-descendants` (an output is
 *   already spent: replacing would evict the spender too), `fee-rate-too-low`;
 * - keys: `bad-seed`, `bad-mnemonic`, `bad-account`, `bad-index` (not in 0..2^31-1), `watch-only` (a signing key
 *   was asked of a public-only account), `unknown-script` (a coin the wallet has no key for).
 */
export type WalletErrorReason =
  | 'wrong-password'
  | 'bad-password'
  | 'corrupt-keystore'
  | 'keystore-exists'
  | 'keystore-io'
  | 'http-error'
  | 'not-found'
  | 'network-error'
  | 'timeout'
  | 'bad-response'
  | 'insufficient-funds'
  | 'bad-address'
  | 'bad-amount'
  | 'dust-output'
  | 'bad-fee-rate'
  | 'too-many-inputs'
  | 'fee-too-high'
  | 'not-own-tx'
  | 'tx-confirmed'
  | 'has-descendants'
  | 'fee-rate-too-low'
  | 'bad-seed'
  | 'bad-mnemonic'
  | 'bad-account'
  | 'bad-index'
  | 'watch-only'
  | 'unknown-script';

/** Optional typed payload of a WalletError. */
export interface WalletErrorExtra {
  /** insufficient-funds: sats missing to pay the outputs and the fee at the requested rate. */
  readonly shortfallSats?: Sats;
  /** http-error / not-found: the HTTP status the server answered with. */
  readonly httpStatus?: number;
  /** fee-too-high: the fee the refused transaction would have paid, sats. */
  readonly feeSats?: Sats;
  /** The error this one wraps (e.g. a fetch failure), never one that carries a secret. */
  readonly cause?: unknown;
}

/**
 * The error every wallet/ function throws on bad input, a failed node request, a keystore problem or a payment that
 * cannot be made; `code` is one of WalletErrorReason. Messages never contain secrets (keys, seeds, passwords).
 */
export class WalletError extends Error {
  override readonly name: string = 'WalletError';
  /** Machine-readable code. */
  readonly code: WalletErrorReason;
  /** insufficient-funds: how many sats are missing. */
  readonly shortfallSats: Sats | undefined;
  /** http-error / not-found: the HTTP status. */
  readonly httpStatus: number | undefined;
  /** fee-too-high: the fee the refused transaction would have paid. */
  readonly feeSats: Sats | undefined;

  constructor(code: WalletErrorReason, message?: string, extra: WalletErrorExtra = {}) {
    super(message ?? code, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.code = code;
    this.shortfallSats = extra.shortfallSats;
    this.httpStatus = extra.httpStatus;
    this.feeSats = extra.feeSats;
  }
}

/** True when `e` is a WalletError with the given reason (a predicate for assert.throws / rejects). */
export function isWalletError(e: unknown, reason?: WalletErrorReason): e is WalletError {
  return e instanceof WalletError && (reason === undefined || e.code === reason);
}
