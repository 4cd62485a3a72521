/**
 * Shared fixtures of the matching tests (helpers only; named *.test.ts so the build and the pure-core lint rule
 * leave it to the tests):
 * a CRN/USD grid, both book implementations, and a harness that places orders, collects events, and after every
 * command checks the book's invariants (not crossed, internal structures, depth kept by the events' bookDeltaLots).
 */
import assert from 'node:assert/strict';
import type { BookSnapshot } from './bookSnapshot.js';
import type { MatchCommand, NewOrder, Side, StpMode, TimeInForce } from './matchCommand.js';
import { CollectingSink, type MatchEvent } from './matchEvent.js';
import { defineMarketGrid, type MarketGrid } from './marketGrid.js';
import { NaiveOrderBook } from './naiveOrderBook.js';
import { OrderBook } from './orderBook.js';
import type { OrderBookApi } from './orderBookApi.js';

/** CRN/USD: 8 decimals each, tick 0.01 USD, lot 0.0001 CRN (10,000 sats); one lot at one tick = 100 USD units. */
export const GRID: MarketGrid = defineMarketGrid({
  symbol: 'CRNUSD',
  baseAsset: 'CRN',
  quoteAsset: 'USD',
  baseDecimals: 8,
  quoteDecimals: 8,
  tickSize: '0.01',
  stepSize: '0.0001',
  maxPrice: '1000000',
  maxQuantity: '9000',
});

/** One implementation under test: how to make an empty book and how to restore one from a snapshot. */
export interface Implementation {
  readonly name: string;
  readonly create: (grid: MarketGrid) => OrderBookApi;
  readonly restore: (grid: MarketGrid, snapshot: BookSnapshot) => OrderBookApi;
}

/** The implementations every shared test runs against. */
export const IMPLEMENTATIONS: readonly Implementation[] = [
  { name: 'OrderBook', create: (grid) => new OrderBook(grid), restore: (grid, s) => OrderBook.fromSnapshot(grid, s) },
  { name: 'NaiveOrderBook', create: (grid) => new NaiveOrderBook(grid), restore: (grid, s) => NaiveOrderBook.fromSnapshot(grid, s) },
];

/** A one-line rendering of an event, for readable assertions. */
export function fmt(e: MatchEvent): string {
  switch (e.kind) {
    case 'TRADE':
      return `TRADE t${e.tradeId} #${e.orderId}<#${e.counterOrderId} ${e.quantityLots}@${e.priceTicks} rem ${e.remainingLots}/${e.counterRemainingLots} ${e.status}`;
    case 'TRADE_PREVENTION':
      return `STP #${e.orderId} ${e.quantityLots}@${e.priceTicks} vs #${e.counterOrderId}`;
    case 'REJECTED':
      return `REJECTED #${e.orderId} ${e.reason}`;
    case 'EXPIRED':
      return `EXPIRED #${e.orderId} ${e.quantityLots} ${e.reason}`;
    default:
      return `${e.kind} #${e.orderId} ${e.side} ${e.quantityLots}@${e.priceTicks} rem ${e.remainingLots} ${e.status}`;
  }
}

/** Options of a limit order in the harness. */
export interface LimitOptions {
  tif?: TimeInForce;
  stp?: StpMode;
  id?: number;
}

/**
 * Drives one book: numbered orders, events collected per command, invariants checked after every command.
 */
export class BookHarness {
  readonly sink = new CollectingSink();
  nextId = 1;
  private readonly depthByEvents = new Map<string, number>();

  /** Starts depth tracking from the book's current depth (empty for a new book, the snapshot's for a restored one). */
  constructor(readonly book: OrderBookApi) {
    for (const side of ['BUY', 'SELL'] as const) {
      for (const [p, q] of book.depth(side, Number.MAX_SAFE_INTEGER)) this.depthByEvents.set(`${side}:${p}`, q);
    }
    this.nextId = book.lastOrderId + 1;
  }

  /** Places an order (id assigned unless given) and returns the formatted events. */
  place(order: Omit<NewOrder, 'orderId'> & { orderId?: number }): string[] {
    const full = { ...order, orderId: order.orderId ?? this.nextId } as NewOrder;
    if (full.orderId >= this.nextId) this.nextId = full.orderId + 1;
    return this.run({ type: 'PLACE', order: full });
  }

  limit(userId: number, side: Side, priceTicks: number, quantityLots: number, o: LimitOptions = {}): string[] {
    return this.place({
      orderId: o.id,
      userId,
      side,
      type: 'LIMIT',
      timeInForce: o.tif ?? 'GTC',
      priceTicks,
      quantityLots,
      ...(o.stp === undefined ? {} : { stpMode: o.stp }),
    });
  }

  /** Applies any command and returns its events formatted. */
  run(command: MatchCommand): string[] {
    this.book.apply(command, this.sink.sink);
    const events = this.sink.take();
    this.last = events;
    for (const e of events) this.applyDelta(e);
    this.checkInvariants();
    return events.map(fmt);
  }

  /** The raw events of the last command. */
  last: MatchEvent[] = [];

  private applyDelta(e: MatchEvent): void {
    if (e.bookDeltaLots === 0) return;
    const side = e.kind === 'TRADE' ? (e.side === 'BUY' ? 'SELL' : 'BUY') : e.side;
    const key = `${side}:${e.priceTicks}`;
    const v = (this.depthByEvents.get(key) ?? 0) + e.bookDeltaLots;
    assert.ok(v >= 0, `depth at ${key} went negative`);
    if (v === 0) this.depthByEvents.delete(key);
    else this.depthByEvents.set(key, v);
  }

  /** Not crossed; the optimized book's structures agree; depth from the events equals the book's depth. */
  checkInvariants(): void {
    const { bestBidTicks, bestAskTicks } = this.book;
    if (bestBidTicks !== 0 && bestAskTicks !== 0) assert.ok(bestBidTicks < bestAskTicks, `crossed: ${bestBidTicks} >= ${bestAskTicks}`);
    if (this.book instanceof OrderBook) this.book.validateInternalState();
    const fromBook = new Map<string, number>();
    for (const side of ['BUY', 'SELL'] as const) {
      for (const [p, q] of this.book.depth(side, Number.MAX_SAFE_INTEGER)) fromBook.set(`${side}:${p}`, q);
    }
    assert.deepEqual(new Map([...this.depthByEvents].sort()), new Map([...fromBook].sort()), 'depth kept from bookDeltaLots differs from the book');
  }
}
