import { hash as oneShotHash } from 'node:crypto';
import { computeTxid, computeWtxid, encodeTx, getTxBaseSize } from '../primitives/tx.js';
import type { Block, Hash256, Txid, Wtxid } from '../primitives/types.js';

/** The txid, wtxid, BIP-144 bytes and base size of every tx of a block, in block order. */
export interface BlockTxHashes {
  readonly txids: Txid[];
  readonly wtxids: Wtxid[];
  /** Each tx's serialization with witnesses (views into the raw block when it was given). */
  readonly txBytes: Uint8Array[];
  /** Each tx's size without witness data, bytes (BIP-141 base size: getTxBaseSize). */
  readonly baseSizes: number[];
}

/** Byte offsets of one tx inside a raw block: [start, end), and where its witnesses start (-1 without witness data). */
interface TxSpan {
  readonly start: number;
  readonly end: number;
  readonly witnessStart: number;
}

/** SHA-256 twice with node:crypto's one-shot hash (no Hash object per call), as a plain 32-byte array. */
function sha256d(bytes: Uint8Array): Hash256 {
  const second = oneShotHash('sha256', oneShotHash('sha256', bytes, 'buffer'), 'buffer');
  return new Uint8Array(second.buffer, second.byteOffset, 32);
}

/** Joins the legacy parts of a segwit tx into `scratch` (grown when too small) and returns the filled view. */
function joinParts(scratch: { buf: Uint8Array }, parts: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  if (scratch.buf.length < size) scratch.buf = new Uint8Array(Math.max(size, scratch.buf.length * 2));
  let at = 0;
  for (const p of parts) {
    scratch.buf.set(p, at);
    at += p.length;
  }
  return scratch.buf.subarray(0, at);
}

/**
 * Finds each tx's span in a raw block written by encodeBlock (80-byte header, compact-size count, txs in BIP-144
 * form when they carry witnesses), or undefined when the bytes do not parse into exactly `txCount` txs ending at the
 * last byte. Only the layout is read: values were checked when the block was decoded or built.
 */
function scanTxSpans(raw: Uint8Array, txCount: number): TxSpan[] | undefined {
  let at = 80;
  const compactSize = (): number => {
    const first = raw[at++]!;
    if (first < 0xfd) return first;
    if (first === 0xfd) {
      const v = raw[at]! | (raw[at + 1]! << 8);
      at += 2;
      return v;
    }
    if (first === 0xfe) {
      const v = (raw[at]! | (raw[at + 1]! << 8) | (raw[at + 2]! << 16) | (raw[at + 3]! << 24)) >>> 0;
      at += 4;
      return v;
    }
    return -1; // 8-byte sizes never occur in a valid block; the caller falls back
  };
  if (raw.length < 81 || compactSize() !== txCount) return undefined;
  const spans: TxSpan[] = [];
  for (let t = 0; t < txCount; t++) {
    const start = at;
    at += 4;
    const extended = raw[at] === 0 && raw[at + 1] === 1;
    if (extended) at += 2;
    const inputs = compactSize();
    if (inputs < 0) return undefined;
    for (let i = 0; i < inputs; i++) {
      at += 36;
      const scriptLength = compactSize();
      if (scriptLength < 0) return undefined;
      at += scriptLength + 4;
      if (at > raw.length) return undefined;
    }
    const outputs = compactSize();
    if (outputs < 0) return undefined;
    for (let o = 0; o < outputs; o++) {
      at += 8;
      const scriptLength = compactSize();
      if (scriptLength < 0) return undefined;
      at += scriptLength;
      if (at > raw.length) return undefined;
    }
    let witnessStart = -1;
    if (extended) {
      witnessStart = at;
      for (let i = 0; i < inputs; i++) {
        const items = compactSize();
        if (items < 0) return undefined;
        for (let k = 0; k < items; k++) {
          const itemLength = compactSize();
          if (itemLength < 0) return undefined;
          at += itemLength;
          if (at > raw.length) return undefined;
        }
      }
    }
    at += 4;
    if (at > raw.length) return undefined;
    spans.push({ start, end: at, witnessStart });
  }
  return at === raw.length ? spans : undefined;
}

/**
 * The txids, wtxids, serialized txs and base sizes of a block. With `raw` (encodeBlock(block)) each tx is hashed straight from
 * its bytes in the raw block (the txid over the parts without marker, flag and witnesses), so no tx is serialized
 * again; without it, or if `raw` does not lay out as expected (a tx without inputs, whose legacy form is ambiguous),
 * they come from computeTxid/computeWtxid/encodeTx/getTxBaseSize.
 * PERF: saves re-serializing every tx twice per block connect, and walking every tx three times to size the block
 * (checkBlock takes the sizes from here); hashing (4 SHA-256 per segwit tx) remains, done with node:crypto's one-shot
 * hash.
 * @see Bitcoin Core CTransaction::ComputeHash / ComputeWitnessHash
 */
export function computeBlockTxHashes(block: Block, raw?: Uint8Array): BlockTxHashes {
  const txs = block.txs;
  const spans = raw !== undefined && txs.every((tx) => tx.inputs.length > 0) ? scanTxSpans(raw, txs.length) : undefined;
  if (raw === undefined || spans === undefined) {
    return {
      txids: txs.map(computeTxid),
      wtxids: txs.map(computeWtxid),
      txBytes: txs.map((tx) => encodeTx(tx)),
      baseSizes: txs.map(getTxBaseSize),
    };
  }
  const txids: Txid[] = [];
  const wtxids: Wtxid[] = [];
  const txBytes: Uint8Array[] = [];
  const baseSizes: number[] = [];
  const scratch = { buf: new Uint8Array(4096) };
  for (const { start, end, witnessStart } of spans) {
    const bytes = raw.subarray(start, end);
    // The hashes of the tx's serializations are its ids, as computeTxid/computeWtxid make them from a decoded tx.
    const wtxid = sha256d(bytes) as Wtxid;
    txBytes.push(bytes);
    wtxids.push(wtxid);
    // Legacy form = version || vin || vout || locktime: the extended form without marker/flag and witnesses.
    const txid = witnessStart < 0
      ? wtxid.slice()
      : sha256d(joinParts(scratch, [raw.subarray(start, start + 4), raw.subarray(start + 6, witnessStart), raw.subarray(end - 4, end)]));
    txids.push(txid as Txid);
    // Base size = the legacy form's: the whole tx less marker, flag and witnesses.
    baseSizes.push(witnessStart < 0 ? end - start : end - start - 2 - (end - 4 - witnessStart));
  }
  return { txids, wtxids, txBytes, baseSizes };
}
