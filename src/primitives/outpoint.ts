import { BufferReader } from './bufferReader.js';
import { BufferWriter } from './bufferWriter.js';
import { hashKey, type HashKey } from './hashKey.js';
import { hashToHex } from './hex.js';
import type { Outpoint, Txid } from './types.js';

/** Serialized size of an outpoint: 32-byte txid + u32 LE index. */
export const OUTPOINT_SIZE = 36;

/**
 * The coinbase's prevout: 32 zero bytes and index 0xffffffff.
 * @see Bitcoin Core primitives/transaction.h COutPoint::SetNull / IsNull
 */
export const NULL_OUTPOINT: Outpoint = Object.freeze({ txid: new Uint8Array(32) as Txid, index: 0xffffffff });

/** Writes the 36-byte outpoint: txid (internal byte order) then index (u32 LE). @see Bitcoin Core COutPoint::SERIALIZE_METHODS */
export function writeOutpoint(w: BufferWriter, o: Outpoint): void {
  w.writeBytes(o.txid).writeU32LE(o.index);
}

/**
 * Reads a 36-byte outpoint; the txid is copied out of the input.
 * @throws DecodeError unexpected-end
 */
export function readOutpoint(r: BufferReader): Outpoint {
  const txid = r.readBytes(32).slice() as Txid;
  const index = r.readU32LE();
  return { txid, index };
}

/** Serializes an outpoint to its 36 bytes. */
export function encodeOutpoint(o: Outpoint): Uint8Array {
  const w = new BufferWriter(OUTPOINT_SIZE);
  writeOutpoint(w, o);
  return w.finish();
}

/**
 * Parses exactly 36 bytes into an outpoint.
 * @throws DecodeError unexpected-end | trailing-bytes
 */
export function decodeOutpoint(bytes: Uint8Array): Outpoint {
  const r = new BufferReader(bytes);
  const o = readOutpoint(r);
  r.assertEnd();
  return o;
}

/**
 * True for the coinbase's null prevout (all-zero txid and index 0xffffffff).
 * @see Bitcoin Core COutPoint::IsNull
 */
export function isNullOutpoint(o: Outpoint): boolean {
  if (o.index !== 0xffffffff) return false;
  for (const b of o.txid) if (b !== 0) return false;
  return true;
}

/** The brand of an outpoint's map key (compile time only). */
declare const outpointKeyBrand: unique symbol;

/**
 * The map key of an outpoint: its txid's hashKey (32 characters) then `:` and the decimal index. Two outpoints get
 * the same key exactly when they are equal, and the first 32 characters are the txid's key (txidKeyOf).
 */
export type OutpointKey = string & { readonly [outpointKeyBrand]: true };

/** The key of an outpoint for Maps and Sets (see OutpointKey). PERF: one latin1 string of 32 bytes, one concat. */
export function outpointKey(o: Outpoint): OutpointKey {
  return outpointKeyOf(hashKey(o.txid), o.index);
}

/**
 * The key of output `index` of the tx whose txid has the key `txidKey`: outpointKey without making the txid's key
 * again (for a caller that keys every output of a tx).
 */
export function outpointKeyOf(txidKey: HashKey<Txid>, index: number): OutpointKey {
  return `${txidKey}:${index}` as OutpointKey;
}

/** The hashKey of the txid of the outpoint whose key this is. */
export function txidKeyOf(key: OutpointKey): HashKey<Txid> {
  return key.slice(0, 32) as HashKey<Txid>;
}

/**
 * An outpoint as people read it: `<txid as displayed (reversed hex)>:<index>`, e.g. `4a5e…a33b:0`. For logs and
 * messages; never a key (use outpointKey).
 */
export function formatOutpoint(o: Outpoint): string {
  return `${hashToHex(o.txid)}:${o.index}`;
}
