/**
 * The trading pages' pure logic under Node: the local order book by Binance's snapshot + diff procedure (buffering,
 * dropping stale events, the first event's U ≤ lastUpdateId+1 ≤ u rule, gap detection, zero-quantity removal, price
 * order), and exact decimal arithmetic for "% of balance" quantities and notionals (no float anywhere).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareDecimal, formatDecimal, LocalBook, notional, quantityForPercent } from '../web/src/exchangeLogic.js';

test('local book: buffer until the snapshot, drop stale, first event straddles lastUpdateId+1, gaps detected', () => {
  const book = new LocalBook();
  assert.equal(book.applyDiff({ U: 3, u: 4, b: [['99.00', '1']], a: [] }), 'buffered');
  assert.equal(book.applyDiff({ U: 5, u: 6, b: [['100.00', '2']], a: [['101.00', '1']] }), 'buffered');
  assert.equal(book.loadSnapshot({ lastUpdateId: 5, bids: [['98.00', '3']], asks: [['102.00', '4']] }), 'applied');
  // 3..4 dropped (u ≤ 5); 5..6 straddles 6 and applies.
  assert.deepEqual(book.top(5), { bids: [['100', '2'], ['98', '3']], asks: [['101', '1'], ['102', '4']] });
  assert.equal(book.applyDiff({ U: 7, u: 7, b: [['100.0', '0']], a: [] }), 'applied');
  assert.deepEqual(book.top(5).bids, [['98', '3']]);
  assert.equal(book.applyDiff({ U: 9, u: 9, b: [], a: [] }), 'gap');
  book.reset();
  assert.equal(book.ready, false);
  assert.equal(book.loadSnapshot({ lastUpdateId: 10, bids: [], asks: [] }), 'applied');
  assert.equal(book.applyDiff({ U: 12, u: 13, b: [], a: [] }), 'gap', 'the first event must contain lastUpdateId+1');
});

test('decimals: exact formatting, comparison, notional and % of balance rounded down to the step', () => {
  assert.equal(formatDecimal('1.5', 8), '1.50000000');
  assert.equal(formatDecimal('0012.345678', 2), '12.34');
  assert.equal(formatDecimal('-0.001', 2), '0.00');
  assert.equal(compareDecimal('100.10', '100.1'), 0);
  assert.equal(compareDecimal('9.99', '10'), -1);
  // 2^53 + 1 sats worth of base at a price: no float loss.
  assert.equal(notional('90071992.54740993', '1', 8), '90071992.54740993');
  assert.equal(notional('100.25', '0.5000', 6), '50.125000');
  assert.equal(quantityForPercent({ side: 'SELL', percent: 50, freeBase: '1.00010000', freeQuote: '0', price: undefined, stepSize: '0.0001', quoteDecimals: 6 }), '0.5000');
  assert.equal(quantityForPercent({ side: 'SELL', percent: 100, freeBase: '0.00019999', freeQuote: '0', price: undefined, stepSize: '0.0001', quoteDecimals: 6 }), '0.0001');
  // 1000 USD at 300 → 3.3333 (rounded down, never more than the balance buys).
  assert.equal(quantityForPercent({ side: 'BUY', percent: 100, freeBase: '0', freeQuote: '1000.000000', price: '300.00', stepSize: '0.0001', quoteDecimals: 6 }), '3.3333');
  assert.equal(quantityForPercent({ side: 'BUY', percent: 25, freeBase: '0', freeQuote: '1000.000000', price: '', stepSize: '0.0001', quoteDecimals: 6 }), undefined);
});
