import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NULL_OUTPOINT } from '../primitives/outpoint.js';
import { computeTxid } from '../primitives/tx.js';
import type { Outpoint, Tx, TxOut } from '../primitives/types.js';
import { type Coin, UtxoView } from './utxoView.js';
import { VerifyError } from './verifyError.js';
import { decodeTxid } from '../primitives/identity.js';

const P2WPKH: TxOut = { value: 1_000n, scriptPubKey: Uint8Array.of(0x00, 0x14, ...new Uint8Array(20)) };
const isBip30 = (e: unknown): boolean => e instanceof VerifyError && e.code === 'bad-txns-BIP30';
const OP_RETURN: TxOut = { value: 0n, scriptPubKey: Uint8Array.of(0x6a, 0x01, 0x07) };

function op(n: number, index = 0): Outpoint {
  return { txid: decodeTxid(new Uint8Array(32).fill(n)), index };
}

test('UtxoView adds, finds, spends and counts coins by outpoint value (not identity)', () => {
  const view = new UtxoView();
  const coin: Coin = { output: P2WPKH, height: 5, isCoinbase: false };
  view.addCoin(op(1, 2), coin);
  assert.equal(view.size, 1);
  assert.equal(view.has(op(1, 2)), true);
  assert.equal(view.getCoin(op(1, 2)), coin);
  assert.equal(view.has(op(1, 3)), false);
  assert.equal(view.has(op(2, 2)), false);
  assert.equal(view.getCoin(op(1, 3)), undefined);

  assert.equal(view.spendCoin(op(1, 2)), coin);
  assert.equal(view.size, 0);
  assert.equal(view.has(op(1, 2)), false);
  assert.equal(view.spendCoin(op(1, 2)), undefined, 'a spent coin cannot be spent twice');
  view.addCoin(op(1, 2), coin); // re-adding after a spend is fine (a disconnect restores it)
  assert.equal(view.size, 1);
});

test('UtxoView refuses to overwrite an unspent coin unless asked', () => {
  const view = new UtxoView();
  const a: Coin = { output: P2WPKH, height: 1, isCoinbase: true };
  const b: Coin = { output: P2WPKH, height: 2, isCoinbase: true };
  view.addCoin(op(1), a);
  assert.throws(() => view.addCoin(op(1), b), isBip30);
  view.addCoin(op(1), b, true);
  assert.equal(view.getCoin(op(1)), b);
});

test('addTxOutputs adds spendable outputs under the txid, skips OP_RETURN, marks coinbases', () => {
  const coinbase: Tx = {
    version: 1,
    inputs: [{ prevout: NULL_OUTPOINT, scriptSig: Uint8Array.of(0x01, 0x05), sequence: 0xffffffff, witness: [] }],
    outputs: [P2WPKH, OP_RETURN, { ...P2WPKH, value: 7n }],
    locktime: 0,
  };
  const view = new UtxoView();
  view.addTxOutputs(coinbase, 5);
  const txid = computeTxid(coinbase);
  assert.equal(view.size, 2);
  assert.deepEqual(view.getCoin({ txid, index: 0 }), { output: P2WPKH, height: 5, isCoinbase: true });
  assert.equal(view.has({ txid, index: 1 }), false);
  assert.equal(view.getCoin({ txid, index: 2 })?.output.value, 7n);

  const spend: Tx = {
    version: 2,
    inputs: [{ prevout: { txid, index: 0 }, scriptSig: new Uint8Array(0), sequence: 0, witness: [] }],
    outputs: [P2WPKH],
    locktime: 0,
  };
  view.addTxOutputs(spend, 6);
  assert.equal(view.getCoin({ txid: computeTxid(spend), index: 0 })?.isCoinbase, false);
  assert.throws(() => view.addTxOutputs(spend, 7), isBip30);

  const seen = [...view].map((e) => `${e.outpoint.index}@${e.coin.height}`);
  assert.deepEqual(seen, ['0@5', '2@5', '0@6']);
  assert.deepEqual([...view.entries()].map((e) => e.coin), [...view].map((e) => e.coin));
});
