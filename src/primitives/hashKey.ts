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

/** Node's latin1 decoder of a byte range, called on the bytes' own view (see latin1Decode). */
type Latin1Slice = (this: Uint8Array, start: number, end: number) => string;

/**
 * The native latin1 decoder behind Buffer#toString('latin1'), when this runtime has it: it takes any Uint8Array as
 * `this` (a plain one, or one over a SharedArrayBuffer), so no Buffer view is made per key. Undocumented but present
 * on Buffer.prototype since Node's first Buffer; when absent, latin1Decode wraps the bytes in a Buffer instead.
 */
const nativeLatin1Slice = (Buffer.prototype as unknown as { readonly latin1Slice?: Latin1Slice }).latin1Slice;

/**
 * The bytes as a latin1 string, one character per byte (the code of the character is the byte): the map key of a
 * byte string (hashKey for hashes; scripts in the storage's per-block memos). Same string as
 * Buffer#toString('latin1') of the same bytes, without making a Buffer view of them.
 */
export function latin1Decode(bytes: Uint8Array): string {
  if (nativeLatin1Slice !== undefined) return nativeLatin1Slice.call(bytes, 0, bytes.length);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
}

/**
 * The map key of a hash (see HashKey). Keys are compared only with other keys; to show a hash use hashToHex.
 * PERF: one latin1 decode of 32 bytes (no copy, no reversal): the cheapest string of the encodings measured
 * (display hex, plain hex, base64, String.fromCharCode), and the shortest to hash in a Map. The decode runs on the
 * hash's own view (latin1Decode): no Buffer object per key, which made two thirds of a key's allocation and most of
 * its time (10,000 keys x 300 on Node 20: 147-166 -> 47-64 ns per key, 111 -> 41 young-generation GCs).
 * @throws RangeError when the hash is not 32 bytes long (a caller error)
 */
export function hashKey<H extends Hash256>(hash: H): HashKey<H> {
  if (hash.length !== 32) throw new RangeError(`a hash key needs 32 bytes, got ${hash.length}`);
  return latin1Decode(hash) as HashKey<H>;
}
