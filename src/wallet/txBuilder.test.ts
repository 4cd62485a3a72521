import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { verifyInput } from '../consensus/verifyInput.js';
import { feeForVsize } from '../policy/feeRate.js';
import { checkStandardTx, DUST_RELAY_TX_FEE_SAT_PER_KVB, MAX_STANDARD_TX_WEIGHT } from '../policy/policy.js';
import { checkReplacementFeeRate, checkReplacementFees } from '../mempool/replacement.js';
import { bytesEqual, bytesToHex } from '../primitives/hex.js';
import { computeTxid, getTxVsize, getTxWeight } from '../primitives/tx.js';
import type { Tx, TxOut } from '../primitives/types.js';
import { regtest } from '../params/networks.js';
import { sha256 } from '../crypto/hash.js';
import { addressToScriptPubKey } from '../crypto/address.js';
import { HdAccount, mnemonicToWalletSeed, type DerivedAddress } from './hdAccount.js';
import {
  buildBumpFee,
  buildPayment,
  computeTxFee,
  makeWalletCoin,
  RBF_SEQUENCE,
  signTransaction,
  type WalletCoin,
} from './txBuilder.js';
import { isWalletError } from './walletError.js';
import { decodeTxid } from '../primitives/identity.js';

const SEED = mnemonicToWalletSeed('abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about');
const P2WPKH = HdAccount.fromSeed(SEED, regtest, 'p2wpkh');
const P2TR = HdAccount.fromSeed(SEED, regtest, 'p2tr');
const accountOf = (a: DerivedAddress) => (a.kind === 'p2wpkh' ? P2WPKH : P2TR);
const keySource = (a: DerivedAddress) => accountOf(a).derivePrivateKey(a.chain, a.index);
/** An outside address (another seed's) to pay to. */
const OTHER = HdAccount.fromSeed(sha256(new TextEncoder().encode('other wallet')), regtest, 'p2wpkh').deriveAddress(0, 0);
const STANDARD = { maxStandardTxWeight: MAX_STANDARD_TX_WEIGHT, dustRelayFeeRateSatPerKvb: DUST_RELAY_TX_FEE_SAT_PER_KVB };

/** A fake confirmed coin at receive address `index` of the given kind (the txid is a hash of the label). */
function coin(label: string, kind: 'p2wpkh' | 'p2tr', index: number, value: bigint): WalletCoin {
  const address = (kind === 'p2wpkh' ? P2WPKH : P2TR).deriveAddress(0, index);
  return makeWalletCoin({ txid: decodeTxid(sha256(new TextEncoder().encode(label))), index: 0 }, { value, scriptPubKey: address.scriptPubKey }, address, { height: 1 });
}

/** Every input verifies against its prevout with cairn's consensus verifyInput. */
function assertAllInputsValid(tx: Tx, prevouts: readonly TxOut[]): void {
  tx.inputs.forEach((_, i) => {
    const r = verifyInput(tx, i, prevouts);
    assert.ok(r.valid, `input ${i} (${r.type}): ${r.reason}`);
  });
}

test('buildPayment + signTransaction: P2WPKH and P2TR inputs verify, change to the change address, RBF and locktime set', () => {
  const coins = [coin('a', 'p2wpkh', 0, 40_000n), coin('b', 'p2tr', 1, 70_000n), coin('c', 'p2wpkh', 2, 25_000n)];
  const change = P2TR.deriveAddress(1, 3);
  const rate = 2500; // 2.5 sat/vB
  const unsigned = buildPayment({
    outputs: [{ value: 100_000n, scriptPubKey: OTHER.scriptPubKey }],
    coins,
    feeRateSatPerKvb: rate,
    changeAddress: change,
    locktime: 150,
  });
  const signed = signTransaction(unsigned.tx, unsigned.inputs, keySource);
  assertAllInputsValid(signed, unsigned.inputs.map((c) => c.output));
  checkStandardTx(signed, STANDARD);
  assert.equal(signed.locktime, 150);
  assert.ok(signed.inputs.every((i) => i.sequence === RBF_SEQUENCE));
  assert.ok(signed.inputs.some((i) => i.witness.length === 1) && signed.inputs.some((i) => i.witness.length === 2), 'both kinds signed');
  const fee = computeTxFee(signed, unsigned.inputs.map((c) => c.output));
  assert.equal(fee, unsigned.feeSats);
  assert.ok(fee >= feeForVsize(rate, getTxVsize(signed)), `fee ${fee} pays ${rate} sat/kvB over ${getTxVsize(signed)} vB`);
  assert.ok(getTxWeight(signed) <= unsigned.estimatedWeight, 'the estimate is an upper bound');
  assert.ok(unsigned.changeIndex >= 0);
  assert.deepEqual(signed.outputs[unsigned.changeIndex]!.scriptPubKey, change.scriptPubKey);
  assert.equal(signed.outputs[unsigned.changeIndex]!.value, unsigned.changeSats);
  // The unsigned tx is left as it was.
  assert.ok(unsigned.tx.inputs.every((i) => i.witness.length === 0));
});

test('signed payments always verify and pay at least the fee rate over their real vsize (property)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ kind: fc.constantFrom<'p2wpkh' | 'p2tr'>('p2wpkh', 'p2tr'), value: fc.bigInt({ min: 1_000n, max: 50_000_000n }) }), { minLength: 1, maxLength: 6 }),
      fc.bigInt({ min: 546n, max: 100_000_000n }),
      fc.integer({ min: 1000, max: 50_000 }),
      fc.constantFrom<'p2wpkh' | 'p2tr'>('p2wpkh', 'p2tr'),
      (specs, amount, rate, changeKind) => {
        const coins = specs.map((s, i) => coin(`p${i}-${s.value}`, s.kind, i, s.value));
        let unsigned;
        try {
          unsigned = buildPayment({
            outputs: [{ value: amount, scriptPubKey: OTHER.scriptPubKey }],
            coins,
            feeRateSatPerKvb: rate,
            changeAddress: (changeKind === 'p2wpkh' ? P2WPKH : P2TR).deriveAddress(1, 0),
            locktime: 0,
          });
        } catch (e) {
          assert.ok(isWalletError(e, 'insufficient-funds'), String(e));
          return;
        }
        const signed = signTransaction(unsigned.tx, unsigned.inputs, keySource);
        const prevouts = unsigned.inputs.map((c) => c.output);
        assertAllInputsValid(signed, prevouts);
        checkStandardTx(signed, STANDARD);
        const fee = computeTxFee(signed, prevouts);
        assert.ok(fee >= feeForVsize(rate, getTxVsize(signed)));
        assert.equal(signed.outputs[0]!.value, amount);
      },
    ),
    { numRuns: 40 },
  );
});

test('buildBumpFee: reduces the change, keeps inputs and payments, and meets BIP-125 rules 3, 4 and 6', () => {
  const coins = [coin('bump-a', 'p2wpkh', 0, 200_000n)];
  const unsigned = buildPayment({
    outputs: [{ value: 50_000n, scriptPubKey: OTHER.scriptPubKey }],
    coins,
    feeRateSatPerKvb: 1000,
    changeAddress: P2WPKH.deriveAddress(1, 0),
    locktime: 10,
  });
  const original = signTransaction(unsigned.tx, unsigned.inputs, keySource);
  const bump = buildBumpFee({
    originalTx: original,
    originalInputs: unsigned.inputs,
    changeIndex: unsigned.changeIndex,
    feeRateSatPerKvb: 5000,
    extraCoins: [],
    changeAddress: P2WPKH.deriveAddress(1, 1),
  });
  const replacement = signTransaction(bump.tx, bump.inputs, keySource);
  assertAllInputsValid(replacement, bump.inputs.map((c) => c.output));
  assert.equal(bump.originalFeeSats, unsigned.feeSats);
  assert.ok(bytesEqual(replacement.inputs[0]!.prevout.txid, original.inputs[0]!.prevout.txid), 'conflicts with the original');
  assert.equal(replacement.locktime, original.locktime);
  assert.deepEqual(replacement.outputs.filter((_, i) => i !== bump.changeIndex), original.outputs.filter((_, i) => i !== unsigned.changeIndex));
  assert.ok(bump.changeSats < unsigned.changeSats);
  assert.deepEqual(replacement.outputs[bump.changeIndex]!.scriptPubKey, original.outputs[unsigned.changeIndex]!.scriptPubKey, 'same change address');
  const txidHex = bytesToHex(computeTxid(replacement));
  const vsize = getTxVsize(replacement);
  checkReplacementFees(txidHex, bump.feeSats, vsize, unsigned.feeSats, 1000);
  checkReplacementFeeRate(txidHex, bump.feeSats, vsize, [{ txidHex: 'orig', fee: unsigned.feeSats, vsize: getTxVsize(original) }]);
  assert.ok(bump.feeSats >= feeForVsize(5000, vsize));
  // Asking for less than the old rate + the incremental relay rate is refused.
  assert.throws(
    () => buildBumpFee({ originalTx: original, originalInputs: unsigned.inputs, changeIndex: unsigned.changeIndex, feeRateSatPerKvb: 1500, extraCoins: [], changeAddress: P2WPKH.deriveAddress(1, 1) }),
    (e) => isWalletError(e, 'fee-rate-too-low'),
  );
});

test('buildBumpFee: adds a confirmed input when the change cannot pay, and drops change that would be dust', () => {
  // No change in the original: the payment takes nearly the whole coin.
  const coins = [coin('bump-b', 'p2tr', 0, 60_000n)];
  const unsigned = buildPayment({
    outputs: [{ value: 59_800n, scriptPubKey: OTHER.scriptPubKey }],
    coins,
    feeRateSatPerKvb: 1000,
    changeAddress: P2TR.deriveAddress(1, 0),
    locktime: 0,
  });
  assert.equal(unsigned.changeIndex, -1);
  const original = signTransaction(unsigned.tx, unsigned.inputs, keySource);
  const extra = coin('bump-extra', 'p2wpkh', 5, 30_000n);
  const bump = buildBumpFee({
    originalTx: original,
    originalInputs: unsigned.inputs,
    changeIndex: -1,
    feeRateSatPerKvb: 10_000,
    extraCoins: [extra],
    changeAddress: P2TR.deriveAddress(1, 1),
  });
  assert.equal(bump.inputs.length, 2);
  assert.ok(bump.changeIndex >= 0, 'the new input brings surplus: change to the fresh change address');
  assert.deepEqual(bump.tx.outputs[bump.changeIndex]!.scriptPubKey, P2TR.deriveAddress(1, 1).scriptPubKey);
  const replacement = signTransaction(bump.tx, bump.inputs, keySource);
  assertAllInputsValid(replacement, bump.inputs.map((c) => c.output));
  checkReplacementFees('r', bump.feeSats, getTxVsize(replacement), unsigned.feeSats, 1000);
  // Small change that the new fee would bring below the dust threshold: dropped, the remainder goes to the fee.
  const small = buildPayment({
    outputs: [{ value: 59_000n, scriptPubKey: OTHER.scriptPubKey }],
    coins,
    feeRateSatPerKvb: 1000,
    changeAddress: P2TR.deriveAddress(1, 0),
    locktime: 0,
  });
  assert.ok(small.changeIndex >= 0 && small.changeSats < 1000n);
  const smallSigned = signTransaction(small.tx, small.inputs, keySource);
  const dropped = buildBumpFee({
    originalTx: smallSigned,
    originalInputs: small.inputs,
    changeIndex: small.changeIndex,
    feeRateSatPerKvb: 5000,
    extraCoins: [],
    changeAddress: P2TR.deriveAddress(1, 1),
  });
  assert.equal(dropped.changeIndex, -1);
  assert.equal(dropped.tx.outputs.length, 1);
  assert.equal(dropped.feeSats, 1_000n, 'the whole remainder is fee');
  checkReplacementFees('d', dropped.feeSats, getTxVsize(signTransaction(dropped.tx, dropped.inputs, keySource)), small.feeSats, 1000);
  // With nothing else to spend, a rate beyond what the coin holds is refused with a shortfall.
  assert.throws(
    () => buildBumpFee({ originalTx: original, originalInputs: unsigned.inputs, changeIndex: -1, feeRateSatPerKvb: 10_000, extraCoins: [], changeAddress: P2TR.deriveAddress(1, 1) }),
    (e) => isWalletError(e, 'insufficient-funds') && (e.shortfallSats ?? 0n) > 0n,
  );
});

test('buildPayment refuses dust outputs, bad amounts, and signTransaction refuses a key that is not the coin\'s', () => {
  const coins = [coin('d', 'p2wpkh', 0, 100_000n)];
  const base = { coins, feeRateSatPerKvb: 1000, changeAddress: P2WPKH.deriveAddress(1, 0), locktime: 0 };
  assert.throws(() => buildPayment({ ...base, outputs: [{ value: 293n, scriptPubKey: OTHER.scriptPubKey }] }), (e) => isWalletError(e, 'dust-output'));
  assert.throws(() => buildPayment({ ...base, outputs: [{ value: 0n, scriptPubKey: OTHER.scriptPubKey }] }), (e) => isWalletError(e, 'bad-amount'));
  assert.throws(() => buildPayment({ ...base, outputs: [] }), (e) => isWalletError(e, 'bad-amount'));
  assert.throws(() => buildPayment({ ...base, outputs: [{ value: 1000n, scriptPubKey: OTHER.scriptPubKey }], locktime: -1 }), (e) => isWalletError(e, 'bad-amount'));
  const ok = buildPayment({ ...base, outputs: [{ value: 1000n, scriptPubKey: addressToScriptPubKey(OTHER.address, regtest.bech32Hrp) }] });
  assert.throws(
    () => signTransaction(ok.tx, ok.inputs, () => P2WPKH.derivePrivateKey(0, 9)),
    (e) => isWalletError(e, 'unknown-script'),
  );
});
