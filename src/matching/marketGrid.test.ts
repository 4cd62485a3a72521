import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatUnits, parseDecimal, parseUnits } from './decimal.js';
import {
  baseAmount,
  defineMarketGrid,
  formatPrice,
  formatQuantity,
  parsePriceTicks,
  parseQuantityLots,
  quoteAmount,
  quoteToLotTicks,
  type MarketGridSpec,
} from './marketGrid.js';
import { MatchingError, type MatchingErrorCode } from './matchingError.js';

const SPEC: MarketGridSpec = {
  symbol: 'CRNUSD',
  baseAsset: 'CRN',
  quoteAsset: 'USD',
  baseDecimals: 8,
  quoteDecimals: 8,
  tickSize: '0.01',
  stepSize: '0.0001',
  maxPrice: '1000000',
  maxQuantity: '9000',
};

const throwsCode = (fn: () => unknown, code: MatchingErrorCode, filter?: string): void => {
  assert.throws(fn, (err: unknown) => err instanceof MatchingError && err.code === code && (filter === undefined || err.filter === filter));
};

test('parseDecimal reads plain decimals exactly and refuses everything else', () => {
  assert.deepEqual(parseDecimal('1.50'), { digits: 15n, scale: 1 });
  assert.deepEqual(parseDecimal('0.01000000'), { digits: 1n, scale: 2 });
  assert.deepEqual(parseDecimal('42'), { digits: 42n, scale: 0 });
  assert.deepEqual(parseDecimal('007.0'), { digits: 7n, scale: 0 });
  for (const bad of ['', '-1', '+1', '1e5', '.5', '5.', '1,000', ' 1', '1 ', '0x10', 'NaN', '1.2.3', '١', '9'.repeat(65)]) {
    throwsCode(() => parseDecimal(bad), 'BAD_DECIMAL');
  }
  throwsCode(() => parseDecimal(12 as unknown as string), 'BAD_DECIMAL');
});

test('parseUnits and formatUnits convert amounts exactly, refusing more decimals than the asset has', () => {
  assert.equal(parseUnits('1.5', 8), 150_000_000n);
  assert.equal(parseUnits('21000000', 8), 2_100_000_000_000_000n);
  assert.equal(parseUnits('0.00000001', 8), 1n);
  assert.equal(formatUnits(150_000_000n, 8), '1.50000000');
  assert.equal(formatUnits(1n, 8), '0.00000001');
  assert.equal(formatUnits(-5n, 2), '-0.05');
  assert.equal(formatUnits(7n, 0), '7');
  throwsCode(() => parseUnits('0.000000001', 8), 'OFF_GRID');
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.integer({ min: 0, max: 18 }), (units, decimals) => {
      assert.equal(parseUnits(formatUnits(units, decimals), decimals), units);
    }),
  );
});

test('defineMarketGrid derives lot and lot·tick units and checks the 2^53 bound', () => {
  const g = defineMarketGrid(SPEC);
  assert.equal(g.baseUnitsPerLot, 10_000n); // 0.0001 CRN
  assert.equal(g.quoteUnitsPerLotTick, 100n); // 0.0001 CRN × 0.01 USD = 0.000001 USD = 100 units
  assert.equal(g.maxPriceTicks, 100_000_000);
  assert.equal(g.maxQuantityLots, 90_000_000);
  assert.ok(Object.isFrozen(g));
  const bad: Array<Partial<MarketGridSpec>> = [
    { tickSize: '0' },
    { stepSize: '0' },
    { stepSize: '0.000000001' }, // finer than CRN's 8 decimals
    { quoteDecimals: 2 }, // one lot at one tick = 0.000001 USD: not whole cents
    { maxQuantity: '90000' }, // 1e8 ticks × 9e8 lots > 2^53
    { maxPrice: '1000000.001' },
    { maxQuantity: '0' },
    { symbol: 'crn/usd' },
    { baseDecimals: 19 },
    { quoteDecimals: 1.5 },
  ];
  for (const b of bad) throwsCode(() => defineMarketGrid({ ...SPEC, ...b }), 'BAD_MARKET_SPEC');
  throwsCode(() => defineMarketGrid({ ...SPEC, tickSize: '1e-2' }), 'BAD_DECIMAL');
});

test('prices and quantities convert to ticks and lots exactly; off-grid and out-of-range values are refused by filter', () => {
  const g = defineMarketGrid(SPEC);
  assert.equal(parsePriceTicks(g, '101.25'), 10125);
  assert.equal(parsePriceTicks(g, '101.250000'), 10125);
  assert.equal(parsePriceTicks(g, '1000000'), 100_000_000);
  assert.equal(parseQuantityLots(g, '0.5'), 5000);
  assert.equal(parseQuantityLots(g, '0.0001'), 1);
  throwsCode(() => parsePriceTicks(g, '101.255'), 'OFF_GRID', 'PRICE_FILTER');
  throwsCode(() => parsePriceTicks(g, '0'), 'OUT_OF_RANGE', 'PRICE_FILTER');
  throwsCode(() => parsePriceTicks(g, '1000000.01'), 'OUT_OF_RANGE', 'PRICE_FILTER');
  throwsCode(() => parseQuantityLots(g, '0.00005'), 'OFF_GRID', 'LOT_SIZE');
  throwsCode(() => parseQuantityLots(g, '9000.0001'), 'OUT_OF_RANGE', 'LOT_SIZE');
  throwsCode(() => parseQuantityLots(g, '-1'), 'BAD_DECIMAL');
  assert.equal(formatPrice(g, 10125), '101.25');
  assert.equal(formatPrice(g, 10125, 8), '101.25000000');
  assert.equal(formatQuantity(g, 5000), '0.5000');
  assert.equal(formatQuantity(g, 5000, 8), '0.50000000');
  fc.assert(
    fc.property(fc.integer({ min: 1, max: g.maxPriceTicks }), fc.integer({ min: 1, max: g.maxQuantityLots }), (ticks, lots) => {
      assert.equal(parsePriceTicks(g, formatPrice(g, ticks, 8)), ticks);
      assert.equal(parseQuantityLots(g, formatQuantity(g, lots)), lots);
    }),
  );
});

test('amounts of a fill: quote = lots × ticks × quote units per lot·tick, exact at the grid maximum', () => {
  const g = defineMarketGrid(SPEC);
  // 0.5 CRN at 101.25 USD = 50.625 USD = 5,062,500,000 USD units.
  assert.equal(quoteAmount(g, 5000, 10125), 5_062_500_000n);
  assert.equal(baseAmount(g, 5000), 50_000_000n);
  const max = quoteAmount(g, g.maxQuantityLots, g.maxPriceTicks);
  assert.equal(max, 9000n * 1_000_000n * 10n ** 8n);
  assert.ok(max > BigInt(Number.MAX_SAFE_INTEGER));
  assert.equal(quoteToLotTicks(g, 5_062_500_099n), 50_625_000);
  assert.equal(quoteToLotTicks(g, 0n), 0);
  assert.equal(quoteToLotTicks(g, 10n ** 40n), Number.MAX_SAFE_INTEGER);
});
