import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeBlock } from '../primitives/block.js';
import { hexToBytes } from '../primitives/hex.js';
import { computeTxid } from '../primitives/tx.js';
import type { Block } from '../primitives/types.js';
import { arbHash256 } from '../testing/arbitraries.js';
import { readVectorText, VectorTally } from '../testing/vectors.js';
import { computeBlockMerkleRoot, computeMerkleBranch, computeMerkleRoot, verifyMerkleBranch } from './merkle.js';

const readBlock = (file: string): Block => decodeBlock(hexToBytes(readVectorText(file).trim()));

describe('merkle branches against mainnet headers', () => {
  // 4 txs (even levels) and 12 txs (12 → 6 → 3: an odd level whose last node pairs with itself).
  for (const file of ['mainnet/block-100000.hex', 'mainnet/block-482683.hex']) {
    it(`${file}: every tx's branch leads to the header's merkle root`, (t) => {
      const block = readBlock(file);
      const txids = block.txs.map(computeTxid);
      const root = block.header.merkleRoot;
      const tally = new VectorTally(file);
      txids.forEach((txid, i) => {
        const branch = computeMerkleBranch(txids, i);
        tally.check(`tx ${i}`, {
          'branch length': [branch.length, Math.ceil(Math.log2(txids.length))],
          'branch verifies': [verifyMerkleBranch(txid, branch, i, root), true],
          // The proof must bind the position and the leaf.
          'verifies at the sibling position': [verifyMerkleBranch(txid, branch, i ^ 1, root), false],
          'verifies for another leaf': [verifyMerkleBranch(txids[(i + 1) % txids.length]!, branch, i, root), false],
          'verifies at an out-of-range position': [verifyMerkleBranch(txid, branch, i + 2 ** branch.length, root), false],
        });
      });
      tally.report(t);
    });
  }
});

describe('computeMerkleRoot', () => {
  it('CVE-2012-2459: duplicating the txs of an odd level keeps the root and is flagged mutated', (t) => {
    const file = 'mainnet/block-482683.hex';
    const block = readBlock(file);
    const txids = block.txs.map(computeTxid);
    assert.equal(txids.length, 12);
    const honest = computeBlockMerkleRoot(block);
    // Level sizes 12 → 6 → 3: the third node (over txs 8..11) is duplicated, so appending txs 8..11 again gives
    // the same tree, which Core detects as two identical neighbours.
    const forged = computeMerkleRoot([...txids, ...txids.slice(8)]);
    const tally = new VectorTally(file);
    tally.check('block 482683', {
      'honest root': [honest.root, block.header.merkleRoot],
      'honest mutated': [honest.mutated, false],
      'forged root': [forged.root, block.header.merkleRoot],
      'forged mutated': [forged.mutated, true],
    });
    tally.report(t);
  });

  it('empty list gives 32 zero bytes; one hash is its own root', () => {
    assert.deepEqual(computeMerkleRoot([]), { root: new Uint8Array(32), mutated: false });
    fc.assert(fc.property(arbHash256, (h) => assert.deepEqual(computeMerkleRoot([h]), { root: h, mutated: false })));
  });

  it('branches of random trees verify against computeMerkleRoot; the input list is not modified', () => {
    fc.assert(
      fc.property(fc.array(arbHash256, { minLength: 1, maxLength: 40 }), fc.nat(), (hashes, k) => {
        const copy = hashes.map((h) => h.slice());
        const i = k % hashes.length;
        const { root } = computeMerkleRoot(hashes);
        assert.ok(verifyMerkleBranch(hashes[i]!, computeMerkleBranch(hashes, i), i, root));
        assert.deepEqual(hashes, copy);
      }),
    );
  });

  it('computeMerkleBranch refuses an index outside the list', () => {
    const hashes = [new Uint8Array(32), new Uint8Array(32).fill(1)];
    assert.throws(() => computeMerkleBranch(hashes, 2), RangeError);
    assert.throws(() => computeMerkleBranch(hashes, -1), RangeError);
    assert.equal(verifyMerkleBranch(hashes[0]!, [], -1, hashes[0]!), false);
  });
});
