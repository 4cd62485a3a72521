/**
 * A market's integer grid: prices in ticks, quantities in lots, and the exact conversion of both to base units of
 * the base and quote assets. The order book only ever sees ticks and lots (plain numbers); money in base units is
 * `bigint`.
 */
import { exactMultiple, formatMultiple, formatUnits, parseDecimal, type Decimal } from './decimal.js';
import { MatchingError, type GridFilter } from './matchingError.js';

/** Largest number of decimals an asset may have (ERC-20 tokens go to 18). */
export const MAX_ASSET_DECIMALS = 18;

/**
 * A market's grid as configured: assets and their decimals, Binance's `tickSize` (PRICE_FILTER) and `stepSize`
 * (LOT_SIZE) as decimal strings, and the largest price and quantity the book must hold.
 * Example: CRN/USD with CRN 8 decimals, USD 8 decimals, tickSize "0.01", stepSize "0.0001", maxPrice "1000000",
 * maxQuantity "9000".
 */
export interface MarketGridSpec {
  /** Binance symbol, base then quote asset without separator (`CRNUSD`). */
  readonly symbol: string;
  readonly baseAsset: string;
  readonly quoteAsset: string;
  /** Decimals of one base-asset coin (CRN: 8, so 1 CRN = 10^8 base units). */
  readonly baseDecimals: number;
  /** Decimals of the quote asset. */
  readonly quoteDecimals: number;
  /** Price step, in quote asset per one whole base coin (`"0.01"`). */
  readonly tickSize: string;
  /** Quantity step, in base coins (`"0.0001"`). */
  readonly stepSize: string;
  /** Highest price the book accepts, a multiple of tickSize. */
  readonly maxPrice: string;
  /** Largest quantity of one order, a multiple of stepSize. */
  readonly maxQuantity: string;
}

/**
 * A checked market grid with its derived integer factors. Bounds: `maxPriceTicks × maxQuantityLots ≤ 2^53 − 1`, so
 * lots × ticks of any fill, and the sum of lots × ticks over any one taker order, are exact JS numbers.
 */
export interface MarketGrid extends MarketGridSpec {
  /** Base-asset base units in one lot (stepSize × 10^baseDecimals); ≥ 1. */
  readonly baseUnitsPerLot: bigint;
  /** Quote-asset base units paid for one lot at a price of one tick (stepSize × tickSize × 10^quoteDecimals); ≥ 1. */
  readonly quoteUnitsPerLotTick: bigint;
  /** maxPrice in ticks. */
  readonly maxPriceTicks: number;
  /** maxQuantity in lots. */
  readonly maxQuantityLots: number;
  /** tickSize parsed. */
  readonly tick: Decimal;
  /** stepSize parsed. */
  readonly step: Decimal;
}

/**
 * Checks a grid spec and derives its integer factors. Both sizes must be exact in base units of their asset, and
 * a price of one tick for one lot must cost a whole number of quote base units.
 * @throws MatchingError BAD_MARKET_SPEC (with the reason) | BAD_DECIMAL
 * @see exchange-core CoreSymbolSpecification (baseScaleK, quoteScaleK)
 */
export function defineMarketGrid(spec: MarketGridSpec): MarketGrid {
  const bad = (why: string): never => {
    throw new MatchingError('BAD_MARKET_SPEC', `market ${spec.symbol}: ${why}`);
  };
  if (typeof spec.symbol !== 'string' || !/^[A-Z0-9]{2,20}$/.test(spec.symbol)) bad('symbol must be 2..20 of A-Z0-9');
  for (const [name, decimals] of [['baseDecimals', spec.baseDecimals], ['quoteDecimals', spec.quoteDecimals]] as const) {
    if (!Number.isInteger(decimals) || decimals < 0 || decimals > MAX_ASSET_DECIMALS) {
      bad(`${name} must be an integer 0..${MAX_ASSET_DECIMALS}`);
    }
  }
  const tick = parseDecimal(spec.tickSize);
  const step = parseDecimal(spec.stepSize);
  if (tick.digits === 0n) bad('tickSize must be > 0');
  if (step.digits === 0n) bad('stepSize must be > 0');
  if (step.scale > spec.baseDecimals) bad(`stepSize ${spec.stepSize} is finer than ${spec.baseAsset}'s ${spec.baseDecimals} decimals`);
  const baseUnitsPerLot = step.digits * 10n ** BigInt(spec.baseDecimals - step.scale);
  // stepSize × tickSize in quote coins per (lot·tick), times 10^quoteDecimals, must be a whole number of base units.
  const lotTickScale = step.scale + tick.scale;
  if (lotTickScale > spec.quoteDecimals + 36) bad('tickSize × stepSize has too many decimals');
  const lotTickNum = step.digits * tick.digits * 10n ** BigInt(spec.quoteDecimals);
  const lotTickDen = 10n ** BigInt(lotTickScale);
  if (lotTickNum % lotTickDen !== 0n) {
    bad(`one lot at one tick (${spec.stepSize} × ${spec.tickSize}) is not a whole number of ${spec.quoteAsset} base units`);
  }
  const quoteUnitsPerLotTick = lotTickNum / lotTickDen;
  const maxPriceTicks = exactMultiple(parseDecimal(spec.maxPrice), tick);
  const maxQuantityLots = exactMultiple(parseDecimal(spec.maxQuantity), step);
  if (maxPriceTicks === undefined || maxPriceTicks < 1n) bad('maxPrice must be a positive multiple of tickSize');
  if (maxQuantityLots === undefined || maxQuantityLots < 1n) bad('maxQuantity must be a positive multiple of stepSize');
  if (maxPriceTicks! * maxQuantityLots! > BigInt(Number.MAX_SAFE_INTEGER)) {
    bad(`maxPrice/tickSize × maxQuantity/stepSize = ${maxPriceTicks! * maxQuantityLots!} exceeds 2^53 − 1`);
  }
  return Object.freeze({
    symbol: spec.symbol,
    baseAsset: spec.baseAsset,
    quoteAsset: spec.quoteAsset,
    baseDecimals: spec.baseDecimals,
    quoteDecimals: spec.quoteDecimals,
    tickSize: spec.tickSize,
    stepSize: spec.stepSize,
    maxPrice: spec.maxPrice,
    maxQuantity: spec.maxQuantity,
    baseUnitsPerLot,
    quoteUnitsPerLotTick,
    maxPriceTicks: Number(maxPriceTicks),
    maxQuantityLots: Number(maxQuantityLots),
    tick,
    step,
  });
}

function onGrid(grid: MarketGrid, text: string, size: Decimal, max: number, filter: GridFilter, what: string): number {
  const n = exactMultiple(parseDecimal(text), size);
  if (n === undefined) {
    throw new MatchingError('OFF_GRID', `${what} ${text} is not a multiple of ${formatMultiple(1n, size)}`, filter);
  }
  if (n < 1n || n > BigInt(max)) {
    throw new MatchingError('OUT_OF_RANGE', `${what} ${text} is outside (0, ${formatMultiple(BigInt(max), size)}] on ${grid.symbol}`, filter);
  }
  return Number(n);
}

/**
 * Converts a decimal price string to ticks, refusing off-grid values (`"101.25"` with tick 0.01 → 10125).
 * @throws MatchingError BAD_DECIMAL | OFF_GRID (PRICE_FILTER) | OUT_OF_RANGE (PRICE_FILTER: zero or above maxPrice)
 */
export function parsePriceTicks(grid: MarketGrid, price: string): number {
  return onGrid(grid, price, grid.tick, grid.maxPriceTicks, 'PRICE_FILTER', 'price');
}

/**
 * Converts a decimal quantity string (in base coins) to lots, refusing off-grid values.
 * @throws MatchingError BAD_DECIMAL | OFF_GRID (LOT_SIZE) | OUT_OF_RANGE (LOT_SIZE: zero or above maxQuantity)
 */
export function parseQuantityLots(grid: MarketGrid, quantity: string): number {
  return onGrid(grid, quantity, grid.step, grid.maxQuantityLots, 'LOT_SIZE', 'quantity');
}

/** Formats ticks as a decimal price with `decimals` fractional digits (default: the tick size's own). */
export function formatPrice(grid: MarketGrid, priceTicks: number, decimals = grid.tick.scale): string {
  return formatScaled(BigInt(priceTicks) * grid.tick.digits, grid.tick.scale, decimals);
}

/** Formats lots as a decimal quantity in base coins with `decimals` fractional digits (default: the step's own). */
export function formatQuantity(grid: MarketGrid, quantityLots: number, decimals = grid.step.scale): string {
  return formatScaled(BigInt(quantityLots) * grid.step.digits, grid.step.scale, decimals);
}

function formatScaled(digits: bigint, scale: number, decimals: number): string {
  if (decimals >= scale) return formatUnits(digits * 10n ** BigInt(decimals - scale), decimals);
  // Fewer decimals than the grid needs would round: refuse to lose precision silently.
  return formatUnits(digits, scale);
}

/**
 * Quote-asset base units of `quantityLots` at `priceTicks` — what the buyer pays and the seller receives for a fill,
 * before fees. Exact: lots × ticks < 2^53 by the grid's bound, then a bigint product.
 */
export function quoteAmount(grid: MarketGrid, quantityLots: number, priceTicks: number): bigint {
  return BigInt(quantityLots * priceTicks) * grid.quoteUnitsPerLotTick;
}

/** Quote-asset base units of a lots × ticks product (a `MarketPreview.lotTicks` or a sum of fills' lots × ticks). */
export function lotTicksToQuote(grid: MarketGrid, lotTicks: number): bigint {
  return BigInt(lotTicks) * grid.quoteUnitsPerLotTick;
}

/** Base-asset base units of `quantityLots` (lots × stepSize × 10^baseDecimals). */
export function baseAmount(grid: MarketGrid, quantityLots: number): bigint {
  return BigInt(quantityLots) * grid.baseUnitsPerLot;
}

/**
 * The most lots × ticks that `quoteUnits` can pay for on this grid, floored (a quote budget in the book's units);
 * capped at 2^53 − 1, which no single order can spend anyway.
 */
export function quoteToLotTicks(grid: MarketGrid, quoteUnits: bigint): number {
  if (quoteUnits <= 0n) return 0;
  const lotTicks = quoteUnits / grid.quoteUnitsPerLotTick;
  return lotTicks > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(lotTicks);
}
