import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesEqual, bytesToHex, hexToBytes } from '../primitives/hex.js';
import { readVectorJson, reportVectors } from '../testing/vectors.js';
import { encodeSegwitAddress } from './address.js';
import { CryptoError } from './cryptoError.js';
import { schnorrSign, schnorrVerify, xOnlyPublicKey } from './schnorr.js';
import { computeTapTweak, tweakPrivateKey, tweakPublicKey } from './taproot.js';

const FILE = 'bip341-wallet-test-vectors.json';

/** A script tree: cairn has no script-path spends, so only its merkle root (given by the vector) matters here. */
type ScriptTree = unknown;

interface ScriptPubKeyVector {
  given: { internalPubkey: string; scriptTree: ScriptTree | null };
  intermediary: { leafHashes?: string[]; merkleRoot: string | null; tweak: string; tweakedPubkey: string };
  expected: { scriptPubKey: string; bip350Address: string; scriptPathControlBlocks?: string[] };
}

interface InputSpendingVector {
  given: { txinIndex: number; internalPrivkey: string; merkleRoot: string | null; hashType: number };
  intermediary: { internalPubkey: string; tweak: string; tweakedPrivkey: string; sigHash: string };
  expected: { witness: string[] };
}

interface Bip341Vectors {
  scriptPubKey: ScriptPubKeyVector[];
  keyPathSpending: { inputSpending: InputSpendingVector[] }[];
}

const vectors = readVectorJson<Bip341Vectors>(FILE);

test('BIP-341 scriptPubKey vectors: tweak, output key, scriptPubKey, address, parity', (t) => {
  let passed = 0;
  const failures: string[] = [];
  let total = 0;
  for (const v of vectors.scriptPubKey) {
    total++;
    const problems: string[] = [];
    const internalKey = hexToBytes(v.given.internalPubkey);
    // cairn spends taproot outputs by key path only (script-path spends are invalid, DESIGN.md), so it hashes no
    // script trees: the tweak commits to the vector's merkle root as given, and the leaf hashes are not cairn's to check.
    if ((v.given.scriptTree === null) !== (v.intermediary.merkleRoot === null)) {
      problems.push('intermediary.merkleRoot: present exactly when the vector has a script tree');
    }
    // The vector's merkle root as given, so the tweak check does not depend on the tree hashing above.
    const merkleRoot = v.intermediary.merkleRoot === null ? undefined : hexToBytes(v.intermediary.merkleRoot);
    if (bytesToHex(computeTapTweak(internalKey, merkleRoot)) !== v.intermediary.tweak) problems.push('tweak differs');
    const { outputKey, parity } = tweakPublicKey(internalKey, merkleRoot);
    if (bytesToHex(outputKey) !== v.intermediary.tweakedPubkey) problems.push('tweaked key differs');
    if (`5120${bytesToHex(outputKey)}` !== v.expected.scriptPubKey) problems.push('scriptPubKey differs');
    if (encodeSegwitAddress('bc', 1, outputKey) !== v.expected.bip350Address) problems.push('address differs');
    // Each control block's first byte is leafVersion | parity(Q), so it pins the parity we return.
    for (const cb of v.expected.scriptPathControlBlocks ?? []) {
      if ((hexToBytes(cb)[0]! & 1) !== parity) problems.push('output key parity differs from control block');
    }
    if (problems.length === 0) passed++;
    else failures.push(`scriptPubKey ${v.given.internalPubkey}: ${problems.join('; ')}`);
  }
  reportVectors(t, `${FILE} scriptPubKey`, passed, total, 7, failures);
});

test('BIP-341 keyPathSpending vectors: tweaked private key and key-path signature', (t) => {
  let passed = 0;
  const failures: string[] = [];
  let total = 0;
  for (const spending of vectors.keyPathSpending) {
    for (const v of spending.inputSpending) {
      total++;
      const problems: string[] = [];
      const internalPrivkey = hexToBytes(v.given.internalPrivkey);
      const merkleRoot = v.given.merkleRoot === null ? undefined : hexToBytes(v.given.merkleRoot);
      const internalPubkey = xOnlyPublicKey(internalPrivkey);
      if (bytesToHex(internalPubkey) !== v.intermediary.internalPubkey) problems.push('internal pubkey differs');
      if (bytesToHex(computeTapTweak(internalPubkey, merkleRoot)) !== v.intermediary.tweak) {
        problems.push('tweak differs');
      }
      const tweaked = tweakPrivateKey(internalPrivkey, merkleRoot);
      if (bytesToHex(tweaked) !== v.intermediary.tweakedPrivkey) problems.push('tweaked private key differs');
      const sigHash = hexToBytes(v.intermediary.sigHash);
      // BIP-341's vectors are signed with aux_rand = 32 zero bytes (our default), so the bytes must match exactly.
      const sig = schnorrSign(sigHash, tweaked);
      const witnessSig = v.given.hashType === 0 ? sig : Uint8Array.from([...sig, v.given.hashType]);
      if (v.expected.witness.length !== 1 || bytesToHex(witnessSig) !== v.expected.witness[0]) {
        problems.push('witness signature differs');
      }
      const outputKey = tweakPublicKey(internalPubkey, merkleRoot).outputKey;
      if (!bytesEqual(xOnlyPublicKey(tweaked), outputKey)) problems.push('tweaked keys do not match');
      if (!schnorrVerify(sigHash, outputKey, sig)) problems.push('signature does not verify');
      if (problems.length === 0) passed++;
      else failures.push(`input ${v.given.txinIndex}: ${problems.join('; ')}`);
    }
  }
  reportVectors(t, `${FILE} keyPathSpending`, passed, total, 7, failures);
});

test('taproot functions refuse malformed input with CryptoError', () => {
  const reasonIs = (reason: string) => (e: unknown) => e instanceof CryptoError && e.code === reason;
  const key = hexToBytes(vectors.scriptPubKey[0]!.given.internalPubkey);
  assert.throws(() => computeTapTweak(key.subarray(1)), reasonIs('bad-public-key'));
  assert.throws(() => computeTapTweak(key, new Uint8Array(31)), reasonIs('bad-merkle-root'));
  // p itself is not a valid x coordinate.
  const p = hexToBytes('fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f');
  assert.throws(() => tweakPublicKey(p), reasonIs('bad-public-key'));
  assert.throws(() => tweakPrivateKey(new Uint8Array(32)), reasonIs('bad-private-key'));
});
