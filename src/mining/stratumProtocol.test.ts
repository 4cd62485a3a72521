import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeMerkleBranch } from '../consensus/merkle.js';
import { bitsToTarget, hashToBigInt } from '../consensus/pow.js';
import { decodeBlock } from '../primitives/block.js';
import { computeBlockHash, encodeBlockHeader } from '../primitives/blockHeader.js';
import { bytesToHex, hashToHex, hexToBytes } from '../primitives/hex.js';
import { computeTxid, encodeTx } from '../primitives/tx.js';
import { readVectorText, reportVectors } from '../testing/vectors.js';
import {
  buildStratumHeader,
  decodeStratumPrevHash,
  DIFF1_TARGET,
  difficultyToTarget,
  encodeNotifyParams,
  encodeStratumPrevHash,
  LineSplitter,
  parseNotifyParams,
  parseStratumMessage,
  StratumProtocolError,
  stratumHexToU32,
  targetToDifficulty,
  u32ToStratumHex,
} from './stratumProtocol.js';

/** Real mainnet blocks with more than one transaction (so the merkle branch is not empty). */
const BLOCK_FILES = ['mainnet/block-000170.hex', 'mainnet/block-100000.hex', 'mainnet/block-482683.hex'];

test('a Stratum job cut from a real mainnet block rebuilds that block header byte for byte through the wire format', (t) => {
  for (const file of BLOCK_FILES) {
    const block = decodeBlock(hexToBytes(readVectorText(file).trim()));
    const coinbase = encodeTx(block.txs[0]!, false);
    // en1 || en2 = the 8 bytes where the coinbase scriptSig starts (version 4 + count 1 + prevout 36 + length 1).
    const at = 4 + 1 + 36 + 1;
    const extranonce1 = coinbase.slice(at, at + 4);
    const extranonce2 = coinbase.slice(at + 4, at + 8);
    const job = {
      jobId: 'j1',
      prevHash: block.header.prevBlock,
      coinb1: coinbase.slice(0, at),
      coinb2: coinbase.slice(at + 8),
      merkleBranch: computeMerkleBranch(block.txs.map(computeTxid), 0),
      version: block.header.version,
      bits: block.header.bits,
      time: block.header.time,
      cleanJobs: true,
    };
    // Through JSON as a pool would send it, and the nonce as mining.submit carries it.
    const wire = JSON.parse(JSON.stringify(encodeNotifyParams(job))) as unknown[];
    assert.equal(wire[1], encodeStratumPrevHash(block.header.prevBlock));
    const parsed = parseNotifyParams(wire);
    const nonce = stratumHexToU32(u32ToStratumHex(block.header.nonce), 'nonce');
    const header = buildStratumHeader(parsed, extranonce1, extranonce2, parsed.time, nonce);
    assert.equal(bytesToHex(encodeBlockHeader(header)), bytesToHex(encodeBlockHeader(block.header)), `${file}: header rebuilt from the stratum job`);
    assert.ok(hashToBigInt(computeBlockHash(header)) <= bitsToTarget(block.header.bits).target, `${file}: PoW`);
    reportVectors(t, file, 1, 1);
  }
});

test('prevhash is sent word-swapped: a real ckpool mining.notify decodes to a hash that meets its nbits', () => {
  // mining.notify from solo.ckpool.org for height 925350 (coinb1 pushes 03a61e0e), as published in the README of
  // github.com/skot/pool_checkr. Block 925349 is in the same difficulty period, so its hash meets nbits 1701e2a0;
  // read without the word swap, the same bytes would not.
  const prevhash = '2054771533c6373887fb44c6081b230c58336592000189f80000000000000000';
  const target = bitsToTarget(stratumHexToU32('1701e2a0', 'nbits')).target;
  const hash = decodeStratumPrevHash(prevhash);
  assert.equal(hashToHex(hash), '0000000000000000000189f858336592081b230c87fb44c633c6373820547715');
  assert.ok(hashToBigInt(hash) <= target);
  assert.ok(hashToBigInt(hexToBytes(prevhash)) > target, 'the unswapped reading is not a valid block hash');
  assert.equal(encodeStratumPrevHash(hash), prevhash);
});

test('difficulty 1 is the target of bits 0x1d00ffff; fractional difficulties scale it up', () => {
  assert.equal(DIFF1_TARGET, bitsToTarget(0x1d00ffff).target);
  assert.equal(difficultyToTarget(1), DIFF1_TARGET);
  assert.equal(difficultyToTarget(1 / 1024), DIFF1_TARGET * 1024n);
  assert.equal(difficultyToTarget(2), DIFF1_TARGET / 2n);
  assert.equal(difficultyToTarget(2 ** -80), (1n << 256n) - 1n);
  assert.equal(targetToDifficulty(DIFF1_TARGET * 1024n), 1 / 1024);
  for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => difficultyToTarget(bad), (e: unknown) => e instanceof StratumProtocolError && e.code === 'bad-difficulty');
  }
});

test('LineSplitter: lines across chunks, CRLF, empty lines, and a line over the limit', () => {
  const splitter = new LineSplitter(32);
  assert.deepEqual(splitter.push(Buffer.from('{"id":1}\r\n{"i')), ['{"id":1}']);
  assert.deepEqual(splitter.push(Buffer.from('d":2}\n\n')), ['{"id":2}']);
  assert.throws(() => splitter.push(Buffer.from('x'.repeat(33))), (e: unknown) => e instanceof StratumProtocolError && e.code === 'line-too-long');
  assert.throws(() => new LineSplitter(4).push(Buffer.from('123456\n')), /line-too-long/);
});

test('malformed messages and notify params give typed errors', () => {
  const reason = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof StratumProtocolError, String(e));
      return e.code;
    }
    return 'no error';
  };
  assert.equal(reason(() => parseStratumMessage('{nope')), 'bad-json');
  assert.equal(reason(() => parseStratumMessage('[1,2]')), 'bad-message');
  assert.equal(reason(() => parseStratumMessage('{"id":{},"method":"x"}')), 'bad-message');
  assert.equal(reason(() => parseStratumMessage('{"id":1,"method":"x","params":{}}')), 'bad-message');
  assert.deepEqual(parseStratumMessage('{"id":7,"method":"mining.subscribe","params":[]}'), { id: 7, method: 'mining.subscribe', params: [] });
  const good = ['1', '00'.repeat(32), '01', '02', [], '20000000', '207fffff', '5f5e1000', true];
  assert.equal(parseNotifyParams(good).bits, 0x207fffff);
  assert.equal(reason(() => parseNotifyParams(good.slice(0, 8))), 'bad-notify');
  assert.equal(reason(() => parseNotifyParams(['1', 'zz', ...good.slice(2)])), 'bad-hex');
  assert.equal(reason(() => parseNotifyParams([1, ...good.slice(1)])), 'bad-notify');
  assert.equal(reason(() => parseNotifyParams([...good.slice(0, 1), '00'.repeat(31), ...good.slice(2)])), 'bad-hex');
  assert.equal(reason(() => parseNotifyParams([...good.slice(0, 4), ['00'], ...good.slice(5)])), 'bad-notify');
  assert.equal(reason(() => parseNotifyParams([...good.slice(0, 5), '2000000', ...good.slice(6)])), 'bad-hex');
});
