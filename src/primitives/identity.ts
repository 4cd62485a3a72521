import { DecodeError } from './decodeError.js';
import type { BlockHash, Hash256, Txid, Wtxid } from './types.js';

/** Copies exactly 32 bytes out of `bytes`. @throws DecodeError bad-hash-length */
function decodeHash256(bytes: Uint8Array, what: string): Hash256 {
  if (bytes.length !== 32) throw new DecodeError('bad-hash-length', 0, `a ${what} is 32 bytes, got ${bytes.length}`);
  return new Uint8Array(bytes);
}

/**
 * Decodes 32 bytes in internal byte order (as serialized) as a txid: a copy, branded. For bytes read from the wire or a
 * store outside the codecs that already brand what they read (readOutpoint, the p2p messages, storage rows).
 * @throws DecodeError bad-hash-length
 */
export function decodeTxid(bytes: Uint8Array): Txid {
  return decodeHash256(bytes, 'txid') as Txid;
}

/**
 * Decodes 32 bytes in internal byte order as a wtxid (a copy, branded).
 * @throws DecodeError bad-hash-length
 */
export function decodeWtxid(bytes: Uint8Array): Wtxid {
  return decodeHash256(bytes, 'wtxid') as Wtxid;
}

/**
 * Decodes 32 bytes in internal byte order as a block hash (a copy, branded).
 * @throws DecodeError bad-hash-length
 */
export function decodeBlockHash(bytes: Uint8Array): BlockHash {
  return decodeHash256(bytes, 'block hash') as BlockHash;
}
