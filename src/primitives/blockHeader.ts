import { sha256d } from '../crypto/hash.js';
import { BufferReader } from './bufferReader.js';
import { BufferWriter } from './bufferWriter.js';
import type { BlockHash, BlockHeader } from './types.js';

/** Serialized size of a block header in bytes. */
export const BLOCK_HEADER_SIZE = 80;

/**
 * The prevBlock of a genesis header: 32 zero bytes (Core's null uint256). Shared: never write into it.
 * @see Bitcoin Core uint256::IsNull
 */
export const NULL_BLOCK_HASH = new Uint8Array(32) as BlockHash;

/** Writes the 80-byte header: version i32, prevBlock, merkleRoot, time u32, bits u32, nonce u32 (all LE). */
export function writeBlockHeader(w: BufferWriter, h: BlockHeader): void {
  w.writeI32LE(h.version).writeBytes(h.prevBlock).writeBytes(h.merkleRoot);
  w.writeU32LE(h.time).writeU32LE(h.bits).writeU32LE(h.nonce);
}

/** Serializes a header to its 80 bytes. @see Bitcoin Core primitives/block.h CBlockHeader::SERIALIZE_METHODS */
export function encodeBlockHeader(h: BlockHeader): Uint8Array {
  const w = new BufferWriter(BLOCK_HEADER_SIZE);
  writeBlockHeader(w, h);
  return w.finish();
}

/** Reads an 80-byte header from the reader. @throws DecodeError unexpected-end */
export function readBlockHeader(r: BufferReader): BlockHeader {
  const version = r.readI32LE();
  const prevBlock = r.readBytes(32).slice() as BlockHash;
  const merkleRoot = r.readBytes(32).slice();
  const time = r.readU32LE();
  const bits = r.readU32LE();
  const nonce = r.readU32LE();
  return { version, prevBlock, merkleRoot, time, bits, nonce };
}

/** Parses exactly 80 bytes into a header. @throws DecodeError unexpected-end | trailing-bytes */
export function decodeBlockHeader(bytes: Uint8Array): BlockHeader {
  const r = new BufferReader(bytes);
  const h = readBlockHeader(r);
  r.assertEnd();
  return h;
}

/** The block hash: sha256d of the 80-byte header, in internal byte order. @see Bitcoin Core CBlockHeader::GetHash */
export function computeBlockHash(h: BlockHeader): BlockHash {
  return sha256d(encodeBlockHeader(h)) as BlockHash;
}
