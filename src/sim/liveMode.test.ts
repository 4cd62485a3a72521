/**
 * Live mode: real time and real proof of work. Two users grind real nonces at a simulation difficulty (about 2,000
 * hashes a block) until they have found two blocks between them; the blocks carry the harder bits, every node
 * accepted them (so their hashes meet the target), and both users end on one tip.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { regtest } from '../params/networks.js';
import { LiveRunner, expectedHashes, liveParams } from './liveMode.js';
import { Simulation } from './simulation.js';

describe('sim live mode', () => {
  it('finds blocks by real PoW at the simulation difficulty, paced by the wall clock', async (t) => {
    const params = liveParams(1, 2_000);
    const sim = new Simulation({ seed: 'live', params, blockIntervalSec: 1, network: { latency: { kind: 'fixed', ms: 20 }, topology: { kind: 'mesh' } } });
    t.after(() => sim.close());
    const a = await sim.addUser({ name: 'a', hashShare: 1 });
    const b = await sim.addUser({ name: 'b', hashShare: 1 });
    const runner = new LiveRunner(sim, 2_000);
    const v0 = sim.queue.nowMs;
    // Wait on the state (two blocks), in half-second slices, bounded.
    for (let i = 0; i < 120 && sim.stats.mined < 2; i++) await runner.run(500);
    assert.ok(sim.stats.mined >= 2, `blocks found: ${sim.stats.mined}`);
    await sim.runToEnd();
    assert.ok(sim.oneTip());
    assert.ok(a.chain.height >= 1 && a.chain.height === b.chain.height);
    const first = a.chain.getEntryByHeight(1)!;
    assert.notEqual(first.header.bits, regtest.powLimitBits, 'harder than regtest');
    assert.ok(expectedHashes(first.header.bits) >= 1_000, `expected hashes ${expectedHashes(first.header.bits)}`);
    assert.ok(sim.queue.nowMs > v0, 'virtual time followed the wall clock');
  });
});
