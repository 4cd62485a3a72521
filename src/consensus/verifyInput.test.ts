import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ecdsaSign, encodeDerSignature, publicKeyFromPrivate } from '../crypto/ecdsa.js';
import { hash160 } from '../crypto/hash.js';
import { schnorrSign, xOnlyPublicKey } from '../crypto/schnorr.js';
import { tweakPrivateKey, tweakPublicKey } from '../crypto/taproot.js';
import { bytesToHex, hexToBytes } from '../primitives/hex.js';
import { decodeTx } from '../primitives/tx.js';
import type { Tx, TxIn, TxOut, Txid } from '../primitives/types.js';
import { readVectorJson, VectorTally } from '../testing/vectors.js';
import {
  computeSegwitV0Sighash,
  computeTaprootKeyPathSighash,
  p2wpkhScriptCode,
  SIGHASH,
  SighashCache,
} from './sighash.js';
import { verifyInput, type InputVerification } from './verifyInput.js';
import { VerifyError } from './verifyError.js';
import { decodeTxid } from '../primitives/identity.js';

const BIP143_FILE = 'bip143-p2wpkh-examples.json';
const BIP341_FILE = 'bip341-wallet-test-vectors.json';

/** secp256k1 group order n, for building a high-S twin of a signature. */
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

const toBig = (b: Uint8Array): bigint => BigInt(`0x${bytesToHex(b) || '0'}`);
const to32 = (v: bigint): Uint8Array => hexToBytes(v.toString(16).padStart(64, '0'));
const cat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));

// ---------------------------------------------------------------------------------------------------------------
// External vectors: the BIP-143 example spends and the BIP-341 fully signed tx.
// ---------------------------------------------------------------------------------------------------------------

function toTxOut(u: { amountSats: number; scriptPubKey: string }): TxOut {
  return { value: BigInt(u.amountSats), scriptPubKey: hexToBytes(u.scriptPubKey) };
}

interface Bip143Example {
  name: string;
  signedTx: string;
  inputs: { index: number; type: string; scriptPubKey: string; amountSats: number }[];
}

test('BIP-143 examples: the P2WPKH spend verifies; P2PK and P2SH-P2WPKH are unsupported on cairn', (t) => {
  const examples = readVectorJson<{ examples: Bip143Example[] }>(BIP143_FILE).examples;
  const tally = new VectorTally(BIP143_FILE);
  for (const ex of examples) {
    const tx = decodeTx(hexToBytes(ex.signedTx));
    const prevouts = ex.inputs.map(toTxOut);
    const cache = new SighashCache(tx, prevouts);
    for (const input of ex.inputs) {
      const r = verifyInput(tx, input.index, prevouts, cache);
      const want: InputVerification =
        input.type === 'P2WPKH'
          ? { type: 'witness_v0_keyhash', valid: true }
          : {
              type: input.type === 'P2PK' ? 'pubkey' : 'scripthash',
              valid: false,
              reason: 'unsupported-script-type',
            };
      tally.check(`${ex.name} input ${input.index} (${input.type})`, {
        valid: [r.valid, want.valid],
        type: [r.type, want.type],
        reason: [r.reason, want.reason],
      });
    }
  }
  tally.report(t);
});

interface Bip341File {
  keyPathSpending: {
    given: { rawUnsignedTx: string; utxosSpent: { scriptPubKey: string; amountSats: number }[] };
    inputSpending: { given: { txinIndex: number }; expected: { witness: string[] } }[];
    auxiliary: { fullySignedTx: string };
  }[];
}

function loadBip341(): { tx: Tx; prevouts: TxOut[]; spend: Bip341File['keyPathSpending'][number] } {
  const spend = readVectorJson<Bip341File>(BIP341_FILE).keyPathSpending[0]!;
  const tx = decodeTx(hexToBytes(spend.auxiliary.fullySignedTx));
  const prevouts = spend.given.utxosSpent.map(toTxOut);
  return { tx, prevouts, spend };
}

test('BIP-341 fullySignedTx: every P2TR key-path input and the P2WPKH input verify; P2PKH is unsupported', (t) => {
  const { tx, prevouts, spend } = loadBip341();
  const cache = new SighashCache(tx, prevouts);
  const keyPathInputs = new Set(spend.inputSpending.map((s) => s.given.txinIndex));
  const tally = new VectorTally(BIP341_FILE);
  for (let i = 0; i < tx.inputs.length; i++) {
    const r = verifyInput(tx, i, prevouts, cache);
    const spk = prevouts[i]!.scriptPubKey;
    if (keyPathInputs.has(i)) {
      // The signed tx carries exactly the vector's expected witness for this input.
      const expected = spend.inputSpending.find((s) => s.given.txinIndex === i)!.expected.witness;
      tally.check(`input ${i} (P2TR key path)`, {
        valid: [r.valid, true],
        type: [r.type, 'witness_v1_taproot'],
        witness: [bytesToHex(cat(...tx.inputs[i]!.witness)), expected.join('')],
      });
    } else if (spk[0] === 0x00 && spk.length === 22) {
      tally.check(`input ${i} (P2WPKH)`, { valid: [r.valid, true], type: [r.type, 'witness_v0_keyhash'] });
    } else {
      tally.check(`input ${i} (P2PKH)`, { valid: [r.valid, false], type: [r.type, 'pubkeyhash'], reason: [r.reason, 'unsupported-script-type'] });
    }
  }
  tally.report(t);
});

test('BIP-341 fullySignedTx: a signature moved to a changed tx or amount no longer verifies', () => {
  const { tx, prevouts } = loadBip341();
  const changedPrevouts = prevouts.map((p, k) => (k === 7 ? { ...p, value: p.value + 1n } : p));
  // Every non-ANYONECANPAY taproot input commits to all amounts, so one changed amount breaks inputs 0, 3, 4, 6.
  for (const i of [0, 3, 4, 6]) assert.equal(verifyInput(tx, i, changedPrevouts).reason, 'schnorr-sig');
  // Input 1 (0x83) and 8 (0x81) are ANYONECANPAY: they only commit to their own amount.
  for (const i of [1, 8]) assert.equal(verifyInput(tx, i, changedPrevouts).valid, true);
  assert.equal(verifyInput(tx, 7, changedPrevouts).reason, 'schnorr-sig');
});

// ---------------------------------------------------------------------------------------------------------------
// Spends built and signed here with the crypto helpers.
// ---------------------------------------------------------------------------------------------------------------

const WPKH_KEY = hexToBytes('619c335025c7f4012e556c2a58b2506e30b8511b53ade95ea316fd8c3286feb9');
const WPKH_PUB = publicKeyFromPrivate(WPKH_KEY);
const WPKH_SPK = cat(Uint8Array.of(0x00, 0x14), hash160(WPKH_PUB));
const TR_KEY = hexToBytes('6b973d88838f27366ed61c9ad6367663045cb456e28335c109e30717ae0c6baa');
const TR_OUTPUT_KEY = tweakPublicKey(xOnlyPublicKey(TR_KEY)).outputKey;
const TR_SPK = cat(Uint8Array.of(0x51, 0x20), TR_OUTPUT_KEY);
const TR_TWEAKED_KEY = tweakPrivateKey(TR_KEY);

function txid(n: number): Txid {
  return decodeTxid(new Uint8Array(32).fill(n));
}

/** Unsigned tx: inputs 0,2 spend P2WPKH, 1,3 spend P2TR; 3 outputs, so input 3 has no SINGLE output. */
function makeTx(): { tx: Tx; prevouts: TxOut[] } {
  const inputs: TxIn[] = [0, 1, 2, 3].map((k) => ({
    prevout: { txid: txid(k + 1), index: k },
    scriptSig: new Uint8Array(0),
    sequence: 0xfffffffd - k,
    witness: [],
  }));
  const outputs: TxOut[] = [
    { value: 50_000n, scriptPubKey: WPKH_SPK },
    { value: 60_000n, scriptPubKey: TR_SPK },
    { value: 0n, scriptPubKey: Uint8Array.of(0x6a, 0x04, 1, 2, 3, 4) },
  ];
  const prevouts: TxOut[] = [
    { value: 100_000n, scriptPubKey: WPKH_SPK },
    { value: 200_000n, scriptPubKey: TR_SPK },
    { value: 300_000n, scriptPubKey: WPKH_SPK },
    { value: 400_000n, scriptPubKey: TR_SPK },
  ];
  return { tx: { version: 2, inputs, outputs, locktime: 0 }, prevouts };
}

function withWitness(tx: Tx, i: number, witness: Uint8Array[], scriptSig?: Uint8Array): Tx {
  return {
    ...tx,
    inputs: tx.inputs.map((x, k) => (k === i ? { ...x, witness, scriptSig: scriptSig ?? x.scriptSig } : x)),
  };
}

function signWpkh(tx: Tx, i: number, prevouts: TxOut[], hashType: number): { sig64: Uint8Array; sig: Uint8Array } {
  const sighash = computeSegwitV0Sighash(tx, i, p2wpkhScriptCode(hash160(WPKH_PUB)), prevouts[i]!.value, hashType);
  const sig64 = ecdsaSign(sighash, WPKH_KEY);
  return { sig64, sig: cat(encodeDerSignature(sig64), Uint8Array.of(hashType)) };
}

function signTr(tx: Tx, i: number, prevouts: TxOut[], hashType: number, annex?: Uint8Array): Uint8Array {
  const sighash = computeTaprootKeyPathSighash(tx, i, prevouts, hashType, annex);
  const sig = schnorrSign(sighash, TR_TWEAKED_KEY);
  return hashType === SIGHASH.DEFAULT ? sig : cat(sig, Uint8Array.of(hashType));
}

const ECDSA_TYPES = [0x01, 0x02, 0x03, 0x81, 0x82, 0x83];
const TAPROOT_TYPES = [0x00, 0x01, 0x02, 0x03, 0x81, 0x82, 0x83];

test('P2WPKH spends signed with every hash type verify (SINGLE without an output included)', () => {
  const { tx, prevouts } = makeTx();
  for (const i of [0, 2]) {
    for (const ht of ECDSA_TYPES) {
      const { sig } = signWpkh(tx, i, prevouts, ht);
      const signed = withWitness(tx, i, [sig, WPKH_PUB]);
      const label = `input ${i} 0x${ht.toString(16)}`;
      assert.deepEqual(verifyInput(signed, i, prevouts), { type: 'witness_v0_keyhash', valid: true }, label);
    }
  }
});

test('P2TR key-path spends signed with every hash type verify, with and without an annex', () => {
  const { tx, prevouts } = makeTx();
  for (const i of [1]) {
    for (const ht of TAPROOT_TYPES) {
      const plain = withWitness(tx, i, [signTr(tx, i, prevouts, ht)]);
      const label = `0x${ht.toString(16)}`;
      assert.deepEqual(verifyInput(plain, i, prevouts), { type: 'witness_v1_taproot', valid: true }, label);
      const annex = Uint8Array.of(0x50, 0xaa, 0xbb);
      const withAnnex = withWitness(tx, i, [signTr(tx, i, prevouts, ht, annex), annex]);
      assert.equal(verifyInput(withAnnex, i, prevouts).valid, true, `annex 0x${ht.toString(16)}`);
      // The annex is signed: a different annex, or dropping it, breaks the signature.
      const otherAnnex = withWitness(tx, i, [signTr(tx, i, prevouts, ht, annex), Uint8Array.of(0x50, 0xaa, 0xbc)]);
      assert.equal(verifyInput(otherAnnex, i, prevouts).reason, 'schnorr-sig');
      const dropped = withWitness(tx, i, [signTr(tx, i, prevouts, ht, annex)]);
      assert.equal(verifyInput(dropped, i, prevouts).reason, 'schnorr-sig');
    }
  }
  // Input 3 has no output at index 3: every hash type but SINGLE works there.
  for (const ht of TAPROOT_TYPES.filter((h) => (h & 3) !== SIGHASH.SINGLE)) {
    assert.equal(verifyInput(withWitness(tx, 3, [signTr(tx, 3, prevouts, ht)]), 3, prevouts).valid, true);
  }
  const bogus = withWitness(tx, 3, [cat(new Uint8Array(64).fill(1), Uint8Array.of(SIGHASH.SINGLE))]);
  assert.equal(verifyInput(bogus, 3, prevouts).reason, 'schnorr-sig-hashtype');
});

test('hash types keep their promises: ANYONECANPAY survives another input, NONE survives changed outputs', () => {
  const { tx, prevouts } = makeTx();
  const extraIn: TxIn = {
    prevout: { txid: txid(9), index: 9 },
    scriptSig: new Uint8Array(0),
    sequence: 0,
    witness: [],
  };
  const extraOut: TxOut = { value: 1n, scriptPubKey: TR_SPK };
  const extraPrevout: TxOut = { value: 7n, scriptPubKey: WPKH_SPK };
  const addInput = (t: Tx): Tx => ({ ...t, inputs: [...t.inputs, extraIn] });
  const addOutput = (t: Tx): Tx => ({ ...t, outputs: [...t.outputs, extraOut] });
  const morePrevouts = [...prevouts, extraPrevout];

  for (const [i, sign] of [
    [0, (ht: number) => [signWpkh(tx, 0, prevouts, ht).sig, WPKH_PUB]],
    [1, (ht: number) => [signTr(tx, 1, prevouts, ht)]],
  ] as const) {
    const v = (t: Tx, p: TxOut[], ht: number): boolean => verifyInput(withWitness(t, i, sign(ht)), i, p).valid;
    const label = (what: string, ht: number): string => `${what}, input ${i}, 0x${ht.toString(16)}`;
    for (const ht of [0x81, 0x82, 0x83]) assert.equal(v(addInput(tx), morePrevouts, ht), true, label('acp', ht));
    for (const ht of [0x01, 0x02, 0x03]) assert.equal(v(addInput(tx), morePrevouts, ht), false, label('no acp', ht));
    for (const ht of [0x02, 0x82, 0x03, 0x83]) assert.equal(v(addOutput(tx), prevouts, ht), true, label('new out', ht));
    for (const ht of [0x01, 0x81]) assert.equal(v(addOutput(tx), prevouts, ht), false, label('ALL', ht));
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Negative cases.
// ---------------------------------------------------------------------------------------------------------------

function reasonOf(tx: Tx, i: number, prevouts: TxOut[]): string | undefined {
  const r = verifyInput(tx, i, prevouts);
  assert.equal(r.valid, r.reason === undefined);
  return r.reason;
}

test('P2WPKH rejects: flipped byte, high-S, bad DER, hash types, wrong key, shapes, scriptSig, amount', () => {
  const { tx, prevouts } = makeTx();
  const i = 0;
  const { sig64, sig } = signWpkh(tx, i, prevouts, SIGHASH.ALL);
  const spend = (witness: Uint8Array[], scriptSig?: Uint8Array): string | undefined =>
    reasonOf(withWitness(tx, i, witness, scriptSig), i, prevouts);
  assert.equal(spend([sig, WPKH_PUB]), undefined);

  const flipped = sig.slice();
  flipped[10]! ^= 0x01; // inside r: still strict DER
  assert.equal(spend([flipped, WPKH_PUB]), 'sig-nullfail');

  const highS = cat(sig64.subarray(0, 32), to32(N - toBig(sig64.subarray(32))));
  assert.equal(spend([cat(encodeDerSignature(highS), Uint8Array.of(1)), WPKH_PUB]), 'sig-high-s');

  const der = encodeDerSignature(sig64);
  const badHeader = cat(Uint8Array.of(0x31), der.subarray(1), Uint8Array.of(1));
  assert.equal(spend([badHeader, WPKH_PUB]), 'sig-der');
  const lenR = der[3]!;
  const paddedR = cat(
    Uint8Array.of(0x30, der[1]! + 1, 0x02, lenR + 1, 0x00),
    der.subarray(4),
    Uint8Array.of(1),
  ); // an extra leading zero in r: not minimal
  assert.equal(spend([paddedR, WPKH_PUB]), 'sig-der');
  assert.equal(spend([sig.subarray(0, sig.length - 2), WPKH_PUB]), 'sig-der');
  assert.equal(spend([Uint8Array.of(0x01), WPKH_PUB]), 'sig-der'); // only a hashtype byte
  // r = n: strict DER, but out of range, so it can only fail the check.
  const rIsN = cat(Uint8Array.of(0x30, 2 + 33 + 3, 0x02, 33, 0x00), to32(N), Uint8Array.of(0x02, 1, 1, 1));
  assert.equal(spend([rIsN, WPKH_PUB]), 'sig-nullfail');

  for (const ht of [0x00, 0x04, 0x41, 0x80, 0x84, 0xff]) {
    assert.equal(spend([cat(der, Uint8Array.of(ht)), WPKH_PUB]), 'sig-hashtype', `0x${ht.toString(16)}`);
  }
  // A valid hash type other than the signed one: the signature does not match.
  assert.equal(spend([cat(der, Uint8Array.of(SIGHASH.NONE)), WPKH_PUB]), 'sig-nullfail');

  const otherPub = publicKeyFromPrivate(TR_KEY);
  assert.equal(spend([sig, otherPub]), 'equalverify');
  // An uncompressed key is refused even when the output commits to it.
  const uncompressed = publicKeyFromPrivate(WPKH_KEY, false);
  const uncompressedSpk = cat(Uint8Array.of(0x00, 0x14), hash160(uncompressed));
  const p2 = prevouts.map((p, k) => (k === i ? { ...p, scriptPubKey: uncompressedSpk } : p));
  assert.equal(reasonOf(withWitness(tx, i, [sig, uncompressed]), i, p2), 'witness-pubkeytype');

  assert.equal(spend([new Uint8Array(0), WPKH_PUB]), 'eval-false');
  assert.equal(spend([]), 'witness-program-mismatch');
  assert.equal(spend([sig]), 'witness-program-mismatch');
  assert.equal(spend([sig, WPKH_PUB, new Uint8Array(0)]), 'witness-program-mismatch');
  assert.equal(spend([sig, new Uint8Array(521)]), 'push-size');
  assert.equal(spend([sig, WPKH_PUB], Uint8Array.of(0x00)), 'scriptsig-not-empty');

  const wrongAmount = prevouts.map((p, k) => (k === i ? { ...p, value: p.value + 1n } : p));
  assert.equal(reasonOf(withWitness(tx, i, [sig, WPKH_PUB]), i, wrongAmount), 'sig-nullfail');
  // Signed for input 0, placed in input 2 (same key, other outpoint): fails.
  assert.equal(reasonOf(withWitness(tx, 2, [sig, WPKH_PUB]), 2, prevouts), 'sig-nullfail');
});

test('P2TR rejects: flipped byte, 0x00 hash type byte, bad sizes, script path, scriptSig, amount, wrong key', () => {
  const { tx, prevouts } = makeTx();
  const i = 1;
  const spend = (witness: Uint8Array[], scriptSig?: Uint8Array, p = prevouts): string | undefined =>
    reasonOf(withWitness(tx, i, witness, scriptSig), i, p);
  const sig = signTr(tx, i, prevouts, SIGHASH.DEFAULT);
  assert.equal(spend([sig]), undefined);

  const flipped = sig.slice();
  flipped[40]! ^= 0x01;
  assert.equal(spend([flipped]), 'schnorr-sig');
  // SIGHASH_DEFAULT written out as a 65th byte is invalid (one encoding per signature).
  assert.equal(spend([cat(sig, Uint8Array.of(0x00))]), 'schnorr-sig-hashtype');
  for (const ht of [0x04, 0x80, 0x84, 0xff]) {
    assert.equal(spend([cat(sig, Uint8Array.of(ht))]), 'schnorr-sig-hashtype', `0x${ht.toString(16)}`);
  }
  // Signed as DEFAULT, presented as ALL: a different sighash.
  assert.equal(spend([cat(sig, Uint8Array.of(SIGHASH.ALL))]), 'schnorr-sig');
  assert.equal(spend([sig.subarray(0, 63)]), 'schnorr-sig-size');
  assert.equal(spend([cat(sig, Uint8Array.of(1, 1))]), 'schnorr-sig-size');
  assert.equal(spend([new Uint8Array(0)]), 'schnorr-sig-size');
  assert.equal(spend([]), 'witness-program-witness-empty');
  // A lone annex-looking element is the signature (the annex needs at least two elements).
  assert.equal(spend([Uint8Array.of(0x50, 1, 2)]), 'schnorr-sig-size');

  const script = Uint8Array.of(0x51);
  const control = cat(Uint8Array.of(0xc0), xOnlyPublicKey(TR_KEY));
  assert.equal(spend([sig, script, control]), 'taproot-script-path-unsupported');
  assert.equal(spend([script, control]), 'taproot-script-path-unsupported');
  assert.equal(spend([sig, script, control, Uint8Array.of(0x50)]), 'taproot-script-path-unsupported');
  // Last element empty or not starting with 0x50: not an annex, so two elements are a script path.
  assert.equal(spend([sig, new Uint8Array(0)]), 'taproot-script-path-unsupported');
  assert.equal(spend([sig, Uint8Array.of(0x51)]), 'taproot-script-path-unsupported');

  assert.equal(spend([sig], Uint8Array.of(0x51)), 'scriptsig-not-empty');
  const wrongAmount = prevouts.map((p, k) => (k === 0 ? { ...p, value: p.value - 1n } : p));
  assert.equal(spend([sig], undefined, wrongAmount), 'schnorr-sig');
  // Signed with the untweaked key: the output key is the tweaked one.
  const untweaked = schnorrSign(computeTaprootKeyPathSighash(tx, i, prevouts, 0), TR_KEY);
  assert.equal(spend([untweaked]), 'schnorr-sig');
});

test('other spent script types are unsupported; caller errors throw', () => {
  const { tx, prevouts } = makeTx();
  const scripts: [string, Uint8Array][] = [
    ['pubkeyhash', cat(Uint8Array.of(0x76, 0xa9, 0x14), new Uint8Array(20), Uint8Array.of(0x88, 0xac))],
    ['scripthash', cat(Uint8Array.of(0xa9, 0x14), new Uint8Array(20), Uint8Array.of(0x87))],
    ['witness_v0_scripthash', cat(Uint8Array.of(0x00, 0x20), new Uint8Array(32))],
    ['witness_unknown', cat(Uint8Array.of(0x52, 0x20), new Uint8Array(32))],
    ['anchor', Uint8Array.of(0x51, 0x02, 0x4e, 0x73)],
    ['nulldata', Uint8Array.of(0x6a)],
    ['nonstandard', new Uint8Array(0)],
  ];
  for (const [type, spk] of scripts) {
    const p = prevouts.map((x, k) => (k === 0 ? { ...x, scriptPubKey: spk } : x));
    assert.deepEqual(verifyInput(tx, 0, p), { type, valid: false, reason: 'unsupported-script-type' });
  }
  const reason = (r: string) => (e: unknown) => e instanceof VerifyError && e.code === r;
  assert.throws(() => verifyInput(tx, 4, prevouts), reason('sighash-input-index'));
  assert.throws(() => verifyInput(tx, 0, prevouts.slice(1)), reason('sighash-missing-prevouts'));
  assert.throws(() => verifyInput(tx, 0, prevouts, new SighashCache({ ...tx })), reason('sighash-cache-mismatch'));
});

test('one SighashCache shared by all inputs gives the same verdicts', () => {
  const { tx: unsigned, prevouts } = makeTx();
  let tx = unsigned;
  tx = withWitness(tx, 0, [signWpkh(unsigned, 0, prevouts, 0x01).sig, WPKH_PUB]);
  tx = withWitness(tx, 1, [signTr(unsigned, 1, prevouts, 0x00)]);
  tx = withWitness(tx, 2, [signWpkh(unsigned, 2, prevouts, 0x83).sig, WPKH_PUB]);
  tx = withWitness(tx, 3, [cat(signTr(unsigned, 3, prevouts, 0x82).subarray(0, 64), Uint8Array.of(0x81))]);
  const cache = new SighashCache(tx, prevouts);
  const shared = tx.inputs.map((_, i) => verifyInput(tx, i, prevouts, cache));
  const fresh = tx.inputs.map((_, i) => verifyInput(tx, i, prevouts));
  assert.deepEqual(shared, fresh);
  assert.deepEqual(
    shared.map((r) => r.reason),
    [undefined, undefined, undefined, 'schnorr-sig'],
  );
});
