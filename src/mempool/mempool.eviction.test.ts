/**
 * Size cap, rolling minimum fee, CPFP and ancestor-fee-rate ordering, with real signed txs. The cap is small
 * (350 vB: three 1-in-1-out P2WPKH spends of ~110 vB fit, four do not).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VerifyError } from '../consensus/verifyError.js';
import type { SpendableCoin } from '../testing/txFactory.js';
import { BOB, makeHarness, payAtRate, START_NOW, txidOf, type Harness } from '../testing/mempoolHarness.js';
import { computeTxid } from '../primitives/tx.js';
import { hashToHex } from '../primitives/hex.js';

const CAP = 350;

async function addAtRate(h: Harness, rate: number, coin?: SpendableCoin) {
  const r = payAtRate([coin ?? h.fund(100_000n)], rate);
  await h.mempool.acceptTransaction(r.tx);
  return r;
}

async function rejectReason(h: Harness, promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof VerifyError);
    return e.code;
  }
  assert.fail('expected a rejection');
}

test('eviction: over the cap the lowest fee-rate package goes, and the rolling minimum fee rises past it', async () => {
  const h = makeHarness({ maxSizeVbytes: CAP });
  const t5 = await addAtRate(h, 5);
  const t10 = await addAtRate(h, 10);
  const t20 = await addAtRate(h, 20);
  assert.equal(h.mempool.size, 3);
  assert.equal(h.mempool.getMinFeeRateSatPerKvb(), 0, 'no minimum before the first eviction');
  const t15 = await addAtRate(h, 15);
  assert.deepEqual(h.removed, [{ txid: txidOf(t5.tx), reason: 'sizelimit' }]);
  assert.ok(h.mempool.totalVsize <= CAP);
  for (const t of [t10, t15, t20]) assert.ok(h.mempool.has(computeTxid(t.tx)));
  // The evicted package paid 5 sat/vB = 5000 sat/kvB; plus the 1000 sat/kvB incremental relay fee.
  assert.equal(h.mempool.getMinFeeRateSatPerKvb(), 6000);

  const low = payAtRate([h.fund(100_000n)], 4);
  assert.equal(await rejectReason(h, h.mempool.acceptTransaction(low.tx)), 'mempool min fee not met');

  // 7 sat/vB passes the minimum but is then the lowest package in a full pool: evicted at once.
  const t7 = payAtRate([h.fund(100_000n)], 7);
  assert.equal(await rejectReason(h, h.mempool.acceptTransaction(t7.tx)), 'mempool full');
  assert.equal(h.mempool.has(computeTxid(t7.tx)), false);
  assert.equal(h.mempool.getMinFeeRateSatPerKvb(), 8000);

  // No decay until a block arrives; then a 12-hour half-life (the pool is over half full).
  h.state.now += 12 * 3600;
  assert.equal(h.mempool.getMinFeeRateSatPerKvb(), 8000);
  h.connect([]);
  h.state.now += 12 * 3600;
  assert.equal(h.mempool.getMinFeeRateSatPerKvb(), 4000);
});

test('eviction: a new low-fee tx in a full pool is rejected with mempool full, the rest stays', async () => {
  const h = makeHarness({ maxSizeVbytes: CAP });
  const kept = [await addAtRate(h, 10), await addAtRate(h, 20), await addAtRate(h, 30)];
  const t5 = payAtRate([h.fund(100_000n)], 5);
  assert.equal(await rejectReason(h, h.mempool.acceptTransaction(t5.tx)), 'mempool full');
  assert.equal(h.mempool.size, 3);
  for (const t of kept) assert.ok(h.mempool.has(computeTxid(t.tx)));
});

test('eviction: CPFP — a low-fee parent with a high-fee child outlives a lone tx paying more than the parent', async () => {
  const h = makeHarness({ maxSizeVbytes: CAP });
  const parent = await addAtRate(h, 1);
  const child = await addAtRate(h, 50, parent.coin);
  const lone = await addAtRate(h, 5);
  await addAtRate(h, 10);
  assert.deepEqual(h.removed, [{ txid: txidOf(lone.tx), reason: 'sizelimit' }]);
  assert.ok(h.mempool.has(computeTxid(parent.tx)));
  assert.ok(h.mempool.has(computeTxid(child.tx)));
});

test('eviction: evicting a parent takes its descendants with it', async () => {
  const h = makeHarness({ maxSizeVbytes: CAP });
  const parent = await addAtRate(h, 2);
  const child = await addAtRate(h, 3, parent.coin);
  await addAtRate(h, 20);
  await addAtRate(h, 30);
  assert.deepEqual(h.removed.map((r) => r.txid).sort(), [txidOf(parent.tx), txidOf(child.tx)].sort());
  assert.ok(h.removed.every((r) => r.reason === 'sizelimit'));
});

/** The mempool's estimate for one target, sat/vB. */
const estimate = (h: { mempool: { estimateFeeRates(t: readonly number[]): Map<number, number> } }, target: number): number =>
  h.mempool.estimateFeeRates([target]).get(target)!;

test('ordering: txidsByAncestorFeeRate puts CPFP packages by package rate, parents first', async () => {
  const h = makeHarness({}, { maxBlockWeight: 1000 });
  const x = await addAtRate(h, 10);
  const p = await addAtRate(h, 1);
  const c = await addAtRate(h, 50, p.coin);
  const hi = await addAtRate(h, 30);
  const k = await addAtRate(h, 2, hi.coin);
  // H (30) > P+C package (~25.5) > X (10) > K (2, alone once H is taken).
  assert.deepEqual(h.mempool.txidsByAncestorFeeRate().map(hashToHex), [hi, p, c, x, k].map((t) => txidOf(t.tx)));
  const packages = h.mempool.selectAncestorPackages();
  assert.deepEqual(packages[1], { txids: [computeTxid(p.tx), computeTxid(c.tx)], fee: p.fee + c.fee, vsize: p.vsize + c.vsize });

  // Mempool-depth estimate with 250 vB blocks: 1 block deep lands in the P+C package, 2 blocks in K, 3 beyond all.
  assert.equal(estimate(h, 1), Number(p.fee + c.fee) / (p.vsize + c.vsize));
  assert.equal(estimate(h, 2), 2);
  assert.equal(estimate(h, 3), 1, 'floored at the min relay fee');
  assert.equal(estimate(h, 0), estimate(h, 1));
});

test('estimate: an empty mempool gives the min relay fee rate', () => {
  const h = makeHarness({ minRelayFeeRateSatPerKvb: 2000 });
  assert.equal(estimate(h, 1), 2);
  assert.equal(h.state.now, START_NOW);
});

test('ordering: a high-fee parent is taken alone before a low-fee child', async () => {
  const h = makeHarness();
  const parent = await addAtRate(h, 40, h.fund(100_000n, { key: BOB }));
  const child = await addAtRate(h, 1, parent.coin);
  const mid = await addAtRate(h, 5);
  assert.deepEqual(h.mempool.txidsByAncestorFeeRate().map(hashToHex), [parent, mid, child].map((t) => txidOf(t.tx)));
});
