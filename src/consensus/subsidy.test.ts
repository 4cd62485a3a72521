import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeBlockSubsidy } from './subsidy.js';

const BITCOIN = { initialSubsidy: 5_000_000_000n, halvingInterval: 210_000 };

test('Bitcoin subsidy at halving boundaries', () => {
  // Bitcoin's schedule: 50 BTC, halved every 210,000 blocks by a right shift; 0 from the 64th halving.
  assert.equal(computeBlockSubsidy(0, BITCOIN), 5_000_000_000n);
  assert.equal(computeBlockSubsidy(209_999, BITCOIN), 5_000_000_000n);
  assert.equal(computeBlockSubsidy(210_000, BITCOIN), 2_500_000_000n);
  assert.equal(computeBlockSubsidy(420_000, BITCOIN), 1_250_000_000n);
  // 32 halvings: 5e9 >> 32 = 1 sat (5e9 / 4294967296 = 1.16); 33 halvings: 0 (bcoin: last reward at 6929999).
  assert.equal(computeBlockSubsidy(6_929_999, BITCOIN), 1n);
  assert.equal(computeBlockSubsidy(6_930_000, BITCOIN), 0n);
  assert.equal(computeBlockSubsidy(13_440_000, BITCOIN), 0n, '64 halvings');
  assert.equal(computeBlockSubsidy(64 * 210_000 - 1, BITCOIN), 0n, '63 halvings');
});

test('Core validation_tests block_subsidy_test: each halving halves, 0 at the 64th (mainnet and interval 150)', () => {
  for (const params of [BITCOIN, { initialSubsidy: 5_000_000_000n, halvingInterval: 150 }]) {
    let previous = params.initialSubsidy * 2n;
    for (let halvings = 0; halvings < 64; halvings++) {
      const subsidy = computeBlockSubsidy(halvings * params.halvingInterval, params);
      assert.ok(subsidy <= params.initialSubsidy);
      assert.equal(subsidy, previous / 2n);
      previous = subsidy;
    }
    assert.equal(computeBlockSubsidy(64 * params.halvingInterval, params), 0n);
  }
});

test('total Bitcoin supply is 2,099,999,997,690,000 sats', () => {
  // Core validation_tests subsidy_limit_test: every 1000th height, times 1000.
  let sum = 0n;
  for (let height = 0; height < 14_000_000; height += 1000) {
    const subsidy = computeBlockSubsidy(height, BITCOIN);
    assert.ok(subsidy <= 5_000_000_000n);
    sum += subsidy * 1000n;
  }
  assert.equal(sum, 2_099_999_997_690_000n);
  // bcoin test/consensus-test.js 'should calculate reward properly' sums block by block and stops at the first zero
  // reward, 6930000; the subsidy is constant within an interval, so one step per interval gives the same sum.
  let total = 0n;
  let height = 0;
  for (;;) {
    const reward = computeBlockSubsidy(height, BITCOIN);
    if (reward === 0n) break;
    assert.equal(computeBlockSubsidy(height + 209_999, BITCOIN), reward);
    total += reward * 210_000n;
    height += 210_000;
  }
  assert.equal(height, 6_930_000);
  assert.equal(total, 2_099_999_997_690_000n);
});

test('negative or fractional heights are caller bugs', () => {
  assert.throws(() => computeBlockSubsidy(-1, BITCOIN), RangeError);
  assert.throws(() => computeBlockSubsidy(1.5, BITCOIN), RangeError);
});
