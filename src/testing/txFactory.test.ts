import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyInput } from '../consensus/verifyInput.js';
import { buildSignedTx, buildSpend, makeTestKey, testKeyAddress, type SpendableCoin } from './txFactory.js';
import { decodeTxid } from '../primitives/identity.js';

function fakeCoin(key: ReturnType<typeof makeTestKey>, n: number, value = 100_000n): SpendableCoin {
  return { outpoint: { txid: decodeTxid(new Uint8Array(32).fill(n)), index: n }, output: { value, scriptPubKey: key.scriptPubKey }, key };
}

test('txFactory: signed P2WPKH and P2TR spends verify with consensus verifyInput', () => {
  const a = makeTestKey(1, 'p2wpkh');
  const b = makeTestKey(2, 'p2tr');
  const coins = [fakeCoin(a, 1), fakeCoin(b, 2)];
  const tx = buildSignedTx(coins, [{ value: 150_000n, scriptPubKey: b.scriptPubKey }]);
  const prevouts = coins.map((c) => c.output);
  assert.deepEqual(verifyInput(tx, 0, prevouts), { type: 'witness_v0_keyhash', valid: true });
  assert.deepEqual(verifyInput(tx, 1, prevouts), { type: 'witness_v1_taproot', valid: true });
  assert.equal(makeTestKey(1).privateKey.toString(), a.privateKey.toString(), 'deterministic');
  assert.match(testKeyAddress(a, 'rcrn'), /^rcrn1q/);
  assert.match(testKeyAddress(b, 'rcrn'), /^rcrn1p/);
});

test('txFactory: buildSpend pays value + change and the change is spendable', () => {
  const a = makeTestKey('a', 'p2tr');
  const b = makeTestKey('b', 'p2wpkh');
  const { tx, created } = buildSpend([fakeCoin(a, 3, 50_000n)], { key: b, valueSats: 20_000n }, 1_000n);
  assert.equal(tx.outputs.length, 2);
  assert.equal(tx.outputs[1]!.value, 29_000n);
  const next = buildSpend([created[1]!], { key: b, valueSats: 10_000n }, 500n);
  assert.equal(verifyInput(next.tx, 0, [created[1]!.output]).valid, true);
});
