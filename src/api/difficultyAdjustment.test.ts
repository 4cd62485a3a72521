import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Chain } from '../chain/chain.js';
import { getNextWorkRequired } from '../consensus/difficulty.js';
import type { ChainParams } from '../params/chainParams.js';
import { bitcoin, main, regtest } from '../params/networks.js';
import { computeDifficultyAdjustment } from './difficultyAdjustment.js';

/**
 * A chain of `height + 1` headers `spacingSec` apart from the genesis, with the bits the params' rule gives each block
 * (bits are a fixture here; the expectations below come from the published formulas, not from this code).
 */
function fakeChain(params: ChainParams, height: number, spacingSec: number): Chain {
  const entries: { height: number; header: { time: number; bits: number } }[] = [];
  const t0 = params.genesis.header.time;
  entries.push({ height: 0, header: { time: t0, bits: params.genesis.header.bits } });
  for (let h = 1; h <= height; h++) {
    const parent = entries[h - 1]!;
    const bits = getNextWorkRequired(params, { height: h - 1, time: parent.header.time, bits: parent.header.bits }, (a) => entries[a]!.header);
    entries.push({ height: h, header: { time: t0 + h * spacingSec, bits } });
  }
  return { tip: entries[height], getEntryByHeight: (h: number) => entries[h] } as unknown as Chain;
}

test('difficulty adjustment under ASERT: the projected change over a virtual 2,016-block epoch', () => {
  // main: 150 s spacing, 2-day half-life; blocks every 75 s (twice too fast), tip at 3,000 (984 blocks into epoch 1).
  const chain = fakeChain(main, 3000, 75);
  const tipTime = main.genesis.header.time + 3000 * 75;
  const da = computeDifficultyAdjustment(chain, main, tipTime);
  assert.equal(da.nextRetargetHeight, 4032);
  assert.equal(da.remainingBlocks, 4032 - 3000);
  assert.equal(da.progressPercent, (984 / 2016) * 100);
  assert.equal(da.timeAvg, 75_000);
  assert.equal(da.adjustedTimeAvg, 75_000);
  assert.equal(da.remainingTime, 1032 * 75_000);
  assert.equal(da.estimatedRetargetDate, tipTime * 1000 + 1032 * 75_000);
  assert.equal(da.previousTime, main.genesis.header.time + 2016 * 75);
  assert.equal(da.expectedBlocks, (984 * 75) / 150);
  // aserti3-2d: difficulty ∝ 2^(−(parent time − anchor parent time − spacing × (parent height + 1)) / halfLife).
  // From block 2,016 (parent 2,015) to block 4,032 (parent 4,031) at 75 s per block: 2^(2,016 × 75 / 172,800).
  const expected = (2 ** ((2016 * 75) / 172_800) - 1) * 100;
  assert.ok(Math.abs(da.difficultyChange - expected) < 0.1, `${da.difficultyChange} vs ${expected}`);
  // The previous epoch: block 0 (the anchor's bits) to block 2,016 (parent 2,015): 2^(2,015 × 75 / 172,800).
  const previous = (2 ** ((2015 * 75) / 172_800) - 1) * 100;
  assert.ok(Math.abs(da.previousRetarget - previous) < 0.1, `${da.previousRetarget} vs ${previous}`);
  assert.equal(da.timeOffset, 0);

  // On schedule, ASERT keeps the difficulty.
  const steady = computeDifficultyAdjustment(fakeChain(main, 3000, 150), main, main.genesis.header.time + 3000 * 150);
  assert.ok(Math.abs(steady.difficultyChange) < 0.1, String(steady.difficultyChange));
});

test("difficulty adjustment under Bitcoin's retarget: mempool.space's estimate", () => {
  // Blocks every 300 s (twice too fast): next retarget +100 %; 500 blocks into the epoch (past the 7.2 % lag).
  const chain = fakeChain(bitcoin, 2016 + 500, 300);
  const now = bitcoin.genesis.header.time + (2016 + 500) * 300;
  const da = computeDifficultyAdjustment(chain, bitcoin, now);
  assert.equal(da.nextRetargetHeight, 4032);
  assert.equal(da.remainingBlocks, 2016 - 500);
  assert.ok(Math.abs(da.difficultyChange - 100) < 1e-9);
  // The retarget at 2,016 saw 2,015 intervals of 300 s: Core's timespan 604,500 s of 1,209,600 → about ×2.
  assert.ok(Math.abs(da.previousRetarget - (1_209_600 / 604_500 - 1) * 100) < 0.01, String(da.previousRetarget));
  // Early in the epoch mempool.space does not estimate.
  const early = computeDifficultyAdjustment(fakeChain(bitcoin, 2016 + 10, 300), bitcoin, now);
  assert.equal(early.difficultyChange, 0);
  assert.equal(early.adjustedTimeAvg, 600_000);
});

test('difficulty adjustment without retargeting (regtest): no change', () => {
  const da = computeDifficultyAdjustment(fakeChain(regtest, 10, 600), regtest, regtest.genesis.header.time + 6000);
  assert.equal(da.difficultyChange, 0);
  assert.equal(da.previousRetarget, 0);
  assert.equal(da.nextRetargetHeight, 2016);
  assert.equal(da.timeAvg, 600_000);
});
