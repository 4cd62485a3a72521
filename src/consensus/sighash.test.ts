import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { bytesEqual, bytesToHex, hexToBytes } from '../primitives/hex.js';
import { decodeTx, encodeTxOut } from '../primitives/tx.js';
import type { Tx, TxOut } from '../primitives/types.js';
import { readVectorJson, reportVectors } from '../testing/vectors.js';
import {
  computeSegwitV0Sighash,
  computeSegwitV0SighashPreimage,
  computeTaprootKeyPathSighash,
  computeTaprootSigMsg,
  p2wpkhScriptCode,
  SIGHASH,
  SighashCache,
} from './sighash.js';
import { VerifyError } from './verifyError.js';

interface Bip143Example {
  name: string;
  unsignedTx: string;
  hashPrevouts?: string;
  hashSequence?: string;
  hashOutputs?: string;
  sighashPreimage?: string;
  sigHash: string;
  scriptCode: string;
  amountSats: number;
  nHashType: number;
  signingInputIndex: number;
}

type BIP341TxHash = 'hashAmounts' | 'hashOutputs' | 'hashPrevouts' | 'hashScriptPubkeys' | 'hashSequences';

interface Bip341File {
  keyPathSpending: {
    given: { rawUnsignedTx: string; utxosSpent: { scriptPubKey: string; amountSats: number }[] };
    intermediary: Record<BIP341TxHash, string>;
    inputSpending: {
      given: { txinIndex: number; hashType: number };
      intermediary: { sigMsg?: string; sigHash: string };
    }[];
  }[];
}

const BIP143_FILE = 'bip143-p2wpkh-examples.json';
const BIP341_FILE = 'bip341-wallet-test-vectors.json';

const dsha = (b: Uint8Array): Uint8Array =>
  new Uint8Array(createHash('sha256').update(createHash('sha256').update(b).digest()).digest());
const sha = (b: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest());
const ZERO32 = new Uint8Array(32);

/** Offsets of the BIP-143 preimage fields (scriptCode of 26 bytes, as for P2WPKH). */
const PRE = { hashPrevouts: 4, hashSequence: 36, outpoint: 68, scriptCode: 104, hashOutputsFromEnd: 40 };

function loadBip143(): Bip143Example[] {
  return readVectorJson<{ examples: Bip143Example[] }>(BIP143_FILE).examples;
}

function hashOutputsOf(preimage: Uint8Array): Uint8Array {
  return preimage.subarray(preimage.length - PRE.hashOutputsFromEnd, preimage.length - 8);
}

test('BIP-143 examples: hashPrevouts, hashSequence, hashOutputs, preimage and sighash', (t) => {
  let passed = 0;
  let total = 0;
  const failures: string[] = [];
  const check = (label: string, actual: Uint8Array, expectedHex: string | undefined): void => {
    if (expectedHex === undefined) return;
    total++;
    if (bytesToHex(actual) === expectedHex) passed++;
    else failures.push(`${label}: expected ${expectedHex}, got ${bytesToHex(actual)}`);
  };
  for (const ex of loadBip143()) {
    const tx = decodeTx(hexToBytes(ex.unsignedTx));
    const cache = new SighashCache(tx);
    const scriptCode = hexToBytes(ex.scriptCode);
    const amount = BigInt(ex.amountSats);
    check(`${ex.name} hashPrevouts`, cache.hashPrevouts, ex.hashPrevouts);
    check(`${ex.name} hashSequence`, cache.hashSequence, ex.hashSequence);
    check(`${ex.name} hashOutputs`, cache.hashOutputs, ex.hashOutputs);
    const preimage = computeSegwitV0SighashPreimage(tx, ex.signingInputIndex, scriptCode, amount, ex.nHashType, cache);
    check(`${ex.name} preimage`, preimage, ex.sighashPreimage);
    const sighash = computeSegwitV0Sighash(tx, ex.signingInputIndex, scriptCode, amount, ex.nHashType);
    check(`${ex.name} sigHash`, sighash, ex.sigHash);
  }
  reportVectors(t, BIP143_FILE, passed, total, undefined, failures);
});

test('BIP-143 p2wpkhScriptCode builds 0x1976a914{20}88ac', () => {
  for (const ex of loadBip143()) {
    const code = hexToBytes(ex.scriptCode);
    assert.deepEqual(p2wpkhScriptCode(code.subarray(4, 24)), code);
  }
});

test('BIP-143 hash types: which fields each one commits to', () => {
  const ex = loadBip143()[0]!;
  const tx = decodeTx(hexToBytes(ex.unsignedTx));
  const i = ex.signingInputIndex;
  const code = hexToBytes(ex.scriptCode);
  const amount = BigInt(ex.amountSats);
  const pre = (ht: number, t: Tx = tx, a = amount, idx = i): Uint8Array =>
    computeSegwitV0SighashPreimage(t, idx, code, a, ht);
  const vectorPre = hexToBytes(ex.sighashPreimage!);
  const { ALL, NONE, SINGLE, ANYONECANPAY } = SIGHASH;

  for (const base of [ALL, NONE, SINGLE]) {
    for (const acp of [0, ANYONECANPAY]) {
      const ht = base | acp;
      const p = pre(ht);
      // Fields every hash type shares with the vector's ALL preimage: version, outpoint, scriptCode, amount,
      // sequence, locktime; the last 4 bytes are the hash type.
      assert.deepEqual(p.subarray(0, 4), vectorPre.subarray(0, 4));
      const tail = (bytes: Uint8Array, from: number, toFromEnd: number): Uint8Array =>
        bytes.subarray(from, bytes.length - toFromEnd);
      assert.deepEqual(tail(p, PRE.outpoint, 40), tail(vectorPre, PRE.outpoint, 40));
      assert.deepEqual(p.subarray(p.length - 8, p.length - 4), vectorPre.subarray(vectorPre.length - 8, -4));
      assert.equal(new DataView(p.buffer, p.byteOffset).getUint32(p.length - 4, true), ht);

      const hp = p.subarray(PRE.hashPrevouts, PRE.hashPrevouts + 32);
      const hs = p.subarray(PRE.hashSequence, PRE.hashSequence + 32);
      assert.deepEqual(hp, acp ? ZERO32 : hexToBytes(ex.hashPrevouts!), `hashPrevouts for 0x${ht.toString(16)}`);
      const wantHs = acp || base !== ALL ? ZERO32 : hexToBytes(ex.hashSequence!);
      assert.deepEqual(hs, wantHs, `hashSequence 0x${ht.toString(16)}`);
      const ho = hashOutputsOf(p);
      if (base === ALL) assert.deepEqual(ho, hexToBytes(ex.hashOutputs!));
      if (base === NONE) assert.deepEqual(ho, ZERO32);
      if (base === SINGLE) assert.deepEqual(ho, dsha(encodeTxOut(tx.outputs[i]!)));
      assert.deepEqual(computeSegwitV0Sighash(tx, i, code, amount, ht), dsha(p));
    }
  }

  // SINGLE without a matching output: hashOutputs is zero and the sighash is a real hash, not Core's legacy "1".
  const oneOutput: Tx = { ...tx, outputs: tx.outputs.slice(0, 1) };
  const p = pre(SINGLE, oneOutput, amount, 1);
  assert.deepEqual(hashOutputsOf(p), ZERO32);
  const legacyOne = new Uint8Array(32);
  legacyOne[0] = 1;
  assert.ok(!bytesEqual(computeSegwitV0Sighash(oneOutput, 1, code, amount, SINGLE), legacyOne));
});

test('BIP-143 hash types: mutations change exactly the sighashes that commit to them', () => {
  const ex = loadBip143()[0]!;
  const tx = decodeTx(hexToBytes(ex.unsignedTx));
  const i = ex.signingInputIndex; // 1
  const other = 0;
  const code = hexToBytes(ex.scriptCode);
  const amount = BigInt(ex.amountSats);
  const sh = (t: Tx, ht: number, a = amount): string => bytesToHex(computeSegwitV0Sighash(t, i, code, a, ht));
  const { ALL, NONE, SINGLE, ANYONECANPAY } = SIGHASH;
  const types = [ALL, NONE, SINGLE, ALL | ANYONECANPAY, NONE | ANYONECANPAY, SINGLE | ANYONECANPAY];

  const withOutput = (n: number, out: TxOut): Tx => ({ ...tx, outputs: tx.outputs.map((o, k) => (k === n ? out : o)) });
  const withInput = (n: number, f: (x: Tx['inputs'][number]) => Tx['inputs'][number]): Tx => ({
    ...tx,
    inputs: tx.inputs.map((x, k) => (k === n ? f(x) : x)),
  });
  const cases: { name: string; tx: Tx; changes: (ht: number) => boolean }[] = [
    {
      name: 'value of the output at the input index',
      tx: withOutput(i, { ...tx.outputs[i]!, value: tx.outputs[i]!.value + 1n }),
      changes: (ht) => (ht & 0x1f) !== NONE,
    },
    {
      name: 'value of another output',
      tx: withOutput(other, { ...tx.outputs[other]!, value: tx.outputs[other]!.value + 1n }),
      changes: (ht) => (ht & 0x1f) === ALL,
    },
    {
      name: "another input's prevout",
      tx: withInput(other, (x) => ({ ...x, prevout: { ...x.prevout, index: x.prevout.index + 1 } })),
      changes: (ht) => (ht & ANYONECANPAY) === 0,
    },
    {
      name: "another input's sequence",
      tx: withInput(other, (x) => ({ ...x, sequence: (x.sequence - 1) >>> 0 })),
      changes: (ht) => ht === ALL,
    },
    {
      name: "this input's sequence",
      tx: withInput(i, (x) => ({ ...x, sequence: (x.sequence - 1) >>> 0 })),
      changes: () => true,
    },
    { name: 'locktime', tx: { ...tx, locktime: tx.locktime + 1 }, changes: () => true },
    {
      name: "another input's witness (not signed)",
      tx: withInput(other, (x) => ({ ...x, witness: [new Uint8Array([1])] })),
      changes: () => false,
    },
  ];
  for (const c of cases) {
    for (const ht of types) {
      const differs = sh(c.tx, ht) !== sh(tx, ht);
      assert.equal(differs, c.changes(ht), `${c.name}, hashType 0x${ht.toString(16)}`);
    }
  }
  for (const ht of types) assert.notEqual(sh(tx, ht, amount + 1n), sh(tx, ht), `amount, hashType 0x${ht.toString(16)}`);
  assert.equal(new Set(types.map((ht) => sh(tx, ht))).size, types.length, 'every hash type gives its own sighash');
});

function loadBip341(): { tx: Tx; prevouts: TxOut[]; spend: Bip341File['keyPathSpending'][number] } {
  const spend = readVectorJson<Bip341File>(BIP341_FILE).keyPathSpending[0]!;
  const tx = decodeTx(hexToBytes(spend.given.rawUnsignedTx));
  const prevouts = spend.given.utxosSpent.map((u) => ({
    value: BigInt(u.amountSats),
    scriptPubKey: hexToBytes(u.scriptPubKey),
  }));
  return { tx, prevouts, spend };
}

test('BIP-341 keyPathSpending: sha_* intermediates, sigMsg and sigHash of every input', (t) => {
  const { tx, prevouts, spend } = loadBip341();
  let passed = 0;
  let total = 0;
  const failures: string[] = [];
  const check = (label: string, actual: Uint8Array, expectedHex: string): void => {
    total++;
    if (bytesToHex(actual) === expectedHex) passed++;
    else failures.push(`${label}: expected ${expectedHex}, got ${bytesToHex(actual)}`);
  };
  const cache = new SighashCache(tx, prevouts);
  const im = spend.intermediary;
  check('hashPrevouts', cache.shaPrevouts, im.hashPrevouts);
  check('hashAmounts', cache.shaAmounts, im.hashAmounts);
  check('hashScriptPubkeys', cache.shaScriptPubKeys, im.hashScriptPubkeys);
  check('hashSequences', cache.shaSequences, im.hashSequences);
  check('hashOutputs', cache.shaOutputs, im.hashOutputs);
  for (const input of spend.inputSpending) {
    const { txinIndex, hashType } = input.given;
    if (input.intermediary.sigMsg !== undefined) {
      const sigMsg = computeTaprootSigMsg(tx, txinIndex, prevouts, hashType, undefined, cache);
      check(`input ${txinIndex} sigMsg`, sigMsg, input.intermediary.sigMsg);
    }
    // Without a shared cache too, so both paths are exercised.
    const sigHash = computeTaprootKeyPathSighash(tx, txinIndex, prevouts, hashType);
    check(`input ${txinIndex} sigHash`, sigHash, input.intermediary.sigHash);
  }
  reportVectors(t, BIP341_FILE, passed, total, undefined, failures);
});

test('BIP-341 annex: spend_type bit 0 set and sha_annex inserted before sha_single_output', () => {
  const { tx, prevouts, spend } = loadBip341();
  const { txinIndex, hashType } = spend.inputSpending[0]!.given; // SIGHASH_SINGLE, not ANYONECANPAY
  assert.equal(hashType, SIGHASH.SINGLE);
  const vec = hexToBytes(spend.inputSpending[0]!.intermediary.sigMsg!);
  // epoch, hash_type, version, locktime, 4 sha_* fields; then spend_type, input_index, sha_single_output.
  const spendTypeAt = 1 + 1 + 4 + 4 + 4 * 32;
  for (const annex of [new Uint8Array([0x50]), new Uint8Array(300).fill(0x50)]) {
    const sizePrefix = annex.length < 0xfd ? [annex.length] : [0xfd, annex.length & 0xff, annex.length >> 8];
    const shaAnnex = sha(Uint8Array.from([...sizePrefix, ...annex]));
    const expected = Uint8Array.from([
      ...vec.subarray(0, spendTypeAt),
      0x01,
      ...vec.subarray(spendTypeAt + 1, spendTypeAt + 5),
      ...shaAnnex,
      ...vec.subarray(spendTypeAt + 5),
    ]);
    const msg = computeTaprootSigMsg(tx, txinIndex, prevouts, hashType, annex);
    assert.deepEqual(msg, expected);
    assert.notDeepEqual(
      computeTaprootKeyPathSighash(tx, txinIndex, prevouts, hashType, annex),
      computeTaprootKeyPathSighash(tx, txinIndex, prevouts, hashType),
    );
  }
});

test('BIP-341 invalid hash types and SIGHASH_SINGLE without an output throw schnorr-sig-hashtype', () => {
  const { tx, prevouts } = loadBip341();
  const isHashtypeError = (e: unknown): boolean => e instanceof VerifyError && e.code === 'schnorr-sig-hashtype';
  for (const ht of [0x04, 0x20, 0x41, 0x80, 0x84, 0xff]) {
    assert.throws(() => computeTaprootKeyPathSighash(tx, 0, prevouts, ht), isHashtypeError, `0x${ht.toString(16)}`);
  }
  assert.ok(tx.outputs.length < tx.inputs.length);
  const beyond = tx.outputs.length; // an input index with no output at the same index
  for (const ht of [SIGHASH.SINGLE, SIGHASH.SINGLE | SIGHASH.ANYONECANPAY]) {
    assert.throws(() => computeTaprootKeyPathSighash(tx, beyond, prevouts, ht), isHashtypeError);
  }
  for (const ht of [0x00, 0x01, 0x02, 0x81, 0x82]) computeTaprootKeyPathSighash(tx, beyond, prevouts, ht);
});

test('sighash argument errors are VerifyErrors', () => {
  const { tx, prevouts } = loadBip341();
  const reason = (r: string) => (e: unknown) => e instanceof VerifyError && e.code === r;
  assert.throws(() => computeTaprootKeyPathSighash(tx, tx.inputs.length, prevouts, 0), reason('sighash-input-index'));
  assert.throws(() => computeTaprootKeyPathSighash(tx, -1, prevouts, 0), reason('sighash-input-index'));
  assert.throws(() => computeTaprootKeyPathSighash(tx, 0, prevouts.slice(1), 0), reason('sighash-missing-prevouts'));
  const code = p2wpkhScriptCode(new Uint8Array(20));
  assert.throws(() => computeSegwitV0Sighash(tx, 9, code, 1n, 1), reason('sighash-input-index'));
  const otherTx: Tx = { ...tx, locktime: 0 };
  assert.throws(
    () => computeSegwitV0Sighash(tx, 0, code, 1n, 1, new SighashCache(otherTx)),
    reason('sighash-cache-mismatch'),
  );
  // A cache built without spent outputs receives them on first taproot use.
  const late = new SighashCache(tx);
  assert.throws(() => late.shaAmounts, reason('sighash-missing-prevouts'));
  assert.deepEqual(
    computeTaprootKeyPathSighash(tx, 0, prevouts, 3, undefined, late),
    computeTaprootKeyPathSighash(tx, 0, prevouts, 3),
  );
});
