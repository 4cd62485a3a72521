/** Block templates as the miners, Stratum and getblocktemplate see them, and the source that builds them. */
import type { BlockHash, Sats, Tx, TxOut, Block, Txid, Wtxid } from '../primitives/types.js';

/** One transaction of a template, with what miners and getblocktemplate report about it. */
export interface TemplateTx {
  readonly tx: Tx;
  readonly txid: Txid;
  readonly wtxid: Wtxid;
  /** Fee in sats. */
  readonly fee: Sats;
  readonly weight: number;
}

/**
 * What a miner needs to build the next block: the parent, height, bits/target, time bounds and the transactions chosen
 * from the mempool (parents before children), with their total fees and the coinbase value (subsidy + fees).
 * @see BIP-22/23 getblocktemplate; Bitcoin Core node/miner.h CBlockTemplate
 */
export interface BlockTemplate {
  readonly height: number;
  readonly prevBlock: BlockHash;
  readonly version: number;
  readonly bits: number;
  readonly target: bigint;
  /** Earliest valid block time: median-time-past of the parent + 1, seconds. */
  readonly minTimeSec: number;
  /** Suggested block time: max(minTimeSec, now), seconds. */
  readonly curTimeSec: number;
  readonly txs: readonly TemplateTx[];
  readonly totalFees: Sats;
  /** Subsidy + fees, sats: the most the coinbase may pay. */
  readonly coinbaseValue: Sats;
  /** Total weight of the selected transactions (without coinbase and header). */
  readonly txWeight: number;
  /** The witness commitment output the coinbase must carry, or null when no selected tx has witness data. */
  readonly witnessCommitment: TxOut | null;
}

/** What goes into the coinbase of a block built from a template. */
export interface CoinbaseSpec {
  /** Script the block reward is paid to (the miner's address). */
  readonly rewardScript: Uint8Array;
  /** Extra nonce bytes pushed after the height (miners roll it when the 32-bit nonce space is exhausted). */
  readonly extraNonce?: Uint8Array;
  /** Text pushed after the extra nonce (e.g. "/cairn/"); the whole scriptSig stays within 100 bytes. */
  readonly tag?: string;
}

/**
 * Builds block templates on the current tip and whole blocks from them (implemented by mining/BlockAssembler).
 * @see Bitcoin Core node/miner.h BlockAssembler, interfaces/mining.h
 */
export interface BlockTemplateSource {
  /** A template on the current tip with transactions chosen from the mempool. */
  createTemplate(): BlockTemplate;
  /** The block of a template with its coinbase (header nonce 0, time `timeSec`, default the template's curTimeSec). */
  buildBlock(template: BlockTemplate, coinbase: CoinbaseSpec, timeSec?: number): Block;
}
