/**
 * Full RBF with BIP-125's fee rules as Bitcoin Core applies them (doc/policy/mempool-replacements.md): each rule
 * broken alone by real signed txs, and what a successful replacement evicts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VerifyError } from '../consensus/verifyError.js';
import { computeTxid, getTxVsize } from '../primitives/tx.js';
import type { Tx } from '../primitives/types.js';
import { checkReplacementFeeRate, checkReplacementFees } from './replacement.js';
import { ALICE, BOB, makeHarness, pay, payAtVsize, spend, txidOf, type Harness } from '../testing/mempoolHarness.js';
import { hashToHex } from '../primitives/hex.js';

async function rejectReason(h: Harness, tx: Tx): Promise<string> {
  try {
    await h.mempool.acceptTransaction(tx);
  } catch (e) {
    assert.ok(e instanceof VerifyError);
    assert.equal(e.score, 0, 'RBF failures are policy (score 0)');
    return e.code;
  }
  assert.fail('expected a rejection');
}

test('rbf: a replacement paying more evicts the conflict and its descendants', async () => {
  const h = makeHarness();
  const c1 = h.fund(100_000n);
  const a = pay([c1], 1_000n);
  const a2 = pay([a.coin], 1_000n);
  await h.mempool.acceptTransaction(a.tx);
  await h.mempool.acceptTransaction(a2.tx);
  const b = pay([c1], 5_000n, { key: BOB });
  const result = await h.mempool.acceptTransaction(b.tx);
  assert.deepEqual(result.replaced.map(hashToHex).sort(), [txidOf(a.tx), txidOf(a2.tx)].sort());
  assert.deepEqual(
    h.removed.map((r) => r.reason),
    ['replaced', 'replaced'],
  );
  assert.deepEqual(h.removed.map((r) => r.txid).sort(), [txidOf(a.tx), txidOf(a2.tx)].sort());
  assert.equal(h.mempool.has(computeTxid(a.tx)), false);
  assert.equal(h.mempool.has(computeTxid(a2.tx)), false);
  assert.equal(h.mempool.getSpender(c1.outpoint)?.txidHex, txidOf(b.tx));
  assert.equal(h.mempool.size, 1);
  assert.equal(h.mempool.totalFees, 5_000n);
  assert.equal(h.mempool.totalVsize, getTxVsize(b.tx));
});

test('rbf: full RBF — a tx that does not signal (all nSequence final) is replaceable too', async () => {
  const h = makeHarness();
  const c1 = h.fund(100_000n);
  await h.mempool.acceptTransaction(pay([c1], 1_000n, { sequence: 0xffffffff }).tx);
  const result = await h.mempool.acceptTransaction(pay([c1], 3_000n, { key: BOB }).tx);
  assert.equal(result.replaced.length, 1);
});

test('rbf rule 6: a higher absolute fee at a lower fee rate than the direct conflict is refused', async () => {
  const h = makeHarness();
  const c1 = h.fund(100_000n);
  const c2 = h.fund(100_000n);
  const a = pay([c1], 2_000n);
  await h.mempool.acceptTransaction(a.tx);
  const b = pay([c1, c2], 2_500n);
  assert.ok(2_500 / getTxVsize(b.tx) < 2_000 / getTxVsize(a.tx), 'lower fee rate');
  assert.ok(2_500n - 2_000n >= BigInt(getTxVsize(b.tx)), 'rules 3 and 4 alone would pass');
  assert.equal(await rejectReason(h, b.tx), 'insufficient fee');
  assert.equal(h.mempool.has(computeTxid(a.tx)), true);
});

test('rbf rule 3: less than the total fees of everything evicted is refused', async () => {
  const h = makeHarness();
  const c1 = h.fund(100_000n);
  const a = pay([c1], 1_000n);
  const a2 = pay([a.coin], 10_000n);
  await h.mempool.acceptTransaction(a.tx);
  await h.mempool.acceptTransaction(a2.tx);
  const b = pay([c1], 5_000n, { key: BOB });
  assert.equal(await rejectReason(h, b.tx), 'insufficient fee');
  assert.equal(h.mempool.size, 2);
});

test('rbf rule 4: the extra fee must pay for the replacement at the incremental relay fee (1 sat/vB)', async () => {
  const h = makeHarness();
  const c1 = h.fund(100_000n);
  await h.mempool.acceptTransaction(pay([c1], 1_000n).tx);
  const short = payAtVsize([c1], (v) => 1_000n + BigInt(v - 1), { key: BOB });
  assert.equal(await rejectReason(h, short.tx), 'insufficient fee');
  const enough = payAtVsize([c1], (v) => 1_000n + BigInt(v), { key: BOB });
  const result = await h.mempool.acceptTransaction(enough.tx);
  assert.equal(result.replaced.length, 1);
});

test('rbf rule 5: evicting more than maxReplacementEvictions txs is refused', async () => {
  const h = makeHarness({ maxReplacementEvictions: 2 });
  const c1 = h.fund(100_000n);
  const a = spend([c1], [{ key: ALICE, value: 45_000n }, { key: ALICE, value: 45_000n }]);
  await h.mempool.acceptTransaction(a.tx);
  await h.mempool.acceptTransaction(pay([a.coins[0]!], 1_000n).tx);
  await h.mempool.acceptTransaction(pay([a.coins[1]!], 1_000n).tx);
  assert.equal(await rejectReason(h, pay([c1], 50_000n, { key: BOB }).tx), 'too many potential replacements');
  // With two txs to evict it is allowed.
  const h2 = makeHarness({ maxReplacementEvictions: 2 });
  const d1 = h2.fund(100_000n);
  const d = spend([d1], [{ key: ALICE, value: 45_000n }, { key: ALICE, value: 45_000n }]);
  await h2.mempool.acceptTransaction(d.tx);
  await h2.mempool.acceptTransaction(pay([d.coins[0]!], 1_000n).tx);
  assert.equal((await h2.mempool.acceptTransaction(pay([d1], 50_000n, { key: BOB }).tx)).replaced.length, 2);
});

test('rbf rule 2: a replacement may not add unconfirmed inputs, except outputs of its conflicts\' parents', async () => {
  const h = makeHarness();
  const c1 = h.fund(100_000n);
  const unrelated = pay([h.fund(100_000n)], 1_000n);
  await h.mempool.acceptTransaction(unrelated.tx);
  await h.mempool.acceptTransaction(pay([c1], 1_000n).tx);
  assert.equal(await rejectReason(h, pay([c1, unrelated.coin], 20_000n, { key: BOB }).tx), 'replacement-adds-unconfirmed');

  const parent = spend([h.fund(100_000n)], [{ key: ALICE, value: 45_000n }, { key: ALICE, value: 45_000n }]);
  await h.mempool.acceptTransaction(parent.tx);
  const c3 = h.fund(100_000n);
  const a = pay([c3, parent.coins[0]!], 1_000n);
  await h.mempool.acceptTransaction(a.tx);
  const b = pay([c3, parent.coins[1]!], 20_000n, { key: BOB });
  const result = await h.mempool.acceptTransaction(b.tx);
  assert.deepEqual(result.replaced.map(hashToHex), [txidOf(a.tx)]);
});

test('rbf: descendant limits are counted without the txs the replacement evicts', async () => {
  const h = makeHarness({ descendantCountLimit: 2 });
  const parent = spend([h.fund(100_000n)], [{ key: ALICE, value: 45_000n }, { key: ALICE, value: 45_000n }]);
  await h.mempool.acceptTransaction(parent.tx);
  await h.mempool.acceptTransaction(pay([parent.coins[0]!], 1_000n).tx);
  assert.equal(await rejectReason(h, pay([parent.coins[1]!], 1_000n).tx), 'too-long-mempool-chain');
  const replacement = await h.mempool.acceptTransaction(pay([parent.coins[0]!], 5_000n, { key: BOB }).tx);
  assert.equal(replacement.replaced.length, 1);
  assert.equal(h.mempool.get(computeTxid(parent.tx))!.descendantCount, 2);
});

test('rbf fee rules: boundaries of checkReplacementFeeRate and checkReplacementFees', () => {
  const conflict = { txidHex: 'aa', fee: 1_000n, vsize: 100 };
  assert.throws(() => checkReplacementFeeRate('bb', 2_000n, 200, [conflict]), /insufficient fee/, 'equal rate is not higher');
  checkReplacementFeeRate('bb', 2_001n, 200, [conflict]);
  assert.throws(() => checkReplacementFees('bb', 999n, 100, 1_000n, 1000), /less fees than conflicting txs/);
  assert.throws(() => checkReplacementFees('bb', 1_099n, 100, 1_000n, 1000), /not enough additional fees/);
  checkReplacementFees('bb', 1_100n, 100, 1_000n, 1000);
});
