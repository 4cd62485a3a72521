/**
 * Standardness: dust thresholds against the values BOLT #3 ("Calculating dust limits") lists from Bitcoin Core's
 * GetDustThreshold at the default 3000 sat/kvB dust relay fee, and each IsStandardTx reject reason.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VerifyError } from '../consensus/verifyError.js';
import type { Tx, TxOut } from '../primitives/types.js';
import {
  checkStandardTx,
  checkWitnessStandard,
  DUST_RELAY_TX_FEE_SAT_PER_KVB,
  getDustThreshold,
  isDust,
  isStandardTx,
  MAX_STANDARD_TX_WEIGHT,
} from './policy.js';
import { decodeTxid } from '../primitives/identity.js';

const script = (...parts: (number | number[])[]): Uint8Array => Uint8Array.from(parts.flat());
const out = (scriptPubKey: Uint8Array, value = 10_000n): TxOut => ({ value, scriptPubKey });
const P2WPKH = script(0x00, 0x14, new Array(20).fill(7));
const P2TR = script(0x51, 0x20, new Array(32).fill(7));

test('getDustThreshold at 3000 sat/kvB: BOLT #3 values (p2pkh 546, p2sh 540, p2wpkh 294, p2wsh 330, unknown segwit 354)', () => {
  const rate = DUST_RELAY_TX_FEE_SAT_PER_KVB;
  assert.equal(getDustThreshold(out(script(0x76, 0xa9, 0x14, new Array(20).fill(1), 0x88, 0xac)), rate), 546n);
  assert.equal(getDustThreshold(out(script(0xa9, 0x14, new Array(20).fill(1), 0x87)), rate), 540n);
  assert.equal(getDustThreshold(out(P2WPKH), rate), 294n);
  assert.equal(getDustThreshold(out(script(0x00, 0x20, new Array(32).fill(1))), rate), 330n);
  assert.equal(getDustThreshold(out(script(0x60, 0x28, new Array(40).fill(1))), rate), 354n);
  // P2TR has P2WSH's size: 330.
  assert.equal(getDustThreshold(out(P2TR), rate), 330n);
  assert.equal(getDustThreshold(out(script(0x6a, 0x01, 0x01), 0n), rate), 0n, 'OP_RETURN is never dust');
  assert.equal(isDust(out(P2WPKH, 293n), rate), true);
  assert.equal(isDust(out(P2WPKH, 294n), rate), false);
});

function tx(outputs: TxOut[], over: Partial<Tx> = {}): Tx {
  return {
    version: 2,
    inputs: [{ prevout: { txid: decodeTxid(new Uint8Array(32).fill(1)), index: 0 }, scriptSig: new Uint8Array(0), sequence: 0xfffffffd, witness: [] }],
    outputs,
    locktime: 0,
    ...over,
  };
}

const options = { maxStandardTxWeight: MAX_STANDARD_TX_WEIGHT, dustRelayFeeRateSatPerKvb: DUST_RELAY_TX_FEE_SAT_PER_KVB };

function reason(t: Tx): string | undefined {
  try {
    checkStandardTx(t, options);
    return undefined;
  } catch (e) {
    assert.ok(e instanceof VerifyError);
    assert.equal(e.score, 0);
    return e.code;
  }
}

test('checkStandardTx: each reject reason, in Core order', () => {
  assert.equal(reason(tx([out(P2WPKH), out(P2TR)])), undefined);
  assert.equal(isStandardTx(tx([out(P2WPKH)]), options), true);
  assert.equal(reason(tx([out(P2WPKH)], { version: 3 })), 'version');
  assert.equal(reason(tx([out(P2WPKH)], { version: 0x80000000 })), 'version');
  assert.equal(reason(tx(Array.from({ length: 3300 }, () => out(P2WPKH)))), 'tx-size');
  const withScriptSig = tx([out(P2WPKH)]);
  assert.equal(reason({ ...withScriptSig, inputs: [{ ...withScriptSig.inputs[0]!, scriptSig: script(0x00) }] }), 'scriptsig-size');
  assert.equal(reason(tx([out(script(0x76, 0xa9, 0x14, new Array(20).fill(1), 0x88, 0xac))])), 'scriptpubkey');
  assert.equal(reason(tx([out(script(0x6a, 0x61), 0n)])), 'scriptpubkey', 'OP_RETURN must be followed by pushes');
  assert.equal(reason(tx([out(script(0x6a, 0x4c, 81, new Array(81).fill(0)), 0n)])), 'scriptpubkey', '84 bytes > 83');
  assert.equal(reason(tx([out(script(0x6a, 0x4c, 80, new Array(80).fill(0)), 0n)])), undefined, '83 bytes');
  assert.equal(reason(tx([out(P2WPKH, 293n)])), 'dust');
  assert.equal(reason(tx([out(script(0x6a), 0n), out(script(0x6a), 0n)])), 'multi-op-return');
  assert.equal(isStandardTx(tx([out(P2WPKH, 1n)]), options), false);
});

test('checkWitnessStandard: a taproot annex is non-standard; P2WPKH witnesses are not inspected', () => {
  const t = tx([out(P2WPKH)]);
  const withWitness = (witness: Uint8Array[]): Tx => ({ ...t, inputs: [{ ...t.inputs[0]!, witness }] });
  const sig = new Uint8Array(64).fill(9);
  checkWitnessStandard(withWitness([sig]), [out(P2TR)]);
  assert.throws(() => checkWitnessStandard(withWitness([sig, script(0x50, 0x01)]), [out(P2TR)]), /bad-witness-nonstandard/);
  checkWitnessStandard(withWitness([sig, script(0x50, 0x01)]), [out(P2WPKH)]);
});
