import type { ChainParams } from '../params/chainParams.js';
import { computeBlockHash } from '../primitives/blockHeader.js';
import { getBlockSize, getBlockWeight } from '../primitives/block.js';
import { BLOCK_HEADER_SIZE } from '../primitives/blockHeader.js';
import { compactSizeLength } from '../primitives/bufferWriter.js';
import { bytesEqual } from '../primitives/hex.js';
import { computeTxid, isCoinbase } from '../primitives/tx.js';
import type { Block, BlockHeader, Hash256 } from '../primitives/types.js';
import { checkTransaction, WITNESS_SCALE_FACTOR } from './checkTransaction.js';
import { computeMerkleRoot } from './merkle.js';
import { checkProofOfWork } from './pow.js';
import { VerifyError } from './verifyError.js';
import { getWitnessCommitmentError } from './witnessCommitment.js';

/** The txids and wtxids of a block's txs, in block order (internal byte order), with their sizes when known. */
export interface BlockTxHashList {
  readonly txids: readonly Hash256[];
  readonly wtxids: readonly Hash256[];
  /** Each tx's serialization with witnesses (only its length is read): with baseSizes, the block is not sized again. */
  readonly txBytes?: readonly Uint8Array[];
  /** Each tx's size without witness data, bytes. */
  readonly baseSizes?: readonly number[];
}

/**
 * The block's size without witness data and its BIP-141 weight (base size * 3 + total size): from the txs' sizes in
 * `txHashes` when it has them (as getBlockSize/getBlockWeight would find), else by walking the block.
 * PERF: walking a 1,250-tx block to size it took about 0.5 ms; the chain sizes its block index entry with this too.
 */
export function blockSizes(block: Block, txHashes: BlockTxHashList | undefined): { baseSize: number; weight: number } {
  const totals = txHashes?.txBytes;
  const bases = txHashes?.baseSizes;
  if (totals === undefined || bases === undefined) return { baseSize: getBlockSize(block, false), weight: getBlockWeight(block) };
  const overhead = BLOCK_HEADER_SIZE + compactSizeLength(block.txs.length);
  let baseSize = overhead;
  let totalSize = overhead;
  for (let i = 0; i < block.txs.length; i++) {
    baseSize += bases[i]!;
    totalSize += totals[i]!.length;
  }
  return { baseSize, weight: baseSize * 3 + totalSize };
}

/**
 * Checks a header on its own: its hash meets the target its bits encode, and those bits are within powLimit.
 * @throws VerifyError high-hash
 * @see Bitcoin Core validation.cpp CheckBlockHeader
 */
export function checkBlockHeader(header: BlockHeader, params: ChainParams, blockHash: Hash256 = computeBlockHash(header)): void {
  if (!checkProofOfWork(blockHash, header.bits, params.powLimit)) throw new VerifyError('high-hash', 50, 'proof of work failed');
}

/**
 * Checks the block's witness data against the commitment in its coinbase (BIP-141): when the coinbase has a
 * commitment, its witness must be one 32-byte reserved value and sha256d(witness root || reserved) must match; without
 * a commitment no transaction may carry witness data. `wtxids` as for checkBlock.
 * @throws VerifyError bad-witness-nonce-size | bad-witness-merkle-match | unexpected-witness
 * @see Bitcoin Core validation.cpp CheckWitnessMalleation
 */
export function checkBlockWitness(block: Block, wtxids?: readonly Hash256[]): void {
  const reason = getWitnessCommitmentError(block, wtxids);
  if (reason !== null) throw new VerifyError(reason, 100, 'witness commitment check failed');
}

/**
 * Context-free block checks, in Bitcoin Core's order: proof of work, merkle root (and CVE-2012-2459 mutation), size
 * limits, exactly one coinbase in first place, every transaction's checkTransaction; then the segwit checks that Core
 * runs with the block's context but need none here (witness commitment, weight). Contextual checks (bits, time,
 * BIP-34 height, inputs) are the chain's. `txHashes` saves hashing every tx again when the caller has the hashes (and
 * sizing the block again when it has the sizes).
 * @throws VerifyError high-hash | bad-txnmrklroot | bad-txns-duplicate | bad-blk-length | bad-cb-missing |
 *   bad-cb-multiple | any checkTransaction reason | bad-witness-nonce-size | bad-witness-merkle-match |
 *   unexpected-witness | bad-blk-weight
 * @see Bitcoin Core validation.cpp CheckBlock, ContextualCheckBlock (witness part)
 */
export function checkBlock(block: Block, params: ChainParams, txHashes?: BlockTxHashList): void {
  checkBlockHeader(block.header, params);

  const txids = txHashes?.txids ?? block.txs.map(computeTxid);
  const { root, mutated } = computeMerkleRoot(txids);
  if (!bytesEqual(root, block.header.merkleRoot)) throw new VerifyError('bad-txnmrklroot', 100, 'hashMerkleRoot mismatch');
  // A duplicated trailing pair gives the same root as the honest block: the block is invalid, but its hash is not.
  if (mutated) throw new VerifyError('bad-txns-duplicate', 100, 'duplicate transaction');

  const { baseSize, weight } = blockSizes(block, txHashes);
  if (
    block.txs.length === 0 ||
    block.txs.length * WITNESS_SCALE_FACTOR > params.maxBlockWeight ||
    baseSize * WITNESS_SCALE_FACTOR > params.maxBlockWeight
  ) {
    throw new VerifyError('bad-blk-length', 100, 'size limits failed');
  }

  if (!isCoinbase(block.txs[0]!)) throw new VerifyError('bad-cb-missing', 100, 'first tx is not coinbase');
  for (let i = 1; i < block.txs.length; i++) {
    if (isCoinbase(block.txs[i]!)) throw new VerifyError('bad-cb-multiple', 100, `more than one coinbase (tx ${i})`);
  }

  for (const [i, tx] of block.txs.entries()) {
    try {
      checkTransaction(tx, { outputScriptRule: params.outputScriptRule });
    } catch (err) {
      if (err instanceof VerifyError) throw new VerifyError(err.code, err.score, `tx ${i}${err.detail ? `: ${err.detail}` : ''}`);
      throw err;
    }
  }

  checkBlockWitness(block, txHashes?.wtxids);

  if (weight > params.maxBlockWeight) throw new VerifyError('bad-blk-weight', 100, 'weight limit failed');
}
