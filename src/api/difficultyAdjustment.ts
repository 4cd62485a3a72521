import type { ChainReader } from '../interfaces/chainReader.js';
import { getNextWorkRequired } from '../consensus/difficulty.js';
import type { ChainParams } from '../params/chainParams.js';
import { difficultyFromBits } from './coreJson.js';
import type { DifficultyAdjustment } from './esploraSchemas.js';

/**
 * Blocks in the virtual epoch of chains without Bitcoin's retarget (ASERT and `none`): Bitcoin's 2,016, counted from
 * height 0, so mempool.space's epoch-shaped fields have a meaning on every network.
 */
export const VIRTUAL_EPOCH_BLOCKS = 2016;
/** mempool.space does not estimate during the first 7.2% of an epoch (146 of 2,016 blocks). */
const ESTIMATE_LAG_FRACTION = 146 / 2016;

/**
 * mempool.space's /v1/difficulty-adjustment for any cairn difficulty rule. Epoch fields (progressPercent,
 * remainingBlocks, nextRetargetHeight, previousTime) use the real retarget interval under the `bitcoin` rule and a
 * virtual 2,016-block epoch from height 0 under ASERT and `none`. timeAvg = (now − epoch start block time) / blocks
 * in the epoch (the target spacing before the first block); adjustedTimeAvg is the target spacing during the first
 * 7.2% of the epoch, as mempool.space, else timeAvg; remainingTime = remainingBlocks × adjustedTimeAvg.
 * difficultyChange (percent) by rule:
 * - `bitcoin`: mempool.space's estimate, targetSpacing / timeAvg − 1 clamped to [−75, +300] (0 in the first 7.2%);
 * - `asert` (every block adjusts): the ASERT difficulty the block at nextRetargetHeight would get if the remaining
 *   blocks came every adjustedTimeAvg seconds, relative to the difficulty of the epoch's first block — the realised
 *   ASERT change of the epoch so far plus its projection, exact aserti3-2d arithmetic (getNextWorkRequired);
 * - `none`: 0.
 * previousRetarget = difficulty change (percent) across the previous epoch: from the previous epoch's first block to
 * this epoch's first block (for `bitcoin`, from the block before the retarget to the retarget block); 0 in the first
 * epoch. timeOffset is 0 (cairn has no testnet minimum-difficulty rule). expectedBlocks = elapsed epoch time / spacing.
 * Times in ms except previousTime (seconds), as mempool.space.
 * @see mempool.space backend/src/api/difficulty-adjustment.ts calcDifficultyAdjustment
 */
export function computeDifficultyAdjustment(chain: ChainReader, params: ChainParams, nowSec: number): DifficultyAdjustment {
  const rule = params.difficulty;
  const spacing = params.targetSpacingSec;
  const tip = chain.tip;
  const epochLength = rule.kind === 'bitcoin' ? rule.retargetInterval : VIRTUAL_EPOCH_BLOCKS;
  const blocksInEpoch = tip.height % epochLength;
  const epochStartHeight = tip.height - blocksInEpoch;
  const epochStart = chain.getEntryByHeight(epochStartHeight) ?? tip;
  const remainingBlocks = epochLength - blocksInEpoch;
  const nextRetargetHeight = tip.height + remainingBlocks;
  const elapsedSec = Math.max(0, nowSec - epochStart.header.time);
  const timeAvgSec = blocksInEpoch > 0 ? elapsedSec / blocksInEpoch : spacing;
  const estimating = blocksInEpoch >= Math.round(epochLength * ESTIMATE_LAG_FRACTION);
  const adjustedTimeAvgSec = estimating && timeAvgSec > 0 ? timeAvgSec : spacing;
  const percentChange = (fromBits: number, toBits: number): number => (difficultyFromBits(toBits) / difficultyFromBits(fromBits) - 1) * 100;

  let difficultyChange = 0;
  let previousRetarget = 0;
  if (rule.kind === 'bitcoin') {
    if (estimating && timeAvgSec > 0) difficultyChange = Math.min(300, Math.max(-75, (spacing / timeAvgSec - 1) * 100));
    const beforeRetarget = epochStartHeight > 0 ? chain.getEntryByHeight(epochStartHeight - 1) : undefined;
    if (beforeRetarget !== undefined) previousRetarget = percentChange(beforeRetarget.header.bits, epochStart.header.bits);
  } else if (rule.kind === 'asert') {
    // The parent of the block at nextRetargetHeight, projected at adjustedTimeAvg per remaining block.
    const parentHeight = nextRetargetHeight - 1;
    const parentTime = Math.round(tip.header.time + (parentHeight - tip.height) * adjustedTimeAvgSec);
    const projectedBits = getNextWorkRequired(params, { height: parentHeight, time: parentTime, bits: tip.header.bits }, (height) => {
      const ancestor = chain.getEntryByHeight(height);
      if (ancestor === undefined) throw new RangeError(`no main-chain block at height ${height}`);
      return { time: ancestor.header.time, bits: ancestor.header.bits };
    });
    difficultyChange = percentChange(epochStart.header.bits, projectedBits);
    const previousEpochStart = epochStartHeight > 0 ? chain.getEntryByHeight(epochStartHeight - epochLength) : undefined;
    if (previousEpochStart !== undefined) previousRetarget = percentChange(previousEpochStart.header.bits, epochStart.header.bits);
  }
  const timeAvg = Math.floor(timeAvgSec * 1000);
  const adjustedTimeAvg = Math.floor(adjustedTimeAvgSec * 1000);
  const remainingTime = remainingBlocks * adjustedTimeAvg;
  return {
    progressPercent: (blocksInEpoch / epochLength) * 100,
    difficultyChange,
    estimatedRetargetDate: nowSec * 1000 + remainingTime,
    remainingBlocks,
    remainingTime,
    previousRetarget,
    previousTime: epochStart.header.time,
    nextRetargetHeight,
    timeAvg,
    adjustedTimeAvg,
    timeOffset: 0,
    expectedBlocks: elapsedSec / spacing,
  };
}
