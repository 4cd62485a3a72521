import { sha256d } from '../crypto/hash.js';
import { hashToBigInt } from '../consensus/pow.js';
import { encodeBlockHeader } from '../primitives/blockHeader.js';
import { blockHashFromHex, hashToHex } from '../primitives/hex.js';
import type { BlockHash } from '../primitives/types.js';
import { ElectError } from './electError.js';
import type { ElectGenesis } from './genesis.js';

/** Display hash (64 zeros) standing for "no previous block" at height 1. */
export const NULL_HASH_HEX = '0'.repeat(64);
/** Most transactions a template may carry. */
export const MAX_TEMPLATE_TXS = 1_000;
/** Most hex chars per transaction payload (1,000 bytes). */
export const MAX_TX_HEX_CHARS = 2_000;

/** The block template a leader challenges with (what every peer mines, each with itself as winner). */
export interface ElectBlockTemplate {
  readonly height: number;
  /** Display hex of the previous block's hash (64 zeros at height 1). */
  readonly prevHash: string;
  /** Term of the leader that made it, and that leader. */
  readonly term: number;
  readonly leader: number;
  readonly zeroBits: number;
  /** Opaque transaction payloads, hex, from the leader's mempool. */
  readonly txs: readonly string[];
  /** Seconds since the epoch, from the leader's clock (in the header's time field). */
  readonly timeSec: number;
}

/** A solved block: the leader's template, the member who mined it (the reward's winner) and its nonce. */
export interface ElectBlock extends ElectBlockTemplate {
  readonly miner: number;
  readonly nonce: number;
}

/**
 * The target of a difficulty in leading zero bits: 2^(256−zeroBits) − 1; a hash meets it when, read as Bitcoin reads
 * hashes (little-endian number), it is <= the target, i.e. its display hex starts with zeroBits zero bits.
 */
export function targetFromZeroBits(zeroBits: number): bigint {
  return (1n << BigInt(256 - zeroBits)) - 1n;
}

/**
 * The 32-byte commitment a block's header carries in its merkle root field: sha256d of the block's fields (chain id,
 * height, prev hash, term, leader, difficulty, txs, time, miner) as JSON, so the proof of work binds all of them and
 * a solution mined by one member cannot be claimed by another.
 */
export function computeBlockCommitment(chainId: string, block: Omit<ElectBlock, 'nonce'>): Uint8Array {
  const fields = [chainId, block.height, block.prevHash, block.term, block.leader, block.zeroBits, block.txs, block.timeSec, block.miner];
  return sha256d(new TextEncoder().encode(JSON.stringify(fields)));
}

/**
 * The block's 80-byte Bitcoin-format header: version 1, prevBlock, the commitment as merkle root, time, bits 0
 * (difficulty is the zeroBits in the commitment), nonce. This is what cairn's WASM miner grinds.
 */
export function encodeElectHeader(chainId: string, block: Omit<ElectBlock, 'nonce'> & { nonce?: number }): Uint8Array {
  const prev = block.prevHash === NULL_HASH_HEX ? (new Uint8Array(32) as BlockHash) : blockHashFromHex(block.prevHash);
  return encodeBlockHeader({
    version: 1,
    prevBlock: prev,
    merkleRoot: computeBlockCommitment(chainId, block),
    time: block.timeSec,
    bits: 0,
    nonce: block.nonce ?? 0,
  });
}

/** The block's hash as display hex (reversed sha256d of the header, as Bitcoin shows hashes). */
export function computeElectBlockHash(chainId: string, block: ElectBlock): string {
  return hashToHex(sha256d(encodeElectHeader(chainId, block)));
}

/**
 * Context-free checks of a template (shapes, bounds): height ≥ 1, hashes, member leader, zeroBits within the
 * genesis bounds, txs bounded hex.
 * @throws ElectError bad-block | bad-difficulty
 */
export function checkTemplate(genesis: ElectGenesis, t: ElectBlockTemplate): void {
  const bad = (what: string): never => {
    throw new ElectError('bad-block', what);
  };
  if (t === null || typeof t !== 'object') bad('not an object');
  if (!Number.isSafeInteger(t.height) || t.height < 1) bad('height must be >= 1');
  if (typeof t.prevHash !== 'string' || !/^[0-9a-f]{64}$/.test(t.prevHash)) bad('prevHash must be 64 hex chars');
  if (!Number.isSafeInteger(t.term) || t.term < 1) bad('term must be >= 1');
  if (!Number.isSafeInteger(t.leader) || t.leader < 0 || t.leader >= genesis.members.length) bad('leader is not a member');
  if (!Number.isSafeInteger(t.timeSec) || t.timeSec < 0 || t.timeSec > 0xffffffff) bad('timeSec must fit 32 bits');
  if (!Array.isArray(t.txs) || t.txs.length > MAX_TEMPLATE_TXS) bad(`txs must be a list of at most ${MAX_TEMPLATE_TXS}`);
  for (const tx of t.txs) if (typeof tx !== 'string' || tx.length > MAX_TX_HEX_CHARS || !/^([0-9a-f]{2})*$/.test(tx)) bad('a tx is not bounded hex');
  if (!Number.isSafeInteger(t.zeroBits) || t.zeroBits < genesis.minZeroBits || t.zeroBits > genesis.maxZeroBits) {
    throw new ElectError('bad-difficulty', `zeroBits ${t.zeroBits} outside [${genesis.minZeroBits}, ${genesis.maxZeroBits}]`);
  }
}

/**
 * Context-free checks of a solved block: its template, a member miner, a 32-bit nonce, and its proof of work.
 * Returns the block's display hash.
 * @throws ElectError bad-block | bad-difficulty | high-hash
 */
export function checkElectBlock(genesis: ElectGenesis, block: ElectBlock): string {
  checkTemplate(genesis, block);
  if (!Number.isSafeInteger(block.miner) || block.miner < 0 || block.miner >= genesis.members.length) {
    throw new ElectError('bad-block', `miner ${String(block.miner)} is not a member`);
  }
  if (!Number.isSafeInteger(block.nonce) || block.nonce < 0 || block.nonce > 0xffffffff) throw new ElectError('bad-block', 'nonce must fit 32 bits');
  const hash = sha256d(encodeElectHeader(genesis.chainId, block));
  if (hashToBigInt(hash) > targetFromZeroBits(block.zeroBits)) throw new ElectError('high-hash', `hash does not have ${block.zeroBits} leading zero bits`);
  return hashToHex(hash);
}

/** The block's fields without its solution: what the leader challenged with. */
export function templateOf(block: ElectBlock): ElectBlockTemplate {
  return { height: block.height, prevHash: block.prevHash, term: block.term, leader: block.leader, zeroBits: block.zeroBits, txs: block.txs, timeSec: block.timeSec };
}

/** Whether two templates are the same challenge (all fields equal). */
export function sameTemplate(a: ElectBlockTemplate, b: ElectBlockTemplate): boolean {
  return JSON.stringify(templateOf(a as ElectBlock)) === JSON.stringify(templateOf(b as ElectBlock));
}

/**
 * The difficulty of the next challenge: one bit harder when the last block was solved in under half the target
 * time, one bit easier when it took over twice, clamped to the genesis bounds.
 */
export function computeNextZeroBits(genesis: ElectGenesis, lastZeroBits: number | undefined, lastSolveMs: number | undefined): number {
  if (lastZeroBits === undefined || lastSolveMs === undefined) return genesis.initialZeroBits;
  let next = lastZeroBits;
  if (lastSolveMs < genesis.targetSolveMs / 2) next += 1;
  else if (lastSolveMs > genesis.targetSolveMs * 2) next -= 1;
  return Math.min(genesis.maxZeroBits, Math.max(genesis.minZeroBits, next));
}
