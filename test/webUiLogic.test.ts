/**
 * The web UI's pure logic, run under Node: amounts with the node's fixed-point rules (no floats), work and hash rate
 * from compact bits (checked against Bitcoin's genesis work, 0x100010001), keyset-free helpers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSats, formatSignedSats, parseCoinsInput, shortHash } from '../web/src/amount.js';
import { averageBlockSeconds, estimateHashRate, targetFromBits, workFromBits } from '../web/src/chainMath.js';

test('amounts: sats ↔ coins with 8 decimals, exact at the edges of 2^53', () => {
  assert.equal(formatSats(150_000_000), '1.50000000');
  assert.equal(formatSats(1), '0.00000001');
  assert.equal(formatSats(2_100_000_000_000_000n), '21000000.00000000');
  assert.equal(formatSats(9_007_199_254_740_993n), '90071992.54740993');
  assert.equal(formatSignedSats(-150_000_141), '-1.50000141');
  assert.equal(formatSignedSats(10), '+0.00000010');
  assert.equal(parseCoinsInput(' 1.5 '), 150_000_000n);
  assert.equal(parseCoinsInput('0.00000001'), 1n);
  // Core's ParseFixedPoint rules, exponents included (the confirm step shows the exact amount before sending).
  assert.equal(parseCoinsInput('1e-8'), 1n);
  for (const bad of ['1.123456789', 'abc', '', '1,5', '0x10']) assert.throws(() => parseCoinsInput(bad), bad);
  assert.equal(shortHash('a'.repeat(64)), `${'a'.repeat(8)}…${'a'.repeat(8)}`);
});

test('work from compact bits is Bitcoin\'s (genesis: 0x1d00ffff → 0x100010001 hashes)', () => {
  assert.equal(targetFromBits(0x1d00ffff), 0xffffn << 208n);
  assert.equal(workFromBits(0x1d00ffff), 0x100010001n);
  assert.equal(targetFromBits(0x207fffff), 0x7fffffn << 232n);
  assert.equal(workFromBits(0x207fffff), 2n);
  assert.equal(targetFromBits(0x1d80ffff), 0n, 'negative encodings are a zero target');
});

test('hash rate over recent blocks: Σ work of all but the oldest ÷ their time span', () => {
  const blocks = [
    { timestamp: 1_000_020, bits: 0x207fffff },
    { timestamp: 1_000_010, bits: 0x207fffff },
    { timestamp: 1_000_000, bits: 0x207fffff },
  ];
  assert.equal(estimateHashRate(blocks), (2 * 2) / 20);
  assert.equal(averageBlockSeconds(blocks), 10);
  assert.equal(estimateHashRate(blocks.slice(0, 1)), undefined);
  assert.equal(estimateHashRate([{ timestamp: 5, bits: 1 }, { timestamp: 5, bits: 1 }]), undefined);
});
