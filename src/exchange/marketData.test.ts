/**
 * Market data: kline bucketing on Binance's intervals (weeks from Monday, calendar months), candles from trades, the
 * 24 h ticker's exact decimal strings, and — with fast-check — that a client following Binance's snapshot + diff
 * procedure from any moment keeps a local book equal to the engine's, level for level.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { OrderParams } from './engineCommand.js';
import { KLINE_INTERVALS, addTradeToKline, klineCloseTime, klineOpenTime, nextKlineOpenTime, parseKlineInterval } from './klines.js';
import { MarketData, type DepthDiff, type MarketDataEvent } from './marketData.js';
import { CRN, EngineHarness, USD } from './engineHarness.test.js';

const utc = (s: string): number => Date.parse(`${s}Z`);

test('klines: weeks open on Monday 00:00 UTC, months on the 1st, the rest on multiples of their length since the epoch', () => {
  assert.equal(klineOpenTime('1w', utc('2024-01-03T15:00:00')), utc('2024-01-01T00:00:00')); // a Wednesday
  assert.equal(klineOpenTime('1w', utc('2024-01-07T23:59:59.999')), utc('2024-01-01T00:00:00')); // Sunday, last ms
  assert.equal(klineOpenTime('1w', utc('2024-01-08T00:00:00')), utc('2024-01-08T00:00:00'));
  assert.equal(klineOpenTime('1w', 0), utc('1969-12-29T00:00:00')); // the epoch was a Thursday
  assert.equal(klineCloseTime('1w', utc('2024-01-01T00:00:00')), utc('2024-01-07T23:59:59.999'));
  assert.equal(klineOpenTime('1M', utc('2024-02-29T12:00:00')), utc('2024-02-01T00:00:00'));
  assert.equal(klineCloseTime('1M', utc('2024-02-01T00:00:00')), utc('2024-02-29T23:59:59.999')); // leap year
  assert.equal(klineCloseTime('1M', utc('2023-02-01T00:00:00')), utc('2023-02-28T23:59:59.999'));
  assert.equal(nextKlineOpenTime('1M', utc('2023-12-01T00:00:00')), utc('2024-01-01T00:00:00'));
  assert.equal(klineOpenTime('3d', utc('1970-01-06T10:00:00')), utc('1970-01-04T00:00:00'));
  assert.equal(klineOpenTime('4h', utc('2024-05-05T03:59:59.999')), utc('2024-05-05T00:00:00'));
  assert.equal(klineOpenTime('15m', utc('2024-05-05T03:31:00')), utc('2024-05-05T03:30:00'));
  assert.throws(() => parseKlineInterval('1s'), /invalid interval/);
  assert.throws(() => parseKlineInterval('1W'), /invalid interval/);
  fc.assert(
    fc.property(fc.constantFrom(...KLINE_INTERVALS), fc.integer({ min: 0, max: 4_102_444_800_000 }), (interval, t) => {
      const open = klineOpenTime(interval, t);
      const close = klineCloseTime(interval, open);
      assert.ok(open <= t && t <= close);
      assert.equal(klineOpenTime(interval, open), open);
      assert.equal(klineOpenTime(interval, close + 1), close + 1);
      if (interval === '1w') assert.equal(new Date(open).getUTCDay(), 1);
      if (interval === '1M') assert.equal(new Date(open).getUTCDate(), 1);
    }),
  );
});

test('a candle adds up its trades: OHLC, volumes, taker-buy volumes, trade ids; a later trade opens the next one', () => {
  const t0 = utc('2024-03-04T10:00:05');
  const trades = [
    { tradeId: 1, priceTicks: 100, quantityLots: 5, quote: 500n, isBuyerMaker: false, timeMs: t0 },
    { tradeId: 2, priceTicks: 120, quantityLots: 1, quote: 120n, isBuyerMaker: true, timeMs: t0 + 1_000 },
    { tradeId: 3, priceTicks: 90, quantityLots: 2, quote: 180n, isBuyerMaker: false, timeMs: t0 + 50_000 },
  ];
  let k = addTradeToKline('CRNUSD', '1m', undefined, trades[0]!);
  k = addTradeToKline('CRNUSD', '1m', k, trades[1]!);
  k = addTradeToKline('CRNUSD', '1m', k, trades[2]!);
  assert.deepEqual(
    [k.openTimeMs, k.openTicks, k.highTicks, k.lowTicks, k.closeTicks, k.volumeLots, k.quoteVolume, k.trades, k.takerBuyVolumeLots, k.takerBuyQuoteVolume, k.firstTradeId, k.lastTradeId],
    [utc('2024-03-04T10:00:00'), 100, 120, 90, 90, 8n, 800n, 3, 7n, 680n, 1, 3],
  );
  const next = addTradeToKline('CRNUSD', '1m', k, { ...trades[0]!, tradeId: 4, timeMs: t0 + 60_000 });
  assert.equal(next.openTimeMs, utc('2024-03-04T10:01:00'));
  assert.equal(next.trades, 1);
  assert.throws(() => addTradeToKline('CRNUSD', '1m', next, trades[0]!), /before the candle/);
});

test('24 h ticker: exact strings over the window, percent rounded half away from zero; older trades leave it', () => {
  const h = new EngineHarness();
  h.credit(1, 'USD', 10_000n * USD);
  h.credit(2, 'CRN', 100n * CRN);
  const md = new MarketData(h.engine);
  const feed = (): void => md.apply([h.last]);
  const trade = (price: number, lots: number, advanceMs: number): void => {
    h.limit(2, 'SELL', price, lots);
    feed();
    h.run({ type: 'PLACE_ORDER', symbol: 'CRNUSD', userId: 1, order: { side: 'BUY', orderType: 'LIMIT', timeInForce: 'IOC', priceTicks: price, quantityLots: lots } }, advanceMs);
    feed();
  };
  trade(10_000, 1_000, 1); // 100.00 × 0.1
  const start = h.nowMs;
  trade(9_000, 2_000, 3_600_000); // 90.00 × 0.2, an hour later
  trade(10_333, 3_000, 3_600_000); // 103.33 × 0.3
  let t = md.ticker24h('CRNUSD', h.nowMs);
  assert.equal(t.openPrice, '100.00');
  assert.equal(t.highPrice, '103.33');
  assert.equal(t.lowPrice, '90.00');
  assert.equal(t.lastPrice, '103.33');
  assert.equal(t.priceChange, '3.33');
  assert.equal(t.priceChangePercent, '3.330');
  assert.equal(t.volume, '0.6000');
  assert.equal(t.quoteVolume, '58.999000'); // 10 + 18 + 30.999
  assert.equal(t.weightedAvgPrice, '98.331667'); // 58.999 / 0.6, half up
  assert.equal(t.count, 3);
  assert.deepEqual([t.firstId, t.lastId], [1, 3]);
  // 24 h after the first trade's minute, it leaves the window; the open is now the 90.00 trade.
  t = md.ticker24h('CRNUSD', start + 86_400_000 + 61_000);
  assert.equal(t.openPrice, '90.00');
  assert.equal(t.prevClosePrice, '100.00');
  assert.equal(t.priceChangePercent, '14.811'); // 13.33 / 90 = 14.8111…
  assert.equal(t.count, 2);
  trade(8_888, 1_000, 81_000_000); // 24.5 h after the first trade: 100.00 is out, the window opens with 90.00
  t = md.ticker24h('CRNUSD', h.nowMs);
  assert.equal(t.openPrice, '90.00');
  assert.equal(t.count, 3);
  assert.equal(t.priceChange, '-1.12');
  assert.equal(t.priceChangePercent, '-1.244'); // −1.12 / 90 = −1.2444…
  assert.deepEqual(md.avgPrice('CRNUSD', h.nowMs), { price: '88.880000', closeTime: klineCloseTime('1m', klineOpenTime('1m', h.nowMs)) });
});

interface LocalBook {
  updateId: number;
  bids: Map<number, number>;
  asks: Map<number, number>;
}

/** Binance's procedure: buffer diffs, take a snapshot, drop u ≤ lastUpdateId, require U ≤ id + 1 ≤ u, then U = u + 1. */
function applyDiff(book: LocalBook, d: DepthDiff): 'applied' | 'ignored' {
  if (d.lastUpdateId <= book.updateId) return 'ignored';
  assert.ok(d.firstUpdateId <= book.updateId + 1, `gap: U ${d.firstUpdateId} after local ${book.updateId}`);
  for (const [p, q] of d.bids) q === 0 ? book.bids.delete(p) : book.bids.set(p, q);
  for (const [p, q] of d.asks) q === 0 ? book.asks.delete(p) : book.asks.set(p, q);
  book.updateId = d.lastUpdateId;
  return 'applied';
}

const arbOrder: fc.Arbitrary<OrderParams> = fc.oneof(
  fc.record({ side: fc.constantFrom<'BUY' | 'SELL'>('BUY', 'SELL'), orderType: fc.constant('LIMIT' as const), timeInForce: fc.constantFrom('GTC' as const, 'GTC' as const, 'IOC' as const), priceTicks: fc.integer({ min: 9_990, max: 10_010 }), quantityLots: fc.integer({ min: 100, max: 900 }) }),
  fc.record({ side: fc.constantFrom<'BUY' | 'SELL'>('BUY', 'SELL'), orderType: fc.constant('MARKET' as const), quantityLots: fc.integer({ min: 100, max: 2_000 }) }),
);
type Step = { place: OrderParams; user: number } | { cancel: number } | { amend: number };
const arbStep: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ place: arbOrder, user: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ cancel: fc.nat(100) }) },
  { weight: 1, arbitrary: fc.record({ amend: fc.nat(100) }) },
);

test('depth diffs: a client starting at any moment keeps an exact local book by snapshot + diffs (fast-check)', () => {
  fc.assert(
    fc.property(fc.array(arbStep, { minLength: 1, maxLength: 120, size: 'max' }), fc.nat(120), fc.nat(60), (steps, listenAt, snapshotDelay) => {
      const h = new EngineHarness();
      h.auditEach = false;
      for (let u = 1; u <= 4; u++) {
        h.credit(u, 'USD', 100_000n * USD);
        h.credit(u, 'CRN', 1_000n * CRN);
      }
      const md = new MarketData(h.engine);
      const buffered: DepthDiff[] = [];
      let listening = false;
      let book: LocalBook | undefined;
      const lastU = new Map<string, number>();
      md.subscribe((events: readonly MarketDataEvent[]) => {
        for (const e of events) {
          if (e.type !== 'depthDiff') continue;
          const prev = lastU.get(e.symbol);
          if (prev !== undefined) assert.equal(e.firstUpdateId, prev + 1, 'diffs are contiguous');
          lastU.set(e.symbol, e.lastUpdateId);
          if (e.symbol !== 'CRNUSD') continue;
          if (book !== undefined) applyDiff(book, e);
          else if (listening) buffered.push(e);
        }
      });
      const snapshotAt = listenAt + snapshotDelay;
      const takeSnapshot = (): void => {
        const s = md.depth('CRNUSD', 5000);
        book = { updateId: s.lastUpdateId, bids: new Map(s.bids.map(([p, q]) => [p, q])), asks: new Map(s.asks.map(([p, q]) => [p, q])) };
        const firstKept = buffered.findIndex((d) => d.lastUpdateId > s.lastUpdateId);
        if (firstKept >= 0) assert.ok(buffered[firstKept]!.firstUpdateId <= s.lastUpdateId + 1, 'the first kept diff covers lastUpdateId + 1');
        for (const d of buffered) applyDiff(book, d);
      };
      for (const [i, step] of steps.entries()) {
        if (i === listenAt) listening = true;
        if (i === snapshotAt) takeSnapshot();
        const open = h.engine.listOpenOrders();
        if ('place' in step) h.place(step.user, step.place, i % 5 === 4 ? 'CRNUSDT' : 'CRNUSD');
        else if (open.length > 0) {
          const rec = open[('cancel' in step ? step.cancel : step.amend) % open.length]!;
          if ('cancel' in step) h.run({ type: 'CANCEL_ORDER', symbol: rec.market.symbol, userId: rec.userId, orderId: rec.orderId });
          else h.run({ type: 'AMEND_ORDER', symbol: rec.market.symbol, userId: rec.userId, orderId: rec.orderId, newQuantityLots: Math.max(1, rec.quantityLots - 50) });
        } else continue;
        md.apply([h.last]);
      }
      if (book === undefined) takeSnapshot();
      const m = h.engine.getMarket('CRNUSD')!;
      assert.deepEqual([...book!.bids].sort((a, b) => b[0] - a[0]), m.book.depth('BUY', 1e9));
      assert.deepEqual([...book!.asks].sort((a, b) => a[0] - b[0]), m.book.depth('SELL', 1e9));
      assert.equal(book!.updateId, m.depthUpdateId);
      const s = md.depth('CRNUSD', 1e9);
      assert.deepEqual([s.bids, s.asks], [m.book.depth('BUY', 1e9), m.book.depth('SELL', 1e9)]);
      const bt = md.bookTicker('CRNUSD');
      assert.deepEqual([bt.bidTicks, bt.askTicks], [m.book.bestBidTicks, m.book.bestAskTicks]);
    }),
    { numRuns: Number(process.env.FC_RUNS ?? 150) },
  );
});
