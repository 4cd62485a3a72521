import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { bitcoin, regtest } from '../params/networks.js';
import type { ChainParams } from '../params/chainParams.js';
import { decodeBlock } from '../primitives/block.js';
import { encodeBlockHeader } from '../primitives/blockHeader.js';
import { BufferReader } from '../primitives/bufferReader.js';
import { bytesToHex, hexToBytes } from '../primitives/hex.js';
import { computeTxid } from '../primitives/tx.js';
import type { Block, BlockHeader, Tx, TxIn } from '../primitives/types.js';
import {
  buildBlock,
  buildCoinbase,
  buildNextBlock,
  encodeBip34Height,
  finalizeBlock,
  solveBlock,
  TEST_P2WPKH_SCRIPT,
} from '../testing/blockBuilder.js';
import { readVectorBytes, readVectorText, reportVectors } from '../testing/vectors.js';
import { checkBlock } from './checkBlock.js';
import { computeMerkleRoot } from './merkle.js';
import { VerifyError } from './verifyError.js';
import { decodeTxid } from '../primitives/identity.js';

const rejects = (reason: string) => (e: unknown) => {
  assert.ok(e instanceof VerifyError, `expected a VerifyError, got ${String(e)}`);
  assert.equal(e.code, reason, `reason (detail: ${e.detail ?? ''})`);
  return true;
};

/** sha256d of the 80-byte header with node:crypto, as a little-endian number (how PoW compares it). */
function headerHashValue(header: BlockHeader): bigint {
  const once = createHash('sha256').update(encodeBlockHeader(header)).digest();
  const twice = createHash('sha256').update(once).digest();
  return BigInt('0x' + Buffer.from(twice).reverse().toString('hex'));
}

/** The target of compact bits with a positive in-range mantissa (Bitcoin's SetCompact for the values used here). */
function compactTarget(bits: number): bigint {
  return BigInt(bits & 0x007fffff) << BigInt(8 * ((bits >>> 24) - 3));
}

/** A spend of a made-up outpoint to one P2WPKH output; `tag` makes txids differ; `witness` optional. */
function spend(tag: number, witness: Uint8Array[] = [], scriptSig = new Uint8Array(0)): Tx {
  const input: TxIn = { prevout: { txid: decodeTxid(new Uint8Array(32).fill(tag)), index: 0 }, scriptSig, sequence: 0xffffffff, witness };
  return { version: 2, inputs: [input], outputs: [{ value: 1_000n, scriptPubKey: TEST_P2WPKH_SCRIPT }], locktime: 0 };
}

/** A P2WPKH-style witness: a 72-byte signature-sized item and a 33-byte key-sized item (checkBlock runs no scripts). */
const dummyWitness = (): Uint8Array[] => [new Uint8Array(72).fill(0x30), new Uint8Array(33).fill(0x02)];

const withTxs = (block: Block, txs: readonly Tx[]): Block => ({ ...block, txs });

describe('blockBuilder (regtest)', () => {
  it('encodeBip34Height matches CScript() << height, and the real coinbase of block 482683', () => {
    assert.equal(bytesToHex(encodeBip34Height(0)), '00');
    assert.equal(bytesToHex(encodeBip34Height(1)), '51');
    assert.equal(bytesToHex(encodeBip34Height(16)), '60');
    assert.equal(bytesToHex(encodeBip34Height(17)), '0111');
    assert.equal(bytesToHex(encodeBip34Height(127)), '017f');
    assert.equal(bytesToHex(encodeBip34Height(128)), '028000');
    assert.equal(bytesToHex(encodeBip34Height(255)), '02ff00');
    assert.equal(bytesToHex(encodeBip34Height(256)), '020001');
    const real = decodeBlock(hexToBytes(readVectorText('mainnet/block-482683.hex').trim()));
    const scriptSig = bytesToHex(real.txs[0]!.inputs[0]!.scriptSig);
    assert.ok(scriptSig.startsWith(bytesToHex(encodeBip34Height(482683))), scriptSig);
  });

  it('a built block passes checkBlock: coinbase alone, with spends, with witness spends and a commitment', () => {
    const plain = buildBlock(regtest, { height: 1 });
    checkBlock(plain, regtest);
    assert.equal(plain.txs.length, 1);
    assert.ok(headerHashValue(plain.header) <= compactTarget(plain.header.bits), 'PoW checked independently');

    const withSpends = buildBlock(regtest, { height: 2, txs: [spend(1), spend(2), spend(3)] });
    checkBlock(withSpends, regtest);

    const segwit = buildBlock(regtest, { height: 3, txs: [spend(1, dummyWitness()), spend(2)] });
    checkBlock(segwit, regtest);
    assert.equal(segwit.txs[0]!.inputs[0]!.witness.length, 1, 'coinbase carries the witness reserved value');
    assert.equal(bytesToHex(segwit.txs[0]!.outputs.at(-1)!.scriptPubKey).slice(0, 12), '6a24aa21a9ed');

    // Heights 0..16 use one opcode; the OP_0 extra nonce keeps the scriptSig at Core's 2-byte minimum.
    checkBlock(buildBlock(regtest, { height: 16 }), regtest);
    const next = buildNextBlock(regtest, withSpends, 2, { txs: [spend(9)] });
    checkBlock(next, regtest);
  });
});

describe('checkBlock: each rule rejects a block that breaks only it, with Core\'s reason (regtest)', () => {
  const base = buildBlock(regtest, { height: 5, txs: [spend(1), spend(2)] });

  it('high-hash: a nonce whose hash is above the target; bits easier than powLimit', () => {
    const target = compactTarget(base.header.bits);
    let header = base.header;
    while (headerHashValue(header) <= target) header = { ...header, nonce: header.nonce + 1 };
    assert.throws(() => checkBlock({ ...base, header }, regtest), rejects('high-hash'));

    // 0x2100ffff is far above regtest's powLimit: no nonce can make it valid.
    const easy = { ...base, header: { ...base.header, bits: 0x2100ffff } };
    assert.throws(() => checkBlock(easy, regtest), rejects('high-hash'));
  });

  it('bad-txnmrklroot: the header commits to other transactions', () => {
    const other = solveBlock(withTxs(base, [base.txs[0]!, spend(1), spend(3)]), regtest);
    assert.throws(() => checkBlock(other, regtest), rejects('bad-txnmrklroot'));
  });

  it('bad-txns-duplicate: CVE-2012-2459, the last tx duplicated gives the same merkle root', () => {
    // [cb, a, b] and [cb, a, b, b] hash to the same root: the odd level duplicates b anyway.
    const txs = base.txs;
    const mutated = withTxs(base, [...txs, txs[2]!]);
    assert.deepEqual(computeMerkleRoot(mutated.txs.map(computeTxid)).root, base.header.merkleRoot);
    assert.throws(() => checkBlock(mutated, regtest), rejects('bad-txns-duplicate'));
  });

  it('bad-txns-duplicate: the last pair duplicated at a higher level of the tree', () => {
    const six = buildBlock(regtest, { height: 6, txs: [1, 2, 3, 4, 5].map((n) => spend(n)) });
    checkBlock(six, regtest);
    // Level 1 has 3 nodes (cb+1, 2+3, 4+5); duplicating txs 4 and 5 duplicates the third node: same root.
    const mutated = withTxs(six, [...six.txs, six.txs[4]!, six.txs[5]!]);
    assert.deepEqual(computeMerkleRoot(mutated.txs.map(computeTxid)).root, six.header.merkleRoot);
    assert.throws(() => checkBlock(mutated, regtest), rejects('bad-txns-duplicate'));
  });

  it('bad-blk-length: no transactions', () => {
    // An empty list's merkle root is 32 zero bytes, so the header can match it.
    const empty = finalizeBlock(withTxs(base, []), regtest);
    assert.deepEqual(empty.header.merkleRoot, new Uint8Array(32));
    assert.throws(() => checkBlock(empty, regtest), rejects('bad-blk-length'));
  });

  it('bad-blk-length: stripped size over 1,000,000 bytes, each tx within its own limit', () => {
    const big = (tag: number): Tx => spend(tag, [], new Uint8Array(600_000));
    const block = buildBlock(regtest, { height: 7, txs: [big(1), big(2)] });
    assert.throws(() => checkBlock(block, regtest), rejects('bad-blk-length'));
    // One of them fits.
    checkBlock(buildBlock(regtest, { height: 7, txs: [big(1)] }), regtest);
  });

  it('bad-cb-missing: the first tx is not a coinbase', () => {
    const block = finalizeBlock(withTxs(base, [spend(1), spend(2)]), regtest);
    assert.throws(() => checkBlock(block, regtest), rejects('bad-cb-missing'));
  });

  it('bad-cb-multiple: a second coinbase', () => {
    const second = buildCoinbase({ height: 5, value: 1n, extraNonce: Uint8Array.of(7) });
    const block = finalizeBlock(withTxs(base, [base.txs[0]!, spend(1), second]), regtest);
    assert.throws(() => checkBlock(block, regtest), rejects('bad-cb-multiple'));
  });

  it('a checkTransaction failure inside the block is reported with its own reason', () => {
    const p2pkh = Uint8Array.of(0x76, 0xa9, 0x14, ...new Uint8Array(20), 0x88, 0xac);
    const bad: Tx = { ...spend(1), outputs: [{ value: 1n, scriptPubKey: p2pkh }] };
    const block = buildBlock(regtest, { height: 8, txs: [bad] });
    assert.throws(() => checkBlock(block, regtest), (e: unknown) => {
      rejects('bad-txns-vout-script')(e);
      assert.match((e as VerifyError).detail ?? '', /tx 1/);
      return true;
    });
  });

  describe('segwit', () => {
    const segwit = buildBlock(regtest, { height: 9, txs: [spend(1, dummyWitness()), spend(2)] });
    const coinbase = segwit.txs[0]!;
    const withCoinbaseWitness = (witness: Uint8Array[]): Block =>
      withTxs(segwit, [{ ...coinbase, inputs: [{ ...coinbase.inputs[0]!, witness }] }, ...segwit.txs.slice(1)]);

    it('bad-witness-nonce-size: the coinbase witness is not one 32-byte item', () => {
      checkBlock(segwit, regtest);
      // The coinbase witness is not part of the txid, so the header stays valid.
      for (const witness of [[], [new Uint8Array(31)], [new Uint8Array(33)], [new Uint8Array(32), new Uint8Array(32)]]) {
        assert.throws(() => checkBlock(withCoinbaseWitness(witness), regtest), rejects('bad-witness-nonce-size'));
      }
    });

    it('bad-witness-merkle-match: a witness changed after the commitment was made', () => {
      const tx = segwit.txs[1]!;
      const changed: Tx = { ...tx, inputs: [{ ...tx.inputs[0]!, witness: [new Uint8Array(72).fill(0x31), tx.inputs[0]!.witness[1]!] }] };
      const block = withTxs(segwit, [coinbase, changed, segwit.txs[2]!]);
      assert.deepEqual(computeTxid(changed), computeTxid(tx), 'txid unchanged: only the commitment breaks');
      assert.throws(() => checkBlock(block, regtest), rejects('bad-witness-merkle-match'));
      // Another reserved value gives another commitment too.
      assert.throws(() => checkBlock(withCoinbaseWitness([new Uint8Array(32).fill(1)]), regtest), rejects('bad-witness-merkle-match'));
    });

    it('unexpected-witness: witness data without a commitment', () => {
      const block = buildBlock(regtest, { height: 9, txs: [spend(1, dummyWitness())], witnessCommitment: false });
      assert.throws(() => checkBlock(block, regtest), rejects('unexpected-witness'));
    });

    it('bad-blk-weight: weight over 4,000,000 with the stripped size within 1,000,000 bytes', () => {
      const heavy = buildBlock(regtest, { height: 10, txs: [spend(1, [new Uint8Array(4_000_000)])] });
      assert.throws(() => checkBlock(heavy, regtest), rejects('bad-blk-weight'));
      const light = buildBlock(regtest, { height: 10, txs: [spend(1, [new Uint8Array(3_000_000)])] });
      checkBlock(light, regtest);
    });
  });
});

/** Splits blocks-0-255.dat: per block 4-byte magic f9beb4d9, u32 LE length, raw block (FORMATS.md). */
function splitDatFile(bytes: Uint8Array): Uint8Array[] {
  const r = new BufferReader(bytes);
  const blocks: Uint8Array[] = [];
  while (r.remaining > 0) {
    assert.equal(bytesToHex(r.readBytes(4)), 'f9beb4d9');
    blocks.push(r.readBytes(r.readU32LE()));
  }
  return blocks;
}

describe('checkBlock on real Bitcoin blocks', () => {
  const cairnRules: ChainParams = { ...bitcoin, outputScriptRule: 'cairn' };
  const files: [string, Block[]][] = [
    ['mainnet/blocks-0-255.dat', splitDatFile(readVectorBytes('mainnet/blocks-0-255.dat')).map(decodeBlock)],
    ['mainnet/block-100000.hex', [decodeBlock(hexToBytes(readVectorText('mainnet/block-100000.hex').trim()))]],
    ['mainnet/block-482683.hex', [decodeBlock(hexToBytes(readVectorText('mainnet/block-482683.hex').trim()))]],
  ];
  const expectedCounts: Record<string, number> = {
    'mainnet/blocks-0-255.dat': 256,
    'mainnet/block-100000.hex': 1,
    'mainnet/block-482683.hex': 1,
  };

  for (const [file, blocks] of files) {
    it(`${file}: passes with the bitcoin params, fails with cairn's output rule (P2PK/P2PKH outputs)`, (t) => {
      let passed = 0;
      const failures: string[] = [];
      blocks.forEach((block, i) => {
        try {
          checkBlock(block, bitcoin);
        } catch (e) {
          failures.push(`block ${i} with bitcoin params: ${e instanceof VerifyError ? e.code : String(e)}`);
          return;
        }
        try {
          checkBlock(block, cairnRules);
          failures.push(`block ${i} passed with cairn rules`);
        } catch (e) {
          if (e instanceof VerifyError && e.code === 'bad-txns-vout-script') passed++;
          else failures.push(`block ${i} with cairn rules: ${e instanceof VerifyError ? e.code : String(e)}`);
        }
      });
      reportVectors(t, file, passed, blocks.length, expectedCounts[file], failures);
    });
  }
});
