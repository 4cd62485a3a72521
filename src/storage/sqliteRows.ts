/** Row helpers shared by the SQLite chain store and its indexes (same database, same row encodings). */
import { hash as oneShotHash } from 'node:crypto';
import type { Coin } from '../consensus/utxoView.js';
import { latin1Decode } from '../primitives/hashKey.js';
import type { BlockHash, Hash256, Outpoint, Txid } from '../primitives/types.js';
import { StorageError } from './storageError.js';

/** A utxo row read with safe integers: value, height and coinbase come back as bigint. */
export type UtxoRow = [outpoint: Buffer, value: bigint, script: Buffer, height: bigint, coinbase: bigint];

/** Memoized script hashes of one block being connected or disconnected (see memoScriptHash). */
export type ScriptHashFn = (script: Uint8Array) => Uint8Array;

/** A plain Uint8Array view of a Buffer returned by SQLite (so deepStrictEqual and decoders see plain bytes). */
export function asBytes(buf: Buffer): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * A 32-byte hash column as bytes: the one place where storage gives stored bytes their identity (txidFromRow,
 * blockHashFromRow).
 * @throws StorageError corrupt (not 32 bytes)
 */
function hashFromRow(buf: Buffer, what: string): Hash256 {
  if (buf.byteLength !== 32) throw new StorageError('corrupt', `a stored ${what} has ${buf.byteLength} bytes, not 32`);
  return asBytes(buf);
}

/** A txid column as a Txid. @throws StorageError corrupt (not 32 bytes) */
export function txidFromRow(buf: Buffer): Txid {
  return hashFromRow(buf, 'txid') as Txid;
}

/** A block hash column as a BlockHash. @throws StorageError corrupt (not 32 bytes) */
export function blockHashFromRow(buf: Buffer): BlockHash {
  return hashFromRow(buf, 'block hash') as BlockHash;
}

/** A coin from the value, script, height and coinbase columns of a utxo row. */
export function coinFromRow(value: bigint, script: Buffer, height: bigint, coinbase: bigint): Coin {
  return { output: { value, scriptPubKey: asBytes(script) }, height: Number(height), isCoinbase: coinbase !== 0n };
}

/**
 * SHA-256 of a script: the script_hash of the address tables, and what the UTXO table's script_key is taken from.
 * PERF: node:crypto's one-shot hash, no Hash object per call.
 */
export function scriptHashOf(script: Uint8Array): Buffer {
  return oneShotHash('sha256', script, 'buffer');
}

/**
 * The utxo table's script_key of a script, from its script hash: the hash's first 6 bytes as a little-endian integer
 * (below 2^48). Keys of different scripts may be equal, so lookups also compare the script.
 * PERF: 6 bytes, a safe integer: it binds as a number, with no BigInt made per coin.
 */
export function scriptKeyOf(scriptHash: Uint8Array): number {
  return scriptHash[0]! + scriptHash[1]! * 0x100 + scriptHash[2]! * 0x10000 + scriptHash[3]! * 0x1000000 + (scriptHash[4]! + scriptHash[5]! * 0x100) * 0x100000000;
}

/**
 * A JSON array of `count` zeros: json_each over it numbers the rows of a statement 0 .. count - 1 (its `key`), which
 * then reads row n's values as the n-th slices of blobs bound beside it. One statement run then writes or reads a
 * whole block's rows. Precondition: count >= 1.
 */
export function jsonSlots(count: number): string {
  return `[0${',0'.repeat(count - 1)}]`;
}

/** The outpoints serialized back to back (36 bytes each: txid, u32 LE index), for the statements over json_each. */
export function outpointKeys(outpoints: readonly Outpoint[]): Buffer {
  const keys = Buffer.allocUnsafe(36 * outpoints.length);
  outpoints.forEach((o, n) => {
    keys.set(o.txid, 36 * n);
    keys.writeUInt32LE(o.index, 36 * n + 32);
  });
  return keys;
}

/** 32-byte hashes back to back, for the statements over json_each. */
export function hashesBlob(hashes: readonly Uint8Array[]): Buffer {
  const blob = Buffer.allocUnsafe(32 * hashes.length);
  hashes.forEach((hash, n) => blob.set(hash, 32 * n));
  return blob;
}

/** SQLite LIMIT for an optional limit (-1 = no limit). */
export function sqlLimit(limit: number | undefined): number {
  if (limit === undefined) return -1;
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new StorageError('bad-argument', `limit must be a non-negative integer, got ${limit}`);
  }
  return limit;
}

/**
 * A script-hash function for one block's writes that hashes each distinct script once: the UTXO rows' script_key
 * and the address rows of the same block share it.
 * PERF: scripts are told apart by their bytes (a latin1 string key, ~0.1 µs for a 34-byte script against ~1 µs for a
 * SHA-256 call), so a script paid to or spent from several times in a block (change outputs, reused addresses) is
 * hashed once.
 */
export function memoScriptHash(): ScriptHashFn {
  const hashes = new Map<string, Uint8Array>();
  return (script) => {
    const key = latin1Decode(script);
    let hash = hashes.get(key);
    if (hash === undefined) {
      hash = scriptHashOf(script);
      hashes.set(key, hash);
    }
    return hash;
  };
}

/**
 * A 36-byte outpoint key (txid || u32 LE index) written into `scratch` (valid until the next call; SQLite copies a
 * bound blob, so one scratch buffer serves every statement and no array is allocated per row).
 */
export function writeOutpointKey(scratch: Buffer, outpoint: Outpoint): Buffer {
  scratch.set(outpoint.txid, 0);
  scratch.writeUInt32LE(outpoint.index, 32);
  return scratch;
}
