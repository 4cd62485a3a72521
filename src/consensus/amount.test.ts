import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COIN, MAX_MONEY, moneyRange } from './amount.js';

test('MAX_MONEY is 21 million coins of 100,000,000 sats and moneyRange is [0, MAX_MONEY]', () => {
  assert.equal(COIN, 100_000_000n);
  assert.equal(MAX_MONEY, 2_100_000_000_000_000n);
  assert.equal(moneyRange(0n), true);
  assert.equal(moneyRange(MAX_MONEY), true);
  assert.equal(moneyRange(MAX_MONEY + 1n), false);
  assert.equal(moneyRange(-1n), false);
});
