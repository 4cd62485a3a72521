import { CryptoError } from './cryptoError.js';

/**
 * The error bech32/bech32m and segwit address functions throw; never a raw library error. `reason` codes:
 * `too-long`, `bad-char`, `mixed-case`, `no-separator`, `empty-hrp`, `bad-hrp`, `short-checksum`, `bad-checksum`,
 * `wrong-hrp`, `wrong-encoding` (bech32 where bech32m is required or vice versa), `empty-data`, `bad-witness-version`,
 * `bad-padding`, `bad-program-length`, `bad-data`.
 * @see BIP-173, BIP-350
 */
export class AddressError extends CryptoError {
  override readonly name: string = 'AddressError';
}
