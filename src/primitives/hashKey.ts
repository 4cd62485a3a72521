import type { Hash256 } from './types.js';

/** The brand of a hash's map key (compile time only). */
declare const hashKeyBrand: unique symbol;

/**
 * The map key of a 32-byte hash: a string of 32 characters, each the code of one byte of the hash in internal order
 * (latin1). The one key encoding for every in-memory Map and Set of hashes (display hex is for people, never a key).
 * The type parameter keeps the identity: a `Map<HashKey<Txid>, …>` cannot be looked up with a wtxid's or a block
 * hash's key, nor with a hex string.
 */
export type HashKey<H extends Hash256 = Hash256> = string & { readonly [hashKeyBrand]: H };

/**
 * The map key of a hash (see HashKey). Keys are compared only with other keys; to show a hash use hashToHex.
 * PERF: one latin1 decode of 32 bytes (no copy, no reversal): the cheapest string of the encodings measured
 * (display hex, plain hex, base64, String.fromCharCode), and the shortest to hash in a Map.
 * @throws RangeError when the hash is not 32 bytes long (a caller error)
 */
export function hashKey<H extends Hash256>(hash: H): HashKey<H> {
  if (hash.length !== 32) throw new RangeError(`a hash key needs 32 bytes, got ${hash.length}`);
  return Buffer.from(hash.buffer, hash.byteOffset, 32).toString('latin1') as HashKey<H>;
}
