/**
 * Stratum V1 wire format shared by cairn's Stratum server and client: newline-delimited JSON-RPC messages, the error
 * tuples, share difficulty, and the job of `mining.notify` with the header a miner builds from it.
 *
 * Byte orders of mining.notify (as real pools send them, e.g. ckpool; slush's "Stratum mining protocol"):
 * - `prevhash`: the previous block hash in internal byte order (the 32 bytes the header holds) with each 4-byte word
 *   byte-reversed; equivalently, the display hex with its eight 8-digit words in reverse order. Display
 *   `00000000 11111111 … 77777777` is sent as `77777777 … 11111111 00000000`.
 * - `coinb1`, `coinb2`: hex of the coinbase transaction in its non-witness serialization (the one its txid hashes),
 *   split around extranonce1 || extranonce2; the miner's coinbase is coinb1 || en1 || en2 || coinb2.
 * - `merkle_branch`: hex of the sibling hashes from the coinbase leaf up, in internal byte order (not reversed).
 *   The merkle root is r = sha256d(coinbase); r = sha256d(r || branch[i]) for each i, in internal byte order.
 * - `version`, `nbits`, `ntime`: 8 hex digits of the u32 value, big-endian (e.g. `20000000`, `1d00ffff`); the header
 *   stores them little-endian. mining.submit's `ntime` and `nonce` are the same big-endian hex of the u32 values,
 *   and its `extranonce2` is the raw bytes in hex.
 * @see https://en.bitcoin.it/wiki/Stratum_mining_protocol; slush's Stratum docs; ckpool stratifier.c
 */
import { sha256d } from '../crypto/hash.js';
import { compactSizeLength } from '../primitives/bufferWriter.js';
import { bytesToHex, hexToBytes } from '../primitives/hex.js';
import { encodeTx } from '../primitives/tx.js';
import type { BlockHash, BlockHeader, Hash256, Tx } from '../primitives/types.js';

/** Stratum's error codes (the numbers every pool answers with). */
export const STRATUM_ERROR = Object.freeze({
  OTHER: 20,
  JOB_NOT_FOUND: 21,
  DUPLICATE_SHARE: 22,
  LOW_DIFFICULTY_SHARE: 23,
  UNAUTHORIZED_WORKER: 24,
  NOT_SUBSCRIBED: 25,
});

/** A Stratum error as it travels in a response: `[code, message, traceback (null)]`. */
export type StratumErrorTuple = readonly [code: number, message: string, traceback: null];

/** Bytes of extranonce1 the server gives each connection (unique per connection). */
export const EXTRANONCE1_SIZE = 4;
/** Bytes of extranonce2 the miner rolls. */
export const EXTRANONCE2_SIZE = 4;

/** The target of share difficulty 1 (Bitcoin's "bdiff" 1: 0x00000000ffff0000…0 = 0xffff · 2^208). */
export const DIFF1_TARGET = 0xffffn << 208n;
const MAX_TARGET = (1n << 256n) - 1n;
const TWO_64 = 2 ** 64;

/**
 * Default share difficulty: 2^-10, so a share takes about 2^22 hashes (~1 s for one core at 4 MH/s) and devnet's
 * genesis difficulty (~2^23 hashes) is still harder than a share, so every devnet block is also a share.
 */
export const DEFAULT_SHARE_DIFFICULTY = 1 / 1024;

/**
 * Why a Stratum message could not be read: `line-too-long`, `bad-json`, `bad-message` (not a JSON-RPC object),
 * `bad-notify` (mining.notify params of the wrong shape), `bad-subscribe`, `bad-hex`, `bad-difficulty`.
 */
export class StratumProtocolError extends Error {
  override readonly name = 'StratumProtocolError';
  constructor(
    readonly code: string,
    detail?: string,
  ) {
    super(detail ? `${code}: ${detail}` : code);
  }
}

/** One Stratum JSON-RPC message: a request (id + method), a notification (id null + method) or a response. */
export interface StratumMessage {
  readonly id: number | string | null;
  readonly method?: string;
  readonly params?: readonly unknown[];
  readonly result?: unknown;
  readonly error?: unknown;
}

/**
 * Parses one line of the stream into a message object.
 * @throws StratumProtocolError bad-json | bad-message
 */
export function parseStratumMessage(line: string): StratumMessage {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new StratumProtocolError('bad-json', 'the line is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new StratumProtocolError('bad-message', 'a message is a JSON object');
  }
  const m = value as Record<string, unknown>;
  const id = m['id'] ?? null;
  if (id !== null && typeof id !== 'number' && typeof id !== 'string') throw new StratumProtocolError('bad-message', 'bad id');
  if (m['method'] !== undefined && typeof m['method'] !== 'string') throw new StratumProtocolError('bad-message', 'bad method');
  if (m['params'] !== undefined && m['params'] !== null && !Array.isArray(m['params'])) {
    throw new StratumProtocolError('bad-message', 'params must be an array');
  }
  return {
    id,
    ...(typeof m['method'] === 'string' ? { method: m['method'] } : {}),
    ...(Array.isArray(m['params']) ? { params: m['params'] as unknown[] } : {}),
    ...('result' in m ? { result: m['result'] } : {}),
    ...('error' in m ? { error: m['error'] } : {}),
  };
}

/**
 * Splits a TCP byte stream into lines (LF, an optional CR before it is dropped), bounding the bytes one line may take
 * so a peer that never sends a newline cannot grow the buffer without limit.
 */
export class LineSplitter {
  private pending: Buffer = Buffer.alloc(0);

  /** @param maxLineBytes longest line accepted, bytes (without the newline) */
  constructor(private readonly maxLineBytes: number) {}

  /**
   * Adds received bytes; returns the complete lines they finish, in order (empty lines dropped).
   * @throws StratumProtocolError line-too-long
   */
  push(chunk: Buffer): string[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const lines: string[] = [];
    let start = 0;
    for (let nl = this.pending.indexOf(0x0a, start); nl !== -1; nl = this.pending.indexOf(0x0a, start)) {
      if (nl - start > this.maxLineBytes) throw new StratumProtocolError('line-too-long', `a line exceeds ${this.maxLineBytes} bytes`);
      const line = this.pending.toString('utf8', start, nl).replace(/\r$/, '').trim();
      if (line.length > 0) lines.push(line);
      start = nl + 1;
    }
    this.pending = this.pending.subarray(start);
    if (this.pending.length > this.maxLineBytes) {
      throw new StratumProtocolError('line-too-long', `a line exceeds ${this.maxLineBytes} bytes`);
    }
    return lines;
  }
}

/**
 * The share target of a Stratum difficulty: DIFF1_TARGET / difficulty, at most 2^256 − 1. Fractional difficulties
 * (below 1, for CPU miners) are exact to 2^-64. A difficulty no hash can meet (above DIFF1_TARGET, ~2.7e67) gives 0.
 * @throws StratumProtocolError bad-difficulty when difficulty is not a positive finite number
 */
export function difficultyToTarget(difficulty: number): bigint {
  if (!Number.isFinite(difficulty) || difficulty <= 0) throw new StratumProtocolError('bad-difficulty', String(difficulty));
  const scaled = Math.round(difficulty * TWO_64);
  if (scaled === 0) return MAX_TARGET;
  // Above ~1e289 the product overflows to Infinity, which BigInt refuses; the target is 0 from ~2.7e67 on anyway.
  if (!Number.isFinite(scaled)) return 0n;
  const target = (DIFF1_TARGET << 64n) / BigInt(scaled);
  return target > MAX_TARGET ? MAX_TARGET : target;
}

/** The Stratum difficulty of a target (DIFF1_TARGET / target), as a float for display and for set_difficulty. */
export function targetToDifficulty(target: bigint): number {
  return Number(DIFF1_TARGET) / Number(target > 0n ? target : 1n);
}

/**
 * mining.notify's `prevhash` for a block hash in internal byte order: each 4-byte word byte-reversed.
 * @see module docs above
 */
export function encodeStratumPrevHash(hash: BlockHash): string {
  return bytesToHex(swapWords(hash));
}

/**
 * The block hash (internal byte order) of a mining.notify `prevhash`.
 * @throws StratumProtocolError bad-hex when it is not 64 hex digits
 */
export function decodeStratumPrevHash(hex: string): BlockHash {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new StratumProtocolError('bad-hex', 'prevhash must be 64 hex digits');
  return swapWords(hexToBytes(hex)) as BlockHash;
}

function swapWords(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += 4) {
    out[i] = bytes[i + 3]!;
    out[i + 1] = bytes[i + 2]!;
    out[i + 2] = bytes[i + 1]!;
    out[i + 3] = bytes[i]!;
  }
  return out;
}

/** A u32 as Stratum sends version, nbits, ntime and nonce: 8 hex digits, big-endian. */
export function u32ToStratumHex(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}

/**
 * Parses Stratum's 8-hex-digit big-endian u32 (version, nbits, ntime, nonce).
 * @throws StratumProtocolError bad-hex
 */
export function stratumHexToU32(hex: unknown, what: string): number {
  if (typeof hex !== 'string' || !/^[0-9a-fA-F]{8}$/.test(hex)) {
    throw new StratumProtocolError('bad-hex', `${what} must be 8 hex digits`);
  }
  return Number.parseInt(hex, 16) >>> 0;
}

/**
 * Parses a hex field of exactly `size` bytes (extranonce1/extranonce2).
 * @throws StratumProtocolError bad-hex
 */
export function stratumHexBytes(hex: unknown, size: number, what: string): Uint8Array {
  if (typeof hex !== 'string' || hex.length !== size * 2 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new StratumProtocolError('bad-hex', `${what} must be ${size * 2} hex digits`);
  }
  return hexToBytes(hex);
}

/** A job as mining.notify carries it, decoded: every hash in internal byte order, every number a u32. */
export interface StratumJob {
  readonly jobId: string;
  /** Hash of the block the job builds on, internal byte order. */
  readonly prevHash: BlockHash;
  /** The coinbase before extranonce1 (non-witness serialization). */
  readonly coinb1: Uint8Array;
  /** The coinbase after extranonce2. */
  readonly coinb2: Uint8Array;
  /** Merkle siblings of the coinbase, leaves up, internal byte order. */
  readonly merkleBranch: readonly Hash256[];
  readonly version: number;
  readonly bits: number;
  /** The server's block time, seconds. */
  readonly time: number;
  /** Whether the miner must drop earlier jobs (their shares are stale: new tip). */
  readonly cleanJobs: boolean;
}

/** The params of a mining.notify for `job`, in Stratum's byte orders (module docs). */
export function encodeNotifyParams(job: StratumJob): unknown[] {
  return [
    job.jobId,
    encodeStratumPrevHash(job.prevHash),
    bytesToHex(job.coinb1),
    bytesToHex(job.coinb2),
    job.merkleBranch.map((h) => bytesToHex(h)),
    u32ToStratumHex(job.version),
    u32ToStratumHex(job.bits),
    u32ToStratumHex(job.time),
    job.cleanJobs,
  ];
}

function hexField(value: unknown, what: string): Uint8Array {
  if (typeof value !== 'string' || value.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(value)) {
    throw new StratumProtocolError('bad-notify', `${what} must be hex`);
  }
  return hexToBytes(value);
}

/**
 * Decodes mining.notify params `[job_id, prevhash, coinb1, coinb2, merkle_branch, version, nbits, ntime, clean_jobs]`.
 * @throws StratumProtocolError bad-notify | bad-hex
 */
export function parseNotifyParams(params: readonly unknown[] | undefined): StratumJob {
  if (params === undefined || params.length < 9) throw new StratumProtocolError('bad-notify', 'mining.notify takes 9 params');
  const [jobId, prevHash, coinb1, coinb2, branch, version, bits, time, clean] = params;
  if (typeof jobId !== 'string' || jobId.length === 0 || jobId.length > 64) throw new StratumProtocolError('bad-notify', 'bad job_id');
  if (typeof prevHash !== 'string') throw new StratumProtocolError('bad-notify', 'bad prevhash');
  if (!Array.isArray(branch) || branch.length > 32) throw new StratumProtocolError('bad-notify', 'bad merkle_branch');
  const merkleBranch = branch.map((h: unknown) => {
    const bytes = hexField(h, 'merkle_branch entry');
    if (bytes.length !== 32) throw new StratumProtocolError('bad-notify', 'a merkle_branch entry is 32 bytes');
    return bytes;
  });
  return {
    jobId,
    prevHash: decodeStratumPrevHash(prevHash),
    coinb1: hexField(coinb1, 'coinb1'),
    coinb2: hexField(coinb2, 'coinb2'),
    merkleBranch,
    version: stratumHexToU32(version, 'version'),
    bits: stratumHexToU32(bits, 'nbits'),
    time: stratumHexToU32(time, 'ntime'),
    cleanJobs: clean === true,
  };
}

/** The miner's coinbase (non-witness serialization): coinb1 || extranonce1 || extranonce2 || coinb2. */
export function assembleStratumCoinbase(job: Pick<StratumJob, 'coinb1' | 'coinb2'>, extranonce1: Uint8Array, extranonce2: Uint8Array): Uint8Array {
  const out = new Uint8Array(job.coinb1.length + extranonce1.length + extranonce2.length + job.coinb2.length);
  out.set(job.coinb1, 0);
  out.set(extranonce1, job.coinb1.length);
  out.set(extranonce2, job.coinb1.length + extranonce1.length);
  out.set(job.coinb2, job.coinb1.length + extranonce1.length + extranonce2.length);
  return out;
}

/**
 * The merkle root from the coinbase txid and its branch: r = txid; r = sha256d(r || sibling) for each sibling (the
 * coinbase is always the leftmost leaf). Internal byte order.
 * @see Bitcoin Core (pre-0.21) ComputeMerkleRootFromBranch with index 0
 */
export function computeStratumMerkleRoot(coinbaseTxid: Hash256, branch: readonly Hash256[]): Hash256 {
  let root = coinbaseTxid;
  const pair = new Uint8Array(64);
  for (const sibling of branch) {
    pair.set(root, 0);
    pair.set(sibling, 32);
    root = sha256d(pair);
  }
  return root;
}

/**
 * The block header a miner hashes for a job: coinbase from the two extranonces, merkle root from the branch, the job's
 * version/prevhash/bits, and the miner's time and nonce.
 */
export function buildStratumHeader(
  job: StratumJob,
  extranonce1: Uint8Array,
  extranonce2: Uint8Array,
  timeSec: number,
  nonce: number,
): BlockHeader {
  const coinbase = assembleStratumCoinbase(job, extranonce1, extranonce2);
  return {
    version: job.version,
    prevBlock: job.prevHash,
    merkleRoot: computeStratumMerkleRoot(sha256d(coinbase), job.merkleBranch),
    time: timeSec,
    bits: job.bits,
    nonce,
  };
}

/** A coinbase split for Stratum: the two halves around the extranonce bytes. */
export interface StratumCoinbaseSplit {
  readonly coinb1: Uint8Array;
  readonly coinb2: Uint8Array;
}

/**
 * Splits a coinbase whose scriptSig is `<BIP-34 height push> 0x08 <8 extranonce bytes> …` (BlockAssembler's
 * buildCoinbaseTx with an 8-byte extraNonce) around those 8 bytes, in the non-witness serialization: coinb1 ends
 * with the push opcode 0x08; coinb2 starts after the extranonce.
 * @throws RangeError when the scriptSig does not have that shape (a caller bug)
 */
export function splitStratumCoinbase(coinbase: Tx, bip34PushLength: number): StratumCoinbaseSplit {
  const extranonceSize = EXTRANONCE1_SIZE + EXTRANONCE2_SIZE;
  const input = coinbase.inputs[0];
  if (input === undefined || input.scriptSig[bip34PushLength] !== extranonceSize) {
    throw new RangeError('the coinbase scriptSig has no 8-byte extranonce push after the height');
  }
  const bytes = encodeTx(coinbase, false);
  // version (4) + input count (1) + prevout (36) + scriptSig length, then the height push and the 0x08 opcode.
  const offset = 4 + 1 + 36 + compactSizeLength(input.scriptSig.length) + bip34PushLength + 1;
  return { coinb1: bytes.slice(0, offset), coinb2: bytes.slice(offset + extranonceSize) };
}
