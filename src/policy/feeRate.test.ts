/**
 * Fee-rate arithmetic against Bitcoin Core's own unit tests (src/test/amount_tests.cpp, GetFeeTest): CFeeRate::GetFee
 * rounds up, and CFeeRate(fee, size) truncates to whole sat/kvB. Only non-negative rates are used by the mempool.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareFeeRates, feeForVsize, feeRateSatPerKvb, feeRateSatPerVb } from './feeRate.js';

test('feeForVsize matches Core CFeeRate::GetFee (GetFeeTest)', () => {
  const cases: [rate: number, vsize: number, fee: bigint][] = [
    [0, 0, 0n], [0, 100_000, 0n],
    [1000, 0, 0n], [1000, 1, 1n], [1000, 121, 121n], [1000, 999, 999n], [1000, 1000, 1000n], [1000, 9000, 9000n],
    [123, 0, 0n], [123, 8, 1n], [123, 9, 2n], [123, 121, 15n], [123, 122, 16n], [123, 999, 123n], [123, 1000, 123n],
    [123, 9000, 1107n],
  ];
  for (const [rate, vsize, fee] of cases) assert.equal(feeForVsize(rate, vsize), fee, `CFeeRate(${rate}).GetFee(${vsize})`);
});

test('feeRateSatPerKvb matches Core CFeeRate(fee, size) (GetFeeTest full constructor)', () => {
  const cases: [fee: bigint, size: number, rate: number][] = [
    [0n, 0, 0], [1n, 0, 0], [0n, 1000, 0], [1n, 1000, 1], [1n, 1001, 0], [2n, 1001, 1], [26n, 789, 32], [27n, 789, 34],
  ];
  for (const [fee, size, rate] of cases) assert.equal(feeRateSatPerKvb(fee, size), rate, `CFeeRate(${fee}, ${size})`);
});

test('compareFeeRates is exact where floats would tie', () => {
  // 2^53 + 1 sats over 1 vB vs 2^53 over 1 vB: equal as doubles, different as rates.
  assert.equal(compareFeeRates(2n ** 53n + 1n, 1, 2n ** 53n, 1), 1);
  assert.equal(compareFeeRates(1n, 3, 2n, 6), 0);
  assert.equal(compareFeeRates(1n, 3, 1n, 2), -1);
  assert.equal(feeRateSatPerVb(1_000n, 250), 4);
});
