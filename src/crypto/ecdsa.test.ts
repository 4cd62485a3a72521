import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesEqual, bytesToHex, hexToBytes } from '../primitives/hex.js';
import { readVectorJson, reportVectors } from '../testing/vectors.js';
import { CryptoError } from './cryptoError.js';
import {
  decodeDerSignature,
  ecdsaSign,
  ecdsaVerify,
  encodeDerSignature,
  isLowS,
  isStrictDerSignature,
  isValidPrivateKey,
  isValidPublicKey,
  publicKeyFromPrivate,
} from './ecdsa.js';
import { hash160, sha256 } from './hash.js';

const FILE = 'bip143-p2wpkh-examples.json';

/** secp256k1 group order n (SEC 2). */
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

interface Bip143Example {
  name: string;
  sigHash: string;
  signature: string;
  nHashType: number;
  signingInputIndex: number;
  inputs: { index: number; scriptPubKey: string; redeemScript?: string; privateKey: string; publicKey?: string }[];
}

function toBig(b: Uint8Array): bigint {
  return BigInt(`0x${bytesToHex(b) || '0'}`);
}

function from32(x: bigint): Uint8Array {
  return hexToBytes(x.toString(16).padStart(64, '0'));
}

/** The same signature with s replaced by n - s (the other, high or low, form). */
function flipS(sig64: Uint8Array): Uint8Array {
  const out = Uint8Array.from(sig64);
  out.set(from32(N - toBig(sig64.subarray(32))), 32);
  return out;
}

test('BIP-143 examples: the P2WPKH signatures decode (strict DER), are low-S, verify and re-sign identically', (t) => {
  const { examples } = readVectorJson<{ examples: Bip143Example[] }>(FILE);
  let passed = 0;
  const failures: string[] = [];
  for (const ex of examples) {
    const problems: string[] = [];
    const input = ex.inputs.find((i) => i.index === ex.signingInputIndex);
    assert.ok(input?.publicKey, `${ex.name}: signing input has a public key`);
    const privateKey = hexToBytes(input.privateKey);
    const publicKey = hexToBytes(input.publicKey);
    const sigHash = hexToBytes(ex.sigHash);
    const withHashType = hexToBytes(ex.signature);
    if (withHashType.at(-1) !== ex.nHashType) problems.push('hashtype byte');
    const der = withHashType.subarray(0, -1);
    if (!bytesEqual(publicKeyFromPrivate(privateKey), publicKey)) problems.push('public key differs');
    // The key must be the one the spent output commits to (P2WPKH program or the P2SH-P2WPKH redeemScript).
    const program = hexToBytes(input.redeemScript ?? input.scriptPubKey).subarray(2);
    if (!bytesEqual(hash160(publicKey), program)) problems.push('hash160(pubkey) differs');
    const sig = decodeDerSignature(der);
    if (!sig) {
      problems.push('not strict DER');
    } else {
      if (!bytesEqual(encodeDerSignature(sig), der)) problems.push('DER does not round-trip');
      if (!isLowS(sig)) problems.push('not low-S');
      if (!ecdsaVerify(sigHash, publicKey, sig)) problems.push('does not verify');
      // Bitcoin Core signs with RFC 6979 and no extra entropy, as ecdsaSign does.
      if (!bytesEqual(ecdsaSign(sigHash, privateKey), sig)) problems.push('ecdsaSign gives another signature');
      if (ecdsaVerify(sha256(sigHash), publicKey, sig)) problems.push('verifies for another hash');
    }
    if (problems.length === 0) passed++;
    else failures.push(`${ex.name}: ${problems.join('; ')}`);
  }
  reportVectors(t, `${FILE} ECDSA signatures`, passed, examples.length, 2, failures);
});

test('sign/verify round trips, compressed and uncompressed keys, wrong key or hash refused', () => {
  for (let i = 1; i <= 20; i++) {
    const privateKey = sha256(Uint8Array.of(i));
    const msg = sha256(Uint8Array.of(0xff, i));
    const sig = ecdsaSign(msg, privateKey);
    assert.equal(sig.length, 64);
    assert.ok(isLowS(sig), 'libsecp256k1 signs low-S');
    assert.deepEqual(ecdsaSign(msg, privateKey), sig, 'RFC 6979 is deterministic');
    const compressed = publicKeyFromPrivate(privateKey);
    const uncompressed = publicKeyFromPrivate(privateKey, false);
    assert.equal(compressed.length, 33);
    assert.equal(uncompressed.length, 65);
    assert.deepEqual(uncompressed.subarray(1, 33), compressed.subarray(1));
    assert.ok(ecdsaVerify(msg, compressed, sig));
    assert.ok(ecdsaVerify(msg, uncompressed, sig));
    assert.equal(ecdsaVerify(msg, publicKeyFromPrivate(sha256(Uint8Array.of(i, i))), sig), false);
    const otherMsg = Uint8Array.from(msg);
    otherMsg[0]! ^= 1;
    assert.equal(ecdsaVerify(otherMsg, compressed, sig), false);
    const der = encodeDerSignature(sig);
    assert.ok(isStrictDerSignature(der));
    assert.deepEqual(decodeDerSignature(der), sig);
  }
});

test('high-S: detected by isLowS and rejected by ecdsaVerify (libsecp256k1 verify without normalising)', () => {
  const privateKey = sha256(Uint8Array.of(42));
  const msg = sha256(Uint8Array.of(43));
  const publicKey = publicKeyFromPrivate(privateKey);
  const low = ecdsaSign(msg, privateKey);
  const high = flipS(low);
  assert.ok(toBig(high.subarray(32)) > N / 2n);
  assert.equal(isLowS(high), false);
  assert.equal(ecdsaVerify(msg, publicKey, high), false);
  // Still strict DER, and decodes as is (high-S is a separate rule).
  assert.deepEqual(decodeDerSignature(encodeDerSignature(high)), high);
  // Boundary: s = n/2 (floor) is low, s = n/2 + 1 is high.
  const half = Uint8Array.from(low);
  half.set(from32(N / 2n), 32);
  assert.equal(isLowS(half), true);
  half.set(from32(N / 2n + 1n), 32);
  assert.equal(isLowS(half), false);
});

test('ecdsaVerify never throws: bad lengths, r or s out of range, keys off the curve, hybrid keys', () => {
  const privateKey = sha256(Uint8Array.of(7));
  const msg = sha256(Uint8Array.of(8));
  const publicKey = publicKeyFromPrivate(privateKey);
  const sig = ecdsaSign(msg, privateKey);
  const withR = (r: bigint) => Uint8Array.from([...from32(r), ...sig.subarray(32)]);
  const withS = (s: bigint) => Uint8Array.from([...sig.subarray(0, 32), ...from32(s)]);
  const uncompressed = publicKeyFromPrivate(privateKey, false);
  const hybrid = Uint8Array.from(uncompressed);
  hybrid[0] = 0x06 | (uncompressed[64]! & 1);
  const offCurve = Uint8Array.from(publicKey);
  offCurve[32]! ^= 1;
  const cases: [Uint8Array, Uint8Array, Uint8Array][] = [
    [msg.subarray(0, 31), publicKey, sig],
    [msg, publicKey.subarray(0, 32), sig],
    [msg, publicKey, sig.subarray(0, 63)],
    [msg, publicKey, withR(0n)],
    [msg, publicKey, withR(N)],
    [msg, publicKey, withS(0n)],
    [msg, publicKey, withS(N)],
    [msg, new Uint8Array(33), sig],
    [msg, hybrid, sig],
    [msg, Uint8Array.of(0x05, ...publicKey.subarray(1)), sig],
  ];
  for (const [m, k, s] of cases) assert.equal(ecdsaVerify(m, k, s), false);
  // Probability 1/2 that flipping a bit of x leaves the curve; whatever it is, verify must just say false.
  assert.equal(ecdsaVerify(msg, offCurve, sig), false);
  assert.equal(isValidPublicKey(hybrid), false, 'hybrid keys are refused');
  assert.equal(isValidPublicKey(uncompressed), true);
  assert.equal(isValidPublicKey(publicKey), true);
});

test('key validity and typed errors', () => {
  assert.equal(isValidPrivateKey(new Uint8Array(32)), false);
  assert.equal(isValidPrivateKey(from32(N)), false);
  assert.equal(isValidPrivateKey(from32(N - 1n)), true);
  assert.equal(isValidPrivateKey(new Uint8Array(31).fill(1)), false);
  const isReason = (reason: string) => (e: unknown) => e instanceof CryptoError && e.code === reason;
  assert.throws(() => publicKeyFromPrivate(from32(N)), isReason('bad-private-key'));
  assert.throws(() => ecdsaSign(new Uint8Array(32), new Uint8Array(32)), isReason('bad-private-key'));
  assert.throws(() => ecdsaSign(new Uint8Array(33), from32(1n)), isReason('bad-message-length'));
  assert.throws(() => encodeDerSignature(new Uint8Array(65)), isReason('bad-signature-length'));
  assert.throws(() => isLowS(new Uint8Array(63)), isReason('bad-signature-length'));
});

/**
 * Hand-checked malformed encodings, each breaking one BIP-66 rule of a known-good DER signature. Each case
 * must be refused by decodeDerSignature (null) and by isStrictDerSignature.
 */
test('strict DER (BIP-66): malformed encodings are refused, edge values handled', () => {
  // 30 44 02 20 <r:32> 02 20 <s:32>: the Native P2WPKH signature of BIP-143, without its hashtype byte.
  const good = hexToBytes(
    '304402203609e17b84f6a7d30c80bfa610b5b4542f32a8a0d5447a12fb1366d7f01cc44a' +
      '0220573a954c4518331561406f90300e8f3358f51928d43c212a8caed02de67eebee',
  );
  assert.ok(isStrictDerSignature(good));
  assert.ok(decodeDerSignature(good));
  const r = good.subarray(4, 36);
  const s = good.subarray(38, 70);
  const seq = (...parts: number[][]) => Uint8Array.from([0x30, parts.flat().length, ...parts.flat()]);
  const int = (bytes: number[] | Uint8Array) => [0x02, bytes.length, ...bytes];
  const mutate = (f: (b: Uint8Array) => void) => {
    const b = Uint8Array.from(good);
    f(b);
    return b;
  };
  const bad: [string, Uint8Array][] = [
    ['empty', new Uint8Array(0)],
    ['too short (7 bytes)', Uint8Array.of(0x30, 0x05, 0x02, 0x01, 0x01, 0x02, 0x00)],
    ['too long (73 bytes)', Uint8Array.from([0x30, 71, 0x02, 33, 0, ...r, 0x02, 34, 0, 0, ...s])],
    ['not a compound (0x31)', mutate((b) => (b[0] = 0x31))],
    ['sequence length too large', mutate((b) => (b[1] = 0x45))],
    ['sequence length too small', mutate((b) => (b[1] = 0x43))],
    ['trailing byte (hashtype left on)', Uint8Array.from([...good, 0x01])],
    ['R not an integer (0x03)', mutate((b) => (b[2] = 0x03))],
    ['S not an integer (0x03)', mutate((b) => (b[36] = 0x03))],
    ['R length past the end', mutate((b) => (b[3] = 0x42))],
    ['S length wrong', mutate((b) => (b[37] = 0x21))],
    ['zero-length R', seq([0x02, 0x00], int(s))],
    ['zero-length S', seq(int(r), [0x02, 0x00])],
    ['negative R', seq(int([0x80, ...r.subarray(1)]), int(s))],
    ['negative S', seq(int(r), int([0x81, ...s.subarray(1)]))],
    ['R with excess 0x00 padding', seq(int([0x00, ...r]), int(s))],
    ['S with excess 0x00 padding', seq(int(r), int([0x00, ...s]))],
    ['R = 0x0001 (padding before a small value)', seq(int([0x00, 0x01]), int(s))],
  ];
  for (const [name, der] of bad) {
    assert.equal(isStrictDerSignature(der), false, `${name}: isStrictDerSignature`);
    assert.equal(decodeDerSignature(der), null, `${name}: decodeDerSignature`);
  }
  // Strict DER but outside [1, n-1]: no valid signature, so decodeDerSignature refuses it.
  const outOfRange: [string, Uint8Array][] = [
    ['R = 0', seq(int([0x00]), int(s))],
    ['S = 0', seq(int(r), int([0x00]))],
    ['S = n', seq(int(r), int([0x00, ...from32(N)]))],
    ['R of 33 significant bytes', seq(int([0x01, ...r]), int(s))],
  ];
  for (const [name, der] of outOfRange) {
    assert.equal(isStrictDerSignature(der), true, `${name}: is strict DER`);
    assert.equal(decodeDerSignature(der), null, `${name}: decodeDerSignature`);
  }
  // Short values: r = 1 encodes as 02 01 01, and a high-bit r needs exactly one 0x00 pad.
  const small = decodeDerSignature(seq(int([0x01]), int(s)));
  assert.ok(small);
  assert.equal(toBig(small.subarray(0, 32)), 1n);
  assert.deepEqual(encodeDerSignature(small), seq(int([0x01]), int(s)));
  const highR = Uint8Array.from([0x80, ...r.subarray(1)]);
  const padded = seq(int([0x00, ...highR]), int(s));
  const decoded = decodeDerSignature(padded);
  assert.ok(decoded);
  assert.deepEqual(decoded.subarray(0, 32), highR);
  assert.deepEqual(encodeDerSignature(decoded), padded);
});
