/**
 * Market data from the engine's published outcomes (after durability), in memory and bounded: per market the L2 depth
 * with its last update id, depth diffs with first/last update ids (Binance's U/u) holding absolute level quantities,
 * the book ticker, the most recent trades, candles on every Binance interval, the 24 h rolling ticker and the
 * average price. What the gateway's REST market routes and market streams serve.
 *
 * Depth: the view starts from the engine's books and update ids, then applies each DepthEvent's level deltas; a
 * client that buffers diffs, takes `depth()` and applies Binance's procedure (drop u ≤ lastUpdateId, first applied
 * U ≤ lastUpdateId + 1 ≤ u, then each U = previous u + 1) holds exactly this view.
 * 24 h ticker: over the 1-minute candles from the minute holding now − 24 h to now (Binance's rolling window is also
 * minute-granular: "the effective window will be up to 59999ms wider"). priceChangePercent is rounded half away
 * from zero to 3 decimals; weightedAvgPrice (quote volume / volume) to the quote asset's decimals.
 * @see binance-spot-api-docs web-socket-streams.md "How to manage a local order book correctly"; rest-api.md
 *   "24hr ticker price change statistics"
 */
import { formatUnits } from '../matching/decimal.js';
import { formatPrice, type MarketGrid } from '../matching/marketGrid.js';
import { DEPTH_BID, type CommandOutcome, type DepthEvent, type TradeEvent } from './engineEvent.js';
import type { ExchangeEngine } from './engine.js';
import { ExchangeError } from './exchangeError.js';
import { addTradeToKline, KLINE_INTERVALS, klineOpenTime, type Kline, type KlineInterval } from './klines.js';

/** One price level: [priceTicks, quantityLots]. */
export type Level = readonly [priceTicks: number, quantityLots: number];

/** A depth snapshot (Binance `GET /api/v3/depth`). */
export interface DepthSnapshot {
  readonly symbol: string;
  readonly lastUpdateId: number;
  /** Best (highest) first. */
  readonly bids: readonly Level[];
  /** Best (lowest) first. */
  readonly asks: readonly Level[];
}

/** Depth changes of one or more commands (Binance `depthUpdate`): new absolute quantities, 0 = level removed. */
export interface DepthDiff {
  readonly type: 'depthDiff';
  readonly symbol: string;
  /** U: first update id in the event. */
  readonly firstUpdateId: number;
  /** u: last update id in the event. */
  readonly lastUpdateId: number;
  readonly timeMs: number;
  readonly bids: readonly Level[];
  readonly asks: readonly Level[];
}

/** Best bid and ask (Binance `bookTicker`); 0 prices when a side is empty. */
export interface BookTicker {
  readonly type: 'bookTicker';
  readonly symbol: string;
  readonly updateId: number;
  readonly bidTicks: number;
  readonly bidLots: number;
  readonly askTicks: number;
  readonly askLots: number;
}

/** A public trade as market data keeps it. */
export interface MarketTrade {
  readonly type: 'trade';
  readonly symbol: string;
  readonly tradeId: number;
  readonly priceTicks: number;
  readonly quantityLots: number;
  readonly quote: bigint;
  readonly buyerOrderId: number;
  readonly sellerOrderId: number;
  readonly isBuyerMaker: boolean;
  readonly timeMs: number;
}

/** A candle changed (Binance `kline` stream); `closed` is false: a candle is final once a later one opens. */
export interface KlineUpdate {
  readonly type: 'kline';
  readonly kline: Kline;
}

/** What market data publishes (the gateway's market streams). */
export type MarketDataEvent = DepthDiff | BookTicker | MarketTrade | KlineUpdate;

/** The 24 h rolling statistics of a market, Binance's field names, decimal strings. */
export interface Ticker24h {
  readonly symbol: string;
  readonly priceChange: string;
  readonly priceChangePercent: string;
  readonly weightedAvgPrice: string;
  readonly prevClosePrice: string;
  readonly lastPrice: string;
  readonly lastQty: string;
  readonly bidPrice: string;
  readonly bidQty: string;
  readonly askPrice: string;
  readonly askQty: string;
  readonly openPrice: string;
  readonly highPrice: string;
  readonly lowPrice: string;
  readonly volume: string;
  readonly quoteVolume: string;
  readonly openTime: number;
  readonly closeTime: number;
  /** First and last trade id in the window; -1 when none. */
  readonly firstId: number;
  readonly lastId: number;
  readonly count: number;
}

/** Options of MarketData. */
export interface MarketDataOptions {
  /** Recent trades kept per market (default 1,000). */
  readonly recentTrades?: number;
  /** Candles kept per market and interval (default 1,000; the 1-minute interval keeps at least 24 h + 1 minute). */
  readonly klines?: number;
}

const DAY_MS = 86_400_000;

/** A side's levels: totals by price, and the prices sorted best first. */
class DepthSide {
  readonly totals = new Map<number, number>();
  /** Bids descending, asks ascending. */
  readonly prices: number[] = [];

  constructor(private readonly bids: boolean) {}

  /** Applies a signed delta; returns the new total. */
  apply(price: number, delta: number): number {
    const before = this.totals.get(price) ?? 0;
    const after = before + delta;
    if (after < 0) throw new ExchangeError('STATE_MISMATCH', `depth at ${price} would go negative`);
    if (after === 0) {
      this.totals.delete(price);
      this.prices.splice(this.find(price), 1);
    } else {
      this.totals.set(price, after);
      if (before === 0) this.prices.splice(this.find(price), 0, price);
    }
    return after;
  }

  /** Index of `price` in the sorted prices, or where it goes. */
  private find(price: number): number {
    let lo = 0;
    let hi = this.prices.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const p = this.prices[mid]!;
      if (this.bids ? p > price : p < price) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  top(limit: number): Level[] {
    const n = Math.min(limit, this.prices.length);
    const out: Level[] = new Array<Level>(n);
    for (let i = 0; i < n; i++) out[i] = [this.prices[i]!, this.totals.get(this.prices[i]!)!];
    return out;
  }
}

/** One market's data. */
class MarketView {
  readonly bids = new DepthSide(true);
  readonly asks = new DepthSide(false);
  lastUpdateId: number;
  readonly trades: MarketTrade[] = [];
  readonly klines = new Map<KlineInterval, Kline[]>();
  /** Intervals whose list may lack older candles (seeded from the history, or trimmed): older ranges are the history's. */
  readonly truncated = new Set<KlineInterval>();
  lastBook = { bid: 0, bidQty: 0, ask: 0, askQty: 0 };

  constructor(
    readonly symbol: string,
    public grid: MarketGrid,
    lastUpdateId: number,
  ) {
    this.lastUpdateId = lastUpdateId;
    for (const i of KLINE_INTERVALS) this.klines.set(i, []);
  }
}

/** Market data of every market of one engine. */
export class MarketData {
  private readonly views = new Map<string, MarketView>();
  private readonly listeners = new Set<(events: readonly MarketDataEvent[]) => void>();
  private readonly recentTradesKept: number;
  private readonly klinesKept: number;

  constructor(
    private readonly engine: ExchangeEngine,
    options: MarketDataOptions = {},
  ) {
    this.recentTradesKept = options.recentTrades ?? 1_000;
    this.klinesKept = options.klines ?? 1_000;
    this.syncMarkets();
  }

  /** Adds views for markets the engine has and this does not (start-up, configuration changes), from their books. */
  private syncMarkets(): void {
    for (const m of this.engine.markets) {
      const existing = this.views.get(m.symbol);
      if (existing !== undefined) {
        existing.grid = m.def.grid;
        continue;
      }
      const v = new MarketView(m.symbol, m.def.grid, m.depthUpdateId);
      for (const [p, q] of m.book.depth('BUY', Number.MAX_SAFE_INTEGER)) v.bids.apply(p, q);
      for (const [p, q] of m.book.depth('SELL', Number.MAX_SAFE_INTEGER)) v.asks.apply(p, q);
      v.lastBook = this.best(v);
      this.views.set(m.symbol, v);
    }
  }

  /**
   * Seeds trades and candles from history (start-up), oldest first. Call before outcomes flow.
   */
  seed(trades: readonly MarketTrade[], klines: readonly Kline[]): void {
    for (const t of trades) {
      const v = this.views.get(t.symbol);
      if (v !== undefined) this.pushTrade(v, t);
    }
    for (const k of klines) {
      const v = this.views.get(k.symbol);
      if (v === undefined) continue;
      this.pushKline(v, k);
      v.truncated.add(k.interval);
    }
  }

  /** Subscribes to market data events (one call per applied batch); returns the unsubscribe function. */
  subscribe(listener: (events: readonly MarketDataEvent[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Applies a batch of outcomes (in sequence order) and publishes what changed. */
  apply(outcomes: readonly CommandOutcome[]): void {
    const out: MarketDataEvent[] = [];
    for (const o of outcomes) {
      for (const e of o.events) {
        if (e.type === 'trade') this.onTrade(e, out);
        else if (e.type === 'depth') this.onDepth(e, o.timeMs, out);
        else if (e.type === 'config') this.syncMarkets();
      }
    }
    if (out.length === 0) return;
    for (const l of this.listeners) {
      try {
        l(out);
      } catch {
        // a subscriber's failure is its own
      }
    }
  }

  private onTrade(e: TradeEvent, out: MarketDataEvent[]): void {
    const v = this.views.get(e.symbol);
    if (v === undefined) return;
    const t: MarketTrade = {
      type: 'trade',
      symbol: e.symbol,
      tradeId: e.tradeId,
      priceTicks: e.priceTicks,
      quantityLots: e.quantityLots,
      quote: e.quote,
      buyerOrderId: e.buyerOrderId,
      sellerOrderId: e.sellerOrderId,
      isBuyerMaker: e.isBuyerMaker,
      timeMs: e.timeMs,
    };
    this.pushTrade(v, t);
    out.push(t);
    for (const interval of KLINE_INTERVALS) {
      const list = v.klines.get(interval)!;
      const k = addTradeToKline(e.symbol, interval, list[list.length - 1], t);
      this.pushKline(v, k);
      out.push({ type: 'kline', kline: k });
    }
  }

  private onDepth(e: DepthEvent, timeMs: number, out: MarketDataEvent[]): void {
    const v = this.views.get(e.symbol);
    if (v === undefined) return;
    if (e.updateId !== v.lastUpdateId + 1) throw new ExchangeError('STATE_MISMATCH', `${e.symbol}: depth update ${e.updateId} after ${v.lastUpdateId}`);
    const bids: Level[] = [];
    const asks: Level[] = [];
    const c = e.changes;
    for (let i = 0; i < c.length; i += 3) {
      const price = c[i + 1]!;
      if (c[i] === DEPTH_BID) bids.push([price, v.bids.apply(price, c[i + 2]!)]);
      else asks.push([price, v.asks.apply(price, c[i + 2]!)]);
    }
    v.lastUpdateId = e.updateId;
    out.push({ type: 'depthDiff', symbol: e.symbol, firstUpdateId: e.updateId, lastUpdateId: e.updateId, timeMs, bids, asks });
    const b = this.best(v);
    const l = v.lastBook;
    if (b.bid !== l.bid || b.bidQty !== l.bidQty || b.ask !== l.ask || b.askQty !== l.askQty) {
      v.lastBook = b;
      out.push({ type: 'bookTicker', symbol: e.symbol, updateId: e.updateId, bidTicks: b.bid, bidLots: b.bidQty, askTicks: b.ask, askLots: b.askQty });
    }
  }

  private best(v: MarketView): { bid: number; bidQty: number; ask: number; askQty: number } {
    const bid = v.bids.prices[0] ?? 0;
    const ask = v.asks.prices[0] ?? 0;
    return { bid, bidQty: bid === 0 ? 0 : v.bids.totals.get(bid)!, ask, askQty: ask === 0 ? 0 : v.asks.totals.get(ask)! };
  }

  private pushTrade(v: MarketView, t: MarketTrade): void {
    v.trades.push(t);
    if (v.trades.length > this.recentTradesKept * 2) v.trades.splice(0, v.trades.length - this.recentTradesKept);
  }

  private pushKline(v: MarketView, k: Kline): void {
    const list = v.klines.get(k.interval)!;
    const last = list[list.length - 1];
    if (last !== undefined && last.openTimeMs === k.openTimeMs) list[list.length - 1] = k;
    else list.push(k);
    const keep = k.interval === '1m' ? Math.max(this.klinesKept, 1_441) : this.klinesKept;
    if (list.length > keep * 2) {
      list.splice(0, list.length - keep);
      v.truncated.add(k.interval);
    }
  }

  private view(symbol: string): MarketView {
    const v = this.views.get(symbol);
    if (v === undefined) throw new ExchangeError('BAD_QUERY', `invalid symbol ${JSON.stringify(symbol)}`);
    return v;
  }

  // ---- queries ---------------------------------------------------------------------------------------------------

  /**
   * The L2 depth: at most `limit` levels a side, with the update id it is at.
   * @throws ExchangeError BAD_QUERY (unknown symbol)
   */
  depth(symbol: string, limit: number): DepthSnapshot {
    const v = this.view(symbol);
    return { symbol, lastUpdateId: v.lastUpdateId, bids: v.bids.top(limit), asks: v.asks.top(limit) };
  }

  /** The best bid and ask now. @throws ExchangeError BAD_QUERY */
  bookTicker(symbol: string): BookTicker {
    const v = this.view(symbol);
    const b = this.best(v);
    return { type: 'bookTicker', symbol, updateId: v.lastUpdateId, bidTicks: b.bid, bidLots: b.bidQty, askTicks: b.ask, askLots: b.askQty };
  }

  /** The most recent trades, oldest first, at most `limit`. @throws ExchangeError BAD_QUERY */
  recentTrades(symbol: string, limit: number): MarketTrade[] {
    const t = this.view(symbol).trades;
    return t.slice(Math.max(0, t.length - limit));
  }

  /**
   * Candles held in memory, oldest first: with startTime, the first `limit` opening at or after it; otherwise the
   * last `limit` opening at or before endTime (Binance's selection). Undefined when the answer may need candles older
   * than memory holds (ask the history).
   * @throws ExchangeError BAD_QUERY
   */
  klines(symbol: string, interval: KlineInterval, q: { startTime?: number; endTime?: number; limit: number }): Kline[] | undefined {
    const v = this.view(symbol);
    const list = v.klines.get(interval)!;
    const truncated = v.truncated.has(interval);
    const firstOpen = list[0]?.openTimeMs ?? Number.MAX_SAFE_INTEGER;
    const startTime = q.startTime;
    const endTime = q.endTime ?? Number.MAX_SAFE_INTEGER;
    if (startTime !== undefined) {
      if (truncated && startTime < firstOpen) return undefined;
      return list.filter((k) => k.openTimeMs >= startTime && k.openTimeMs <= endTime).slice(0, q.limit);
    }
    const upTo = list.filter((k) => k.openTimeMs <= endTime);
    if (truncated && upTo.length < q.limit) return undefined;
    return upTo.slice(Math.max(0, upTo.length - q.limit));
  }

  /** The last trade price in ticks (0: no trade yet). */
  lastPriceTicks(symbol: string): number {
    return this.engine.getMarket(symbol)?.book.lastPriceTicks ?? 0;
  }

  /**
   * The 24 h rolling ticker at `nowMs` (the caller's clock: reads may look at the clock, the engine never does).
   * @throws ExchangeError BAD_QUERY
   */
  ticker24h(symbol: string, nowMs: number): Ticker24h {
    const v = this.view(symbol);
    const g = v.grid;
    const windowStart = klineOpenTime('1m', nowMs - DAY_MS);
    const minutes = v.klines.get('1m')!;
    let open = 0;
    let high = 0;
    let low = 0;
    let last = 0;
    let volume = 0n;
    let quoteVolume = 0n;
    let count = 0;
    let firstId = -1;
    let lastId = -1;
    let prevClose = 0;
    for (const k of minutes) {
      if (k.openTimeMs < windowStart) {
        prevClose = k.closeTicks;
        continue;
      }
      if (k.openTimeMs > nowMs) break;
      if (count === 0) {
        open = k.openTicks;
        high = k.highTicks;
        low = k.lowTicks;
        firstId = k.firstTradeId;
      }
      if (k.highTicks > high) high = k.highTicks;
      if (k.lowTicks < low) low = k.lowTicks;
      last = k.closeTicks;
      lastId = k.lastTradeId;
      volume += k.volumeLots;
      quoteVolume += k.quoteVolume;
      count += k.trades;
    }
    const lastTrade = v.trades[v.trades.length - 1];
    const lastPrice = count > 0 ? last : (lastTrade?.priceTicks ?? this.lastPriceTicks(symbol));
    if (count === 0) open = high = low = lastPrice;
    const b = this.best(v);
    const price = (t: number): string => formatPrice(g, t);
    const qty = (lots: bigint | number): string => formatUnits(BigInt(lots) * g.step.digits, g.step.scale);
    const change = lastPrice - open;
    return {
      symbol,
      priceChange: (change < 0 ? '-' : '') + price(Math.abs(change)),
      priceChangePercent: open === 0 ? '0.000' : percent3(change, open),
      weightedAvgPrice: formatUnits(volume === 0n ? 0n : weightedQuotePerCoin(g, quoteVolume, volume), g.quoteDecimals),
      prevClosePrice: price(prevClose),
      lastPrice: price(lastPrice),
      lastQty: qty(lastTrade?.quantityLots ?? 0),
      bidPrice: price(b.bid),
      bidQty: qty(b.bidQty),
      askPrice: price(b.ask),
      askQty: qty(b.askQty),
      openPrice: price(open),
      highPrice: price(high),
      lowPrice: price(low),
      volume: qty(volume),
      quoteVolume: formatUnits(quoteVolume, g.quoteDecimals),
      openTime: windowStart,
      closeTime: nowMs,
      firstId,
      lastId,
      count,
    };
  }

  /**
   * Binance's avgPrice: the volume-weighted price over the last `minutes` minutes (default 5), in quote base units
   * per base coin rounded half up; undefined without trades in that window.
   * @throws ExchangeError BAD_QUERY
   */
  avgPrice(symbol: string, nowMs: number, minutes = 5): { price: string; closeTime: number } | undefined {
    const v = this.view(symbol);
    const from = klineOpenTime('1m', nowMs) - (minutes - 1) * 60_000;
    let volume = 0n;
    let quote = 0n;
    let closeTime = 0;
    for (const k of v.klines.get('1m')!) {
      if (k.openTimeMs < from || k.openTimeMs > nowMs) continue;
      volume += k.volumeLots;
      quote += k.quoteVolume;
      closeTime = k.closeTimeMs;
    }
    if (volume === 0n) return undefined;
    return { price: formatUnits(weightedQuotePerCoin(v.grid, quote, volume), v.grid.quoteDecimals), closeTime };
  }
}

/** Quote base units per whole base coin for `quote` units paid for `lots`, rounded half up. */
function weightedQuotePerCoin(g: MarketGrid, quote: bigint, lots: bigint): bigint {
  // price per coin = quote / (lots × baseUnitsPerLot / 10^baseDecimals)
  return divRound(quote * 10n ** BigInt(g.baseDecimals), lots * g.baseUnitsPerLot);
}

/** a / b rounded half away from zero (b > 0). */
function divRound(a: bigint, b: bigint): bigint {
  const q = a / b;
  const r = a % b;
  if (2n * (r < 0n ? -r : r) >= b) return a < 0n ? q - 1n : q + 1n;
  return q;
}

/** change / open × 100 with 3 decimals, rounded half away from zero (`-95.960`). */
function percent3(change: number, open: number): string {
  return formatUnits(divRound(BigInt(change) * 100_000n, BigInt(open)), 3);
}
