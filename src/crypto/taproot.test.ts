import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesEqual, bytesToHex, hexToBytes } from '../primitives/hex.js';
import { readVectorJson, reportVectors } from '../testing/vectors.js';
import { encodeSegwitAddress } from './address.js';
import { CryptoError } from './cryptoError.js';
import { schnorrSign, schnorrVerify, xOnlyPublicKey } from './schnorr.js';
import {
  computeTapBranchHash,
  computeTapLeafHash,
  computeTapTweak,
  tweakPrivateKey,
  tweakPublicKey,
} from './taproot.js';

const FILE = 'bip341-wallet-test-vectors.json';

interface Leaf {
  id: number;
  script: string;
  leafVersion: number;
}
type ScriptTree = Leaf | ScriptTree[];

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

/** Hashes a BIP-341 script tree as the BIP's taproot_tree_helper does, collecting each leaf's hash by id. */
function hashTree(node: ScriptTree, leafHashes: Map<number, Uint8Array>): Uint8Array {
  if (!Array.isArray(node)) {
    const h = computeTapLeafHash(node.leafVersion, hexToBytes(node.script));
    leafHashes.set(node.id, h);
    return h;
  }
  assert.equal(node.length, 2, 'a script tree branch has two children');
  return computeTapBranchHash(hashTree(node[0]!, leafHashes), hashTree(node[1]!, leafHashes));
}

const vectors = readVectorJson<Bip341Vectors>(FILE);

test('BIP-341 scriptPubKey vectors: leaf hashes, merkle root, tweak, output key, address', (t) => {
  let passed = 0;
  const failures: string[] = [];
  let total = 0;
  for (const v of vectors.scriptPubKey) {
    total++;
    const problems: string[] = [];
    const internalKey = hexToBytes(v.given.internalPubkey);
    if (v.given.scriptTree !== null) {
      const leafHashes = new Map<number, Uint8Array>();
      const root = hashTree(v.given.scriptTree, leafHashes);
      if (v.intermediary.merkleRoot === null || bytesToHex(root) !== v.intermediary.merkleRoot) {
        problems.push('merkle root differs');
      }
      const expectedLeaves = v.intermediary.leafHashes ?? [];
      if (expectedLeaves.length !== leafHashes.size) problems.push('leaf count differs');
      expectedLeaves.forEach((hex, id) => {
        const got = leafHashes.get(id);
        if (!got || bytesToHex(got) !== hex) problems.push(`leaf ${id} hash differs`);
      });
    } else if (v.intermediary.merkleRoot !== null) {
      problems.push('vector has a merkle root without a script tree');
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
  const reasonIs = (reason: string) => (e: unknown) => e instanceof CryptoError && e.reason === reason;
  const key = hexToBytes(vectors.scriptPubKey[0]!.given.internalPubkey);
  assert.throws(() => computeTapTweak(key.subarray(1)), reasonIs('bad-public-key'));
  assert.throws(() => computeTapTweak(key, new Uint8Array(31)), reasonIs('bad-merkle-root'));
  // p itself is not a valid x coordinate.
  const p = hexToBytes('fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f');
  assert.throws(() => tweakPublicKey(p), reasonIs('bad-public-key'));
  assert.throws(() => tweakPrivateKey(new Uint8Array(32)), reasonIs('bad-private-key'));
  assert.throws(() => computeTapLeafHash(0xc1, new Uint8Array(0)), reasonIs('bad-leaf-version'));
});
