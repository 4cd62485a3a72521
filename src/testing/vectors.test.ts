import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeVectorValue, VectorTally } from './vectors.js';

test('VectorTally: a failing vector is named with the field that differed and both values', (t) => {
  const tally = new VectorTally('example-vectors.json');
  assert.equal(tally.check('vector 0', { txid: ['ab', 'ab'], vsize: [141, 141] }), true);
  assert.equal(tally.check('vector 1 (P2WPKH)', { txid: ['ab', 'ab'], vsize: [142, 141], fee: [5n, 5n] }), false);
  assert.equal(tally.run('vector 2', () => assert.equal(1 + 1, 3, 'sum')), false);
  assert.equal(tally.run('vector 3', () => undefined), true);
  assert.deepEqual([tally.passed, tally.total], [2, 4]);
  assert.deepEqual(tally.failures, ['vector 1 (P2WPKH): vsize: expected 141, got 142', 'vector 2: sum 2 !== 3']);
  assert.throws(
    () => tally.report(t),
    (e: unknown) =>
      e instanceof assert.AssertionError &&
      e.message.startsWith('example-vectors.json: 2 vectors failed: vector 1 (P2WPKH): vsize: expected 141, got 142; vector 2: sum 2 !== 3'),
  );
});

test('describeVectorValue: bytes in hex, bigints with n, strings quoted', () => {
  assert.equal(describeVectorValue(Uint8Array.of(0, 255)), '0x00ff');
  assert.equal(describeVectorValue(10n), '10n');
  assert.equal(describeVectorValue('x'), '"x"');
  assert.equal(describeVectorValue({ a: 1n, b: Uint8Array.of(1) }), '{"a":"1n","b":"01"}');
  assert.equal(describeVectorValue(undefined), 'undefined');
});
