import type { MempoolReader } from '../interfaces/mempoolReader.js';
import { getTxSize } from '../primitives/tx.js';
import type { ChainParams } from '../params/chainParams.js';
import type { FeesRecommended, MempoolBlock } from './esploraSchemas.js';

/** Esplora's /fee-estimates confirmation targets, blocks. */
export const ESPLORA_FEE_TARGETS: readonly number[] = [...Array.from({ length: 25 }, (_, i) => i + 1), 144, 504, 1008];
/** Projected mempool blocks reported (mempool.space shows 8; the last one holds the rest of the backlog). */
const MEMPOOL_BLOCKS = 8;

/** Rounds a fee rate up to 3 decimals (sat/vB), so a recommendation is never below the rate it stands for. */
function roundUpRate(rate: number): number {
  return Math.ceil(rate * 1000 - 1e-9) / 1000;
}

/**
 * mempool.space's /v1/fees/recommended from the mempool backlog: fastestFee = next block, halfHourFee and hourFee =
 * the targets of 30 and 60 minutes at params.targetSpacingSec (3 and 6 blocks at 600 s), economyFee = min(hourFee,
 * 2 × minimumFee), minimumFee = the mempool's minimum fee rate. Monotone: fastest ≥ halfHour ≥ hour ≥ economy ≥
 * minimum. sat/vB, rounded up to 3 decimals.
 */
export function recommendFees(mempool: MempoolReader, params: ChainParams): FeesRecommended {
  const halfHour = Math.max(1, Math.round(1800 / params.targetSpacingSec));
  const hour = Math.max(halfHour, Math.round(3600 / params.targetSpacingSec));
  const est = mempool.estimateFeeRates([1, halfHour, hour]);
  const minimumFee = roundUpRate(mempool.getMinimumFeeRateSatPerKvb() / 1000);
  const hourFee = Math.max(minimumFee, roundUpRate(est.get(hour)!));
  const halfHourFee = Math.max(hourFee, roundUpRate(est.get(halfHour)!));
  const fastestFee = Math.max(halfHourFee, roundUpRate(est.get(1)!));
  const economyFee = Math.max(minimumFee, Math.min(hourFee, 2 * minimumFee));
  return { fastestFee, halfHourFee, hourFee, economyFee, minimumFee };
}

/**
 * Seven fee rates spanning a set of fee rates (sat/vB): minimum, 10th, 25th, 50th, 75th, 90th percentile, maximum
 * (nearest rank); seven zeros for an empty set. For mempool.space's `feeRange`.
 */
export function feeRange(rates: readonly number[]): number[] {
  if (rates.length === 0) return [0, 0, 0, 0, 0, 0, 0];
  const sorted = [...rates].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return [sorted[0]!, at(0.1), at(0.25), at(0.5), at(0.75), at(0.9), sorted[sorted.length - 1]!];
}

/** The median of a set of numbers (mean of the middle two for an even count), 0 for an empty set. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * The mempool cut into projected blocks in template order (mempool.space `mempool-blocks`): each up to
 * maxBlockWeight/4 vbytes; at most 8, the last holding the rest of the backlog. blockSize is bytes with witnesses,
 * blockVSize vbytes, medianFee and feeRange in sat/vB of the txs' own fee rates.
 */
export function projectMempoolBlocks(mempool: MempoolReader, params: ChainParams): MempoolBlock[] {
  const blockVsize = params.maxBlockWeight / 4;
  const blocks: MempoolBlock[] = [];
  let rates: number[] = [];
  let size = 0;
  let vsize = 0;
  let fees = 0;
  const flush = (): void => {
    if (rates.length === 0) return;
    blocks.push({ blockSize: size, blockVSize: vsize, nTx: rates.length, totalFees: fees, medianFee: median(rates), feeRange: feeRange(rates) });
    rates = [];
    size = vsize = fees = 0;
  };
  for (const p of mempool.selectAncestorPackages()) {
    if (vsize + p.vsize > blockVsize && blocks.length < MEMPOOL_BLOCKS - 1) flush();
    for (const txid of p.txids) {
      const entry = mempool.get(txid);
      if (entry === undefined) continue;
      rates.push(entry.feeRateSatPerVb);
      size += getTxSize(entry.tx);
      vsize += entry.vsize;
      fees += Number(entry.fee);
    }
  }
  flush();
  return blocks;
}
