import { bytesToHex as nobleBytesToHex, hexToBytes as nobleHexToBytes } from '@noble/hashes/utils.js';
import { DecodeError } from './decodeError.js';
import type { BlockHash, Txid, Wtxid } from './types.js';

/** Lower-case hex of the bytes, in the order given. */
export function bytesToHex(bytes: Uint8Array): string {
  return nobleBytesToHex(bytes);
}

/**
 * Parses hex (either case, even length, no prefix) into bytes.
 * @throws DecodeError bad-hex
 */
export function hexToBytes(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new DecodeError('bad-hex', 0, 'expected an even number of hex digits');
  }
  return nobleHexToBytes(hex);
}

/**
 * Displays a 32-byte hash the way Bitcoin does: the serialized (internal, little-endian) bytes reversed, in hex.
 * @see Bitcoin Core uint256::GetHex
 */
export function hashToHex(hash: Uint8Array): string {
  return nobleBytesToHex(Uint8Array.from(hash).reverse());
}

/**
 * Parses a displayed (reversed) 64-digit hash into internal byte order.
 * @throws DecodeError bad-hash
 */
export function hexToHash(hex: string): Uint8Array {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new DecodeError('bad-hash', 0, 'expected 64 hex digits');
  return nobleHexToBytes(hex).reverse();
}

/**
 * Parses a txid as displayed (64 hex digits, reversed) into its internal bytes: the API edge's way in.
 * @throws DecodeError bad-hash
 */
export function txidFromHex(hex: string): Txid {
  return hexToHash(hex) as Txid;
}

/**
 * Parses a wtxid as displayed (64 hex digits, reversed) into its internal bytes.
 * @throws DecodeError bad-hash
 */
export function wtxidFromHex(hex: string): Wtxid {
  return hexToHash(hex) as Wtxid;
}

/**
 * Parses a block hash as displayed (64 hex digits, reversed) into its internal bytes: the API edge's way in.
 * @throws DecodeError bad-hash
 */
export function blockHashFromHex(hex: string): BlockHash {
  return hexToHash(hex) as BlockHash;
}

/** True when both byte arrays hold the same bytes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
