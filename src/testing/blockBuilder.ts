/**
 * Test helper that assembles blocks the way a miner does: a coinbase with the BIP-34 height push, an optional BIP-141
 * witness commitment, the merkle root, and a nonce ground until the proof of work passes. Meant for regtest params,
 * whose powLimit makes about one nonce in two succeed; with real difficulty solveBlock would take ages.
 * Everything is deterministic (no clock, no randomness), so tests rebuild identical blocks.
 */
import { encodeBip34HeightPush } from '../consensus/contextualChecks.js';
import { checkProofOfWork } from '../consensus/pow.js';
import { computeBlockSubsidy } from '../consensus/subsidy.js';
import { buildWitnessCommitmentOutput, findWitnessCommitmentIndex } from '../consensus/witnessCommitment.js';
import { computeMerkleRoot } from '../consensus/merkle.js';
import { publicKeyFromPrivate } from '../crypto/ecdsa.js';
import { hash160 } from '../crypto/hash.js';
import type { ChainParams } from '../params/chainParams.js';
import { computeBlockHash } from '../primitives/blockHeader.js';
import { NULL_OUTPOINT } from '../primitives/outpoint.js';
import { computeTxid, computeWtxid, hasWitness } from '../primitives/tx.js';
import type { Block, BlockHash, BlockHeader, Sats, Tx, TxOut } from '../primitives/types.js';

/** Private key of the test wallet that default coinbases pay to: 31 zero bytes then 0x01 (the scalar 1). */
export const TEST_PRIVATE_KEY: Uint8Array = Uint8Array.of(...new Uint8Array(31), 1);

/** The P2WPKH scriptPubKey (`0014 <hash160(pubkey)>`) of TEST_PRIVATE_KEY's compressed public key. */
export const TEST_P2WPKH_SCRIPT: Uint8Array = Uint8Array.of(0x00, 0x14, ...hash160(publicKeyFromPrivate(TEST_PRIVATE_KEY)));

/** Header version the builder uses unless told otherwise: BIP-9 top bits with no deployment signalled. */
export const DEFAULT_BLOCK_VERSION = 0x20000000;

/** The BIP-34 height push (consensus/contextualChecks encodeBip34HeightPush), under the builder's historical name. */
export const encodeBip34Height = encodeBip34HeightPush;

/** What goes into a coinbase built by buildCoinbase. */
export interface CoinbaseOptions {
  /** Height of the block, pushed first in the scriptSig (BIP-34). */
  readonly height: number;
  /**
   * Outputs of the coinbase, in order. Default: one output of `value` to `scriptPubKey`. A witness commitment, when
   * wanted, is appended by the block builder after these.
   */
  readonly outputs?: readonly TxOut[];
  /** Value of the default output in sats; default 0 (buildBlock passes the subsidy). */
  readonly value?: Sats;
  /** Script of the default output; default TEST_P2WPKH_SCRIPT. */
  readonly scriptPubKey?: Uint8Array;
  /**
   * Bytes pushed after the height (Core's miner pushes an extra nonce there); default OP_0 alone, which also keeps the
   * scriptSig at Core's 2-byte minimum for heights 0..16. Use it to make coinbases of equal height differ.
   */
  readonly extraNonce?: Uint8Array;
}

/**
 * Builds a coinbase transaction: version 2, one input spending the null prevout with scriptSig = BIP-34 height push
 * followed by the extra nonce push (or OP_0), sequence 0xffffffff, locktime 0.
 * @throws RangeError on a bad height or an extra nonce over 75 bytes
 * @see Bitcoin Core node/miner.cpp BlockAssembler::CreateNewBlock
 */
export function buildCoinbase(options: CoinbaseOptions): Tx {
  const heightPush = encodeBip34Height(options.height);
  let tail: Uint8Array;
  if (options.extraNonce === undefined) {
    tail = Uint8Array.of(0x00);
  } else {
    if (options.extraNonce.length > 75) throw new RangeError('extraNonce must fit one direct push (<= 75 bytes)');
    tail = Uint8Array.of(options.extraNonce.length, ...options.extraNonce);
  }
  const outputs = options.outputs ?? [
    { value: options.value ?? 0n, scriptPubKey: options.scriptPubKey ?? TEST_P2WPKH_SCRIPT },
  ];
  return {
    version: 2,
    inputs: [{ prevout: NULL_OUTPOINT, scriptSig: Uint8Array.of(...heightPush, ...tail), sequence: 0xffffffff, witness: [] }],
    outputs: [...outputs],
    locktime: 0,
  };
}

/**
 * Adds a BIP-141 witness commitment to the block's coinbase: appends the commitment output (replacing an earlier
 * commitment the coinbase had) and sets the coinbase witness to `[witnessReservedValue]`. The header is NOT updated:
 * follow with withMerkleRoot and solveBlock (or use finalizeBlock).
 * @see BIP-141 "Commitment structure"; Bitcoin Core GenerateCoinbaseCommitment
 */
export function withWitnessCommitment(block: Block, witnessReservedValue: Uint8Array = new Uint8Array(32)): Block {
  const [coinbase, ...rest] = block.txs;
  if (coinbase === undefined) throw new RangeError('the block has no coinbase to commit in');
  const old = findWitnessCommitmentIndex(coinbase);
  const outputs = coinbase.outputs.filter((_o, i) => i !== old);
  const commitment = buildWitnessCommitmentOutput(block.txs.map(computeWtxid), witnessReservedValue);
  const input = coinbase.inputs[0]!;
  const committed: Tx = {
    ...coinbase,
    inputs: [{ ...input, witness: [witnessReservedValue] }, ...coinbase.inputs.slice(1)],
    outputs: [...outputs, commitment],
  };
  return { ...block, txs: [committed, ...rest] };
}

/** The block with header.merkleRoot set to the merkle root of its txids (nonce unchanged, so PoW may now fail). */
export function withMerkleRoot(block: Block): Block {
  return { ...block, header: { ...block.header, merkleRoot: computeMerkleRoot(block.txs.map(computeTxid)).root } };
}

/**
 * Grinds the header nonce upward from its current value until the block hash meets the target of its bits (checked
 * against params.powLimit, so bits above it never succeed).
 * @throws RangeError when no nonce up to 0xffffffff works (change time or the coinbase and retry)
 */
export function solveHeader(header: BlockHeader, params: ChainParams): BlockHeader {
  for (let nonce = header.nonce; nonce <= 0xffffffff; nonce++) {
    const candidate = { ...header, nonce };
    if (checkProofOfWork(computeBlockHash(candidate), candidate.bits, params.powLimit)) return candidate;
  }
  throw new RangeError('no nonce meets the target');
}

/** The block with a nonce that satisfies its proof of work (see solveHeader). */
export function solveBlock(block: Block, params: ChainParams): Block {
  return { ...block, header: solveHeader(block.header, params) };
}

/** withMerkleRoot then solveBlock: makes the header match an edited tx list again. */
export function finalizeBlock(block: Block, params: ChainParams): Block {
  return solveBlock(withMerkleRoot(block), params);
}

/** Options of buildBlock. Times are seconds since the epoch; amounts in sats. */
export interface BuildBlockOptions {
  /** Height of the new block (BIP-34 push, default time and subsidy). */
  readonly height: number;
  /** Hash of the parent block, internal byte order; default the genesis block of `params`. */
  readonly prevBlock?: BlockHash;
  /** Header time; default genesis time + height × target spacing. */
  readonly time?: number;
  /** Header bits; default params.powLimitBits. */
  readonly bits?: number;
  /** Header version; default DEFAULT_BLOCK_VERSION. */
  readonly version?: number;
  /** Transactions after the coinbase, in block order. */
  readonly txs?: readonly Tx[];
  /** Use this coinbase instead of building one (a witness commitment is still appended when wanted). */
  readonly coinbase?: Tx;
  /** Coinbase options when `coinbase` is not given; value defaults to the subsidy at `height` plus `fees`. */
  readonly coinbaseOptions?: Omit<CoinbaseOptions, 'height'>;
  /** Fees of `txs`, added to the default coinbase value; default 0. */
  readonly fees?: Sats;
  /** Add a witness commitment; default true when any tx of `txs` has witness data. */
  readonly witnessCommitment?: boolean;
  /** Witness reserved value of the commitment; default 32 zero bytes. */
  readonly witnessReservedValue?: Uint8Array;
}

/**
 * Builds a block that passes checkBlock on the given params (when its txs do): coinbase, optional witness commitment,
 * merkle root, and a solved nonce.
 * @throws RangeError on a bad height or when no nonce works
 */
export function buildBlock(params: ChainParams, options: BuildBlockOptions): Block {
  const txs = options.txs ?? [];
  const coinbase =
    options.coinbase ??
    buildCoinbase({
      value: computeBlockSubsidy(options.height, params) + (options.fees ?? 0n),
      ...options.coinbaseOptions,
      height: options.height,
    });
  let block: Block = {
    header: {
      version: options.version ?? DEFAULT_BLOCK_VERSION,
      prevBlock: options.prevBlock ?? computeBlockHash(params.genesis.header),
      merkleRoot: new Uint8Array(32),
      time: options.time ?? params.genesis.header.time + options.height * params.targetSpacingSec,
      bits: options.bits ?? params.powLimitBits,
      nonce: 0,
    },
    txs: [coinbase, ...txs],
  };
  if (options.witnessCommitment ?? txs.some(hasWitness)) {
    block = withWitnessCommitment(block, options.witnessReservedValue);
  }
  return finalizeBlock(block, params);
}

/**
 * Builds the child of `parent` at `parentHeight + 1`: prevBlock = parent's hash, time = parent's time + target
 * spacing (unless given), otherwise as buildBlock.
 */
export function buildNextBlock(
  params: ChainParams,
  parent: Block,
  parentHeight: number,
  options: Omit<BuildBlockOptions, 'height' | 'prevBlock'> = {},
): Block {
  return buildBlock(params, {
    time: parent.header.time + params.targetSpacingSec,
    ...options,
    height: parentHeight + 1,
    prevBlock: computeBlockHash(parent.header),
  });
}
