/**
 * The one example suite both book implementations pass (STYLE.md §6.10): every order type, time in force, STP mode,
 * cancel, amend, cancel-replace and stop trigger, asserting the exact event stream. After every command the
 * harness also checks the book is not crossed, its depth equals the sum of the events' bookDeltaLots, and (for the
 * optimized book) its internal structures agree.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BookHarness, GRID, IMPLEMENTATIONS } from './bookHarness.test.js';
import { decodeBookSnapshot, encodeBookSnapshot } from './bookSnapshot.js';
import { DEFAULT_STP_MODE, type NewOrder } from './matchCommand.js';
import { quoteAmount } from './marketGrid.js';
import { MatchingError } from './matchingError.js';
import { NaiveOrderBook } from './naiveOrderBook.js';
import { OrderBook } from './orderBook.js';

for (const { name, create, restore } of IMPLEMENTATIONS) {
  const fresh = (): BookHarness => new BookHarness(create(GRID));

  describe(`${name}: limit orders and priority`, () => {
    test('a GTC limit order that does not cross rests; best bid/ask and depth follow', () => {
      const h = fresh();
      assert.deepEqual(h.limit(1, 'BUY', 99, 5), ['NEW #1 BUY 5@99 rem 5 NEW', 'RESTED #1 BUY 5@99 rem 5 NEW']);
      h.limit(2, 'SELL', 101, 3);
      h.limit(3, 'BUY', 98, 2);
      assert.equal(h.book.bestBidTicks, 99);
      assert.equal(h.book.bestAskTicks, 101);
      assert.deepEqual(h.book.depth('BUY', 10), [[99, 5], [98, 2]]);
      assert.deepEqual(h.book.depth('SELL', 10), [[101, 3]]);
      assert.equal(h.book.openOrderCount, 3);
      assert.deepEqual(h.book.getOrder(1), { orderId: 1, userId: 1, side: 'BUY', priceTicks: 99, quantityLots: 5, remainingLots: 5, stopPriceTicks: 0 });
    });

    test('a taker fills best price first, oldest first within a price, always at the maker price', () => {
      const h = fresh();
      h.limit(1, 'SELL', 101, 2); // #1
      h.limit(2, 'SELL', 100, 1); // #2
      h.limit(3, 'SELL', 100, 2); // #3 behind #2 at 100
      h.limit(4, 'SELL', 102, 5); // #4
      assert.deepEqual(h.limit(9, 'BUY', 101, 4), [
        'NEW #5 BUY 4@101 rem 4 NEW',
        'TRADE t1 #5<#2 1@100 rem 3/0 PARTIALLY_FILLED',
        'TRADE t2 #5<#3 2@100 rem 1/0 PARTIALLY_FILLED',
        'TRADE t3 #5<#1 1@101 rem 0/1 FILLED',
      ]);
      assert.equal(h.book.lastPriceTicks, 101);
      assert.equal(h.book.lastTradeId, 3);
      assert.deepEqual(h.book.depth('SELL', 10), [[101, 1], [102, 5]]);
      // The trade event carries both parties for settlement: 1 lot at 101 ticks.
      const t = h.last[3]!;
      assert.equal(t.counterUserId, 1);
      assert.equal(quoteAmount(GRID, t.quantityLots, t.priceTicks), 101n * 100n);
    });

    test('a partly filled GTC order rests its remainder as PARTIALLY_FILLED at its own limit price', () => {
      const h = fresh();
      h.limit(1, 'BUY', 50, 2);
      assert.deepEqual(h.limit(2, 'SELL', 49, 5), [
        'NEW #2 SELL 5@49 rem 5 NEW',
        'TRADE t1 #2<#1 2@50 rem 3/0 PARTIALLY_FILLED',
        'RESTED #2 SELL 3@49 rem 3 PARTIALLY_FILLED',
      ]);
      assert.equal(h.book.bestAskTicks, 49);
      assert.equal(h.book.bestBidTicks, 0);
    });

    test('IOC fills what it can and expires the rest; with nothing to fill it expires whole', () => {
      const h = fresh();
      h.limit(1, 'SELL', 10, 2);
      assert.deepEqual(h.limit(2, 'BUY', 10, 5, { tif: 'IOC' }), [
        'NEW #2 BUY 5@10 rem 5 NEW',
        'TRADE t1 #2<#1 2@10 rem 3/0 PARTIALLY_FILLED',
        'EXPIRED #2 3 UNFILLED_IOC_QUANTITY_EXPIRED',
      ]);
      assert.deepEqual(h.limit(2, 'BUY', 10, 5, { tif: 'IOC' }), ['NEW #3 BUY 5@10 rem 5 NEW', 'EXPIRED #3 5 UNFILLED_IOC_QUANTITY_EXPIRED']);
      assert.equal(h.book.openOrderCount, 0);
    });

    test('FOK fills whole or expires before any fill, leaving the book untouched', () => {
      const h = fresh();
      h.limit(1, 'SELL', 10, 2);
      h.limit(1, 'SELL', 11, 2);
      h.limit(1, 'SELL', 13, 9);
      const before = encodeBookSnapshot(h.book.snapshot());
      // 4 lots within the limit 12, 5 asked: nothing happens.
      assert.deepEqual(h.limit(2, 'BUY', 12, 5, { tif: 'FOK' }), ['NEW #4 BUY 5@12 rem 5 NEW', 'EXPIRED #4 5 UNFILLED_FOK_ORDER_EXPIRED']);
      const after = h.book.snapshot();
      assert.equal(after.lastOrderId, 4);
      assert.deepEqual({ ...after, lastOrderId: 3 }, JSON.parse(before));
      assert.deepEqual(h.limit(2, 'BUY', 12, 4, { tif: 'FOK' }), [
        'NEW #5 BUY 4@12 rem 4 NEW',
        'TRADE t1 #5<#1 2@10 rem 2/0 PARTIALLY_FILLED',
        'TRADE t2 #5<#2 2@11 rem 0/0 FILLED',
      ]);
    });
  });

  describe(`${name}: market and post-only orders`, () => {
    test('MARKET by quantity sweeps levels without a limit and expires what the book lacks', () => {
      const h = fresh();
      h.limit(1, 'BUY', 100, 1);
      h.limit(1, 'BUY', 90, 1);
      assert.deepEqual(h.place({ userId: 2, side: 'SELL', type: 'MARKET', quantityLots: 3 }), [
        'NEW #3 SELL 3@0 rem 3 NEW',
        'TRADE t1 #3<#1 1@100 rem 2/0 PARTIALLY_FILLED',
        'TRADE t2 #3<#2 1@90 rem 1/0 PARTIALLY_FILLED',
        'EXPIRED #3 1 INSUFFICIENT_LIQUIDITY',
      ]);
    });

    test('MARKET buy by quoteOrderQty buys the most lots the amount pays for and never spends more', () => {
      const h = fresh();
      h.limit(1, 'SELL', 100, 2);
      h.limit(1, 'SELL', 150, 4);
      // 2 lots at 100 + 2 lots at 150 = 500 lot-ticks; the amount pays 560 lot-ticks: a third lot at 150 is 650.
      const quote = 560n * GRID.quoteUnitsPerLotTick + 99n;
      assert.deepEqual(h.place({ userId: 2, side: 'BUY', type: 'MARKET', quoteOrderQty: quote }), [
        'NEW #3 BUY 4@0 rem 4 NEW',
        'TRADE t1 #3<#1 2@100 rem 2/0 PARTIALLY_FILLED',
        'TRADE t2 #3<#2 2@150 rem 0/2 FILLED',
      ]);
      const spent = h.last.filter((e) => e.kind === 'TRADE').reduce((s, e) => s + quoteAmount(GRID, e.quantityLots, e.priceTicks), 0n);
      assert.equal(spent, 500n * GRID.quoteUnitsPerLotTick);
      assert.ok(spent <= quote);
    });

    test('MARKET sell by quoteOrderQty receives at most the amount and stops at the first order it takes in part', () => {
      const h = fresh();
      h.limit(1, 'BUY', 30, 10);
      h.limit(1, 'BUY', 10, 5);
      // 100 lot-ticks wanted: 3 lots at 30 (90); the 10 left would buy a lot at 10, but the order stops at 30.
      assert.deepEqual(h.place({ userId: 2, side: 'SELL', type: 'MARKET', quoteOrderQty: 100n * GRID.quoteUnitsPerLotTick }), [
        'NEW #3 SELL 3@0 rem 3 NEW',
        'TRADE t1 #3<#1 3@30 rem 0/7 FILLED',
      ]);
      assert.deepEqual(h.book.previewMarket('SELL', 2, 'NONE', 1000, 100), { lots: 3, lotTicks: 90 });
      for (const [lots, lotTicks] of [[0, 100], [1000, 0], [-1, 100], [1000, -5], [1.5, 100], [1000, Number.NaN], [1000, 2 ** 60]]) {
        assert.deepEqual(h.book.previewMarket('SELL', 2, 'NONE', lots!, lotTicks!), { lots: 0, lotTicks: 0 });
      }
    });

    test('MARKET by quoteOrderQty is refused when it buys no whole lot', () => {
      const h = fresh();
      assert.deepEqual(h.place({ userId: 2, side: 'BUY', type: 'MARKET', quoteOrderQty: 10n ** 12n }), ['REJECTED #1 INSUFFICIENT_LIQUIDITY_FOR_QUOTE_ORDER']);
      h.limit(1, 'SELL', 100, 2);
      assert.deepEqual(h.place({ userId: 2, side: 'BUY', type: 'MARKET', quoteOrderQty: 99n * GRID.quoteUnitsPerLotTick }), ['REJECTED #3 INSUFFICIENT_LIQUIDITY_FOR_QUOTE_ORDER']);
    });

    test('LIMIT_MAKER rests when it does not reach the opposite side and is refused when it would take', () => {
      const h = fresh();
      h.limit(1, 'SELL', 100, 2);
      assert.deepEqual(h.place({ userId: 2, side: 'BUY', type: 'LIMIT_MAKER', priceTicks: 100, quantityLots: 1 }), ['REJECTED #2 WOULD_TAKE']);
      assert.deepEqual(h.place({ userId: 2, side: 'BUY', type: 'LIMIT_MAKER', priceTicks: 120, quantityLots: 1 }), ['REJECTED #3 WOULD_TAKE']);
      // Own orders count too: post-only never takes, not even from its own user.
      assert.deepEqual(h.place({ userId: 1, side: 'BUY', type: 'LIMIT_MAKER', priceTicks: 100, quantityLots: 1 }), ['REJECTED #4 WOULD_TAKE']);
      assert.deepEqual(h.place({ userId: 2, side: 'BUY', type: 'LIMIT_MAKER', priceTicks: 99, quantityLots: 1 }), [
        'NEW #5 BUY 1@99 rem 1 NEW',
        'RESTED #5 BUY 1@99 rem 1 NEW',
      ]);
      assert.equal(h.book.lastTradeId, 0);
    });
  });

  describe(`${name}: self-trade prevention`, () => {
    test(`the default mode is ${DEFAULT_STP_MODE}`, () => {
      const h = fresh();
      h.limit(1, 'BUY', 100, 1);
      assert.deepEqual(h.limit(1, 'SELL', 100, 1), [
        'NEW #2 SELL 1@100 rem 1 NEW',
        'STP #1 1@100 vs #2',
        'RESTED #2 SELL 1@100 rem 1 NEW',
      ]);
    });

    test('EXPIRE_MAKER expires every own maker met and goes on matching (Binance STP FAQ scenario B)', () => {
      const h = fresh();
      h.limit(1, 'BUY', 120, 12);
      h.limit(1, 'BUY', 110, 13);
      h.limit(2, 'BUY', 105, 1);
      h.limit(1, 'BUY', 100, 81);
      assert.deepEqual(h.limit(1, 'SELL', 100, 30, { stp: 'EXPIRE_MAKER' }), [
        'NEW #5 SELL 30@100 rem 30 NEW',
        'STP #1 12@120 vs #5',
        'STP #2 13@110 vs #5',
        'TRADE t1 #5<#3 1@105 rem 29/0 PARTIALLY_FILLED',
        'STP #4 81@100 vs #5',
        'RESTED #5 SELL 29@100 rem 29 PARTIALLY_FILLED',
      ]);
      assert.equal(h.last[1]!.status, 'EXPIRED_IN_MATCH');
      assert.equal(h.book.bestBidTicks, 0);
    });

    test('EXPIRE_TAKER expires the taker at its first own maker and leaves the book as it was from there', () => {
      const h = fresh();
      h.limit(2, 'BUY', 120, 1);
      h.limit(1, 'BUY', 110, 13);
      h.limit(2, 'BUY', 100, 5);
      assert.deepEqual(h.limit(1, 'SELL', 100, 30, { stp: 'EXPIRE_TAKER' }), [
        'NEW #4 SELL 30@100 rem 30 NEW',
        'TRADE t1 #4<#1 1@120 rem 29/0 PARTIALLY_FILLED',
        'STP #4 29@110 vs #2',
      ]);
      assert.equal(h.last[2]!.status, 'EXPIRED_IN_MATCH');
      assert.deepEqual(h.book.depth('BUY', 10), [[110, 13], [100, 5]]);
    });

    test('EXPIRE_BOTH expires the own maker, then the taker', () => {
      const h = fresh();
      h.limit(1, 'BUY', 100, 1);
      h.limit(2, 'BUY', 100, 4);
      assert.deepEqual(h.limit(1, 'SELL', 100, 3, { stp: 'EXPIRE_BOTH' }), ['NEW #3 SELL 3@100 rem 3 NEW', 'STP #1 1@100 vs #3', 'STP #3 3@100 vs #1']);
      assert.deepEqual(h.book.depth('BUY', 10), [[100, 4]]);
    });

    test('NONE lets a user trade with their own order', () => {
      const h = fresh();
      h.limit(1, 'BUY', 100, 1);
      assert.deepEqual(h.limit(1, 'SELL', 100, 1, { stp: 'NONE' }), ['NEW #2 SELL 1@100 rem 1 NEW', 'TRADE t1 #2<#1 1@100 rem 0/0 FILLED']);
    });

    test('only the taker mode counts, not the maker mode (Binance STP FAQ scenario E)', () => {
      const h = fresh();
      h.limit(1, 'BUY', 100, 1, { stp: 'EXPIRE_MAKER' });
      assert.deepEqual(h.limit(1, 'SELL', 100, 1, { stp: 'EXPIRE_TAKER' }), ['NEW #2 SELL 1@100 rem 1 NEW', 'STP #2 1@100 vs #1']);
      assert.deepEqual(h.book.depth('BUY', 10), [[100, 1]]);
    });

    test('FOK counts only liquidity the taker could fill: own makers under EXPIRE_MAKER are skipped, and stay', () => {
      const h = fresh();
      h.limit(1, 'SELL', 10, 5);
      h.limit(2, 'SELL', 11, 2);
      assert.deepEqual(h.limit(1, 'BUY', 11, 3, { tif: 'FOK', stp: 'EXPIRE_MAKER' }), ['NEW #3 BUY 3@11 rem 3 NEW', 'EXPIRED #3 3 UNFILLED_FOK_ORDER_EXPIRED']);
      assert.deepEqual(h.book.depth('SELL', 10), [[10, 5], [11, 2]]);
      assert.deepEqual(h.limit(1, 'BUY', 11, 2, { tif: 'FOK', stp: 'EXPIRE_MAKER' }), [
        'NEW #4 BUY 2@11 rem 2 NEW',
        'STP #1 5@10 vs #4',
        'TRADE t1 #4<#2 2@11 rem 0/0 FILLED',
      ]);
      h.limit(1, 'SELL', 12, 1);
      h.limit(3, 'SELL', 13, 9);
      assert.deepEqual(h.limit(1, 'BUY', 13, 2, { tif: 'FOK', stp: 'EXPIRE_TAKER' }), ['NEW #7 BUY 2@13 rem 2 NEW', 'EXPIRED #7 2 UNFILLED_FOK_ORDER_EXPIRED']);
    });

    test('a quoteOrderQty market order sizes itself past own makers under EXPIRE_MAKER', () => {
      const h = fresh();
      h.limit(1, 'SELL', 10, 5);
      h.limit(2, 'SELL', 20, 5);
      assert.deepEqual(h.place({ userId: 1, side: 'BUY', type: 'MARKET', quoteOrderQty: 60n * GRID.quoteUnitsPerLotTick, stpMode: 'EXPIRE_MAKER' }), [
        'NEW #3 BUY 3@0 rem 3 NEW',
        'STP #1 5@10 vs #3',
        'TRADE t1 #3<#2 3@20 rem 0/2 FILLED',
      ]);
    });
  });

  describe(`${name}: cancel, amend, cancel-replace`, () => {
    test('a user cancels their own order; another user cannot, and learns nothing', () => {
      const h = fresh();
      h.limit(1, 'BUY', 100, 5);
      h.limit(1, 'BUY', 100, 2);
      assert.deepEqual(h.run({ type: 'CANCEL', orderId: 1, userId: 2 }), ['REJECTED #1 UNKNOWN_ORDER']);
      assert.deepEqual(h.run({ type: 'CANCEL', orderId: 99, userId: 2 }), ['REJECTED #99 UNKNOWN_ORDER']);
      assert.equal(h.last[0]!.side, 'BUY');
      assert.deepEqual(h.run({ type: 'CANCEL', orderId: 1, userId: 1 }), ['CANCELED #1 BUY 5@100 rem 0 CANCELED']);
      assert.equal(h.last[0]!.bookDeltaLots, -5);
      assert.deepEqual(h.run({ type: 'CANCEL', orderId: 1, userId: 1 }), ['REJECTED #1 UNKNOWN_ORDER']);
      assert.deepEqual(h.book.depth('BUY', 10), [[100, 2]]);
      h.run({ type: 'CANCEL', orderId: 2, userId: 1 });
      assert.equal(h.book.bestBidTicks, 0);
    });

    test('a quantity decrease keeps queue priority; increases, no-ops, and cuts below the executed quantity are refused', () => {
      const h = fresh();
      h.limit(1, 'SELL', 100, 5); // #1
      h.limit(2, 'SELL', 100, 5); // #2
      h.limit(3, 'BUY', 100, 1); // #3 fills 1 of #1
      assert.deepEqual(h.run({ type: 'AMEND_KEEP_PRIORITY', orderId: 1, userId: 1, newQuantityLots: 3 }), ['REPLACED #1 SELL 2@100 rem 2 PARTIALLY_FILLED']);
      assert.deepEqual(h.run({ type: 'AMEND_KEEP_PRIORITY', orderId: 1, userId: 1, newQuantityLots: 4 }), ['REJECTED #1 AMEND_QUANTITY_INCREASE']);
      assert.deepEqual(h.run({ type: 'AMEND_KEEP_PRIORITY', orderId: 1, userId: 1, newQuantityLots: 3 }), ['REJECTED #1 AMEND_NO_CHANGE']);
      assert.deepEqual(h.run({ type: 'AMEND_KEEP_PRIORITY', orderId: 1, userId: 1, newQuantityLots: 1 }), ['REJECTED #1 AMEND_BELOW_EXECUTED']);
      assert.deepEqual(h.run({ type: 'AMEND_KEEP_PRIORITY', orderId: 1, userId: 1, newQuantityLots: 0 }), ['REJECTED #1 INVALID_QUANTITY']);
      assert.deepEqual(h.run({ type: 'AMEND_KEEP_PRIORITY', orderId: 1, userId: 2, newQuantityLots: 2 }), ['REJECTED #1 UNKNOWN_ORDER']);
      // #1 is still first in the queue at 100.
      assert.deepEqual(h.limit(3, 'BUY', 100, 3), [
        'NEW #4 BUY 3@100 rem 3 NEW',
        'TRADE t2 #4<#1 2@100 rem 1/0 PARTIALLY_FILLED',
        'TRADE t3 #4<#2 1@100 rem 0/4 FILLED',
      ]);
    });

    test('cancel-replace gives the new order the back of the queue; a failed cancel stops or not by mode', () => {
      const h = fresh();
      h.limit(1, 'SELL', 100, 1); // #1
      h.limit(2, 'SELL', 100, 1); // #2
      const replacement: NewOrder = { orderId: 3, userId: 1, side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', priceTicks: 100, quantityLots: 1 };
      assert.deepEqual(h.run({ type: 'CANCEL_REPLACE', cancelOrderId: 1, mode: 'STOP_ON_FAILURE', order: replacement }), [
        'CANCELED #1 SELL 1@100 rem 0 CANCELED',
        'NEW #3 SELL 1@100 rem 1 NEW',
        'RESTED #3 SELL 1@100 rem 1 NEW',
      ]);
      assert.deepEqual(h.limit(9, 'BUY', 100, 1, { id: 4 }), ['NEW #4 BUY 1@100 rem 1 NEW', 'TRADE t1 #4<#2 1@100 rem 0/0 FILLED']);
      const next: NewOrder = { ...replacement, orderId: 5, priceTicks: 101 };
      assert.deepEqual(h.run({ type: 'CANCEL_REPLACE', cancelOrderId: 2, mode: 'STOP_ON_FAILURE', order: next }), [
        'REJECTED #2 UNKNOWN_ORDER',
        'REJECTED #5 NOT_ATTEMPTED',
      ]);
      assert.deepEqual(h.run({ type: 'CANCEL_REPLACE', cancelOrderId: 2, mode: 'ALLOW_FAILURE', order: next }), [
        'REJECTED #2 UNKNOWN_ORDER',
        'NEW #5 SELL 1@101 rem 1 NEW',
        'RESTED #5 SELL 1@101 rem 1 NEW',
      ]);
      // A new order that fails its own checks cancels nothing; one refused by the book comes after the cancel.
      assert.deepEqual(h.run({ type: 'CANCEL_REPLACE', cancelOrderId: 3, mode: 'STOP_ON_FAILURE', order: { ...next, orderId: 6, priceTicks: 0 } }), [
        'REJECTED #6 INVALID_PRICE',
      ]);
      assert.deepEqual(h.run({ type: 'CANCEL_REPLACE', cancelOrderId: 3, mode: 'ALLOW_FAILURE', order: { ...next, orderId: 6 } }), [
        'REJECTED #6 DUPLICATE_ORDER_ID',
      ]);
      assert.equal(h.book.getOrder(3)?.remainingLots, 1);
      // Another user's order cannot be canceled through cancel-replace either.
      assert.deepEqual(h.run({ type: 'CANCEL_REPLACE', cancelOrderId: 3, mode: 'STOP_ON_FAILURE', order: { ...next, orderId: 7, userId: 7 } }), [
        'REJECTED #3 UNKNOWN_ORDER',
        'REJECTED #7 NOT_ATTEMPTED',
      ]);
      const maker: NewOrder = { orderId: 8, userId: 1, side: 'SELL', type: 'LIMIT_MAKER', priceTicks: 90, quantityLots: 1 };
      h.limit(2, 'BUY', 95, 1, { id: 9 });
      assert.deepEqual(h.run({ type: 'CANCEL_REPLACE', cancelOrderId: 3, mode: 'STOP_ON_FAILURE', order: { ...maker, orderId: 10 } }), [
        'CANCELED #3 SELL 1@100 rem 0 CANCELED',
        'REJECTED #10 WOULD_TAKE',
      ]);
    });
  });

  describe(`${name}: stop orders`, () => {
    test('STOP_LOSS_LIMIT sell waits off the book and triggers when the last price falls to its stop price', () => {
      const h = fresh();
      h.limit(1, 'BUY', 100, 1);
      h.limit(2, 'SELL', 100, 1); // last price 100
      assert.deepEqual(h.place({ userId: 3, side: 'SELL', type: 'STOP_LOSS_LIMIT', timeInForce: 'GTC', stopPriceTicks: 100, priceTicks: 90, quantityLots: 2 }), [
        'REJECTED #3 WOULD_TRIGGER_IMMEDIATELY',
      ]);
      assert.deepEqual(h.place({ userId: 3, side: 'SELL', type: 'STOP_LOSS_LIMIT', timeInForce: 'GTC', stopPriceTicks: 95, priceTicks: 90, quantityLots: 2 }), [
        'NEW #4 SELL 2@90 rem 2 NEW',
      ]);
      assert.equal(h.book.bestAskTicks, 0);
      assert.equal(h.book.getOrder(4)?.stopPriceTicks, 95);
      h.limit(5, 'BUY', 96, 1); // #5
      h.limit(5, 'BUY', 92, 1); // #6
      h.limit(6, 'SELL', 96, 1); // #7 trades at 96: not reached
      assert.equal(h.book.getOrder(4)?.stopPriceTicks, 95);
      assert.deepEqual(h.limit(6, 'SELL', 92, 1), [
        'NEW #8 SELL 1@92 rem 1 NEW',
        'TRADE t3 #8<#6 1@92 rem 0/0 FILLED',
        'TRIGGERED #4 SELL 2@90 rem 2 NEW',
        'RESTED #4 SELL 2@90 rem 2 NEW',
      ]);
      assert.equal(h.book.bestAskTicks, 90);
    });

    test('TAKE_PROFIT_LIMIT buy triggers on a fall, STOP_LOSS_LIMIT buy on a rise; triggered orders trade as takers', () => {
      const h = fresh();
      h.limit(1, 'SELL', 100, 10);
      h.limit(2, 'BUY', 100, 1); // last 100
      assert.deepEqual(h.place({ userId: 3, side: 'BUY', type: 'TAKE_PROFIT_LIMIT', timeInForce: 'IOC', stopPriceTicks: 100, priceTicks: 101, quantityLots: 1 }), [
        'REJECTED #3 WOULD_TRIGGER_IMMEDIATELY',
      ]);
      h.place({ userId: 3, side: 'BUY', type: 'STOP_LOSS_LIMIT', timeInForce: 'IOC', stopPriceTicks: 105, priceTicks: 106, quantityLots: 4 }); // #4
      h.limit(4, 'SELL', 105, 2); // #5
      h.limit(4, 'SELL', 106, 1); // #6
      // Someone lifts 100 and 105: last 105 triggers #4, which buys the rest of 105 and 106 and expires the rest.
      assert.deepEqual(h.limit(5, 'BUY', 105, 10), [
        'NEW #7 BUY 10@105 rem 10 NEW',
        'TRADE t2 #7<#1 9@100 rem 1/0 PARTIALLY_FILLED',
        'TRADE t3 #7<#5 1@105 rem 0/1 FILLED',
        'TRIGGERED #4 BUY 4@106 rem 4 NEW',
        'TRADE t4 #4<#5 1@105 rem 3/0 PARTIALLY_FILLED',
        'TRADE t5 #4<#6 1@106 rem 2/0 PARTIALLY_FILLED',
        'EXPIRED #4 2 UNFILLED_IOC_QUANTITY_EXPIRED',
      ]);
    });

    test('a wave of triggered stops runs in orderId order and may trigger the next wave', () => {
      const h = fresh();
      h.limit(1, 'BUY', 50, 1);
      h.limit(2, 'SELL', 50, 1); // last 50
      h.limit(1, 'BUY', 48, 1); // #3
      h.limit(1, 'BUY', 45, 1); // #4
      h.limit(1, 'BUY', 40, 5); // #5
      h.place({ userId: 3, side: 'SELL', type: 'STOP_LOSS_LIMIT', timeInForce: 'IOC', stopPriceTicks: 48, priceTicks: 45, quantityLots: 1 }); // #6
      h.place({ userId: 4, side: 'SELL', type: 'STOP_LOSS_LIMIT', timeInForce: 'IOC', stopPriceTicks: 49, priceTicks: 48, quantityLots: 1 }); // #7
      h.place({ userId: 5, side: 'SELL', type: 'STOP_LOSS_LIMIT', timeInForce: 'GTC', stopPriceTicks: 45, priceTicks: 41, quantityLots: 2 }); // #8
      // A sale at 48 reaches #6 (48) and #7 (49): they run by id. #6 sells at 45 → reaches #8 in the next wave.
      assert.deepEqual(h.limit(2, 'SELL', 48, 1), [
        'NEW #9 SELL 1@48 rem 1 NEW',
        'TRADE t2 #9<#3 1@48 rem 0/0 FILLED',
        'TRIGGERED #6 SELL 1@45 rem 1 NEW',
        'TRADE t3 #6<#4 1@45 rem 0/0 FILLED',
        'TRIGGERED #7 SELL 1@48 rem 1 NEW',
        'EXPIRED #7 1 UNFILLED_IOC_QUANTITY_EXPIRED',
        'TRIGGERED #8 SELL 2@41 rem 2 NEW',
        'RESTED #8 SELL 2@41 rem 2 NEW',
      ]);
    });

    test('stops are accepted before any trade; pending stops can be canceled and amended', () => {
      const h = fresh();
      assert.deepEqual(h.place({ userId: 1, side: 'BUY', type: 'STOP_LOSS_LIMIT', timeInForce: 'GTC', stopPriceTicks: 10, priceTicks: 11, quantityLots: 5 }), [
        'NEW #1 BUY 5@11 rem 5 NEW',
      ]);
      assert.deepEqual(h.run({ type: 'AMEND_KEEP_PRIORITY', orderId: 1, userId: 1, newQuantityLots: 2 }), ['REPLACED #1 BUY 3@11 rem 2 NEW']);
      assert.equal(h.last[0]!.bookDeltaLots, 0);
      assert.deepEqual(h.run({ type: 'CANCEL', orderId: 1, userId: 2 }), ['REJECTED #1 UNKNOWN_ORDER']);
      assert.deepEqual(h.run({ type: 'CANCEL', orderId: 1, userId: 1 }), ['CANCELED #1 BUY 2@11 rem 0 CANCELED']);
      assert.equal(h.book.openOrderCount, 0);
    });
  });

  describe(`${name}: refused commands`, () => {
    test('bad or duplicate orders are REJECTED with a reason and change nothing', () => {
      const h = fresh();
      h.limit(1, 'BUY', 100, 1, { id: 10 });
      const base = { userId: 1, side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', priceTicks: 50, quantityLots: 1 } as const;
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ ...base, orderId: 10 }, 'DUPLICATE_ORDER_ID'],
        [{ ...base, orderId: 9 }, 'DUPLICATE_ORDER_ID'],
        [{ ...base, orderId: 11.5 }, 'INVALID_ORDER'],
        [{ ...base, orderId: 12, side: 'HOLD' }, 'INVALID_ORDER'],
        [{ ...base, orderId: 13, userId: -1 }, 'INVALID_ORDER'],
        [{ ...base, orderId: 14, stpMode: 'DECREMENT' }, 'INVALID_ORDER'],
        [{ ...base, orderId: 15, timeInForce: undefined }, 'UNSUPPORTED_ORDER_COMBINATION'],
        [{ ...base, orderId: 16, type: 'MARKET', priceTicks: undefined, timeInForce: undefined, quoteOrderQty: 5n }, 'UNSUPPORTED_ORDER_COMBINATION'],
        [{ ...base, orderId: 17, type: 'MARKET', priceTicks: undefined }, 'UNSUPPORTED_ORDER_COMBINATION'],
        [{ ...base, orderId: 18, type: 'LIMIT_MAKER' }, 'UNSUPPORTED_ORDER_COMBINATION'],
        [{ ...base, orderId: 19, type: 'STOP_LOSS_LIMIT' }, 'UNSUPPORTED_ORDER_COMBINATION'],
        [{ ...base, orderId: 20, priceTicks: 0 }, 'INVALID_PRICE'],
        [{ ...base, orderId: 21, priceTicks: GRID.maxPriceTicks + 1 }, 'INVALID_PRICE'],
        [{ ...base, orderId: 22, priceTicks: 50.5 }, 'INVALID_PRICE'],
        [{ ...base, orderId: 23, quantityLots: 0 }, 'INVALID_QUANTITY'],
        [{ ...base, orderId: 24, quantityLots: GRID.maxQuantityLots + 1 }, 'INVALID_QUANTITY'],
        [{ ...base, orderId: 25, quantityLots: '1' }, 'INVALID_QUANTITY'],
        [{ ...base, orderId: 26, type: 'MARKET', priceTicks: undefined, timeInForce: undefined, quantityLots: undefined, quoteOrderQty: 0n }, 'INVALID_QUANTITY'],
        [{ ...base, orderId: 27, timeInForce: 'GTD' }, 'INVALID_ORDER'],
      ];
      const before = h.book.snapshot();
      for (const [order, reason] of cases) {
        const events = h.place(order as unknown as NewOrder);
        assert.equal(events.length, 1, JSON.stringify(order, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)));
        assert.match(events[0]!, new RegExp(`^REJECTED #\\d+ ${reason}$`));
      }
      // Nothing changed but the ids seen: valid new ids count as seen even when refused.
      assert.deepEqual({ ...h.book.snapshot(), lastOrderId: before.lastOrderId }, before);
      assert.equal(h.book.lastOrderId, 27);
      assert.deepEqual(h.place({ orderId: 27, ...base }), ['REJECTED #27 DUPLICATE_ORDER_ID']);
      assert.deepEqual(h.run({ type: 'PLACE', order: null as unknown as NewOrder }), ['REJECTED #0 INVALID_ORDER']);
    });
  });

  describe(`${name}: snapshots`, () => {
    test('snapshot → canonical text → restore gives a book that behaves the same, in either implementation', () => {
      const h = fresh();
      h.limit(1, 'BUY', 100, 5);
      h.limit(2, 'BUY', 100, 3);
      h.limit(3, 'BUY', 99, 2);
      h.limit(4, 'SELL', 103, 7);
      h.limit(5, 'SELL', 100, 1); // trades: last price 100
      h.place({ userId: 6, side: 'SELL', type: 'STOP_LOSS_LIMIT', timeInForce: 'GTC', stopPriceTicks: 99, priceTicks: 98, quantityLots: 4 });
      h.run({ type: 'AMEND_KEEP_PRIORITY', orderId: 2, userId: 2, newQuantityLots: 2 });
      const snap = h.book.snapshot();
      assert.deepEqual(snap.bids, [[1, 1, 100, 5, 4], [2, 2, 100, 2, 2], [3, 3, 99, 2, 2]]);
      assert.deepEqual(snap.asks, [[4, 4, 103, 7, 7]]);
      assert.deepEqual(snap.stops, [[6, 6, 'SELL', 'STOP_LOSS_LIMIT', 'GTC', 'EXPIRE_MAKER', 99, 98, 4]]);
      const text = encodeBookSnapshot(snap);
      const restoredA = new BookHarness(OrderBook.fromSnapshot(GRID, decodeBookSnapshot(GRID, text)));
      const restoredB = new BookHarness(NaiveOrderBook.fromSnapshot(GRID, decodeBookSnapshot(GRID, text)));
      for (const r of [restoredA, restoredB]) assert.equal(encodeBookSnapshot(r.book.snapshot()), text);
      const next = (x: BookHarness): string[] => [...x.limit(7, 'SELL', 99, 8), ...x.limit(8, 'BUY', 90, 1)];
      const expected = next(h);
      for (const r of [restoredA, restoredB]) {
        assert.deepEqual(next(r), expected);
        assert.equal(encodeBookSnapshot(r.book.snapshot()), encodeBookSnapshot(h.book.snapshot()));
      }
    });

    test('impossible or malformed snapshots are refused with BAD_SNAPSHOT', () => {
      const h = fresh();
      h.limit(1, 'BUY', 100, 5);
      h.limit(2, 'SELL', 105, 5);
      const good = h.book.snapshot();
      const bad: unknown[] = [
        { ...good, bids: [[1, 1, 106, 5, 5]] }, // crossed
        { ...good, asks: [[1, 2, 105, 5, 5]] }, // duplicate id
        { ...good, symbol: 'XYZUSD' },
        { ...good, tickSize: '0.1' },
        { ...good, lastOrderId: 1 }, // id above lastOrderId
        { ...good, bids: [[1, 1, 100, 5, 6]] }, // remaining > quantity
        { ...good, bids: [[1, 1, 100, 5, 5], [3, 1, 101, 1, 1]], lastOrderId: 3 }, // out of priority order
        { ...good, stops: [[3, 1, 'SELL', 'STOP_LOSS_LIMIT', 'GTC', 'NONE', 99, 98, 1]] }, // id > lastOrderId
        { ...good, version: 2 },
        null,
      ];
      for (const s of bad) {
        assert.throws(() => restore(GRID, s as never), (err: unknown) => err instanceof MatchingError && err.code === 'BAD_SNAPSHOT', JSON.stringify(s));
      }
      assert.throws(() => decodeBookSnapshot(GRID, '{"version":1'), (err: unknown) => err instanceof MatchingError && err.code === 'BAD_SNAPSHOT');
    });
  });
}
