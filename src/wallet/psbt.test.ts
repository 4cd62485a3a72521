import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyInput } from '../consensus/verifyInput.js';
import { sha256 } from '../crypto/hash.js';
import { deriveHdPath, hdRootFromSeed } from '../crypto/hd.js';
import { regtest } from '../params/networks.js';
import { hexToBytes } from '../primitives/hex.js';
import { HdAccount, mnemonicToWalletSeed, type DerivedAddress } from './hdAccount.js';
import { createPsbt, decodePsbt, encodePsbt, fromPsbt, parseDerivationPath, toPsbt } from './psbt.js';
import { buildPayment, makeWalletCoin, signTransaction, type WalletCoin } from './txBuilder.js';
import { isWalletError } from './walletError.js';

const SEED = mnemonicToWalletSeed('abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about');
const ROOT = hdRootFromSeed(SEED);
const ACCOUNTS = { p2wpkh: HdAccount.fromSeed(SEED, regtest, 'p2wpkh'), p2tr: HdAccount.fromSeed(SEED, regtest, 'p2tr') };
const OTHER = HdAccount.fromSeed(sha256(new TextEncoder().encode('psbt payee')), regtest, 'p2tr').deriveAddress(0, 0);

function coin(label: string, address: DerivedAddress, value: bigint): WalletCoin {
  return makeWalletCoin({ txid: sha256(new TextEncoder().encode(label)), index: 1 }, { value, scriptPubKey: address.scriptPubKey }, address, { height: 5 });
}

function payment() {
  const coins = [coin('x', ACCOUNTS.p2wpkh.deriveAddress(0, 3), 30_000n), coin('y', ACCOUNTS.p2tr.deriveAddress(0, 4), 30_000n)];
  const changeAddress = ACCOUNTS.p2tr.deriveAddress(1, 2);
  const unsigned = buildPayment({ outputs: [{ value: 45_000n, scriptPubKey: OTHER.scriptPubKey }], coins, feeRateSatPerKvb: 2000, changeAddress, locktime: 7 });
  assert.equal(unsigned.inputs.length, 2);
  return { unsigned, changeAddress };
}

test('PSBT round trip: unsigned tx, witness UTXOs and key origins survive, and the key origins lead back to the keys', () => {
  const { unsigned, changeAddress } = payment();
  const text = toPsbt(unsigned.tx, unsigned.inputs, ACCOUNTS.p2wpkh.masterFingerprint, { index: unsigned.changeIndex, address: changeAddress });
  assert.ok(text.startsWith('cHNidP8'), 'base64 of "psbt\\xff"');
  const psbt = fromPsbt(text);
  assert.deepEqual(psbt.tx, unsigned.tx);
  assert.equal(psbt.inputs.length, 2);
  assert.equal(ACCOUNTS.p2wpkh.masterFingerprint, ROOT.fingerprint);
  psbt.inputs.forEach((input, i) => {
    const c = unsigned.inputs[i]!;
    assert.deepEqual(input.witnessUtxo, c.output);
    const origin = c.address.kind === 'p2wpkh' ? input.bip32Derivations[0]! : input.tapBip32Derivations[0]!;
    assert.equal(origin.masterFingerprint, ROOT.fingerprint);
    assert.deepEqual(origin.path, parseDerivationPath(c.address.path));
    // Independent check: deriving the path from the master key gives the key in the PSBT.
    const derivedPub = deriveHdPath(ROOT, c.address.path).publicKey!;
    assert.deepEqual(origin.publicKey, c.address.kind === 'p2wpkh' ? derivedPub : derivedPub.subarray(1));
    if (c.address.kind === 'p2tr') assert.deepEqual(input.tapInternalKey, derivedPub.subarray(1));
  });
  const changeOut = psbt.outputs[unsigned.changeIndex]!;
  assert.deepEqual(changeOut.tapInternalKey, changeAddress.internalKey);
  assert.deepEqual(changeOut.tapBip32Derivations[0]!.path, parseDerivationPath("m/86'/1'/0'/1/2"));
  assert.ok(psbt.outputs.filter((_, i) => i !== unsigned.changeIndex).every((o) => o.tapBip32Derivations.length === 0 && o.bip32Derivations.length === 0));
  // Byte-identical re-encoding.
  assert.equal(Buffer.from(encodePsbt(psbt)).toString('base64'), text);
});

test('a PSBT carries enough to sign: coins rebuilt from the PSBT alone sign inputs that verify', () => {
  const { unsigned } = payment();
  const psbt = fromPsbt(toPsbt(unsigned.tx, unsigned.inputs, ROOT.fingerprint));
  const coins = psbt.inputs.map((input, i) => {
    const tap = input.tapBip32Derivations[0];
    const origin = tap ?? input.bip32Derivations[0]!;
    const [purpose, , , chain, index] = origin.path.map((s) => s & 0x7fffffff) as [number, number, number, 0 | 1, number];
    const address = (purpose === 86 ? ACCOUNTS.p2tr : ACCOUNTS.p2wpkh).deriveAddress(chain, index);
    assert.deepEqual(address.scriptPubKey, input.witnessUtxo!.scriptPubKey);
    return makeWalletCoin(psbt.tx.inputs[i]!.prevout, input.witnessUtxo!, address);
  });
  const signed = signTransaction(psbt.tx, coins, (a) => ACCOUNTS[a.kind].derivePrivateKey(a.chain, a.index));
  const prevouts = coins.map((c) => c.output);
  signed.inputs.forEach((_, i) => assert.ok(verifyInput(signed, i, prevouts).valid));
});

test('PSBT decoding refuses malformed input and keeps unknown pairs', () => {
  const { unsigned } = payment();
  const psbt = createPsbt(unsigned.tx, unsigned.inputs, 0x01020304);
  const withUnknown = { ...psbt, unknownGlobals: [{ key: Uint8Array.of(0xfc, 0x01), value: Uint8Array.of(0xaa) }] };
  const bytes = encodePsbt(withUnknown);
  assert.deepEqual(decodePsbt(bytes).unknownGlobals, withUnknown.unknownGlobals);

  const bad = (b: Uint8Array | string) => () => (typeof b === 'string' ? fromPsbt(b) : decodePsbt(b));
  const isBad = (e: unknown) => isWalletError(e, 'bad-psbt');
  assert.throws(bad('not base64!'), isBad);
  assert.throws(bad(''), isBad);
  assert.throws(bad(Uint8Array.of(0x70, 0x73, 0x62, 0x74, 0x00)), isBad, 'bad magic');
  assert.throws(bad(Uint8Array.of(...bytes, 0x00)), isBad, 'trailing byte');
  assert.throws(bad(bytes.subarray(0, bytes.length - 1)), isBad, 'truncated');
  // No unsigned tx: magic then an empty global map.
  assert.throws(bad(hexToBytes('70736274ff00')), isBad);
  // A duplicate global key.
  const dup = encodePsbt({ ...psbt, unknownGlobals: [{ key: Uint8Array.of(0xfc), value: Uint8Array.of(1) }, { key: Uint8Array.of(0xfc), value: Uint8Array.of(2) }] });
  assert.throws(bad(dup), isBad);
  // A signed tx in place of the unsigned one.
  const signed = signTransaction(unsigned.tx, unsigned.inputs, (a) => ACCOUNTS[a.kind].derivePrivateKey(a.chain, a.index));
  assert.throws(() => createPsbt(signed, unsigned.inputs, 0), isBad);
  // A taproot internal key of the wrong length.
  const shortKey = encodePsbt({ ...psbt, inputs: psbt.inputs.map((i) => ({ ...i, tapInternalKey: i.tapInternalKey?.subarray(0, 31) })) });
  assert.throws(bad(shortKey), isBad);
  // PSBT version 2 is not supported.
  const v2 = encodePsbt({ ...psbt, unknownGlobals: [{ key: Uint8Array.of(0xfb), value: Uint8Array.of(2, 0, 0, 0) }] });
  assert.throws(bad(v2), isBad);
  assert.throws(() => parseDerivationPath('m/x'), isBad);
});
