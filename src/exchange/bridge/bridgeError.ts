/**
 * Errors of the chain bridge, with a code the REST layer maps to an HTTP status and a Binance-style `{code,msg}`.
 */

/**
 * Why the bridge refused a request: `BAD_USER`, `BAD_CLIENT_ID`, `BAD_ADDRESS` (not a segwit address of the node's
 * network), `BAD_AMOUNT`, `CLIENT_ID_REUSED` (the id was used for another withdrawal), `REFUSED` (the engine refused the
 * lock: balance, frozen account), `CLOSED`, `BAD_COLD_WALLET` (a cold wallet option without the other, or a private key).
 */
export type BridgeErrorCode = 'BAD_COLD_WALLET' | 'BAD_USER' | 'BAD_CLIENT_ID' | 'BAD_ADDRESS' | 'BAD_AMOUNT' | 'CLIENT_ID_REUSED' | 'REFUSED' | 'CLOSED';

/** A refused bridge request. */
export class BridgeError extends Error {
  constructor(
    readonly code: BridgeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BridgeError';
  }
}
