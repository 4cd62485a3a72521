import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Outpoint, Tx, TxOut } from '../primitives/types.js';
import { MAX_MONEY } from './amount.js';
import { checkTxInputs } from './checkTxInputs.js';
import { UtxoView } from './utxoView.js';
import { VerifyError } from './verifyError.js';
import { decodeTxid } from '../primitives/identity.js';

const SPK = Uint8Array.of(0x00, 0x14, ...new Uint8Array(20));
const MATURITY = 100;

function op(n: number): Outpoint {
  return { txid: decodeTxid(new Uint8Array(32).fill(n)), index: n };
}

function spend(prevouts: Outpoint[], outValues: bigint[]): Tx {
  return {
    version: 2,
    inputs: prevouts.map((prevout) => ({ prevout, scriptSig: new Uint8Array(0), sequence: 0xffffffff, witness: [] })),
    outputs: outValues.map((value): TxOut => ({ value, scriptPubKey: SPK })),
    locktime: 0,
  };
}

function viewWith(coins: [Outpoint, bigint, number, boolean][]): UtxoView {
  const view = new UtxoView();
  for (const [o, value, height, isCoinbase] of coins) {
    view.addCoin(o, { output: { value, scriptPubKey: SPK }, height, isCoinbase });
  }
  return view;
}

const rejects = (reason: string, score?: number) => (e: unknown) =>
  e instanceof VerifyError && e.code === reason && (score === undefined || e.score === score);

test('checkTxInputs returns the fee and leaves the view unchanged', () => {
  const view = viewWith([[op(1), 5_000n, 10, false], [op(2), 7_000n, 11, false]]);
  assert.equal(checkTxInputs(spend([op(1), op(2)], [4_000n, 6_000n]), view, 12, MATURITY), 2_000n);
  assert.equal(checkTxInputs(spend([op(1)], [5_000n]), view, 12, MATURITY), 0n);
  assert.equal(view.size, 2);
});

test('missing or spent inputs: bad-txns-inputs-missingorspent (score 0), checked before anything else', () => {
  const view = viewWith([[op(1), 5_000n, 10, true]]);
  // The coinbase input would also be immature, but missing inputs are reported first, as in Core.
  assert.throws(
    () => checkTxInputs(spend([op(1), op(3)], [1n]), view, 11, MATURITY),
    rejects('bad-txns-inputs-missingorspent', 0),
  );
  view.spendCoin(op(1));
  assert.throws(
    () => checkTxInputs(spend([op(1)], [1n]), view, 200, MATURITY),
    rejects('bad-txns-inputs-missingorspent'),
  );
});

test('coinbase maturity: spendable exactly COINBASE_MATURITY blocks later', () => {
  const view = viewWith([[op(1), 5_000n, 10, true]]);
  const tx = spend([op(1)], [4_000n]);
  assert.throws(
    () => checkTxInputs(tx, view, 10 + MATURITY - 1, MATURITY),
    rejects('bad-txns-premature-spend-of-coinbase', 0),
  );
  assert.equal(checkTxInputs(tx, view, 10 + MATURITY, MATURITY), 1_000n);
  // Non-coinbase coins have no maturity.
  const plain = viewWith([[op(1), 5_000n, 10, false]]);
  assert.equal(checkTxInputs(tx, plain, 10, MATURITY), 1_000n);
});

test('input values and their sum must be in money range', () => {
  assert.throws(
    () => checkTxInputs(spend([op(1)], [0n]), viewWith([[op(1), MAX_MONEY + 1n, 1, false]]), 2, MATURITY),
    rejects('bad-txns-inputvalues-outofrange', 100),
  );
  assert.throws(
    () => checkTxInputs(spend([op(1)], [0n]), viewWith([[op(1), -1n, 1, false]]), 2, MATURITY),
    rejects('bad-txns-inputvalues-outofrange'),
  );
  const big = viewWith([[op(1), MAX_MONEY, 1, false], [op(2), 1n, 1, false]]);
  assert.throws(
    () => checkTxInputs(spend([op(1), op(2)], [0n]), big, 2, MATURITY),
    rejects('bad-txns-inputvalues-outofrange'),
  );
  assert.equal(checkTxInputs(spend([op(1)], [0n]), big, 2, MATURITY), MAX_MONEY);
});

test('outputs above inputs: bad-txns-in-belowout; a negative fee never passes', () => {
  const view = viewWith([[op(1), 5_000n, 1, false]]);
  assert.throws(() => checkTxInputs(spend([op(1)], [5_001n]), view, 2, MATURITY), rejects('bad-txns-in-belowout', 100));
  assert.throws(
    () => checkTxInputs(spend([op(1)], [3_000n, 3_000n]), view, 2, MATURITY),
    rejects('bad-txns-in-belowout'),
  );
});

test('fee out of range: bad-txns-fee-outofrange (only reachable when checkTransaction was skipped)', () => {
  // A negative output (which checkTransaction would reject) makes the fee exceed MAX_MONEY.
  const view = viewWith([[op(1), MAX_MONEY, 1, false]]);
  assert.throws(() => checkTxInputs(spend([op(1)], [-1n]), view, 2, MATURITY), rejects('bad-txns-fee-outofrange', 100));
});
