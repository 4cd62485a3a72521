import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  AmountError,
  COIN,
  coinsFromNumber,
  formatCoins,
  formatFixedPoint,
  MAX_MONEY,
  moneyRange,
  parseCoins,
  parseFixedPoint,
  type AmountErrorCode,
} from './amount.js';

test('MAX_MONEY is 21 million coins of 100,000,000 sats and moneyRange is [0, MAX_MONEY]', () => {
  assert.equal(COIN, 100_000_000n);
  assert.equal(MAX_MONEY, 2_100_000_000_000_000n);
  assert.equal(moneyRange(0n), true);
  assert.equal(moneyRange(MAX_MONEY), true);
  assert.equal(moneyRange(MAX_MONEY + 1n), false);
  assert.equal(moneyRange(-1n), false);
});

test('parseCoins parses exact decimal coin amounts into sats', () => {
  const cases: [string, bigint][] = [
    ['0', 0n],
    ['1', 100_000_000n],
    ['1.5', 150_000_000n],
    ['.5', 50_000_000n],
    ['5.', 500_000_000n],
    ['0.00000001', 1n],
    ['0.100000000', 10_000_000n],
    ['1e-8', 1n],
    ['1.5E3', 150_000_000_000n],
    ['21000000', MAX_MONEY],
    ['+2', 200_000_000n],
    ['0.1', 10_000_000n],
    ['12345678.87654321', 1_234_567_887_654_321n],
  ];
  for (const [text, sats] of cases) assert.equal(parseCoins(text), sats, `parseCoins('${text}')`);
  assert.equal(parseCoins('-0.5', { allowNegative: true }), -50_000_000n);
});

test('parseCoins refuses what is not an exact amount, with a code', () => {
  const cases: [string, AmountErrorCode][] = [
    ['', 'amount-syntax'],
    ['-', 'amount-syntax'],
    ['1.2.3', 'amount-syntax'],
    ['1,5', 'amount-syntax'],
    [' 1', 'amount-syntax'],
    ['0x10', 'amount-syntax'],
    ['NaN', 'amount-syntax'],
    ['Infinity', 'amount-syntax'],
    ['1e99999', 'amount-syntax'],
    ['0.000000001', 'amount-too-precise'],
    ['1e-9', 'amount-too-precise'],
    ['5e-20', 'amount-too-precise'],
    ['-1', 'amount-negative'],
    ['21000000.00000001', 'amount-out-of-range'],
    ['1e30', 'amount-out-of-range'],
  ];
  for (const [text, code] of cases) {
    assert.throws(() => parseCoins(text), (err: unknown) => err instanceof AmountError && err.code === code, `parseCoins('${text}') should throw ${code}`);
  }
  assert.throws(() => parseCoins('0', { allowZero: false }), (err: unknown) => err instanceof AmountError && err.code === 'amount-out-of-range');
});

test('coinsFromNumber takes a JSON number of coins exactly as it was written', () => {
  assert.equal(coinsFromNumber(0.1), 10_000_000n);
  assert.equal(coinsFromNumber(0.3), 30_000_000n); // 0.1 + 0.2 !== 0.3 in floats; the text '0.3' is exact
  assert.equal(coinsFromNumber(1e-8), 1n);
  assert.equal(coinsFromNumber(20999999.99999999), 2_099_999_999_999_999n);
  assert.throws(() => coinsFromNumber(Number.NaN), AmountError);
  assert.throws(() => coinsFromNumber(1e-9), AmountError);
});

test('formatCoins prints sats as coins exactly, truncating when fewer decimals are asked', () => {
  assert.equal(formatCoins(150_000_000n), '1.50000000');
  assert.equal(formatCoins(-141n), '-0.00000141');
  assert.equal(formatCoins(150_000_000n, { trim: true }), '1.5');
  assert.equal(formatCoins(500_000_000n, { trim: true }), '5');
  assert.equal(formatCoins(199_999_999n, { decimals: 2 }), '1.99');
  assert.equal(formatCoins(123_456_789_000_000n, { decimals: 2, grouping: true }), '1,234,567.89');
  assert.equal(formatCoins(MAX_MONEY, { decimals: 0, grouping: true }), '21,000,000');
  assert.equal(formatCoins(0n, { decimals: 2 }), '0.00');
  assert.throws(() => formatCoins(1n, { decimals: 9 }), RangeError);
});

test('formatCoins and parseCoins round-trip every amount (property)', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: -MAX_MONEY, max: MAX_MONEY }), fc.boolean(), (sats, trim) => {
      assert.equal(parseCoins(formatCoins(sats, { trim }), { allowNegative: true }), sats);
    }),
    { numRuns: 2_000 },
  );
});

test('parseFixedPoint and formatFixedPoint work for any number of decimals', () => {
  assert.equal(parseFixedPoint('12.34', 2), 1234n);
  assert.equal(parseFixedPoint('12', 0), 12n);
  assert.equal(parseFixedPoint('0.000001', 6), 1n);
  assert.throws(() => parseFixedPoint('0.5', 0), (err: unknown) => err instanceof AmountError && err.code === 'amount-too-precise');
  assert.equal(formatFixedPoint(1234n, 2), '12.34');
  assert.equal(formatFixedPoint(1200n, 2, true), '12');
  assert.equal(formatFixedPoint(7n, 0), '7');
});
