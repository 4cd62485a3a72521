/**
 * cairn's peer-to-peer messages: the request/response protocols `…/req/status/2`, `…/req/headers/2` and
 * `…/req/blocks/2` and the gossip topics `…/block` and `…/tx` under the network's topic prefix (DESIGN.md, P2P).
 * Bodies use Bitcoin's serialization primitives (CompactSize counts, 80-byte headers, witness-serialized blocks and
 * transactions), each message one length-prefixed frame on its stream. A request is one frame; a response is zero or
 * more frames, each a response chunk: a result code byte, then the payload (or the error). Pure codecs: no I/O here.
 * Version 2 added the result code (so a server can answer "rate limited, retry after N ms" instead of dropping the
 * stream) and raised the blocks per request from 16 to 128.
 * @see Bitcoin Core protocol.h (getheaders/headers/getdata); the Ethereum consensus p2p spec's req/resp response
 *   chunks (`<result><encoded-payload>`) and Lodestar reqresp (status, beacon_blocks_by_root, RATE_LIMITED)
 */
import { BufferReader } from '../primitives/bufferReader.js';
import { BufferWriter } from '../primitives/bufferWriter.js';
import { DecodeError } from '../primitives/decodeError.js';
import { readBlockHeader, writeBlockHeader } from '../primitives/blockHeader.js';
import type { ChainParams } from '../params/chainParams.js';
import type { BlockHash, BlockHeader } from '../primitives/types.js';

/** Most headers one headers response carries (Bitcoin Core's MAX_HEADERS_RESULTS). */
export const MAX_HEADERS_PER_RESPONSE = 2000;
/**
 * Most block hashes one blocks request may name. Core keeps 16 blocks in transit per peer (MAX_BLOCKS_IN_TRANSIT_PER_PEER);
 * cairn's small devnet blocks make a round trip per 16 the bottleneck of initial sync, so a request may name 128 and
 * the server caps the response at MAX_BLOCKS_RESPONSE_BYTES instead.
 */
export const MAX_BLOCKS_PER_REQUEST = 128;
/**
 * Soft cap of one blocks response, bytes: the server stops before a block that would take the response past it (it
 * always serves at least one), and the client asks again for the blocks it did not get.
 */
export const MAX_BLOCKS_RESPONSE_BYTES = 4 * 1024 * 1024;
/** Most locator hashes accepted (Core's MAX_LOCATOR_SZ). */
export const MAX_LOCATOR_HASHES = 101;
/** Largest serialized transaction relayed by gossip, bytes (Core's MAX_STANDARD_TX_WEIGHT / 4 = 100 kvB, rounded up). */
export const MAX_TX_MESSAGE_BYTES = 400_000;
/** Largest status message, bytes. */
export const MAX_STATUS_BYTES = 512;
/** Largest headers request frame, bytes (count, locator, stop hash, maxCount). */
export const MAX_HEADERS_REQUEST_BYTES = 9 + 32 * (MAX_LOCATOR_HASHES + 1) + 4;
/** Largest blocks request frame, bytes (count, hashes). */
export const MAX_BLOCKS_REQUEST_BYTES = 9 + 32 * MAX_BLOCKS_PER_REQUEST;
/** Largest request frame of any protocol (status, headers or blocks request), bytes. */
export const MAX_REQUEST_BYTES = Math.max(MAX_STATUS_BYTES, MAX_HEADERS_REQUEST_BYTES, MAX_BLOCKS_REQUEST_BYTES);
/** Largest headers response payload, bytes. */
export const MAX_HEADERS_RESPONSE_BYTES = 9 + 80 * MAX_HEADERS_PER_RESPONSE;
/** Longest error message in a response chunk, bytes of UTF-8. */
export const MAX_ERROR_MESSAGE_BYTES = 256;
/** Bytes a response chunk adds to its payload: the result code. */
export const RESPONSE_CHUNK_OVERHEAD_BYTES = 1;

/** Largest block frame for a network: a block's serialized size can never exceed its weight limit. */
export function maxBlockMessageBytes(params: ChainParams): number {
  return params.maxBlockWeight;
}

/**
 * Result code of a response chunk: the Ethereum consensus p2p spec's codes (0 success, 1 invalid request, 2 server
 * error, 3 resource unavailable) and Lodestar's 139 for "rate limited".
 * @see consensus-specs p2p-interface.md "Responding side"; Lodestar reqresp RespStatus
 */
export const RespStatus = {
  SUCCESS: 0,
  INVALID_REQUEST: 1,
  SERVER_ERROR: 2,
  /** The server lacks what was asked (a block it does not have); the client asks someone else. */
  RESOURCE_UNAVAILABLE: 3,
  /** The request exceeds the server's limits for this peer: wait `retryAfterMs`, then ask again. Not an offence. */
  RATE_LIMITED: 139,
} as const;
/** One of the RespStatus codes. */
export type RespStatusCode = (typeof RespStatus)[keyof typeof RespStatus];

/** One response chunk, decoded. */
export type ResponseChunk =
  | { readonly status: typeof RespStatus.SUCCESS; readonly payload: Uint8Array }
  | { readonly status: typeof RespStatus.RATE_LIMITED; readonly retryAfterMs: number; readonly message: string }
  | {
      readonly status: typeof RespStatus.INVALID_REQUEST | typeof RespStatus.SERVER_ERROR | typeof RespStatus.RESOURCE_UNAVAILABLE;
      readonly message: string;
    };

/** libp2p protocol ids and gossip topics of one network, all under `params.topicPrefix`. */
export interface ProtocolIds {
  readonly status: string;
  readonly headers: string;
  readonly blocks: string;
  readonly blockTopic: string;
  readonly txTopic: string;
}

/** The protocol ids of a network: `/cairn/<network>/<genesis prefix>/req/status/2`, …, topics `…/block`, `…/tx`. */
export function protocolIds(params: ChainParams): ProtocolIds {
  const p = params.topicPrefix;
  return {
    status: `${p}/req/status/2`,
    headers: `${p}/req/headers/2`,
    blocks: `${p}/req/blocks/2`,
    blockTopic: `${p}/block`,
    txTopic: `${p}/tx`,
  };
}

/** A peer's view of its chain, exchanged first on every connection (like Bitcoin's version message). */
export interface StatusMessage {
  /** Network name (`devnet`, `main`, …). */
  readonly network: string;
  /** Genesis block hash, internal byte order. */
  readonly genesisHash: BlockHash;
  /** Active tip hash, internal byte order. */
  readonly tipHash: BlockHash;
  readonly tipHeight: number;
  /** Cumulative work of the active chain. */
  readonly chainWork: bigint;
  /** Free-form software name and version, at most 64 bytes. */
  readonly userAgent: string;
}

/** A getheaders request: headers after the first locator hash the responder knows, up to stopHash or maxCount. */
export interface HeadersRequest {
  /** Block locator (Core's CBlockLocator), newest first. */
  readonly locator: readonly BlockHash[];
  /** Stop after this hash (all zeros: no stop). */
  readonly stopHash: BlockHash;
  /** Most headers wanted, 1..MAX_HEADERS_PER_RESPONSE. */
  readonly maxCount: number;
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The UTF-8 bytes of `s`, cut to at most `maxBytes` at a character boundary (a cut character would not decode). */
function utf8Prefix(s: string, maxBytes: number): Uint8Array {
  const bytes = textEncoder.encode(s);
  if (bytes.length <= maxBytes) return bytes;
  let end = maxBytes;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

function writeString(w: BufferWriter, s: string, maxBytes: number): void {
  w.writeVarBytes(utf8Prefix(s, maxBytes));
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

/** A 32-byte block hash of a message (internal byte order, copied out of the message). */
function readBlockHash(r: BufferReader): BlockHash {
  return r.readBytes(32).slice() as BlockHash;
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
  const genesisHash = readBlockHash(r);
  const tipHash = readBlockHash(r);
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
  const locator: BlockHash[] = [];
  for (let i = 0; i < n; i++) locator.push(readBlockHash(r));
  const stopHash = readBlockHash(r);
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
export function encodeBlocksRequest(hashes: readonly BlockHash[]): Uint8Array {
  const w = new BufferWriter(9 + 32 * hashes.length);
  w.writeCompactSize(hashes.length);
  for (const h of hashes) w.writeBytes(h);
  return w.finish();
}

/** Parses a blocks request. @throws RangeError when it names more than MAX_BLOCKS_PER_REQUEST blocks */
export function decodeBlocksRequest(bytes: Uint8Array): BlockHash[] {
  const r = new BufferReader(bytes);
  const n = r.readCount(32);
  if (n > MAX_BLOCKS_PER_REQUEST) throw new RangeError(`${n} blocks requested, at most ${MAX_BLOCKS_PER_REQUEST}`);
  const out: BlockHash[] = [];
  for (let i = 0; i < n; i++) out.push(readBlockHash(r));
  r.assertEnd();
  return out;
}

/**
 * Serializes a response chunk: the result code byte, then for SUCCESS the payload; for RATE_LIMITED a u32 LE
 * `retryAfterMs` and the message; for the other errors the message (UTF-8, cut to MAX_ERROR_MESSAGE_BYTES).
 * PERF: copies the payload; a server writing large payloads sends `[code, payload]` as two buffers instead.
 */
export function encodeResponseChunk(chunk: ResponseChunk): Uint8Array {
  if (chunk.status === RespStatus.SUCCESS) {
    const out = new Uint8Array(1 + chunk.payload.length);
    out[0] = RespStatus.SUCCESS;
    out.set(chunk.payload, 1);
    return out;
  }
  const message = utf8Prefix(chunk.message, MAX_ERROR_MESSAGE_BYTES);
  const w = new BufferWriter(5 + message.length);
  w.writeU8(chunk.status);
  if (chunk.status === RespStatus.RATE_LIMITED) w.writeU32LE(Math.min(0xffffffff, Math.max(0, Math.ceil(chunk.retryAfterMs))));
  w.writeBytes(message);
  return w.finish();
}

/**
 * Parses a response chunk. The payload of a SUCCESS chunk is a view into `bytes` (no copy).
 * @throws DecodeError on an empty chunk, unexpected-end of a rate-limited chunk; RangeError on an unknown result code,
 *   an error message longer than MAX_ERROR_MESSAGE_BYTES or not UTF-8
 */
export function decodeResponseChunk(bytes: Uint8Array): ResponseChunk {
  const r = new BufferReader(bytes);
  const status = r.readU8();
  if (status === RespStatus.SUCCESS) return { status, payload: bytes.subarray(1) };
  let retryAfterMs = 0;
  if (status === RespStatus.RATE_LIMITED) retryAfterMs = r.readU32LE();
  if (r.remaining > MAX_ERROR_MESSAGE_BYTES) throw new RangeError(`error message of ${r.remaining} bytes exceeds ${MAX_ERROR_MESSAGE_BYTES}`);
  let message: string;
  try {
    message = textDecoder.decode(r.readBytes(r.remaining));
  } catch {
    throw new RangeError('error message is not UTF-8');
  }
  switch (status) {
    case RespStatus.RATE_LIMITED:
      return { status, retryAfterMs, message };
    case RespStatus.INVALID_REQUEST:
    case RespStatus.SERVER_ERROR:
    case RespStatus.RESOURCE_UNAVAILABLE:
      return { status, message };
    default:
      throw new RangeError(`unknown response code ${status}`);
  }
}
