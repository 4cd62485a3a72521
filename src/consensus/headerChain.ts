import type { ChainParams } from '../params/chainParams.js';
import { computeBlockHash } from '../primitives/blockHeader.js';
import { bytesEqual, hashToHex } from '../primitives/hex.js';
import type { BlockHeader, Hash256 } from '../primitives/types.js';
import { getNextWorkRequired } from './difficulty.js';
import { MEDIAN_TIME_SPAN, computeMedianTimePast } from './medianTimePast.js';
import { bitsToTarget, checkProofOfWork, computeWork, targetToHex } from './pow.js';

/** A header chain that passed every check that could be made from the file and the params. */
export interface HeaderChainOk {
  readonly ok: true;
  /** Number of headers checked. */
  readonly count: number;
  /** Height of the first header (the start height given). */
  readonly firstHeight: number;
  /** Height of the last header. */
  readonly tipHeight: number;
  /** Block hash of the last header, display (reversed) hex. */
  readonly tipHash: string;
  /** Sum of the work of the given headers only (not of any ancestors before the file). */
  readonly chainWork: bigint;
  /** Difficulty changes recomputed from earlier headers and found equal (for `asert`: every header after the first). */
  readonly retargetsChecked: number;
  /** Difficulty changes taken as given because the data they depend on precedes the file. */
  readonly retargetsUnchecked: number;
}

/** The first header that broke a rule. */
export interface HeaderChainFailure {
  readonly ok: false;
  /** Height of the offending header. */
  readonly height: number;
  /**
   * Bitcoin Core reject string: `high-hash` | `bad-prevblk` | `bad-genesis` | `bad-diffbits` | `time-too-old`;
   * or `no-headers` / `bad-start-height` for unusable input.
   */
  readonly reason: string;
  /** Human-readable context (hashes, expected and actual values). */
  readonly detail: string;
}

/** Outcome of verifyHeaderChain. */
export type HeaderChainResult = HeaderChainOk | HeaderChainFailure;

function hex32(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

function describePowFailure(hash: Hash256, bits: number, powLimit: bigint): string {
  const { target, negative, overflow } = bitsToTarget(bits);
  if (negative) return `bits ${hex32(bits)} are negative`;
  if (overflow) return `bits ${hex32(bits)} overflow 256 bits`;
  if (target === 0n) return `bits ${hex32(bits)} give a zero target`;
  if (target > powLimit) return `bits ${hex32(bits)} are easier than powLimit ${targetToHex(powLimit)}`;
  return `hash ${hashToHex(hash)} > target ${targetToHex(target)}`;
}

/**
 * Verifies a run of consecutive block headers at heights startHeight.. against the chain's rules, stopping at the first
 * failure. Checks per header, in Core's order: proof of work (`high-hash`, also for bits that are negative, zero,
 * overflowing or above powLimit; at height 0 the header is instead compared with params.genesisHashHex, `bad-genesis`,
 * unless that is empty), the link to the previous header (`bad-prevblk`), the difficulty (`bad-diffbits`), and
 * time > median-time-past of the previous 11 headers (`time-too-old`).
 *
 * What can be checked depends on what the file holds (nothing before the first header is known):
 * - The first header's bits (unless it is the genesis) and its link are taken as given; for `bitcoin` at a retarget
 *   height and for `asert` it counts in retargetsUnchecked.
 * - `bitcoin`: non-retarget heights must repeat the predecessor's bits; a retarget at height H is recomputed
 *   (retargetsChecked) when the period's first block H - interval is in the file, else taken as given
 *   (retargetsUnchecked).
 * - `asert`: the anchor (height, bits, parent time) comes from params, so every header after the first is recomputed
 *   from its predecessor (retargetsChecked); headers at or below the anchor height must carry the anchor's bits.
 * - `none`: every header after the first repeats its predecessor's bits.
 * - time-too-old is checked once 11 predecessors are in the file, or from height 1 when the file starts at genesis
 *   (then the file holds the whole ancestry, as Core's MTP over fewer than 11 blocks needs).
 * Not checked here: time-too-new (needs a clock), version rules (bad-version), checkpoints.
 * @param headers consecutive headers, lowest height first
 * @param startHeight height of headers[0], integer >= 0
 * @see Bitcoin Core validation.cpp CheckBlockHeader, ContextualCheckBlockHeader, ChainstateManager::AcceptBlockHeader
 */
export function verifyHeaderChain(params: ChainParams, headers: readonly BlockHeader[], startHeight: number): HeaderChainResult {
  const fail = (height: number, reason: string, detail: string): HeaderChainFailure => ({ ok: false, height, reason, detail });
  if (!Number.isSafeInteger(startHeight) || startHeight < 0) {
    return fail(0, 'bad-start-height', `start height must be a non-negative integer, got ${startHeight}`);
  }
  if (headers.length === 0) return fail(startHeight, 'no-headers', 'no headers to verify');

  const rule = params.difficulty;
  const genesisHex = params.genesisHashHex.toLowerCase();
  const hashes: Hash256[] = [];
  let chainWork = 0n;
  let retargetsChecked = 0;
  let retargetsUnchecked = 0;

  const headerAt = (height: number): BlockHeader => {
    const h = headers[height - startHeight];
    // Only heights inside the file are ever asked for: callers check the range first.
    if (h === undefined) throw new RangeError(`no header at height ${height} in the file`);
    return h;
  };

  for (let i = 0; i < headers.length; i++) {
    const header = headers[i] as BlockHeader;
    const height = startHeight + i;
    const hash = computeBlockHash(header);

    // The genesis block is known by its hash, not by proof of work (Core loads it from params without checks).
    if (height === 0 && genesisHex !== '') {
      if (hashToHex(hash) !== genesisHex) {
        return fail(height, 'bad-genesis', `hash ${hashToHex(hash)} is not the genesis ${genesisHex}`);
      }
    } else if (!checkProofOfWork(hash, header.bits, params.powLimit)) {
      return fail(height, 'high-hash', describePowFailure(hash, header.bits, params.powLimit));
    }

    if (i === 0) {
      if (height > 0) {
        if (rule.kind === 'asert' || (rule.kind === 'bitcoin' && height % rule.retargetInterval === 0)) {
          retargetsUnchecked++;
        }
      }
    } else {
      const prev = headers[i - 1] as BlockHeader;
      const prevHash = hashes[i - 1] as Hash256;
      if (!bytesEqual(header.prevBlock, prevHash)) {
        return fail(
          height,
          'bad-prevblk',
          `prevBlock ${hashToHex(header.prevBlock)} is not the previous header's hash ${hashToHex(prevHash)}`,
        );
      }

      let checkBits = true;
      if (rule.kind === 'bitcoin' && height % rule.retargetInterval === 0) {
        if (height - rule.retargetInterval < startHeight) {
          checkBits = false;
          retargetsUnchecked++;
        } else {
          retargetsChecked++;
        }
      } else if (rule.kind === 'asert') {
        if (rule.anchorTimeFromChain && height - 1 > rule.anchorHeight && rule.anchorHeight < startHeight) {
          // The reference time is the anchor block's own, which this file does not hold.
          checkBits = false;
          retargetsUnchecked++;
        } else {
          retargetsChecked++;
        }
      }
      if (checkBits) {
        const expected = getNextWorkRequired(params, { height: height - 1, time: prev.time, bits: prev.bits }, headerAt);
        if (header.bits !== expected) {
          return fail(height, 'bad-diffbits', `bits ${hex32(header.bits)}, expected ${hex32(expected)}`);
        }
      }

      if (i >= MEDIAN_TIME_SPAN || startHeight === 0) {
        const times = headers.slice(Math.max(0, i - MEDIAN_TIME_SPAN), i).map((h) => h.time);
        const mtp = computeMedianTimePast(times);
        if (header.time <= mtp) {
          return fail(height, 'time-too-old', `time ${header.time} is not after median-time-past ${mtp}`);
        }
      }
    }

    chainWork += computeWork(header.bits);
    hashes.push(hash);
  }

  const last = hashes[hashes.length - 1] as Hash256;
  return {
    ok: true,
    count: headers.length,
    firstHeight: startHeight,
    tipHeight: startHeight + headers.length - 1,
    tipHash: hashToHex(last),
    chainWork,
    retargetsChecked,
    retargetsUnchecked,
  };
}
