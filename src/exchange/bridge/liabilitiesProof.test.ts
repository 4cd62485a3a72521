/**
 * The Merkle sum tree of liabilities: every user's proof verifies and reaches a root whose sum is the total of the
 * (non-negative) balances; a changed balance, sum, side or root fails; a negative balance counts as 0; the tree is
 * the same for the same state and salt, and another salt hides the user tags differently.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildLiabilitiesTree, verifyLiabilitiesProof, type LiabilitiesProof } from './liabilitiesProof.js';

const SALT = new Uint8Array(32).fill(7);

test('every proof verifies against the root; the root sums the balances, negatives as 0', () => {
  for (const n of [1, 2, 3, 5, 8, 13]) {
    const balances = new Map<number, bigint>();
    for (let u = 1; u <= n; u++) balances.set(u * 3, BigInt(u) * 100_000_000n + 17n);
    balances.set(1000, -5n);
    const { root, proofFor } = buildLiabilitiesTree(balances, SALT, { seq: 42, asset: 'CRN' });
    const total = [...balances.values()].reduce((s, v) => s + (v > 0n ? v : 0n), 0n);
    assert.equal(root.sumSats, total);
    for (const u of balances.keys()) {
      const p = proofFor(u)!;
      assert.equal(verifyLiabilitiesProof(p), undefined, `user ${u} of ${n + 1}`);
      assert.equal(p.root.sum, total.toString());
      assert.equal(p.balance, (balances.get(u)! > 0n ? balances.get(u)! : 0n).toString());
    }
    assert.equal(proofFor(999_999), undefined);
  }
});

test('a tampered proof fails with the reason', () => {
  const balances = new Map<number, bigint>([[1, 5n], [2, 7n], [3, 11n]]);
  const p = buildLiabilitiesTree(balances, SALT, { seq: 1, asset: 'CRN' }).proofFor(2)!;
  const bad = (f: (q: LiabilitiesProof) => unknown): string | undefined => verifyLiabilitiesProof(f(structuredClone(p) as LiabilitiesProof));
  assert.match(bad((q) => ({ ...q, balance: '8' }))!, /root hash/);
  assert.match(bad((q) => ({ ...q, path: q.path.map((s, i) => (i === 0 ? { ...s, sum: '0' } : s)) }))!, /root hash/);
  assert.match(bad((q) => ({ ...q, path: q.path.map((s, i) => (i === 0 ? { ...s, side: s.side === 'left' ? 'right' : 'left' } : s)) }))!, /root hash/);
  assert.match(bad((q) => ({ ...q, root: { ...q.root, sum: '24' } }))!, /sums do not add up/);
  assert.match(bad((q) => ({ ...q, balance: '-1' }))!, /malformed/);
  assert.match(verifyLiabilitiesProof({ format: 'x' })!, /not a cairn-liabilities-proof/);
  assert.match(verifyLiabilitiesProof(null)!, /not a cairn-liabilities-proof/);
});

test('same state and salt, same root; another salt, other tags and root', () => {
  const balances = new Map<number, bigint>([[1, 5n], [2, 7n]]);
  const a = buildLiabilitiesTree(balances, SALT, { seq: 1, asset: 'CRN' });
  const b = buildLiabilitiesTree(new Map([...balances].reverse()), SALT, { seq: 1, asset: 'CRN' });
  const c = buildLiabilitiesTree(balances, new Uint8Array(32), { seq: 1, asset: 'CRN' });
  assert.deepEqual(a.root, b.root);
  assert.notDeepEqual(a.root.hash, c.root.hash);
  assert.notEqual(a.proofFor(1)!.userTag, c.proofFor(1)!.userTag);
});
