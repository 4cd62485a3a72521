import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeMedianTimePast, MEDIAN_TIME_SPAN } from './medianTimePast.js';

// Expected values follow Core's CBlockIndex::GetMedianTimePast by hand: sort the last <= 11 times, take [n / 2].

test('median of an odd count is the middle value', () => {
  assert.equal(computeMedianTimePast([5]), 5);
  assert.equal(computeMedianTimePast([30, 10, 20]), 20);
  assert.equal(computeMedianTimePast([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]), 6);
});

test('an even count takes the upper middle element, as Core does', () => {
  assert.equal(computeMedianTimePast([1, 2]), 2);
  assert.equal(computeMedianTimePast([40, 10, 30, 20]), 30);
});

test('only the last 11 times count', () => {
  assert.equal(MEDIAN_TIME_SPAN, 11);
  // The first value is huge: if it were counted the median would shift from 7 to 8.
  assert.equal(computeMedianTimePast([1000, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), 7);
});

test('times out of order (allowed in Bitcoin) are sorted numerically, not as strings', () => {
  assert.equal(computeMedianTimePast([100, 9, 1000, 20, 3]), 20);
  assert.equal(computeMedianTimePast([1231006505, 1231469665, 1231469744]), 1231469665);
});

test('an empty list is a caller bug', () => {
  assert.throws(() => computeMedianTimePast([]), RangeError);
});
