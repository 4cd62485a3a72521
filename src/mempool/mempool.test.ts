/**
 * Mempool accept/reject catalogue: every rejection reason of acceptTransaction, each triggered by a real signed tx
 * that breaks only that rule (Bitcoin Core's reject strings), and what an accepted tx looks like in the pool.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeTaprootKeyPathSighash, SIGHASH } from '../consensus/sighash.js';
import { verifyInput } from '../consensus/verifyInput.js';
import { VerifyError } from '../consensus/verifyError.js';
import { schnorrSign } from '../crypto/schnorr.js';
import { tweakPrivateKey } from '../crypto/taproot.js';
import { hashToHex } from '../primitives/hex.js';
import { NULL_OUTPOINT } from '../primitives/outpoint.js';
import { computeTxid, computeWtxid, getTxBaseSize, getTxVsize, getTxWeight } from '../primitives/tx.js';
import type { Tx, TxOut } from '../primitives/types.js';
import { buildSignedTx } from '../testing/txFactory.js';
import { MEMPOOL_HEIGHT } from '../interfaces/mempoolTypes.js';
import {
  ALICE,
  BOB,
  makeHarness,
  pay,
  payAtVsize,
  spend,
  START_HEIGHT,
  START_MTP,
  txidOf,
  type Harness,
} from '../testing/mempoolHarness.js';

async function assertRejects(h: Harness, tx: Tx, reason: string, score?: number): Promise<VerifyError> {
  const before = h.mempool.size;
  let caught: unknown;
  await assert.rejects(h.mempool.acceptTransaction(tx), (e: unknown) => {
    caught = e;
    return true;
  });
  assert.ok(caught instanceof VerifyError, `expected a VerifyError, got ${String(caught)}`);
  assert.equal(caught.code, reason, caught.message);
  if (score !== undefined) assert.equal(caught.score, score, `score of ${reason}`);
  assert.equal(h.mempool.size, before, 'a rejected tx changes nothing');
  return caught;
}

const opReturn = (data: number[]): TxOut => ({ value: 0n, scriptPubKey: Uint8Array.of(0x6a, data.length, ...data) });

test('accept: a P2WPKH + P2TR spend enters with its fee, vsize, coins and spenders', async () => {
  const h = makeHarness();
  const a = h.fund(100_000n);
  const b = h.fund(50_000n, { key: BOB });
  const { tx } = spend([a, b], [{ key: BOB, value: 120_000n }, { key: ALICE, value: 20_000n }]);
  const result = await h.mempool.acceptTransaction(tx);
  assert.deepEqual(result.txid, computeTxid(tx));
  assert.deepEqual(result.wtxid, computeWtxid(tx));
  assert.equal(result.fee, 10_000n);
  assert.equal(result.vsize, getTxVsize(tx));
  assert.equal(result.feeRateSatPerVb, 10_000 / getTxVsize(tx));
  assert.deepEqual(result.replaced, []);

  const entry = h.mempool.get(computeTxid(tx));
  assert.ok(entry);
  assert.equal(entry.txidHex, txidOf(tx));
  assert.equal(h.mempool.getByWtxid(computeWtxid(tx)), entry);
  assert.equal(entry.weight, getTxWeight(tx));
  assert.equal(entry.height, START_HEIGHT);
  assert.equal(entry.ancestorCount, 1);
  assert.equal(entry.descendantCount, 1);
  assert.equal(h.mempool.size, 1);
  assert.equal(h.mempool.totalVsize, getTxVsize(tx));
  assert.equal(h.mempool.totalFees, 10_000n);
  assert.equal(h.mempool.getSpender(a.outpoint), entry);
  assert.equal(h.mempool.getSpender(b.outpoint), entry);
  assert.deepEqual(h.mempool.getCoin({ txid: computeTxid(tx), index: 0 }), {
    output: { value: 120_000n, scriptPubKey: BOB.scriptPubKey },
    height: MEMPOOL_HEIGHT,
    isCoinbase: false,
  });
  assert.equal(h.mempool.getCoin({ txid: computeTxid(tx), index: 2 }), undefined);
  assert.deepEqual(h.added, [txidOf(tx)]);
});

test('accept: testOnly runs every check (scripts too) without adding', async () => {
  const h = makeHarness();
  const { tx } = pay([h.fund(100_000n)], 1_000n);
  const result = await h.mempool.acceptTransaction(tx, { testOnly: true });
  assert.equal(result.fee, 1_000n);
  assert.equal(h.mempool.size, 0);
  assert.deepEqual(h.added, []);
  const bad = structuredClone(tx) as Tx;
  (bad.outputs[0] as { value: bigint }).value -= 1n;
  await assertRejects(h, bad, 'mandatory-script-verify-flag-failed (sig-nullfail)', 100);
});

test('reject: consensus failures keep checkTransaction reasons and scores', async () => {
  const h = makeHarness();
  const coin = h.fund(100_000n);
  const dup = buildSignedTx([coin, coin], [{ value: 150_000n, scriptPubKey: ALICE.scriptPubKey }]);
  await assertRejects(h, dup, 'bad-txns-inputs-duplicate', 100);
});

test('reject: coinbase', async () => {
  const h = makeHarness();
  const coinbase: Tx = {
    version: 2,
    inputs: [{ prevout: NULL_OUTPOINT, scriptSig: Uint8Array.of(0x02, 0xe9, 0x03), sequence: 0xffffffff, witness: [] }],
    outputs: [{ value: 50_000n, scriptPubKey: ALICE.scriptPubKey }],
    locktime: 0,
  };
  await assertRejects(h, coinbase, 'coinbase', 100);
});

test('reject: version outside 1..2', async () => {
  const h = makeHarness();
  const coin = h.fund(100_000n);
  await assertRejects(h, pay([coin], 1_000n, { version: 3 }).tx, 'version', 0);
  await assertRejects(h, pay([coin], 1_000n, { version: 0 }).tx, 'version', 0);
  await h.mempool.acceptTransaction(pay([coin], 1_000n, { version: 1 }).tx);
});

test('reject: tx-size above MAX_STANDARD_TX_WEIGHT (400,000 WU)', async () => {
  const h = makeHarness();
  const outputs = Array.from({ length: 3300 }, () => ({ key: ALICE, value: 1_000n }));
  const { tx } = spend([h.fund(3_300_000n + 500_000n)], outputs);
  assert.ok(getTxWeight(tx) > 400_000);
  await assertRejects(h, tx, 'tx-size', 0);
});

test('reject: scriptsig-size (cairn spends need an empty scriptSig)', async () => {
  const h = makeHarness();
  const { tx } = pay([h.fund(100_000n)], 1_000n);
  const withScriptSig: Tx = { ...tx, inputs: [{ ...tx.inputs[0]!, scriptSig: Uint8Array.of(0x51) }] };
  await assertRejects(h, withScriptSig, 'scriptsig-size', 0);
});

test('reject: scriptpubkey (OP_RETURN followed by a non-push)', async () => {
  const h = makeHarness();
  const coin = h.fund(100_000n);
  const tx = buildSignedTx([coin], [
    { value: 99_000n, scriptPubKey: ALICE.scriptPubKey },
    { value: 0n, scriptPubKey: Uint8Array.of(0x6a, 0x61) },
  ]);
  await assertRejects(h, tx, 'scriptpubkey', 0);
});

test('reject: dust below 294 sats (P2WPKH) and 330 sats (P2TR) at 3 sat/vB; OP_RETURN is never dust', async () => {
  const h = makeHarness();
  const coin = h.fund(100_000n);
  const mk = (value: bigint, key = ALICE) =>
    buildSignedTx([coin], [{ value: 90_000n, scriptPubKey: ALICE.scriptPubKey }, { value, scriptPubKey: key.scriptPubKey }]);
  await assertRejects(h, mk(293n), 'dust', 0);
  await assertRejects(h, mk(329n, BOB), 'dust', 0);
  await h.mempool.acceptTransaction(mk(330n, BOB), { testOnly: true });
  await h.mempool.acceptTransaction(mk(294n), { testOnly: true });
  const zeroOpReturn = buildSignedTx([coin], [{ value: 90_000n, scriptPubKey: ALICE.scriptPubKey }, opReturn([1, 2, 3])]);
  await h.mempool.acceptTransaction(zeroOpReturn);
});

test('reject: multi-op-return', async () => {
  const h = makeHarness();
  const tx = buildSignedTx([h.fund(100_000n)], [
    { value: 90_000n, scriptPubKey: ALICE.scriptPubKey },
    opReturn([1]),
    opReturn([2]),
  ]);
  await assertRejects(h, tx, 'multi-op-return', 0);
});

test('reject: tx-size-small (non-witness size below 65 bytes)', async () => {
  const h = makeHarness();
  const small = buildSignedTx([h.fund(10_000n)], [{ value: 0n, scriptPubKey: Uint8Array.of(0x6a) }]);
  assert.equal(getTxBaseSize(small), 61);
  await assertRejects(h, small, 'tx-size-small', 0);
  const ok = buildSignedTx([h.fund(10_000n)], [opReturn([1, 2, 3])]);
  assert.equal(getTxBaseSize(ok), 65);
  await h.mempool.acceptTransaction(ok);
});

test('reject: non-final (nLockTime vs next height and tip MTP)', async () => {
  const h = makeHarness();
  const coin = h.fund(100_000n);
  await assertRejects(h, pay([coin], 1_000n, { locktime: START_HEIGHT + 1 }).tx, 'non-final', 0);
  await assertRejects(h, pay([coin], 1_000n, { locktime: START_MTP }).tx, 'non-final', 0);
  await h.mempool.acceptTransaction(pay([coin], 1_000n, { locktime: START_HEIGHT }).tx, { testOnly: true });
  await h.mempool.acceptTransaction(pay([coin], 1_000n, { locktime: START_MTP - 1 }).tx, { testOnly: true });
  // Every input final (nSequence 0xffffffff) disables the lock time.
  await h.mempool.acceptTransaction(pay([coin], 1_000n, { locktime: START_HEIGHT + 50, sequence: 0xffffffff }).tx);
});

test('reject: txn-already-in-mempool and txn-same-nonwitness-data-in-mempool', async () => {
  const h = makeHarness();
  const coin = h.fund(100_000n, { key: BOB });
  const { tx } = pay([coin], 1_000n);
  await h.mempool.acceptTransaction(tx);
  await assertRejects(h, tx, 'txn-already-in-mempool', 0);
  // Same spend signed with an explicit SIGHASH_ALL byte: same txid, another witness.
  const other = pay([coin], 1_000n, { hashType: SIGHASH.ALL }).tx;
  assert.equal(txidOf(other), txidOf(tx));
  assert.notEqual(hashToHex(computeWtxid(other)), hashToHex(computeWtxid(tx)));
  await assertRejects(h, other, 'txn-same-nonwitness-data-in-mempool', 0);
});

test('reject: missing inputs — orphan, known tx without that output, spent in chain, already confirmed', async () => {
  const h = makeHarness();
  const orphanParent = pay([h.fund(100_000n)], 1_000n);
  // The parent was never seen: an orphan.
  await assertRejects(h, pay([orphanParent.coin], 1_000n).tx, 'missing-inputs', 0);

  const parent = pay([h.fund(100_000n)], 1_000n);
  await h.mempool.acceptTransaction(parent.tx);
  const noSuchOutput = { ...parent.coin, outpoint: { txid: parent.coin.outpoint.txid, index: 7 } };
  await assertRejects(h, pay([noSuchOutput], 1_000n).tx, 'bad-txns-inputs-missingorspent', 0);

  // Confirm parent, then a child that spends its output; a second spend of that output is a spend of a spent coin.
  h.connect([parent.tx]);
  const child = pay([parent.coin], 1_000n);
  h.connect([child.tx]);
  await assertRejects(h, pay([parent.coin], 2_000n).tx, 'bad-txns-inputs-missingorspent', 0);
  // Resubmitting a confirmed tx: its inputs are gone but its outputs are in the UTXO set.
  await assertRejects(h, child.tx, 'txn-already-known', 0);
});

test('reject: bad-txns-premature-spend-of-coinbase (maturity 100 at the next height)', async () => {
  const h = makeHarness();
  const young = h.fund(100_000n, { coinbase: true, height: START_HEIGHT - 98 });
  await assertRejects(h, pay([young], 1_000n).tx, 'bad-txns-premature-spend-of-coinbase', 0);
  const mature = h.fund(100_000n, { coinbase: true, height: START_HEIGHT - 99 });
  await h.mempool.acceptTransaction(pay([mature], 1_000n).tx);
});

test('reject: bad-txns-in-belowout', async () => {
  const h = makeHarness();
  const tx = buildSignedTx([h.fund(100_000n)], [{ value: 100_001n, scriptPubKey: ALICE.scriptPubKey }]);
  await assertRejects(h, tx, 'bad-txns-in-belowout', 100);
});

test('reject: bad-witness-nonstandard (consensus-valid taproot spend with an annex)', async () => {
  const h = makeHarness();
  const coin = h.fund(100_000n, { key: BOB });
  const unsigned: Tx = {
    version: 2,
    inputs: [{ prevout: coin.outpoint, scriptSig: new Uint8Array(0), sequence: 0xfffffffd, witness: [] }],
    outputs: [{ value: 99_000n, scriptPubKey: BOB.scriptPubKey }],
    locktime: 0,
  };
  const annex = Uint8Array.of(0x50, 0x01, 0x02);
  const sighash = computeTaprootKeyPathSighash(unsigned, 0, [coin.output], SIGHASH.DEFAULT, annex);
  const sig = schnorrSign(sighash, tweakPrivateKey(BOB.privateKey));
  const tx: Tx = { ...unsigned, inputs: [{ ...unsigned.inputs[0]!, witness: [sig, annex] }] };
  assert.equal(verifyInput(tx, 0, [coin.output]).valid, true, 'valid by consensus');
  await assertRejects(h, tx, 'bad-witness-nonstandard', 0);
});

test('reject: min relay fee not met (1 sat/vB), accepted at exactly 1 sat/vB', async () => {
  const h = makeHarness();
  const low = payAtVsize([h.fund(100_000n)], (v) => BigInt(v - 1));
  await assertRejects(h, low.tx, 'min relay fee not met', 0);
  const exact = payAtVsize([h.fund(100_000n)], (v) => BigInt(v));
  await h.mempool.acceptTransaction(exact.tx);
});

test('reject: max-fee-exceeded above the caller\'s maxFeeRateSatPerKvb; accepted at exactly that rate or without one', async () => {
  const h = makeHarness();
  const rate = 10_000_000n; // 0.10 coin/kvB = 10,000 sat/vB, Core's sendrawtransaction default
  // fee = ceil(rate × vsize / 1000) is the most the ceiling allows.
  const atCeiling = payAtVsize([h.fund(10_000_000n)], (v) => (rate * BigInt(v) + 999n) / 1000n);
  const over = payAtVsize([h.fund(10_000_000n)], (v) => (rate * BigInt(v) + 999n) / 1000n + 1n);
  let caught: unknown;
  await assert.rejects(h.mempool.acceptTransaction(over.tx, { maxFeeRateSatPerKvb: rate }), (e: unknown) => (caught = e) !== undefined);
  assert.ok(caught instanceof VerifyError);
  assert.equal(caught.code, 'max-fee-exceeded');
  assert.equal(caught.score, 0, 'the sender chose the ceiling: no peer to punish');
  assert.match(caught.message, /sat\/kvB for \d+ vB/);
  assert.equal(h.mempool.size, 0);
  await h.mempool.acceptTransaction(atCeiling.tx, { maxFeeRateSatPerKvb: rate });
  await h.mempool.acceptTransaction(over.tx, { maxFeeRateSatPerKvb: 0n });
  assert.equal(h.mempool.size, 2, 'no ceiling: accepted');
});

test('reject: too-long-mempool-chain — ancestor count', async () => {
  const h = makeHarness({ ancestorCountLimit: 3 });
  let coin = h.fund(100_000n);
  for (let i = 0; i < 3; i++) {
    const next = pay([coin], 1_000n);
    await h.mempool.acceptTransaction(next.tx);
    coin = next.coin;
  }
  await assertRejects(h, pay([coin], 1_000n).tx, 'too-long-mempool-chain', 0);
});

test('reject: too-long-mempool-chain — descendant count of an ancestor', async () => {
  const h = makeHarness({ descendantCountLimit: 3 });
  const parent = spend([h.fund(100_000n)], [0, 1, 2].map(() => ({ key: ALICE, value: 30_000n })));
  await h.mempool.acceptTransaction(parent.tx);
  await h.mempool.acceptTransaction(pay([parent.coins[0]!], 1_000n).tx);
  await h.mempool.acceptTransaction(pay([parent.coins[1]!], 1_000n).tx);
  await assertRejects(h, pay([parent.coins[2]!], 1_000n).tx, 'too-long-mempool-chain', 0);
});

test('reject: too-long-mempool-chain — ancestor and descendant sizes', async () => {
  const h = makeHarness({ ancestorSizeLimitVbytes: 250 });
  const t1 = pay([h.fund(100_000n)], 1_000n);
  const t2 = pay([t1.coin], 1_000n);
  await h.mempool.acceptTransaction(t1.tx);
  await h.mempool.acceptTransaction(t2.tx);
  assert.ok(getTxVsize(t1.tx) + getTxVsize(t2.tx) <= 250);
  await assertRejects(h, pay([t2.coin], 1_000n).tx, 'too-long-mempool-chain', 0);

  const d = makeHarness({ descendantSizeLimitVbytes: 300 });
  const parent = spend([d.fund(100_000n)], [{ key: ALICE, value: 40_000n }, { key: ALICE, value: 40_000n }]);
  await d.mempool.acceptTransaction(parent.tx);
  await d.mempool.acceptTransaction(pay([parent.coins[0]!], 1_000n).tx);
  await assertRejects(d, pay([parent.coins[1]!], 1_000n).tx, 'too-long-mempool-chain', 0);
});

test('reject: bad-txns-spends-conflicting-tx (spends an output of the tx it replaces)', async () => {
  const h = makeHarness();
  const c1 = h.fund(100_000n);
  const a = pay([c1], 1_000n);
  await h.mempool.acceptTransaction(a.tx);
  const b = pay([a.coin, c1], 10_000n);
  await assertRejects(h, b.tx, 'bad-txns-spends-conflicting-tx', 100);
});

test('reject: invalid signatures are mandatory-script-verify-flag-failed with score 100', async () => {
  const h = makeHarness();
  const p2wpkh = pay([h.fund(100_000n)], 1_000n).tx;
  const p2tr = pay([h.fund(100_000n, { key: BOB })], 1_000n).tx;
  const tamper = (tx: Tx): Tx => ({ ...tx, outputs: [{ ...tx.outputs[0]!, value: tx.outputs[0]!.value - 1n }] });
  await assertRejects(h, tamper(p2wpkh), 'mandatory-script-verify-flag-failed (sig-nullfail)', 100);
  await assertRejects(h, tamper(p2tr), 'mandatory-script-verify-flag-failed (schnorr-sig)', 100);
  await h.mempool.acceptTransaction(p2wpkh);
  await h.mempool.acceptTransaction(p2tr);
  assert.equal(h.mempool.size, 2);
});

test('accept: a tx spending an unconfirmed parent becomes its child', async () => {
  const h = makeHarness();
  const parent = pay([h.fund(100_000n)], 1_000n);
  const child = pay([parent.coin], 2_000n, { key: BOB });
  await h.mempool.acceptTransaction(parent.tx);
  await h.mempool.acceptTransaction(child.tx);
  const p = h.mempool.get(computeTxid(parent.tx))!;
  const c = h.mempool.get(computeTxid(child.tx))!;
  assert.equal(p.descendantCount, 2);
  assert.equal(p.descendantFees, 3_000n);
  assert.equal(p.descendantSize, p.vsize + c.vsize);
  assert.equal(c.ancestorCount, 2);
  assert.equal(c.ancestorFees, 3_000n);
  assert.deepEqual(h.mempool.getAncestors(computeTxid(child.tx)).map((e) => e.txidHex), [txidOf(parent.tx)]);
  assert.deepEqual(h.mempool.getDescendants(computeTxid(parent.tx)).map((e) => e.txidHex), [txidOf(child.tx)]);
  assert.equal(h.mempool.getCoin(parent.coin.outpoint), undefined, 'spent in the mempool');
});

test('accept: concurrent accepts of a tx and its double spend leave exactly one', async () => {
  const h = makeHarness();
  const coin = h.fund(100_000n);
  const a = pay([coin], 1_000n);
  const b = pay([coin], 1_000n, { key: BOB });
  const results = await Promise.allSettled([h.mempool.acceptTransaction(a.tx), h.mempool.acceptTransaction(b.tx)]);
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  assert.equal(h.mempool.size, 1);
  const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
  assert.equal((rejected.reason as VerifyError).code, 'insufficient fee');
});
