/**
 * The canonical state of one order book: what a snapshot stores, what the state hash covers, and what a book is
 * restored from. Two books that will answer every future command alike have equal snapshots, whatever their
 * implementation; the canonical encoding is JSON with a fixed key order and integer numbers, so the same state gives
 * the same bytes and the same hash on any machine.
 */
import { sha256 } from '../crypto/hash.js';
import { isIntIn, isStpMode } from './checkNewOrder.js';
import { triggersOnRise, type Side, type StpMode, type TimeInForce } from './matchCommand.js';
import type { MarketGrid } from './marketGrid.js';
import { MatchingError } from './matchingError.js';

/** A resting order: `[orderId, userId, priceTicks, quantityLots, remainingLots]` (executed = quantity − remaining). */
export type SnapshotOrder = readonly [orderId: number, userId: number, priceTicks: number, quantityLots: number, remainingLots: number];

/** A pending stop order: everything it needs to act once triggered. */
export type SnapshotStop = readonly [
  orderId: number,
  userId: number,
  side: Side,
  type: 'STOP_LOSS_LIMIT' | 'TAKE_PROFIT_LIMIT',
  timeInForce: TimeInForce,
  stpMode: StpMode,
  stopPriceTicks: number,
  priceTicks: number,
  quantityLots: number,
];

/** Version of the snapshot layout; bumped on any change of meaning. */
export const BOOK_SNAPSHOT_VERSION = 1;

/** One book's whole state. */
export interface BookSnapshot {
  readonly version: typeof BOOK_SNAPSHOT_VERSION;
  readonly symbol: string;
  /** The grid the ticks and lots refer to; a restore into another grid is refused. */
  readonly tickSize: string;
  readonly stepSize: string;
  /** Highest order id seen; new ids must exceed it. */
  readonly lastOrderId: number;
  /** Id of the last trade (0: none yet). */
  readonly lastTradeId: number;
  /** Price of the last trade in ticks (0: none yet); stop orders trigger on it. */
  readonly lastPriceTicks: number;
  /** Resting bids in priority order: best (highest) price first, oldest first within a price. */
  readonly bids: readonly SnapshotOrder[];
  /** Resting asks in priority order: best (lowest) price first, oldest first within a price. */
  readonly asks: readonly SnapshotOrder[];
  /** Pending stop orders by increasing orderId. */
  readonly stops: readonly SnapshotStop[];
}

/**
 * The canonical encoding: JSON with keys in the interface's order, tuples as arrays. Same state → same string.
 */
export function encodeBookSnapshot(s: BookSnapshot): string {
  return JSON.stringify({
    version: s.version,
    symbol: s.symbol,
    tickSize: s.tickSize,
    stepSize: s.stepSize,
    lastOrderId: s.lastOrderId,
    lastTradeId: s.lastTradeId,
    lastPriceTicks: s.lastPriceTicks,
    bids: s.bids,
    asks: s.asks,
    stops: s.stops,
  });
}

/** SHA-256 of the canonical encoding (32 bytes); the engine folds each book's hash into its state hash. */
export function computeBookStateHash(s: BookSnapshot): Uint8Array {
  return sha256(new TextEncoder().encode(encodeBookSnapshot(s)));
}

/**
 * Parses a canonical encoding and checks it against the grid (see checkBookSnapshot).
 * @throws MatchingError BAD_SNAPSHOT
 */
export function decodeBookSnapshot(grid: MarketGrid, text: string): BookSnapshot {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new MatchingError('BAD_SNAPSHOT', `snapshot is not JSON: ${(err as Error).message}`);
  }
  checkBookSnapshot(grid, value);
  return value;
}

/**
 * Checks that a value is a well-formed snapshot of a possible book on this grid: right version, symbol and sizes;
 * integer fields in range; ids unique and ≤ lastOrderId; each side in strict priority order of prices; not crossed;
 * 0 < remaining ≤ quantity; stops complete and sorted by id.
 * @throws MatchingError BAD_SNAPSHOT naming the first problem
 */
export function checkBookSnapshot(grid: MarketGrid, value: unknown): asserts value is BookSnapshot {
  const bad = (why: string): never => {
    throw new MatchingError('BAD_SNAPSHOT', `book snapshot: ${why}`);
  };
  if (typeof value !== 'object' || value === null) bad('not an object');
  const s = value as Record<string, unknown>;
  if (s.version !== BOOK_SNAPSHOT_VERSION) bad(`unsupported version ${String(s.version)}`);
  if (s.symbol !== grid.symbol) bad(`symbol ${String(s.symbol)} is not ${grid.symbol}`);
  if (s.tickSize !== grid.tickSize || s.stepSize !== grid.stepSize) bad('tickSize/stepSize differ from the market grid');
  const MAX = Number.MAX_SAFE_INTEGER;
  if (!isIntIn(s.lastOrderId, 0, MAX)) bad('lastOrderId');
  if (!isIntIn(s.lastTradeId, 0, MAX)) bad('lastTradeId');
  if (!isIntIn(s.lastPriceTicks, 0, grid.maxPriceTicks)) bad('lastPriceTicks');
  const lastOrderId = s.lastOrderId as number;
  const ids = new Set<number>();
  const checkId = (id: unknown): void => {
    if (!isIntIn(id, 1, lastOrderId)) bad(`order id ${String(id)} not in 1..lastOrderId`);
    if (ids.has(id as number)) bad(`duplicate order id ${String(id)}`);
    ids.add(id as number);
  };
  const checkSide = (orders: unknown, name: string, better: (a: number, b: number) => boolean): number => {
    if (!Array.isArray(orders)) bad(`${name} is not an array`);
    let prevPrice = 0;
    for (const o of orders as unknown[]) {
      if (!Array.isArray(o) || o.length !== 5) bad(`${name}: order is not a 5-tuple`);
      const [id, userId, price, qty, remaining] = o as unknown[];
      checkId(id);
      if (!isIntIn(userId, 0, MAX)) bad(`${name}: userId of ${String(id)}`);
      if (!isIntIn(price, 1, grid.maxPriceTicks)) bad(`${name}: price of ${String(id)}`);
      if (!isIntIn(qty, 1, grid.maxQuantityLots)) bad(`${name}: quantity of ${String(id)}`);
      if (!isIntIn(remaining, 1, qty as number)) bad(`${name}: remaining of ${String(id)} not in 1..quantity`);
      if (prevPrice !== 0 && price !== prevPrice && !better(prevPrice, price as number)) bad(`${name} not in priority order at ${String(id)}`);
      prevPrice = price as number;
    }
    return (orders as unknown[]).length > 0 ? ((orders as unknown[][])[0]![2] as number) : 0;
  };
  const bestBid = checkSide(s.bids, 'bids', (a, b) => a > b);
  const bestAsk = checkSide(s.asks, 'asks', (a, b) => a < b);
  if (bestBid !== 0 && bestAsk !== 0 && bestBid >= bestAsk) bad(`crossed book: best bid ${bestBid} ≥ best ask ${bestAsk}`);
  if (!Array.isArray(s.stops)) bad('stops is not an array');
  let prevStopId = 0;
  for (const t of s.stops as unknown[]) {
    if (!Array.isArray(t) || t.length !== 9) bad('stop is not a 9-tuple');
    const [id, userId, side, type, tif, stp, stopPrice, price, qty] = t as unknown[];
    checkId(id);
    if ((id as number) <= prevStopId) bad('stops not sorted by orderId');
    prevStopId = id as number;
    if (!isIntIn(userId, 0, MAX)) bad(`stop ${String(id)}: userId`);
    if (side !== 'BUY' && side !== 'SELL') bad(`stop ${String(id)}: side`);
    if (type !== 'STOP_LOSS_LIMIT' && type !== 'TAKE_PROFIT_LIMIT') bad(`stop ${String(id)}: type`);
    if (tif !== 'GTC' && tif !== 'IOC' && tif !== 'FOK') bad(`stop ${String(id)}: timeInForce`);
    if (!isStpMode(stp)) bad(`stop ${String(id)}: stpMode`);
    if (!isIntIn(stopPrice, 1, grid.maxPriceTicks)) bad(`stop ${String(id)}: stop price`);
    if (!isIntIn(price, 1, grid.maxPriceTicks)) bad(`stop ${String(id)}: price`);
    if (!isIntIn(qty, 1, grid.maxQuantityLots)) bad(`stop ${String(id)}: quantity`);
    const last = s.lastPriceTicks as number;
    const rise = triggersOnRise(type as SnapshotStop[3], side as Side);
    if (last !== 0 && (rise ? (stopPrice as number) <= last : (stopPrice as number) >= last)) {
      bad(`stop ${String(id)} should have triggered at the last price ${last}`);
    }
  }
}
