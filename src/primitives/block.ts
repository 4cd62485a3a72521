import { BufferReader } from './bufferReader.js';
import { BufferWriter, compactSizeLength } from './bufferWriter.js';
import { BLOCK_HEADER_SIZE, readBlockHeader, writeBlockHeader } from './blockHeader.js';
import { getTxBaseSize, getTxSize, MIN_TX_SIZE, readTx, writeTx } from './tx.js';
import type { Block, Tx } from './types.js';

export { computeBlockHash } from './blockHeader.js';

/**
 * Writes a block: the 80-byte header, the compact-size tx count, then each tx (BIP-144 format when `withWitness`
 * and the tx has witness data).
 * @see Bitcoin Core primitives/block.h CBlock::SERIALIZE_METHODS
 */
export function writeBlock(w: BufferWriter, block: Block, withWitness = true): void {
  writeBlockHeader(w, block.header);
  w.writeCompactSize(block.txs.length);
  for (const tx of block.txs) writeTx(w, tx, withWitness);
}

/**
 * Reads a block (header, tx count, txs in either tx format). The tx count is checked against the bytes left
 * before the array grows, so a hostile count cannot exhaust memory.
 * @throws DecodeError unexpected-end | non-canonical-compact-size | size-too-large | superfluous-witness | unknown-segwit-flag
 * @see Bitcoin Core CBlock::SERIALIZE_METHODS, UnserializeTransaction
 */
export function readBlock(r: BufferReader): Block {
  const header = readBlockHeader(r);
  const n = r.readCount(MIN_TX_SIZE);
  const txs: Tx[] = [];
  for (let i = 0; i < n; i++) txs.push(readTx(r));
  return { header, txs };
}

/** Serializes a block; `withWitness = false` strips witness data (the BIP-141 "base" serialization). */
export function encodeBlock(block: Block, withWitness = true): Uint8Array {
  const w = new BufferWriter(getBlockSize(block, withWitness));
  writeBlock(w, block, withWitness);
  return w.finish();
}

/**
 * Parses exactly one serialized block, consuming every byte.
 * @throws DecodeError unexpected-end | non-canonical-compact-size | size-too-large | superfluous-witness | unknown-segwit-flag | trailing-bytes
 */
export function decodeBlock(bytes: Uint8Array): Block {
  const r = new BufferReader(bytes);
  const block = readBlock(r);
  r.assertEnd();
  return block;
}

/**
 * Exact serialized size in bytes, computed without encoding (with witness data unless `withWitness` is false).
 * @see Bitcoin Core ::GetSerializeSize(TX_WITH_WITNESS(block))
 */
export function getBlockSize(block: Block, withWitness = true): number {
  let size = BLOCK_HEADER_SIZE + compactSizeLength(block.txs.length);
  for (const tx of block.txs) size += getTxSize(tx, withWitness);
  return size;
}

/**
 * BIP-141 block weight in weight units: base size * 3 + total size (at most 4,000,000 for a valid block).
 * @see BIP-141 "Block size"; Bitcoin Core GetBlockWeight
 */
export function getBlockWeight(block: Block): number {
  const overhead = BLOCK_HEADER_SIZE + compactSizeLength(block.txs.length);
  let weight = overhead * 4;
  for (const tx of block.txs) weight += getTxBaseSize(tx) * 3 + getTxSize(tx, true);
  return weight;
}
