/**
 * The primitives API: Bitcoin's data types and their byte codecs (encode/decode/getSize), txid/wtxid and block hash.
 * Import from here unless a narrower import avoids a cycle.
 */
export type { Block, BlockHeader, Hash256, Outpoint, Sats, Tx, TxIn, TxOut } from './types.js';
export { DecodeError } from './decodeError.js';
export { BufferReader, MAX_COMPACT_SIZE } from './bufferReader.js';
export { BufferWriter, compactSizeLength } from './bufferWriter.js';
export { bytesEqual, bytesToHex, hashToHex, hexToBytes, hexToHash } from './hex.js';
export {
  BLOCK_HEADER_SIZE,
  computeBlockHash,
  decodeBlockHeader,
  encodeBlockHeader,
  readBlockHeader,
  writeBlockHeader,
} from './blockHeader.js';
export {
  decodeOutpoint,
  encodeOutpoint,
  isNullOutpoint,
  NULL_OUTPOINT,
  OUTPOINT_SIZE,
  outpointKey,
  readOutpoint,
  writeOutpoint,
} from './outpoint.js';
export {
  computeTxid,
  computeWtxid,
  decodeTx,
  decodeTxOut,
  encodeTx,
  encodeTxOut,
  getTxBaseSize,
  getTxInSize,
  getTxOutSize,
  getTxSize,
  getTxVsize,
  getTxWeight,
  getWitnessSize,
  hasWitness,
  isCoinbase,
  MIN_TX_SIZE,
  readTx,
  readTxIn,
  readTxOut,
  writeTx,
  writeTxIn,
  writeTxOut,
} from './tx.js';
export { decodeBlock, encodeBlock, getBlockSize, getBlockWeight, readBlock, writeBlock } from './block.js';
