/**
 * The crash test's workload, in process: its blocks are valid on a real Chain (extends and reorgs alike), the reorgs
 * happen as planned, the UTXO set matches an independent replay, and a step is a pure function of seed and chain
 * state (the property that lets a killed driver resume).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeBlock } from '../primitives/block.js';
import { bytesToHex } from '../primitives/hex.js';
import { mainChainBlocks, openTestChain } from './chainFactory.js';
import { planWorkloadStep } from './chainWorkload.js';
import { SeededRng } from './seededRng.js';
import { replayUtxoDigest } from './utxoReplay.js';

test('SeededRng: same seed, same draws; different seeds differ', () => {
  const draw = (seed: string): number[] => {
    const rng = new SeededRng(seed);
    return Array.from({ length: 8 }, () => rng.int(0, 1_000_000));
  };
  assert.deepEqual(draw('a'), draw('a'));
  assert.notDeepEqual(draw('a'), draw('b'));
  const rng = new SeededRng('range');
  for (let i = 0; i < 1000; i++) {
    const n = rng.int(3, 5);
    assert.ok(n >= 3 && n <= 5);
  }
});

test('chain workload: valid spends and reorgs, digest matches a replay, steps are deterministic', async (t) => {
  const tc = await openTestChain();
  t.after(() => tc.destroy());
  const { chain, store } = tc;
  const options = { seed: 'workload-test', reorgChance: 0.5 };
  let reorgSteps = 0;
  let spends = 0;
  while (chain.height < 130) {
    const step = planWorkloadStep({ chain, chainIndex: store.chainIndex }, options);
    const again = planWorkloadStep({ chain, chainIndex: store.chainIndex }, options);
    assert.deepEqual(again.blocks.map((b) => bytesToHex(encodeBlock(b))), step.blocks.map((b) => bytesToHex(encodeBlock(b))));
    const startHeight = chain.height;
    const reorgs: { depth: number; forkHeight: number }[] = [];
    for (const block of step.blocks) {
      const result = await chain.processBlock(block);
      assert.ok(result.status === 'connected' || result.status === 'side-chain', `${result.status}: ${result.reason ?? ''} ${result.detail ?? ''}`);
      if (result.reorg !== undefined) reorgs.push(result.reorg);
      spends += block.txs.length - 1;
    }
    if (step.kind === 'reorg') {
      reorgSteps++;
      assert.deepEqual(reorgs, [{ depth: step.depth, forkHeight: step.forkHeight }]);
      assert.equal(chain.height, step.forkHeight + step.blocks.length);
    } else {
      assert.deepEqual(reorgs, []);
      assert.equal(chain.height, startHeight + 1);
    }
  }
  assert.ok(reorgSteps >= 3, `only ${reorgSteps} reorgs`);
  assert.ok(spends >= 50, `only ${spends} spends`);
  const replay = replayUtxoDigest(mainChainBlocks(chain));
  const digest = chain.computeUtxoDigest();
  assert.deepEqual({ txouts: digest.txouts, totalAmount: digest.totalAmount, hashSerialized: digest.hashSerialized }, replay);
});
