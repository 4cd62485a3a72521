import { encodeBip34HeightPush } from '../consensus/contextualChecks.js';
import { computeMerkleRoot } from '../consensus/merkle.js';
import { bitsToTarget } from '../consensus/pow.js';
import { computeBlockSubsidy } from '../consensus/subsidy.js';
import { buildWitnessCommitmentOutput } from '../consensus/witnessCommitment.js';
import type { ChainParams } from '../params/chainParams.js';
import { hashKey, type HashKey } from '../primitives/hashKey.js';
import { NULL_OUTPOINT } from '../primitives/outpoint.js';
import { computeTxid, hasWitness } from '../primitives/tx.js';
import type { Block, BlockHash, Sats, Tx, TxOut, Txid, Wtxid } from '../primitives/types.js';
import type { BlockTemplate, BlockTemplateSource, CoinbaseSpec, TemplateTx } from '../interfaces/blockTemplate.js';

/** Weight reserved for the block header, tx count and coinbase (Core's DEFAULT_BLOCK_MAX_WEIGHT leaves 4,000). */
export const COINBASE_RESERVED_WEIGHT = 4_000;
/** Default header version: BIP-9 top bits with no deployment signalled. */
export const DEFAULT_BLOCK_VERSION = 0x20000000;
/** Witness reserved value committed in the coinbase witness (BIP-141): 32 zero bytes, as Core uses. */
const WITNESS_RESERVED_VALUE = new Uint8Array(32);

/** A mempool package as BlockAssembler consumes it: txids in dependency order plus their entries. */
export interface TemplateSource {
  /** Packages in selection order (ancestor fee rate, highest first); each lists its txids parents first. */
  selectAncestorPackages(): readonly { readonly txids: readonly Txid[]; readonly fee: Sats; readonly vsize: number }[];
  /** The mempool entry of a txid. */
  get(txid: Txid): { readonly tx: Tx; readonly txid: Txid; readonly wtxid: Wtxid; readonly fee: Sats; readonly weight: number } | undefined;
}

/** What the assembler needs to know about the tip (narrow functions, not the whole chain). */
export interface BlockAssemblerDeps {
  readonly params: ChainParams;
  /** Hash and height of the current tip. */
  readonly tip: () => { readonly hash: BlockHash; readonly height: number };
  /** Bits the block after the tip must carry. */
  readonly nextBits: () => number;
  /** Median-time-past of the tip, seconds. */
  readonly tipMedianTimePast: () => number;
  readonly nowSec: () => number;
  readonly mempool: TemplateSource;
}

/** Options of the BlockAssembler. */
export interface BlockAssemblerOptions {
  /** Largest block weight to fill, weight units (default params.maxBlockWeight − COINBASE_RESERVED_WEIGHT). */
  readonly maxBlockWeight?: number;
  /** Header version (default DEFAULT_BLOCK_VERSION). */
  readonly version?: number;
}

/**
 * Builds block templates: transactions picked from the mempool by ancestor fee rate (child-pays-for-parent) within
 * the weight limit, and the block around them (coinbase with BIP-34 height, extra nonce and the reward, witness
 * commitment, merkle root). The header nonce is left at 0 for the miner.
 * @see Bitcoin Core node/miner.cpp BlockAssembler::CreateNewBlock, addPackageTxs
 */
export class BlockAssembler implements BlockTemplateSource {
  private readonly maxTxWeight: number;
  private readonly version: number;

  constructor(
    options: BlockAssemblerOptions,
    private readonly deps: BlockAssemblerDeps,
  ) {
    this.maxTxWeight = options.maxBlockWeight ?? deps.params.maxBlockWeight - COINBASE_RESERVED_WEIGHT;
    this.version = options.version ?? DEFAULT_BLOCK_VERSION;
  }

  /**
   * Chooses the transactions of the next block. Packages come in ancestor-fee-rate order; a package that does not fit
   * the remaining weight is skipped (later, smaller ones may still fit), as Core's addPackageTxs.
   */
  createTemplate(): BlockTemplate {
    const { params, mempool } = this.deps;
    const tip = this.deps.tip();
    const height = tip.height + 1;
    const txs: TemplateTx[] = [];
    const included = new Set<HashKey<Txid>>();
    let weight = 0;
    let totalFees = 0n;
    for (const pkg of mempool.selectAncestorPackages()) {
      const members = pkg.txids.filter((id) => !included.has(hashKey(id))).map((id) => mempool.get(id));
      if (members.some((m) => m === undefined)) continue;
      const pkgWeight = members.reduce((sum, m) => sum + m!.weight, 0);
      if (weight + pkgWeight > this.maxTxWeight) continue;
      for (const m of members) {
        txs.push({ tx: m!.tx, txid: m!.txid, wtxid: m!.wtxid, fee: m!.fee, weight: m!.weight });
        totalFees += m!.fee;
      }
      for (const id of pkg.txids) included.add(hashKey(id));
      weight += pkgWeight;
    }
    const bits = this.deps.nextBits();
    const minTimeSec = this.deps.tipMedianTimePast() + 1;
    const witnessCommitment = txs.some((t) => hasWitness(t.tx))
      ? buildWitnessCommitmentOutput([new Uint8Array(32), ...txs.map((t) => t.wtxid)], WITNESS_RESERVED_VALUE)
      : null;
    return {
      height,
      prevBlock: tip.hash,
      version: this.version,
      bits,
      target: bitsToTarget(bits).target,
      minTimeSec,
      curTimeSec: Math.max(minTimeSec, this.deps.nowSec()),
      txs,
      totalFees,
      coinbaseValue: computeBlockSubsidy(height, params) + totalFees,
      txWeight: weight,
      witnessCommitment,
    };
  }

  /**
   * Builds the unsolved block of a template: coinbase (BIP-34 height push, extra nonce, tag; one output paying
   * coinbaseValue to the reward script, plus the witness commitment when needed, with the 32-byte reserved value as
   * coinbase witness), the template's transactions, and the header with merkle root, time (curTimeSec unless given)
   * and nonce 0.
   * @throws RangeError when the coinbase scriptSig would exceed 100 bytes
   */
  buildBlock(template: BlockTemplate, coinbase: CoinbaseSpec, timeSec = template.curTimeSec): Block {
    const coinbaseTx = buildCoinbaseTx(template, coinbase);
    const txs = [coinbaseTx, ...template.txs.map((t) => t.tx)];
    const { root } = computeMerkleRoot([computeTxid(coinbaseTx), ...template.txs.map((t) => t.txid)]);
    return {
      header: {
        version: template.version,
        prevBlock: template.prevBlock,
        merkleRoot: root,
        time: timeSec,
        bits: template.bits,
        nonce: 0,
      },
      txs,
    };
  }
}

/**
 * The coinbase transaction of a template: scriptSig = BIP-34 height push || push(extraNonce) || push(tag); outputs =
 * [reward, witness commitment?]; witness = [32 zero bytes] when committing.
 * @throws RangeError when the scriptSig would exceed 100 bytes (bad-cb-length)
 */
export function buildCoinbaseTx(template: BlockTemplate, spec: CoinbaseSpec): Tx {
  const parts: number[] = [...encodeBip34HeightPush(template.height)];
  const extraNonce = spec.extraNonce ?? new Uint8Array(0);
  // Core's miner pushes OP_0 when there is no extra nonce, which keeps heights 1..16 at the 2-byte minimum.
  if (extraNonce.length === 0) parts.push(0x00);
  else parts.push(extraNonce.length, ...extraNonce);
  if (spec.tag) {
    const tag = new TextEncoder().encode(spec.tag);
    parts.push(tag.length, ...tag);
  }
  if (parts.length > 100 || extraNonce.length > 75) throw new RangeError(`coinbase scriptSig of ${parts.length} bytes exceeds 100`);
  const outputs: TxOut[] = [{ value: template.coinbaseValue, scriptPubKey: spec.rewardScript }];
  if (template.witnessCommitment) outputs.push(template.witnessCommitment);
  return {
    version: 2,
    inputs: [
      {
        prevout: NULL_OUTPOINT,
        scriptSig: new Uint8Array(parts),
        sequence: 0xffffffff,
        witness: template.witnessCommitment ? [WITNESS_RESERVED_VALUE] : [],
      },
    ],
    outputs,
    locktime: 0,
  };
}
