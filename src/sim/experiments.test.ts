/**
 * The experiments at small sizes land inside their references' confidence intervals (seeded, so each run is the same
 * run; a change to fork choice, relay, the selfish strategy or the race breaks these).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { doubleSpendRaceModel, runDoubleSpend, runPartition, runSelfish, runStale, selfishMiningModel } from './experiments.js';
import { Simulation } from './simulation.js';
import { hashKey } from '../primitives/hashKey.js';
import { SimRng } from './simRng.js';
import { clopperPearson, meanInterval, rosenfeldAttackSuccess, selfishRevenue, selfishThreshold, nakamotoAttackSuccess, wilson } from './references.js';
import { parseScenario } from './scenario.js';
import { SimError } from './simError.js';

describe('references', () => {
  it('reproduce the whitepaper table, Rosenfeld, and Eyal–Sirer', () => {
    // Nakamoto 2008 §11 table.
    assert.equal(nakamotoAttackSuccess(0.1, 1).toFixed(7), '0.2045873');
    assert.equal(nakamotoAttackSuccess(0.1, 5).toFixed(7), '0.0009137');
    assert.equal(nakamotoAttackSuccess(0.3, 10).toFixed(7), '0.0416605');
    assert.equal(nakamotoAttackSuccess(0.3, 50).toFixed(7), '0.0000006');
    assert.equal(rosenfeldAttackSuccess(0.1, 1).toFixed(4), '0.2000');
    assert.equal(rosenfeldAttackSuccess(0.3, 1).toFixed(4), '0.6000');
    assert.ok(Math.abs(selfishRevenue(1 / 3, 0) - 1 / 3) < 1e-12, 'break-even at the threshold');
    assert.ok(Math.abs(selfishRevenue(0.25, 0.5) - 0.25) < 1e-12);
    assert.equal(selfishThreshold(0), 1 / 3);
    const w = wilson(50, 100);
    assert.ok(w.lo < 0.5 && w.hi > 0.5 && w.hi - w.lo < 0.2);
  });

  it('Clopper–Pearson and Student t intervals match their tables', () => {
    // Exact binomial bounds (R: binom.test(1, 1000)$conf.int = 0.0000253, 0.0055589; binom.test(50, 100) = 0.3983, 0.6017).
    const one = clopperPearson(1, 1000);
    assert.equal(one.lo.toPrecision(3), '0.0000253');
    assert.equal(one.hi.toFixed(5), '0.00556');
    const half = clopperPearson(50, 100);
    assert.deepEqual([half.lo.toFixed(4), half.hi.toFixed(4)], ['0.3983', '0.6017']);
    assert.deepEqual(clopperPearson(0, 1000).lo, 0);
    assert.equal(clopperPearson(0, 1000).hi.toFixed(5), '0.00368');
    // Five values 1..5: mean 3, s = 1.5811, t(0.975, 4) = 2.776 → half-width 1.963.
    const m = meanInterval([1, 2, 3, 4, 5]);
    assert.equal(m.value, 3);
    assert.equal((m.hi - m.value).toFixed(3), '1.963');
  });
});

describe('experiments at small sizes', () => {
  it('double spend: the simulated success rate holds Rosenfeld in its 99 % interval (q = 0.3, z = 1, 2)', async () => {
    const r = await runDoubleSpend({ experiment: 'doubleSpend', seed: 'test-ds', q: [0.3], z: [1, 2], trials: 250, confidence: 0.99 });
    assert.equal(r.rows.length, 2);
    for (const row of r.rows) assert.equal(row['rosenfeldInCi'], 'yes', JSON.stringify(row));
    // The races on real nodes come out exactly as the model's race on the same random draws.
    for (const row of r.rows) {
      const rng = new SimRng(`test-ds/doubleSpend/0.3/${row['z']}`);
      let wins = 0;
      for (let t = 0; t < 250; t++) if (doubleSpendRaceModel(0.3, Number(row['z']), 11, rng)) wins++;
      assert.equal(row['successes'], wins, `z = ${row['z']}`);
    }
  });

  it('stale rate: 10 miners, 20 s latency, mesh — inside 1 − e^(−τ/T)', async () => {
    const r = await runStale({ experiment: 'stale', seed: 'test-stale', users: 10, delaysSec: [20], blocks: 800, confidence: 0.99 });
    const row = r.rows[0]!;
    assert.equal(row['approxInCi'], 'yes', JSON.stringify(row));
    assert.ok(Number(row['stale']) > 0, 'forks happen at 20 s');
  });

  it('selfish mining: α = 0.4, γ = 0 earns more than its share, inside the Eyal–Sirer interval', async () => {
    const r = await runSelfish({ experiment: 'selfish', seed: 'test-selfish', alphas: [0.4], gammas: [0], honestMiners: 6, blocks: 800, confidence: 0.99 });
    const row = r.rows[0]!;
    assert.equal(row['referenceInCi'], 'yes', JSON.stringify(row));
    assert.equal(row['profitable'], 'yes');
  });

  it('selfish mining on real nodes settles the same chain as the Eyal–Sirer state machine on the same finder order (γ = 0)', async (t) => {
    const alpha = 0.4;
    const s = new Simulation({ seed: 'test-selfish-replay', network: { latency: { kind: 'fixed', ms: 100 }, topology: { kind: 'mesh' } } });
    t.after(() => s.close());
    const pool = await s.addUser({ name: 'pool', hashShare: alpha, behaviour: 'selfish' });
    for (let i = 0; i < 4; i++) {
      const u = await s.addUser({ name: `honest${i}`, hashShare: (1 - alpha) / 4 });
      s.network.setLinkLatency(pool.index, u.index, { kind: 'fixed', ms: 0 });
    }
    s.setPublishDelay(pool.index, () => 200);
    s.startMining(300);
    await s.runToEnd();
    const order = [...s.foundAtMs.entries()].sort((a, b) => a[1] - b[1]).map(([h]) => s.finder.get(h) === pool.index);
    const honestNode = s.users[1]!;
    let poolMain = 0;
    for (let h = 1; h <= honestNode.chain.height; h++) if (s.finder.get(hashKey(honestNode.chain.getEntryByHeight(h)!.hash)) === pool.index) poolMain++;
    const model = selfishMiningModel(order);
    assert.ok(order.filter(Boolean).length > 80, 'the pool found its share');
    assert.deepEqual({ pool: poolMain, honest: honestNode.chain.height - poolMain }, model);
  });

  it('partition: the lighter side reorgs and every node ends on one tip', async () => {
    const r = await runPartition({ experiment: 'partition', seed: 'test-part', users: 4, runs: 4, partitionSec: 3_000 });
    const runs = r.rows.filter((x) => typeof x['run'] === 'number');
    assert.equal(runs.length, 4);
    for (const row of runs) assert.equal(row['oneTip'], 'yes');
    assert.ok(runs.some((row) => Number(row['reorgDepth']) > 0), 'some run reorged');
  });

  it('a bad scenario is refused with a code naming the field', () => {
    assert.throws(() => parseScenario({ experiment: 'stale', seed: 's', delaysSec: [1] }), (e: unknown) => e instanceof SimError && e.code === 'bad-scenario' && /blocks/.test(e.message));
    assert.throws(() => parseScenario({ experiment: 'nope', seed: 's' }), SimError);
    assert.throws(() => parseScenario({ experiment: 'doubleSpend', seed: 's', z: [1], trials: 1e9 }), /trials/);
  });
});
