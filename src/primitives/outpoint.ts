import { BufferReader } from './bufferReader.js';
import { BufferWriter } from './bufferWriter.js';
import { hashToHex } from './hex.js';
import type { Outpoint } from './types.js';

/** Serialized size of an outpoint: 32-byte txid + u32 LE index. */
export const OUTPOINT_SIZE = 36;

/**
 * The coinbase's prevout: 32 zero bytes and index 0xffffffff.
 * @see Bitcoin Core primitives/transaction.h COutPoint::SetNull / IsNull
 */
export const NULL_OUTPOINT: Outpoint = Object.freeze({ txid: new Uint8Array(32), index: 0xffffffff });

/** Writes the 36-byte outpoint: txid (internal byte order) then index (u32 LE). @see Bitcoin Core COutPoint::SERIALIZE_METHODS */
export function writeOutpoint(w: BufferWriter, o: Outpoint): void {
  w.writeBytes(o.txid).writeU32LE(o.index);
}

/**
 * Reads a 36-byte outpoint; the txid is copied out of the input.
 * @throws DecodeError unexpected-end
 */
export function readOutpoint(r: BufferReader): Outpoint {
  const txid = r.readBytes(32).slice();
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

/**
 * A string key for Maps and Sets: `<txid as displayed (reversed hex)>:<index>`, e.g. `4a5e…a33b:0`.
 * Two outpoints get the same key exactly when they are equal.
 */
export function outpointKey(o: Outpoint): string {
  return `${hashToHex(o.txid)}:${o.index}`;
}
