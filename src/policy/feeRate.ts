/**
 * Fee-rate arithmetic of the mempool. Policy rates are integers in sat/kvB (sats per 1,000 vbytes, Core's CFeeRate
 * unit); decisions compare rates exactly by cross-multiplying bigint fees with integer vsizes, never through floats.
 * Float sat/vB values exist only for display and for the simple fee estimate.
 */
import type { Sats } from '../primitives/types.js';

/**
 * The fee-rate ceiling of a transaction a client broadcasts (sendrawtransaction, POST /api/tx) or a wallet pays,
 * unless explicitly raised: 0.10 coin/kvB = 10,000,000 sat/kvB = 10,000 sat/vB. A fee rate above it is almost always
 * a unit mistake (sat/kvB typed as sat/vB), whose fee would be lost to the miners.
 * @see Bitcoin Core node/transaction.h DEFAULT_MAX_RAW_TX_FEE_RATE
 */
export const DEFAULT_MAX_RAW_TX_FEE_RATE_SAT_PER_KVB = 10_000_000n;

/**
 * The fee a transaction of `vsize` vbytes must pay at `rateSatPerKvb` sat/kvB: ceil(rate * vsize / 1000) sats.
 * `rateSatPerKvb` must be a non-negative integer (fractions are truncated).
 * @see Bitcoin Core policy/feerate.cpp CFeeRate::GetFee (rounds up)
 */
export function feeForVsize(rateSatPerKvb: number, vsize: number): Sats {
  const rate = BigInt(Math.max(0, Math.trunc(rateSatPerKvb)));
  return (rate * BigInt(vsize) + 999n) / 1000n;
}

/**
 * The rate of `fee` sats over `vsize` vbytes in whole sat/kvB, truncated (0 for an empty size).
 * @see Bitcoin Core CFeeRate::CFeeRate(CAmount nFeePaid, uint32_t num_bytes)
 */
export function feeRateSatPerKvb(fee: Sats, vsize: number): number {
  if (vsize <= 0) return 0;
  return Number((fee * 1000n) / BigInt(vsize));
}

/** The rate of `fee` sats over `vsize` vbytes in sat/vB, as a float (display and estimates only). */
export function feeRateSatPerVb(fee: Sats, vsize: number): number {
  if (vsize <= 0) return 0;
  return Number(fee) / vsize;
}

/**
 * Compares the fee rates feeA/vsizeA and feeB/vsizeB exactly (vsizes > 0): negative when A pays less per vbyte,
 * 0 when equal, positive when A pays more.
 */
export function compareFeeRates(feeA: Sats, vsizeA: number, feeB: Sats, vsizeB: number): number {
  const a = feeA * BigInt(vsizeB);
  const b = feeB * BigInt(vsizeA);
  return a < b ? -1 : a > b ? 1 : 0;
}
