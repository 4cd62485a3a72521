import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NULL_OUTPOINT } from '../primitives/outpoint.js';
import { getTxBaseSize } from '../primitives/tx.js';
import type { Outpoint, Tx, TxIn, TxOut } from '../primitives/types.js';
import { buildCoinbase } from '../testing/blockBuilder.js';
import { checkTransaction } from './checkTransaction.js';
import { VerifyError } from './verifyError.js';
import { decodeTxid } from '../primitives/identity.js';

// Bitcoin's constants, written out here so the tests do not take them from the code under test.
/** Core's MAX_MONEY: 21 million coins of 10^8 base units. */
const MAX_MONEY = 21_000_000n * 100_000_000n;
/** BIP-141 MAX_BLOCK_WEIGHT and WITNESS_SCALE_FACTOR: a tx's stripped size may be at most 1,000,000 bytes. */
const MAX_BLOCK_WEIGHT = 4_000_000;
const WITNESS_SCALE_FACTOR = 4;

const P2WPKH = Uint8Array.of(0x00, 0x14, ...new Uint8Array(20).fill(0x11));
const P2TR = Uint8Array.of(0x51, 0x20, ...new Uint8Array(32).fill(0x22));
const P2PKH = Uint8Array.of(0x76, 0xa9, 0x14, ...new Uint8Array(20).fill(0x33), 0x88, 0xac);

const outpoint = (n: number, index = 0): Outpoint => ({ txid: decodeTxid(new Uint8Array(32).fill(n)), index });
const input = (prevout: Outpoint, scriptSig: Uint8Array = new Uint8Array(0)): TxIn => ({ prevout, scriptSig, sequence: 0xffffffff, witness: [] });
const output = (value: bigint, scriptPubKey: Uint8Array = P2WPKH): TxOut => ({ value, scriptPubKey });

/** A valid spend: two distinct inputs, one P2WPKH and one P2TR output. */
function validTx(): Tx {
  return {
    version: 2,
    inputs: [input(outpoint(1)), input(outpoint(2, 1))],
    outputs: [output(50_000n), output(20_000n, P2TR)],
    locktime: 0,
  };
}

const rejects = (reason: string) => (e: unknown) => {
  assert.ok(e instanceof VerifyError, `expected a VerifyError, got ${String(e)}`);
  assert.equal(e.code, reason);
  return true;
};

describe('checkTransaction: each rule rejects a tx that breaks only it, with Core\'s reason', () => {
  it('a valid spend and a valid coinbase pass', () => {
    checkTransaction(validTx());
    checkTransaction(buildCoinbase({ height: 1, value: 50n }));
  });

  it('bad-txns-vin-empty: no inputs', () => {
    assert.throws(() => checkTransaction({ ...validTx(), inputs: [] }), rejects('bad-txns-vin-empty'));
  });

  it('bad-txns-vout-empty: no outputs', () => {
    assert.throws(() => checkTransaction({ ...validTx(), outputs: [] }), rejects('bad-txns-vout-empty'));
  });

  it('bad-txns-oversize: stripped size x 4 over the block weight limit (boundary exact)', () => {
    // The scriptSig is not looked at by checkTransaction, so it pads the tx without breaking any other rule.
    const withScriptSigLength = (len: number): Tx => ({
      ...validTx(),
      inputs: [input(outpoint(1), new Uint8Array(len)), input(outpoint(2))],
    });
    const limit = MAX_BLOCK_WEIGHT / WITNESS_SCALE_FACTOR;
    const probe = withScriptSigLength(100_000);
    const atLimit = withScriptSigLength(100_000 + limit - getTxBaseSize(probe));
    assert.equal(getTxBaseSize(atLimit), limit);
    checkTransaction(atLimit);
    const over = withScriptSigLength(100_000 + limit - getTxBaseSize(probe) + 1);
    assert.equal(getTxBaseSize(over), limit + 1);
    assert.throws(() => checkTransaction(over), rejects('bad-txns-oversize'));
  });

  it('bad-txns-vout-negative: an output below zero', () => {
    assert.throws(
      () => checkTransaction({ ...validTx(), outputs: [output(1n), output(-1n)] }),
      rejects('bad-txns-vout-negative'),
    );
    checkTransaction({ ...validTx(), outputs: [output(0n)] });
  });

  it('bad-txns-vout-toolarge: an output above MAX_MONEY (21 million coins)', () => {
    checkTransaction({ ...validTx(), outputs: [output(MAX_MONEY)] });
    assert.throws(
      () => checkTransaction({ ...validTx(), outputs: [output(MAX_MONEY + 1n)] }),
      rejects('bad-txns-vout-toolarge'),
    );
  });

  it('bad-txns-txouttotal-toolarge: each output in range, the sum above MAX_MONEY', () => {
    checkTransaction({ ...validTx(), outputs: [output(MAX_MONEY - 1n), output(1n)] });
    assert.throws(
      () => checkTransaction({ ...validTx(), outputs: [output(MAX_MONEY), output(1n)] }),
      rejects('bad-txns-txouttotal-toolarge'),
    );
  });

  it('bad-txns-inputs-duplicate: the same prevout twice', () => {
    assert.throws(
      () => checkTransaction({ ...validTx(), inputs: [input(outpoint(1)), input(outpoint(2)), input(outpoint(1))] }),
      (e: unknown) => rejects('bad-txns-inputs-duplicate')(e) && e instanceof VerifyError && e.detail === `${'01'.repeat(32)}:0`,
      'the detail names the outpoint as displayed',
    );
    // Two inputs, both the same prevout: the smallest tx that can break the rule.
    assert.throws(() => checkTransaction({ ...validTx(), inputs: [input(outpoint(1)), input(outpoint(1))] }), rejects('bad-txns-inputs-duplicate'));
    // Same txid, other index: distinct outpoints.
    checkTransaction({ ...validTx(), inputs: [input(outpoint(1, 0)), input(outpoint(1, 1))] });
  });

  it('bad-cb-length: coinbase scriptSig of 2..100 bytes passes, 1 and 101 fail', () => {
    const coinbaseWith = (len: number): Tx => ({
      ...validTx(),
      inputs: [input(NULL_OUTPOINT, new Uint8Array(len).fill(0x51))],
    });
    checkTransaction(coinbaseWith(2));
    checkTransaction(coinbaseWith(100));
    assert.throws(() => checkTransaction(coinbaseWith(1)), rejects('bad-cb-length'));
    assert.throws(() => checkTransaction(coinbaseWith(0)), rejects('bad-cb-length'));
    assert.throws(() => checkTransaction(coinbaseWith(101)), rejects('bad-cb-length'));
  });

  it('bad-txns-prevout-null: a null prevout in a tx that is not a coinbase', () => {
    // A lone null-prevout input would make the tx a coinbase, so the null prevout is the second input.
    assert.throws(
      () => checkTransaction({ ...validTx(), inputs: [input(outpoint(1)), input(NULL_OUTPOINT)] }),
      rejects('bad-txns-prevout-null'),
    );
    // Zero txid with another index, or index 0xffffffff with another txid, is not null.
    checkTransaction({ ...validTx(), inputs: [input(outpoint(1)), input({ txid: decodeTxid(new Uint8Array(32)), index: 0 })] });
    checkTransaction({ ...validTx(), inputs: [input(outpoint(1)), input({ txid: outpoint(3).txid, index: 0xffffffff })] });
  });

  it('bad-txns-vout-script (cairn rule): only P2WPKH, P2TR and OP_RETURN <= 83 bytes; accepted with rule "any"', () => {
    const opReturn = (len: number): Uint8Array => Uint8Array.of(0x6a, ...new Uint8Array(len - 1));
    const p2pk = Uint8Array.of(0x21, 0x02, ...new Uint8Array(32).fill(0x44), 0xac);
    const p2wsh = Uint8Array.of(0x00, 0x20, ...new Uint8Array(32));
    const p2sh = Uint8Array.of(0xa9, 0x14, ...new Uint8Array(20), 0x87);
    for (const good of [P2WPKH, P2TR, opReturn(1), opReturn(83)]) {
      checkTransaction({ ...validTx(), outputs: [output(0n, good)] });
    }
    for (const bad of [P2PKH, p2pk, p2wsh, p2sh, opReturn(84), new Uint8Array(0), P2WPKH.subarray(0, 21)]) {
      const tx = { ...validTx(), outputs: [output(1n), output(0n, bad)] };
      assert.throws(() => checkTransaction(tx), rejects('bad-txns-vout-script'));
      assert.throws(() => checkTransaction(tx, { outputScriptRule: 'cairn' }), rejects('bad-txns-vout-script'));
      checkTransaction(tx, { outputScriptRule: 'any' });
    }
  });
});
