/**
 * The block checks that need the block's place in the chain but no UTXO set: Bitcoin Core's ContextualCheckBlockHeader
 * (difficulty, median-time-past, future limit) and ContextualCheckBlock (final transactions, BIP-34 height).
 * Pure functions: the chain passes in the expected bits, the median-time-past and the clock reading.
 */
import { VerifyError } from './verifyError.js';
import { bytesEqual } from '../primitives/hex.js';
import type { Block, BlockHeader, Tx } from '../primitives/types.js';

/** nLockTime values below this are block heights, at or above it UNIX times in seconds. @see Bitcoin Core script.h */
export const LOCKTIME_THRESHOLD = 500_000_000;

/** nSequence of an input that opts out of nLockTime (all inputs final makes the tx final). */
export const SEQUENCE_FINAL = 0xffffffff;

/**
 * Whether the tx may be included in a block at `blockHeight` whose lock-time cutoff is `blockTimeSec`: locktime 0, or
 * below the height (height lock) or time (time lock), or every input's nSequence is final.
 * Under BIP-113 the chain passes the median-time-past of the block's parent as `blockTimeSec`.
 * @see Bitcoin Core consensus/tx_verify.cpp IsFinalTx
 */
export function isFinalTx(tx: Tx, blockHeight: number, blockTimeSec: number): boolean {
  if (tx.locktime === 0) return true;
  const cutoff = tx.locktime < LOCKTIME_THRESHOLD ? blockHeight : blockTimeSec;
  if (tx.locktime < cutoff) return true;
  return tx.inputs.every((input) => input.sequence === SEQUENCE_FINAL);
}

/**
 * The bytes of `CScript() << height`, which BIP-34 requires at the start of the coinbase scriptSig: OP_0 for 0,
 * OP_1..OP_16 for 1..16, else a direct push of the minimal little-endian script number (a zero byte added when the
 * top bit would read as a sign).
 * @throws RangeError when height is not an integer in [0, 2^31) (a caller bug)
 * @see BIP-34; Bitcoin Core script.h CScript::push_int64, CScriptNum::serialize
 */
export function encodeBip34HeightPush(height: number): Uint8Array {
  if (!Number.isSafeInteger(height) || height < 0 || height > 0x7fffffff) {
    throw new RangeError(`height must be an integer in [0, 2^31), got ${height}`);
  }
  if (height === 0) return Uint8Array.of(0x00);
  if (height <= 16) return Uint8Array.of(0x50 + height);
  const bytes: number[] = [];
  for (let n = height; n > 0; n = Math.floor(n / 256)) bytes.push(n % 256);
  if ((bytes[bytes.length - 1]! & 0x80) !== 0) bytes.push(0);
  return Uint8Array.of(bytes.length, ...bytes);
}

/** What the header of a block at some height must agree with: values the chain computes from the block's parent. */
export interface HeaderContext {
  /** Bits the block must carry (getNextWorkRequired on the parent). */
  readonly expectedBits: number;
  /** Median-time-past of the parent and its 10 predecessors, seconds: the block's time must exceed it. */
  readonly medianTimePastSec: number;
  /** The node's current time, seconds. */
  readonly nowSec: number;
  /** Largest allowed drift of the block time over nowSec (params.maxFutureBlockTimeSec). */
  readonly maxFutureBlockTimeSec: number;
}

/**
 * Contextual header checks, in Core's order: the difficulty, time > median-time-past, time <= now + future limit.
 * `time-too-new` scores 0 and must not be cached as invalid: the same block becomes acceptable as the clock advances.
 * @throws VerifyError bad-diffbits (100) | time-too-old (100) | time-too-new (0)
 * @see Bitcoin Core validation.cpp ContextualCheckBlockHeader
 */
export function checkBlockHeaderContext(header: BlockHeader, ctx: HeaderContext): void {
  if (header.bits !== ctx.expectedBits) {
    throw new VerifyError('bad-diffbits', 100, `incorrect proof of work: bits 0x${hex32(header.bits)}, expected 0x${hex32(ctx.expectedBits)}`);
  }
  if (header.time <= ctx.medianTimePastSec) {
    throw new VerifyError('time-too-old', 100, `block's timestamp ${header.time} is not after median-time-past ${ctx.medianTimePastSec}`);
  }
  if (header.time > ctx.nowSec + ctx.maxFutureBlockTimeSec) {
    throw new VerifyError('time-too-new', 0, `block timestamp ${header.time} too far in the future (now ${ctx.nowSec})`);
  }
}

/**
 * Contextual block checks that need only the height and the parent's median-time-past, in Core's order: every tx is
 * final at (height, lockTimeCutoffSec) (BIP-113 cutoff = parent's MTP), then the coinbase scriptSig starts with the
 * BIP-34 height push. Witness commitment and weight are checked by consensus checkBlock.
 * Precondition: checkBlock passed (the block has a coinbase).
 * @throws VerifyError bad-txns-nonfinal | bad-cb-height
 * @see Bitcoin Core validation.cpp ContextualCheckBlock
 */
export function checkBlockContext(block: Block, height: number, lockTimeCutoffSec: number): void {
  block.txs.forEach((tx, i) => {
    if (!isFinalTx(tx, height, lockTimeCutoffSec)) {
      throw new VerifyError('bad-txns-nonfinal', 100, `tx ${i}: non-final transaction (locktime ${tx.locktime})`);
    }
  });
  const scriptSig = block.txs[0]?.inputs[0]?.scriptSig ?? new Uint8Array(0);
  const expect = encodeBip34HeightPush(height);
  if (scriptSig.length < expect.length || !bytesEqual(scriptSig.subarray(0, expect.length), expect)) {
    throw new VerifyError('bad-cb-height', 100, `block height mismatch in coinbase: expected height ${height}`);
  }
}

function hex32(n: number): string {
  return n.toString(16).padStart(8, '0');
}
