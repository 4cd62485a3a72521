/**
 * Fast mode on real nodes: a forced fork resolved by most work, not length; an overdraft refused with nothing sent;
 * a payment relayed and confirmed; the same seed writing the same results file byte for byte.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChainParams } from '../params/chainParams.js';
import { regtest } from '../params/networks.js';
import { COIN } from '../primitives/types.js';
import { computeTxid } from '../primitives/tx.js';
import { Simulation } from './simulation.js';
import { SimError } from './simError.js';
import { runStale } from './experiments.js';
import { writeResults } from './scenario.js';
import { hashKey } from '../primitives/hashKey.js';
import { computeBlockHash } from '../primitives/blockHeader.js';

/**
 * regtest with ASERT (as src/chain/reorg.test.ts): blocks found fast get harder bits (more work each), blocks far
 * apart fall to powLimit, so a short fast branch can outweigh a long slow one.
 */
const asertRegtest: ChainParams = Object.freeze({
  ...regtest,
  difficulty: {
    kind: 'asert',
    halfLifeSec: 3_600,
    anchorHeight: 0,
    anchorBits: 0x2000ffff,
    anchorParentTimeSec: regtest.genesis.header.time - regtest.targetSpacingSec,
  },
} as const);

describe('sim: fork choice on real nodes', () => {
  it('after a partition heals, every node takes the branch with most work, not the longer one', async (t) => {
    const sim = new Simulation({ seed: 'fork', params: asertRegtest, network: { latency: { kind: 'fixed', ms: 50 }, topology: { kind: 'mesh' } } });
    t.after(() => sim.close());
    const [a1, a2, b1, b2] = [
      await sim.addUser({ name: 'a1', hashShare: 1 }),
      await sim.addUser({ name: 'a2', hashShare: 1 }),
      await sim.addUser({ name: 'b1', hashShare: 1 }),
      await sim.addUser({ name: 'b2', hashShare: 1 }),
    ];
    sim.partition([0, 0, 1, 1]);
    // Side A: 3 blocks 1 s apart (harder and harder). Side B: 6 blocks 100,000 s apart (at powLimit).
    for (let i = 0; i < 3; i++) {
      await sim.runUntil(sim.queue.nowMs + 1_000);
      await sim.mineBlock(a1!);
    }
    for (let i = 0; i < 6; i++) {
      await sim.runUntil(sim.queue.nowMs + 100_000_000);
      await sim.mineBlock(b1!);
    }
    await sim.runToEnd();
    assert.equal(a2!.chain.height, 3);
    assert.equal(b2!.chain.height, 6);
    assert.ok(b2!.chain.tip.chainWork < a2!.chain.tip.chainWork, 'the longer branch has less work');
    assert.equal(b1!.chain.tip.header.bits, asertRegtest.powLimitBits);
    sim.heal();
    await sim.runToEnd();
    assert.ok(sim.oneTip(), 'one tip after heal');
    for (const u of [a1!, a2!, b1!, b2!]) {
      assert.equal(u.chain.height, 3, `${u.name} is on the 3-block branch`);
      assert.equal(u.chain.tip.hashHex, a1!.chain.tip.hashHex);
    }
    assert.equal(b2!.maxReorgDepth, 6, 'the lighter side undid its 6 blocks');
    assert.equal(a2!.reorgCount, 0);
    const tips = b2!.chain.getChainTips();
    assert.deepEqual(tips.map((x) => [x.height, x.status]), [[6, 'valid-fork'], [3, 'active']]);
  });
});

describe('sim: payments on real nodes', () => {
  it('a payment is signed, relayed to every mempool, confirmed, and the sender is debited; an overdraft is refused', async (t) => {
    const sim = new Simulation({ seed: 'pay', network: { latency: { kind: 'fixed', ms: 200 }, topology: { kind: 'ring' } } });
    t.after(() => sim.close());
    const alice = await sim.addUser({ name: 'alice', hashShare: 1 });
    const bob = await sim.addUser({ name: 'bob', hashShare: 1 });
    const carol = await sim.addUser({ name: 'carol', hashShare: 1 });
    for (let i = 0; i < 100; i++) await sim.mineBlock(alice);
    await sim.runToEnd();
    assert.equal(alice.balance().spendableSats, 50n * COIN, 'one mature coinbase at height 100 (maturity 100)');
    await assert.rejects(alice.pay(bob.scriptPubKey, 50n * COIN), (e: unknown) => e instanceof SimError && e.code === 'insufficient-funds');
    assert.equal(alice.mempool.size, 0, 'nothing was sent');
    await assert.rejects(bob.pay(alice.scriptPubKey, 1n), (e: unknown) => e instanceof SimError && e.code === 'insufficient-funds');
    const tx = await alice.pay(bob.scriptPubKey, 10n * COIN);
    sim.broadcastTx(alice, tx);
    await sim.runToEnd();
    assert.ok(carol.mempool.has(computeTxid(tx)) && bob.mempool.has(computeTxid(tx)), 'relayed over the ring');
    assert.equal(alice.balance().lockedSats, 50n * COIN);
    await sim.mineBlock(carol);
    await sim.runToEnd();
    assert.equal(bob.balance().spendableSats, 10n * COIN);
    assert.equal(alice.balance().spendableSats, 2n * 50n * COIN - 10n * COIN - 1_000n, 'debited amount + fee; the next coinbase matured');
    assert.equal(carol.balance().immatureSats, 50n * COIN + 1_000n, 'the miner got the fee');
    assert.equal(alice.mempool.size, 0);
    // A user who joins late catches up by getblocks from a peer (101 blocks, more than the orphan pool would hold).
    const dave = await sim.addUser({ name: 'dave', hashShare: 1 });
    await sim.runToEnd();
    assert.equal(dave.chain.tip.hashHex, alice.chain.tip.hashHex);
    assert.equal(dave.chain.height, 101);
  });
});

describe('sim: determinism', () => {
  it('the same seed writes the same results files byte for byte; another seed does not', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-sim-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const sc = { experiment: 'stale', seed: 'det', users: 5, delaysSec: [30], blocks: 120 } as const;
    const files = async (name: string, seed: string) => {
      const r = await runStale({ ...sc, seed });
      return writeResults(join(dir, name), r, { ...sc, seed }).map((f) => readFileSync(f));
    };
    const a = await files('a', 'det');
    const b = await files('b', 'det');
    const c = await files('c', 'other');
    assert.equal(a.length, 3);
    a.forEach((buf, i) => assert.ok(buf.equals(b[i]!), `file ${i} differs between identical runs`));
    assert.ok(!a[0]!.equals(c[0]!), 'another seed gives other results');
    const json = JSON.parse(a[0]!.toString()) as { rows: { blocks: number; stale: number }[] };
    assert.equal(json.rows[0]!.blocks, 120);
  });
});

describe('sim: modelled block size and per-link bandwidth', () => {
  it('a block counts blockWireBytes on the wire, each link at its own bandwidth, and every arrival is recorded', async (t) => {
    const sim = new Simulation({
      seed: 'wire',
      network: { latency: { kind: 'fixed', ms: 100 }, topology: { kind: 'mesh' } },
      blockWireBytes: 1_000_000,
      recordArrivals: true,
    });
    t.after(() => sim.close());
    const [a] = [await sim.addUser({ name: 'a', hashShare: 1 }), await sim.addUser({ name: 'b', hashShare: 1 }), await sim.addUser({ name: 'c', hashShare: 1 })];
    sim.network.setLinkBandwidth(0, 1, 8_000_000); // 1 MB → 1,000 ms
    sim.network.setLinkBandwidth(0, 2, 4_000_000); // 1 MB → 2,000 ms
    sim.network.setLinkBandwidth(1, 2, 4_000_000); // b's relay to c would come at 1,100 + 2,000 + 100: a's copy is first
    await sim.runToEnd();
    const found = sim.queue.nowMs;
    const block = await sim.mineBlock(a!);
    await sim.runToEnd();
    const arrivals = sim.arrivalMs.get(hashKey(computeBlockHash(block.header)))!;
    assert.deepEqual([...arrivals.entries()].map(([u, ms]) => [u, ms - found]), [[0, 0], [1, 1_100], [2, 2_100]]);
  });
});
