import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeMerkleRoot } from '../consensus/merkle.js';
import { computeWitnessCommitment, findWitnessCommitmentIndex } from '../consensus/witnessCommitment.js';
import { regtest } from '../params/networks.js';
import { checkBlock } from '../consensus/checkBlock.js';
import { VerifyError } from '../consensus/verifyError.js';
import { decodeBlock, encodeBlock, getBlockSize, getBlockWeight } from '../primitives/block.js';
import { bytesEqual, hashToHex, hexToBytes } from '../primitives/hex.js';
import { computeTxid, computeWtxid, encodeTx, getTxBaseSize } from '../primitives/tx.js';
import type { Block } from '../primitives/types.js';
import { buildBlock } from '../testing/blockBuilder.js';
import { buildSignedTx, makeTestKey } from '../testing/txFactory.js';
import { readVectorJson, readVectorText, reportVectors } from '../testing/vectors.js';
import { computeBlockTxHashes } from './blockTxHashes.js';
import { decodeTxid } from '../primitives/identity.js';

const INDEX_FILE = 'mainnet/blocks-index.json';

interface IndexEntry {
  readonly file: string;
  readonly merkleRoot: string;
  readonly coinbaseTxid: string;
  readonly txCount: number;
  readonly witnessCommitmentVerified: boolean | null;
}

/** The txids/wtxids/bytes of the raw path agree with the primitives' own functions, tx by tx. */
function assertMatchesPrimitives(block: Block, raw: Uint8Array): void {
  const hashes = computeBlockTxHashes(block, raw);
  block.txs.forEach((tx, i) => {
    assert.equal(hashToHex(hashes.txids[i]!), hashToHex(computeTxid(tx)), `txid ${i}`);
    assert.equal(hashToHex(hashes.wtxids[i]!), hashToHex(computeWtxid(tx)), `wtxid ${i}`);
    assert.ok(bytesEqual(hashes.txBytes[i]!, encodeTx(tx)), `bytes ${i}`);
    assert.equal(hashes.baseSizes[i], getTxBaseSize(tx), `base size ${i}`);
  });
}

describe(`computeBlockTxHashes on the mainnet blocks of ${INDEX_FILE}`, () => {
  const index = readVectorJson<{ blocks: IndexEntry[] }>(INDEX_FILE);
  let passed = 0;
  for (const entry of index.blocks) {
    it(`mainnet/${entry.file}: txids give the listed merkle root and coinbase txid; wtxids the coinbase's commitment`, (t) => {
      const raw = hexToBytes(readVectorText(`mainnet/${entry.file}`).trim());
      const block = decodeBlock(raw);
      const { txids, wtxids } = computeBlockTxHashes(block, raw);
      assert.equal(txids.length, entry.txCount);
      assert.equal(hashToHex(computeMerkleRoot(txids).root), entry.merkleRoot);
      assert.equal(hashToHex(txids[0]!), entry.coinbaseTxid);
      if (entry.witnessCommitmentVerified === true) {
        const coinbase = block.txs[0]!;
        const committed = coinbase.outputs[findWitnessCommitmentIndex(coinbase)]!.scriptPubKey.subarray(6, 38);
        const root = computeMerkleRoot([new Uint8Array(32), ...wtxids.slice(1)]).root;
        assert.deepEqual(computeWitnessCommitment(root, coinbase.inputs[0]!.witness[0]!), committed);
      }
      assertMatchesPrimitives(block, raw);
      passed++;
      reportVectors(t, `mainnet/${entry.file}`, 1, 1, 1);
    });
  }
  it(`${INDEX_FILE}: all entries`, (t) => {
    reportVectors(t, INDEX_FILE, passed, index.blocks.length, 5);
  });
});

describe('computeBlockTxHashes on built blocks', () => {
  it('a block of P2WPKH and P2TR spends with a witness commitment matches computeTxid/computeWtxid/encodeTx', () => {
    const keys = [makeTestKey('tx-hashes/a', 'p2wpkh'), makeTestKey('tx-hashes/b', 'p2tr')];
    const txs = Array.from({ length: 300 }, (_, n) => {
      const key = keys[n % 2]!;
      const coin = { outpoint: { txid: decodeTxid(new Uint8Array(32).fill(n & 0xff)), index: n }, output: { value: 50_000n, scriptPubKey: key.scriptPubKey }, key };
      const outputs = Array.from({ length: 1 + (n % 3) }, () => ({ value: 1_000n, scriptPubKey: key.scriptPubKey }));
      return buildSignedTx([coin], outputs);
    });
    const block = buildBlock(regtest, { height: 300, txs });
    assertMatchesPrimitives(block, encodeBlock(block));
  });

  it('checkBlock sized from the hashes meets the weight limit at exactly the block weight getBlockWeight finds', () => {
    const key = makeTestKey('tx-hashes/weight', 'p2wpkh');
    const txs = Array.from({ length: 20 }, (_, n) => {
      const coin = { outpoint: { txid: decodeTxid(new Uint8Array(32).fill(n + 1)), index: n }, output: { value: 50_000n, scriptPubKey: key.scriptPubKey }, key };
      return buildSignedTx([coin], [{ value: 1_000n, scriptPubKey: key.scriptPubKey }]);
    });
    const block = buildBlock(regtest, { height: 20, txs });
    const hashes = computeBlockTxHashes(block, encodeBlock(block));
    const weight = getBlockWeight(block);
    assert.ok(getBlockSize(block, false) * 4 < weight, 'the witnesses weigh in');
    checkBlock(block, { ...regtest, maxBlockWeight: weight }, hashes);
    assert.throws(
      () => checkBlock(block, { ...regtest, maxBlockWeight: weight - 1 }, hashes),
      (e: unknown) => e instanceof VerifyError && e.code === 'bad-blk-weight',
    );
  });

  it('without raw bytes, or with bytes that do not lay out as the block, it falls back to the primitives', () => {
    const block = buildBlock(regtest, { height: 5 });
    const expected = computeTxid(block.txs[0]!);
    assert.deepEqual(computeBlockTxHashes(block).txids, [expected]);
    const raw = encodeBlock(block);
    assert.deepEqual(computeBlockTxHashes(block, raw.subarray(0, raw.length - 1)).txids, [expected]);
    assert.deepEqual(computeBlockTxHashes(block, Uint8Array.of(...raw, 0)).txids, [expected]);
  });
});
