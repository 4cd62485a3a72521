import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatHashRate } from './hashRate.js';

test('hash rates print with an SI prefix', () => {
  assert.equal(formatHashRate(0), '0 H/s');
  assert.equal(formatHashRate(999), '999 H/s');
  assert.equal(formatHashRate(4_210_000), '4.21 MH/s');
  assert.equal(formatHashRate(3.5e15), '3500.00 TH/s');
});
