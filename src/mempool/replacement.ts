/**
 * The fee rules a replacement must meet (BIP-125 rules 3, 4 and 6, as Bitcoin Core applies them with full RBF: every
 * unconfirmed tx is replaceable, whatever its nSequence). Pure functions over fees and sizes; the mempool gathers the
 * conflicts and also enforces rules 2 and 5. Failures score 0.
 * @see Bitcoin Core policy/rbf.cpp; doc/policy/mempool-replacements.md
 */
import { VerifyError } from '../consensus/verifyError.js';
import type { Sats } from '../primitives/types.js';
import { compareFeeRates, feeForVsize, feeRateSatPerVb } from '../policy/feeRate.js';

/** The fee and vsize of one transaction the replacement would evict. */
export interface ReplacedTx {
  readonly txidHex: string;
  readonly fee: Sats;
  readonly vsize: number;
}

/**
 * Rule 6: the replacement's own fee rate must be strictly higher than each directly conflicting tx's own fee rate
 * (compared exactly; Core compares rates truncated to sat/kvB).
 * @throws VerifyError insufficient fee (score 0)
 * @see Bitcoin Core policy/rbf.cpp PaysMoreThanConflicts
 */
export function checkReplacementFeeRate(
  txidHex: string,
  fee: Sats,
  vsize: number,
  directConflicts: Iterable<ReplacedTx>,
): void {
  for (const conflict of directConflicts) {
    if (compareFeeRates(fee, vsize, conflict.fee, conflict.vsize) <= 0) {
      const detail =
        `rejecting replacement ${txidHex}; new feerate ${feeRateSatPerVb(fee, vsize).toFixed(3)} sat/vB <= ` +
        `old feerate ${feeRateSatPerVb(conflict.fee, conflict.vsize).toFixed(3)} sat/vB of ${conflict.txidHex}`;
      throw new VerifyError('insufficient fee', 0, detail);
    }
  }
}

/**
 * Rules 3 and 4: the replacement pays at least the sum of the fees of every tx it evicts (direct conflicts and their
 * descendants), and the extra it pays covers its own vsize at the incremental relay fee rate.
 * @throws VerifyError insufficient fee (score 0)
 * @see Bitcoin Core policy/rbf.cpp PaysForRBF
 */
export function checkReplacementFees(
  txidHex: string,
  fee: Sats,
  vsize: number,
  evictedFees: Sats,
  incrementalRelayFeeRateSatPerKvb: number,
): void {
  if (fee < evictedFees) {
    const detail = `rejecting replacement ${txidHex}, less fees than conflicting txs; ${fee} < ${evictedFees}`;
    throw new VerifyError('insufficient fee', 0, detail);
  }
  const additional = fee - evictedFees;
  const required = feeForVsize(incrementalRelayFeeRateSatPerKvb, vsize);
  if (additional < required) {
    throw new VerifyError(
      'insufficient fee',
      0,
      `rejecting replacement ${txidHex}, not enough additional fees to relay; ${additional} < ${required}`,
    );
  }
}
