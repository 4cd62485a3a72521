/**
 * cairn's peer-to-peer messages: the request/response protocols `…/req/status/1`, `…/req/headers/1` and
 * `…/req/blocks/1` and the gossip topics `…/block` and `…/tx` under the network's topic prefix (DESIGN.md, P2P).
 * Bodies use Bitcoin's serialization primitives (CompactSize counts, 80-byte headers, witness-serialized blocks and
 * transactions), each message one length-prefixed frame on its stream. Pure codecs: no I/O here.
 * @see Bitcoin Core protocol.h (getheaders/headers/getdata), Lodestar reqresp (status, beacon_blocks_by_root)
 */
import { BufferReader } from '../primitives/bufferReader.js';
import { BufferWriter } from '../primitives/bufferWriter.js';
import { DecodeError } from '../primitives/decodeError.js';
import { readBlockHeader, writeBlockHeader } from '../primitives/blockHeader.js';
import type { ChainParams } from '../params/chainParams.js';
import type { BlockHeader, Hash256 } from '../primitives/types.js';

/** Most headers one headers response carries (Bitcoin Core's MAX_HEADERS_RESULTS). */
export const MAX_HEADERS_PER_RESPONSE = 2000;
/** Most block hashes one blocks request may name (Core's MAX_BLOCKS_IN_TRANSIT_PER_PEER is 16). */
export const MAX_BLOCKS_PER_REQUEST = 16;
/** Most locator hashes accepted (Core's MAX_LOCATOR_SZ). */
export const MAX_LOCATOR_HASHES = 101;
/** Largest serialized transaction relayed by gossip, bytes (Core's MAX_STANDARD_TX_WEIGHT / 4 = 100 kvB, rounded up). */
export const MAX_TX_MESSAGE_BYTES = 400_000;
/** Largest status message, bytes. */
export const MAX_STATUS_BYTES = 512;
/** Largest request frame (status, headers or blocks request), bytes. */
export const MAX_REQUEST_BYTES = 8 + 32 * (MAX_LOCATOR_HASHES + 2) + 16;
/** Largest headers response frame, bytes. */
export const MAX_HEADERS_RESPONSE_BYTES = 9 + 80 * MAX_HEADERS_PER_RESPONSE;

/** Largest block frame for a network: a block's serialized size can never exceed its weight limit. */
export function maxBlockMessageBytes(params: ChainParams): number {
  return params.maxBlockWeight;
}

/** libp2p protocol ids and gossip topics of one network, all under `params.topicPrefix`. */
export interface ProtocolIds {
  readonly status: string;
  readonly headers: string;
  readonly blocks: string;
  readonly blockTopic: string;
  readonly txTopic: string;
}

/** The protocol ids of a network: `/cairn/<network>/<genesis prefix>/req/status/1`, …, topics `…/block`, `…/tx`. */
export function protocolIds(params: ChainParams): ProtocolIds {
  const p = params.topicPrefix;
  return {
    status: `${p}/req/status/1`,
    headers: `${p}/req/headers/1`,
    blocks: `${p}/req/blocks/1`,
    blockTopic: `${p}/block`,
    txTopic: `${p}/tx`,
  };
}

/** A peer's view of its chain, exchanged first on every connection (like Bitcoin's version message). */
export interface StatusMessage {
  /** Network name (`devnet`, `main`, …). */
  readonly network: string;
  /** Genesis block hash, internal byte order. */
  readonly genesisHash: Hash256;
  /** Active tip hash, internal byte order. */
  readonly tipHash: Hash256;
  readonly tipHeight: number;
  /** Cumulative work of the active chain. */
  readonly chainWork: bigint;
  /** Free-form software name and version, at most 64 bytes. */
  readonly userAgent: string;
}

/** A getheaders request: headers after the first locator hash the responder knows, up to stopHash or maxCount. */
export interface HeadersRequest {
  /** Block locator (Core's CBlockLocator), newest first. */
  readonly locator: readonly Hash256[];
  /** Stop after this hash (all zeros: no stop). */
  readonly stopHash: Hash256;
  /** Most headers wanted, 1..MAX_HEADERS_PER_RESPONSE. */
  readonly maxCount: number;
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

function writeString(w: BufferWriter, s: string, maxBytes: number): void {
  const bytes = textEncoder.encode(s).subarray(0, maxBytes);
  w.writeVarBytes(bytes);
}

function readString(r: BufferReader, maxBytes: number): string {
  const start = r.offset;
  const bytes = r.readVarBytes();
  if (bytes.length > maxBytes) throw new RangeError(`string of ${bytes.length} bytes exceeds ${maxBytes}`);
  try {
    return textDecoder.decode(bytes);
  } catch {
    // The fatal decoder throws a TypeError, which is not one of this codec's refusals.
    throw new DecodeError('invalid-utf8', start, 'string is not valid UTF-8');
  }
}

function writeUint256(w: BufferWriter, v: bigint): void {
  const out = new Uint8Array(32);
  let x = v;
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  w.writeBytes(out);
}

function readUint256(r: BufferReader): bigint {
  let v = 0n;
  for (const b of r.readBytes(32)) v = (v << 8n) | BigInt(b);
  return v;
}

/** Serializes a status message. */
export function encodeStatus(s: StatusMessage): Uint8Array {
  const w = new BufferWriter(160);
  writeString(w, s.network, 16);
  w.writeBytes(s.genesisHash);
  w.writeBytes(s.tipHash);
  w.writeU32LE(s.tipHeight);
  writeUint256(w, s.chainWork);
  writeString(w, s.userAgent, 64);
  return w.finish();
}

/**
 * Parses a status message.
 * @throws DecodeError on malformed bytes (invalid-utf8 for a string that is not UTF-8) / RangeError for a string over its limit
 */
export function decodeStatus(bytes: Uint8Array): StatusMessage {
  const r = new BufferReader(bytes);
  const network = readString(r, 16);
  const genesisHash = r.readBytes(32);
  const tipHash = r.readBytes(32);
  const tipHeight = r.readU32LE();
  const chainWork = readUint256(r);
  const userAgent = readString(r, 64);
  r.assertEnd();
  return { network, genesisHash, tipHash, tipHeight, chainWork, userAgent };
}

/** Serializes a headers request. */
export function encodeHeadersRequest(req: HeadersRequest): Uint8Array {
  const w = new BufferWriter(40 + 32 * req.locator.length);
  w.writeCompactSize(req.locator.length);
  for (const h of req.locator) w.writeBytes(h);
  w.writeBytes(req.stopHash);
  w.writeU32LE(req.maxCount);
  return w.finish();
}

/** Parses a headers request. @throws RangeError when the locator is longer than MAX_LOCATOR_HASHES or maxCount is 0 */
export function decodeHeadersRequest(bytes: Uint8Array): HeadersRequest {
  const r = new BufferReader(bytes);
  const n = r.readCount(32);
  if (n > MAX_LOCATOR_HASHES) throw new RangeError(`locator of ${n} hashes exceeds ${MAX_LOCATOR_HASHES}`);
  const locator: Hash256[] = [];
  for (let i = 0; i < n; i++) locator.push(r.readBytes(32));
  const stopHash = r.readBytes(32);
  const maxCount = r.readU32LE();
  r.assertEnd();
  if (maxCount === 0) throw new RangeError('maxCount must be at least 1');
  return { locator, stopHash, maxCount: Math.min(maxCount, MAX_HEADERS_PER_RESPONSE) };
}

/** Serializes a headers response (count + 80-byte headers, without Bitcoin's trailing tx count). */
export function encodeHeaders(headers: readonly BlockHeader[]): Uint8Array {
  const w = new BufferWriter(9 + 80 * headers.length);
  w.writeCompactSize(headers.length);
  for (const h of headers) writeBlockHeader(w, h);
  return w.finish();
}

/** Parses a headers response. @throws RangeError when it holds more than MAX_HEADERS_PER_RESPONSE headers */
export function decodeHeaders(bytes: Uint8Array): BlockHeader[] {
  const r = new BufferReader(bytes);
  const n = r.readCount(80);
  if (n > MAX_HEADERS_PER_RESPONSE) throw new RangeError(`${n} headers exceed ${MAX_HEADERS_PER_RESPONSE}`);
  const out: BlockHeader[] = [];
  for (let i = 0; i < n; i++) out.push(readBlockHeader(r));
  r.assertEnd();
  return out;
}

/** Serializes a blocks request (hashes, internal order). */
export function encodeBlocksRequest(hashes: readonly Hash256[]): Uint8Array {
  const w = new BufferWriter(9 + 32 * hashes.length);
  w.writeCompactSize(hashes.length);
  for (const h of hashes) w.writeBytes(h);
  return w.finish();
}

/** Parses a blocks request. @throws RangeError when it names more than MAX_BLOCKS_PER_REQUEST blocks */
export function decodeBlocksRequest(bytes: Uint8Array): Hash256[] {
  const r = new BufferReader(bytes);
  const n = r.readCount(32);
  if (n > MAX_BLOCKS_PER_REQUEST) throw new RangeError(`${n} blocks requested, at most ${MAX_BLOCKS_PER_REQUEST}`);
  const out: Hash256[] = [];
  for (let i = 0; i < n; i++) out.push(r.readBytes(32));
  r.assertEnd();
  return out;
}
