import { computeTxid, computeWtxid, encodeTx, getTxBaseSize } from '../primitives/tx.js';
import type { Block, Txid, Wtxid } from '../primitives/types.js';
import { hashTxSpans, TX_HASH_BYTES, TX_SPAN_FIELDS } from './txHashBatch.js';

/** The txid, wtxid, BIP-144 bytes and base size of every tx of a block, in block order. */
export interface BlockTxHashes {
  readonly txids: Txid[];
  readonly wtxids: Wtxid[];
  /** Each tx's serialization with witnesses (views into the raw block when it was given). */
  readonly txBytes: Uint8Array[];
  /** Each tx's size without witness data, bytes (BIP-141 base size: getTxBaseSize). */
  readonly baseSizes: number[];
}

/**
 * Starts hashing the txs of a raw block given its span table (TX_SPAN_FIELDS Int32 per tx: start, end, witness start
 * or -1) and returns the join: a function giving their hashes, TX_HASH_BYTES per tx (wtxid, then txid), exactly
 * hashTxSpans' bytes, possibly a view of shared memory. hashBlockTxsInline hashes on the calling thread when joined;
 * WorkerPoolScriptVerifier.beginHashBlockTxs has its workers start at once, so the caller can do other work (read
 * the block's coins) meanwhile.
 */
export type BlockTxHasher = (raw: Uint8Array, spans: Int32Array) => () => Uint8Array;

/** hashTxSpans over the whole span table on the calling thread, when joined. */
export function hashBlockTxsInline(raw: Uint8Array, spans: Int32Array): () => Uint8Array {
  return () => {
    const txCount = spans.length / TX_SPAN_FIELDS;
    const out = new Uint8Array(TX_HASH_BYTES * txCount);
    hashTxSpans(raw, spans, out, 0, txCount, { buf: new Uint8Array(4096) });
    return out;
  };
}

/**
 * Finds each tx's span in a raw block written by encodeBlock (80-byte header, compact-size count, txs in BIP-144
 * form when they carry witnesses), or undefined when the bytes do not parse into exactly `txCount` txs ending at the
 * last byte, as a span table: TX_SPAN_FIELDS Int32 per tx (start, end, where its witnesses start or -1). Only the
 * layout is read: values were checked when the block was decoded or built.
 */
export function scanTxSpans(raw: Uint8Array, txCount: number): Int32Array | undefined {
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
  const spans = new Int32Array(TX_SPAN_FIELDS * txCount);
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
    spans[TX_SPAN_FIELDS * t] = start;
    spans[TX_SPAN_FIELDS * t + 1] = at;
    spans[TX_SPAN_FIELDS * t + 2] = witnessStart;
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
 * hash by `hasher` (default: on this thread; the chain passes its verifier's, which hands it to the worker threads,
 * idle at that point of a block connect, while the chain reads the block's coins: startBlockTxHashes).
 * @see Bitcoin Core CTransaction::ComputeHash / ComputeWitnessHash
 */
export function computeBlockTxHashes(block: Block, raw?: Uint8Array, hasher: BlockTxHasher = hashBlockTxsInline): BlockTxHashes {
  return startBlockTxHashes(block, raw, hasher)();
}

/**
 * computeBlockTxHashes in two steps: starts the hashing (with `hasher`, which may hand it to worker threads at once)
 * and returns the join, which gives the result. Between the two the caller may do work that needs no tx hashes.
 */
export function startBlockTxHashes(block: Block, raw?: Uint8Array, hasher: BlockTxHasher = hashBlockTxsInline): () => BlockTxHashes {
  const txs = block.txs;
  const spans = raw !== undefined && txs.every((tx) => tx.inputs.length > 0) ? scanTxSpans(raw, txs.length) : undefined;
  if (raw === undefined || spans === undefined) {
    return () => ({
      txids: txs.map(computeTxid),
      wtxids: txs.map(computeWtxid),
      txBytes: txs.map((tx) => encodeTx(tx)),
      baseSizes: txs.map(getTxBaseSize),
    });
  }
  const join = hasher(raw, spans);
  return () => hashesFromSpans(txs.length, raw, spans, join());
}

/** The BlockTxHashes of a raw block from its span table and the hashes of its txs (TX_HASH_BYTES per tx). */
function hashesFromSpans(txCount: number, raw: Uint8Array, spans: Int32Array, hashes: Uint8Array): BlockTxHashes {
  const txids: Txid[] = [];
  const wtxids: Wtxid[] = [];
  const txBytes: Uint8Array[] = [];
  const baseSizes: number[] = [];
  for (let t = 0; t < txCount; t++) {
    const start = spans[TX_SPAN_FIELDS * t]!;
    const end = spans[TX_SPAN_FIELDS * t + 1]!;
    const witnessStart = spans[TX_SPAN_FIELDS * t + 2]!;
    txBytes.push(raw.subarray(start, end));
    // Copies: the ids outlive the block's hash buffer (which may be shared memory).
    wtxids.push(hashes.slice(TX_HASH_BYTES * t, TX_HASH_BYTES * t + 32) as Wtxid);
    txids.push(hashes.slice(TX_HASH_BYTES * t + 32, TX_HASH_BYTES * t + 64) as Txid);
    // Base size = the legacy form's: the whole tx less marker, flag and witnesses.
    baseSizes.push(witnessStart < 0 ? end - start : end - start - 2 - (end - 4 - witnessStart));
  }
  return { txids, wtxids, txBytes, baseSizes };
}
