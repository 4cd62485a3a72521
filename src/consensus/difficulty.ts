import type { ChainParams } from '../params/chainParams.js';
import { bitsToTarget, targetToBits } from './pow.js';

/** Mask that reduces a bigint modulo 2^256, as arith_uint256's fixed width does. */
const MASK_256 = (1n << 256n) - 1n;

/** Inputs of Bitcoin's retarget that come from the chain params. */
export interface BitcoinRetargetParams {
  /** Intended duration of one retarget period, seconds (Bitcoin: 1,209,600 = two weeks). */
  readonly targetTimespanSec: number;
  /** Highest allowed target. */
  readonly powLimit: bigint;
}

/**
 * Bitcoin's retarget: scales the last block's target by the period's actual timespan over the intended one, the
 * timespan clamped to [timespan/4, timespan*4] (integer division), the result capped at powLimit; returns compact bits.
 * Bit-exact with Core, including arith_uint256's 256-bit wrap of `target * actualTimespan` (reachable only when
 * powLimit > 2^256 / (4 * timespan), never with Bitcoin's powLimit).
 * @param lastBits bits of the last block of the period (the tip)
 * @param firstBlockTimeSec time of the period's first block (height tip - (interval - 1))
 * @param lastBlockTimeSec time of the tip
 * @see Bitcoin Core pow.cpp CalculateNextWorkRequired
 */
export function calculateBitcoinRetarget(
  lastBits: number,
  firstBlockTimeSec: number,
  lastBlockTimeSec: number,
  params: BitcoinRetargetParams,
): number {
  const timespan = params.targetTimespanSec;
  let actual = lastBlockTimeSec - firstBlockTimeSec;
  const min = Math.trunc(timespan / 4);
  const max = timespan * 4;
  if (actual < min) actual = min;
  if (actual > max) actual = max;
  let target = bitsToTarget(lastBits).target;
  target = (target * BigInt(actual)) & MASK_256;
  target /= BigInt(timespan);
  if (target > params.powLimit) target = params.powLimit;
  return targetToBits(target);
}

/** Fixed-point radix of the ASERT exponent: 16 fractional bits. */
const RBITS = 16n;
const RADIX = 1n << RBITS;

/**
 * aserti3-2d: the target of the block after a tip that is `heightDiff` blocks above the anchor and whose time is
 * `timeDiffSec` after the anchor's parent: refTarget * 2^((timeDiff - spacing * (heightDiff + 1)) / halfLife),
 * computed with BCHN's 16-bit fixed-point exponent and cubic approximation of 2^x, then limited to [1, powLimit].
 * Bit-exact with BCHN wherever BCHN's precondition powLimit < 2^224 holds; bigint arithmetic needs no such headroom.
 * Exponent division truncates toward zero; the integer shift floors (arithmetic shift), as in BCHN.
 * @param refTarget the anchor block's target, 0 < refTarget <= powLimit
 * @param heightDiff tip height - anchor height, >= 0 (heights may exceed 2^63)
 * @throws RangeError when refTarget is out of (0, powLimit], heightDiff < 0 or halfLifeSec <= 0 (params bugs)
 * @see BCHN src/pow.cpp CalculateASERT; bitcoincash.org spec/2020-11-15-asert.md
 */
export function computeAsertTarget(
  refTarget: bigint,
  targetSpacingSec: bigint | number,
  timeDiffSec: bigint | number,
  heightDiff: bigint | number,
  powLimit: bigint,
  halfLifeSec: bigint | number,
): bigint {
  const spacing = BigInt(targetSpacingSec);
  const timeDiff = BigInt(timeDiffSec);
  const heights = BigInt(heightDiff);
  const halfLife = BigInt(halfLifeSec);
  if (refTarget <= 0n || refTarget > powLimit) throw new RangeError('ASERT reference target must be in (0, powLimit]');
  if (heights < 0n) throw new RangeError('ASERT height difference must not be negative');
  if (halfLife <= 0n) throw new RangeError('ASERT half-life must be positive');

  // bigint division truncates toward zero, like C++ int64 division.
  const exponent = ((timeDiff - spacing * (heights + 1n)) * RADIX) / halfLife;
  // bigint >> is an arithmetic (flooring) shift, as BCHN requires of int64 >>.
  let shifts = exponent >> RBITS;
  const frac = exponent - shifts * RADIX;
  const factor =
    RADIX +
    ((195766423245049n * frac + 971821376n * frac * frac + 5127n * frac * frac * frac + (1n << 47n)) >> 48n);
  let next = refTarget * factor;
  shifts -= RBITS;
  if (shifts <= 0n) {
    // Shifting a < 2^273 value right by 273+ bits gives 0; guarding keeps huge shift counts cheap.
    next = -shifts >= 512n ? 0n : next >> -shifts;
  } else {
    // Any left shift this large exceeds every 256-bit powLimit; BCHN saturates to powLimit the same way.
    next = shifts >= 512n ? powLimit : next << shifts;
  }
  if (next === 0n) next = 1n;
  else if (next > powLimit) next = powLimit;
  return next;
}

/**
 * aserti3-2d compact bits of the block after the tip at (evalHeight, evalTimeSec), from the anchor's bits, height and
 * parent time. Heights and times are integers (bigint where they may exceed 2^53).
 * @throws RangeError when the anchor target is out of (0, powLimit] or evalHeight < anchorHeight (params bugs)
 * @see BCHN src/pow.cpp GetNextASERTWorkRequired (without the testnet min-difficulty rule)
 */
export function computeAsertBits(
  anchorBits: number,
  anchorParentTimeSec: bigint | number,
  anchorHeight: bigint | number,
  evalHeight: bigint | number,
  evalTimeSec: bigint | number,
  halfLifeSec: bigint | number,
  powLimit: bigint,
  targetSpacingSec: bigint | number,
): number {
  const refTarget = bitsToTarget(anchorBits).target;
  const timeDiff = BigInt(evalTimeSec) - BigInt(anchorParentTimeSec);
  const heightDiff = BigInt(evalHeight) - BigInt(anchorHeight);
  return targetToBits(computeAsertTarget(refTarget, targetSpacingSec, timeDiff, heightDiff, powLimit, halfLifeSec));
}

/** The tip a next block builds on: its height, time (seconds) and bits. */
export interface WorkTip {
  readonly height: number;
  readonly time: number;
  readonly bits: number;
}

/**
 * The bits the block after `tip` must carry, by the chain's difficulty rule:
 * - `none`: the tip's bits.
 * - `bitcoin`: the tip's bits, except when the new height is a multiple of retargetInterval; then Bitcoin's retarget
 *   over the period from `ancestor(tip.height - (interval - 1))` to the tip. No testnet min-difficulty rule.
 * - `asert`: aserti3-2d from the params anchor and the tip. A block at or below the anchor height gets the anchor's
 *   bits (cairn chains run ASERT from their first blocks, so there is no earlier rule to fall back on). With
 *   `anchorTimeFromChain` the reference time is the anchor block's own time (read through `ancestor`) − spacing.
 * @param ancestor returns the time and bits of the tip's ancestor at a height (called for `bitcoin` retargets and
 *   for `asert` with `anchorTimeFromChain`)
 * @see Bitcoin Core pow.cpp GetNextWorkRequired; BCHN pow.cpp GetNextASERTWorkRequired
 */
export function getNextWorkRequired(
  params: ChainParams,
  tip: WorkTip,
  ancestor: (height: number) => { time: number; bits: number },
): number {
  const rule = params.difficulty;
  switch (rule.kind) {
    case 'none':
      return tip.bits;
    case 'bitcoin': {
      const interval = rule.retargetInterval;
      if ((tip.height + 1) % interval !== 0) return tip.bits;
      const first = ancestor(tip.height - (interval - 1));
      return calculateBitcoinRetarget(tip.bits, first.time, tip.time, {
        targetTimespanSec: rule.targetTimespanSec,
        powLimit: params.powLimit,
      });
    }
    case 'asert': {
      if (tip.height + 1 <= rule.anchorHeight) return rule.anchorBits;
      const anchorParentTimeSec = rule.anchorTimeFromChain
        ? (tip.height === rule.anchorHeight ? tip.time : ancestor(rule.anchorHeight).time) - params.targetSpacingSec
        : rule.anchorParentTimeSec;
      return computeAsertBits(
        rule.anchorBits,
        anchorParentTimeSec,
        rule.anchorHeight,
        tip.height,
        tip.time,
        rule.halfLifeSec,
        params.powLimit,
        params.targetSpacingSec,
      );
    }
  }
}
