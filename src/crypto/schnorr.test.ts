import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesEqual, bytesToHex, hexToBytes } from '../primitives/hex.js';
import { readVectorText, reportVectors } from '../testing/vectors.js';
import { CryptoError } from './cryptoError.js';
import { publicKeyFromPrivate } from './ecdsa.js';
import { schnorrSign, schnorrVerify, toXOnly, xOnlyPublicKey } from './schnorr.js';

const FILE = 'bip340-test-vectors.csv';

interface Bip340Row {
  index: string;
  secretKey: string;
  publicKey: string;
  auxRand: string;
  message: string;
  signature: string;
  result: boolean;
  comment: string;
}

function readRows(): Bip340Row[] {
  const lines = readVectorText(FILE).split(/\r?\n/).filter((l) => l.trim() !== '');
  assert.equal(lines[0], 'index,secret key,public key,aux_rand,message,signature,verification result,comment');
  return lines.slice(1).map((line) => {
    const f = line.split(',');
    assert.ok(f.length >= 8, `malformed row: ${line}`);
    assert.ok(f[6] === 'TRUE' || f[6] === 'FALSE', `bad result field: ${line}`);
    return {
      index: f[0]!,
      secretKey: f[1]!,
      publicKey: f[2]!,
      auxRand: f[3]!,
      message: f[4]!,
      signature: f[5]!,
      result: f[6] === 'TRUE',
      comment: f.slice(7).join(','),
    };
  });
}

test('BIP-340 vectors: signing (rows with a secret key) and verification (every row)', (t) => {
  const rows = readRows();
  let passed = 0;
  const failures: string[] = [];
  for (const row of rows) {
    const publicKey = hexToBytes(row.publicKey);
    const message = hexToBytes(row.message);
    const signature = hexToBytes(row.signature);
    const problems: string[] = [];
    if (row.secretKey !== '') {
      const secretKey = hexToBytes(row.secretKey);
      if (!bytesEqual(xOnlyPublicKey(secretKey), publicKey)) problems.push('x-only public key differs');
      const sig = schnorrSign(message, secretKey, hexToBytes(row.auxRand));
      if (!bytesEqual(sig, signature)) problems.push(`signature ${bytesToHex(sig)} differs`);
    }
    if (schnorrVerify(message, publicKey, signature) !== row.result) problems.push(`verify != ${row.result}`);
    if (problems.length === 0) passed++;
    else failures.push(`row ${row.index} (${row.comment || 'no comment'}): ${problems.join('; ')}`);
  }
  reportVectors(t, FILE, passed, rows.length, 19, failures);
});

test('schnorrVerify never throws on malformed input', () => {
  const rows = readRows();
  const row = rows[1]!;
  const msg = hexToBytes(row.message);
  const key = hexToBytes(row.publicKey);
  const sig = hexToBytes(row.signature);
  assert.equal(schnorrVerify(msg, key, sig), true);
  assert.equal(schnorrVerify(msg, key, sig.subarray(0, 63)), false);
  assert.equal(schnorrVerify(msg, key.subarray(0, 31), sig), false);
  assert.equal(schnorrVerify(msg, new Uint8Array(32), sig), false);
  assert.equal(schnorrVerify(msg, new Uint8Array(32).fill(0xff), sig), false);
  assert.equal(schnorrVerify(new Uint8Array(0), key, sig), false);
  assert.equal(schnorrVerify(msg, key, new Uint8Array(64).fill(0xff)), false);
});

test('schnorrSign refuses bad keys and aux with CryptoError', () => {
  const msg = new Uint8Array(32);
  const n = hexToBytes('fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141');
  for (const bad of [new Uint8Array(32), n, new Uint8Array(31).fill(1)]) {
    assert.throws(() => schnorrSign(msg, bad), (e: unknown) => e instanceof CryptoError && e.code === 'bad-private-key');
  }
  const key = new Uint8Array(32).fill(1);
  assert.throws(
    () => schnorrSign(msg, key, new Uint8Array(31)),
    (e: unknown) => e instanceof CryptoError && e.code === 'bad-aux-length',
  );
});

test('toXOnly drops the parity byte and refuses anything but a compressed key on the curve', () => {
  const rows = readRows().filter((r) => r.secretKey !== '');
  for (const row of rows) {
    const secretKey = hexToBytes(row.secretKey);
    // The BIP-340 vector's public key is the x coordinate of d·G.
    assert.equal(bytesToHex(toXOnly(publicKeyFromPrivate(secretKey))).toUpperCase(), row.publicKey);
  }
  const isBadKey = (e: unknown): boolean => e instanceof CryptoError && e.code === 'bad-public-key';
  assert.throws(() => toXOnly(new Uint8Array(32)), isBadKey);
  assert.throws(() => toXOnly(publicKeyFromPrivate(new Uint8Array(32).fill(1), false)), isBadKey);
  const offCurve = new Uint8Array(33);
  offCurve[0] = 0x02;
  offCurve.set(hexToBytes('EEFDEA4CDB677750A420FEE807EACF21EB9898AE79B9768766E4FAA04A2D4A34'), 1); // row 5: not on curve
  assert.throws(() => toXOnly(offCurve), isBadKey);
});
