/**
 * Unit tests of the exchange engine: locks, settlement and fees to the base unit, cancels/expiries/amends unlocking,
 * market orders' locks, client order ids, account and market gates, idempotent admin and chain-bridge commands,
 * configuration changes. The harness audits the books after every command.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FEE_ACCOUNT_ID } from './engineCommand.js';
import type { BalanceResult, CancelReplaceResult, CommandResult, OrderEvent, OrderResult, OrdersResult, RejectedResult, TradeEvent } from './engineEvent.js';
import { plainOutcome } from './engineEvent.js';
import { defaultExchangeConfig } from './exchangeConfig.js';
import { computeStateHash, decodeEngineState, encodeEngineState } from './engineState.js';
import { CRN, EngineHarness, USD } from './engineHarness.test.js';

const accepted = EngineHarness.accepted;

/** A harness with user 1 holding 1,000 USD and user 2 holding 10 CRN. */
function funded(): EngineHarness {
  const h = new EngineHarness();
  h.credit(1, 'USD', 1000n * USD);
  h.credit(2, 'CRN', 10n * CRN);
  return h;
}

test('a limit buy locks quantity × price; a fill settles both sides at the maker price with fees on what each receives', () => {
  const h = funded();
  // user 2 sells 1 CRN at 100.00: locks 1 CRN.
  const sell = accepted(h.limit(2, 'SELL', 10_000, 10_000));
  assert.equal(sell.order.status, 'NEW');
  assert.deepEqual(h.balance(2, 'CRN'), { free: 9n * CRN, locked: CRN });
  // user 1 buys 0.5 CRN at limit 101.00: locks 50.50 USD, fills at 100.00.
  const buy = accepted(h.limit(1, 'BUY', 10_100, 5_000));
  assert.equal(buy.order.status, 'FILLED');
  assert.equal(buy.order.cumQuote, 50n * USD);
  assert.deepEqual(buy.fills, [{ tradeId: 1, priceTicks: 10_000, quantityLots: 5_000, commission: 50_000n, commissionAsset: 'CRN' }]);
  // Buyer: paid 50 USD (the 0.50 USD above the maker price unlocked), received 0.5 CRN − 0.1% taker fee.
  assert.deepEqual(h.balance(1, 'USD'), { free: 950n * USD, locked: 0n });
  assert.deepEqual(h.balance(1, 'CRN'), { free: CRN / 2n - 50_000n, locked: 0n });
  // Seller: delivered 0.5 CRN from its lock, received 50 USD − 0.1% maker fee; 0.5 CRN still locked for the rest.
  assert.deepEqual(h.balance(2, 'CRN'), { free: 9n * CRN, locked: CRN / 2n });
  assert.deepEqual(h.balance(2, 'USD'), { free: 50n * USD - 50_000n, locked: 0n });
  // Fees: on the asset received, to the fee account.
  assert.deepEqual(h.balance(FEE_ACCOUNT_ID, 'CRN'), { free: 50_000n, locked: 0n });
  assert.deepEqual(h.balance(FEE_ACCOUNT_ID, 'USD'), { free: 50_000n, locked: 0n });
  const trade = h.last.events.find((e): e is TradeEvent => e.type === 'trade')!;
  assert.deepEqual(
    { id: trade.tradeId, p: trade.priceTicks, q: trade.quantityLots, quote: trade.quote, bm: trade.isBuyerMaker, bf: trade.buyerFee, sf: trade.sellerFee },
    { id: 1, p: 10_000, q: 5_000, quote: 50n * USD, bm: false, bf: 50_000n, sf: 50_000n },
  );
  const reports = h.last.events.filter((e): e is OrderEvent => e.type === 'order').map((e) => `${e.order.orderId}:${e.execution}:${e.order.status}:${e.isMaker}`);
  assert.deepEqual(reports, ['2:NEW:NEW:false', '2:TRADE:FILLED:false', '1:TRADE:PARTIALLY_FILLED:true']);
});

test('fees round up to the base unit and never create money', () => {
  const h = new EngineHarness({
    ...defaultExchangeConfig('regtest'),
    markets: defaultExchangeConfig('regtest').markets.map((m) => ({ ...m, minNotional: '0', makerFeePpm: 1, takerFeePpm: 7 })),
  });
  h.credit(1, 'USD', 1000n * USD);
  h.credit(2, 'CRN', CRN);
  accepted(h.limit(2, 'SELL', 1, 3)); // 3 lots at 0.01: 30,000 sats for 3 USD units
  accepted(h.limit(1, 'BUY', 1, 3));
  // Buyer (taker, 7 ppm) on 30,000 sats: 0.21 → 1 sat. Seller (maker, 1 ppm) on 3 units: 0.000003 → 1 unit.
  assert.deepEqual(h.balance(1, 'CRN'), { free: 29_999n, locked: 0n });
  assert.deepEqual(h.balance(2, 'USD'), { free: 2n, locked: 0n });
  assert.deepEqual(h.balance(FEE_ACCOUNT_ID, 'CRN').free + h.balance(FEE_ACCOUNT_ID, 'USD').free, 2n);
});

test('refused orders lock nothing: insufficient balance, filters, unknown symbol, fee account', () => {
  const h = funded();
  const r1 = h.limit(1, 'BUY', 10_000, 100_001) as RejectedResult; // 1,000.01 USD > 1,000
  assert.equal(r1.reason, 'INSUFFICIENT_BALANCE');
  assert.equal((h.limit(1, 'BUY', 10_000, 0) as RejectedResult).reason, 'INVALID_QUANTITY');
  assert.equal((h.limit(1, 'BUY', 1, 1) as RejectedResult).reason, 'MIN_NOTIONAL'); // 0.0001 × 0.01 < 1 USD
  assert.equal((h.limit(1, 'BUY', 1_000_000_000, 1) as RejectedResult).reason, 'INVALID_PRICE');
  assert.equal((h.place(1, { side: 'BUY', orderType: 'LIMIT', priceTicks: 10_000, quantityLots: 1 }) as RejectedResult).reason, 'UNSUPPORTED_ORDER_COMBINATION');
  assert.equal((h.limit(1, 'BUY', 10_000, 100, {}) && (h.place(1, { side: 'BUY', orderType: 'LIMIT', timeInForce: 'GTC', priceTicks: 10_000, quantityLots: 100 }, 'BTCUSD') as RejectedResult)).reason, 'UNKNOWN_SYMBOL');
  assert.equal((h.limit(FEE_ACCOUNT_ID, 'BUY', 10_000, 100) as RejectedResult).reason, 'ACCOUNT_DISABLED');
  // Only the one accepted order above holds a lock: 100 lots × 100.00 = 1 USD.
  assert.deepEqual(h.balance(1, 'USD'), { free: 999n * USD, locked: USD });
});

test('cancel, amend and IOC expiry unlock exactly what the removed lots locked', () => {
  const h = funded();
  const o = accepted(h.limit(1, 'BUY', 10_000, 3_000)); // 30 USD locked
  assert.deepEqual(h.balance(1, 'USD'), { free: 970n * USD, locked: 30n * USD });
  const amended = h.run({ type: 'AMEND_ORDER', symbol: 'CRNUSD', userId: 1, orderId: o.order.orderId, newQuantityLots: 1_000 });
  assert.equal(accepted(amended).order.quantityLots, 1_000);
  assert.deepEqual(h.balance(1, 'USD'), { free: 990n * USD, locked: 10n * USD });
  assert.equal((h.run({ type: 'AMEND_ORDER', symbol: 'CRNUSD', userId: 1, orderId: o.order.orderId, newQuantityLots: 2_000 }) as RejectedResult).reason, 'AMEND_QUANTITY_INCREASE');
  // Another user can neither cancel nor see it.
  assert.equal((h.run({ type: 'CANCEL_ORDER', symbol: 'CRNUSD', userId: 2, orderId: o.order.orderId }) as RejectedResult).reason, 'UNKNOWN_ORDER');
  assert.equal(h.engine.getOpenOrder(2, 'CRNUSD', o.order.orderId), undefined);
  const canceled = accepted(h.run({ type: 'CANCEL_ORDER', symbol: 'CRNUSD', userId: 1, orderId: o.order.orderId }));
  assert.equal(canceled.order.status, 'CANCELED');
  assert.deepEqual(h.balance(1, 'USD'), { free: 1000n * USD, locked: 0n });
  // IOC against a partial book: the rest expires and unlocks.
  accepted(h.limit(2, 'SELL', 10_000, 1_000));
  const ioc = accepted(h.limit(1, 'BUY', 10_000, 3_000, { timeInForce: 'IOC' }));
  assert.equal(ioc.order.status, 'EXPIRED');
  assert.equal(ioc.order.executedLots, 1_000);
  assert.deepEqual(h.balance(1, 'USD'), { free: 990n * USD, locked: 0n });
});

test('market orders: quoteOrderQty locks the amount, quantity locks the previewed cost; the unspent part unlocks', () => {
  const h = funded();
  accepted(h.limit(2, 'SELL', 10_000, 1_000)); // 0.1 CRN at 100
  accepted(h.limit(2, 'SELL', 11_000, 1_000)); // 0.1 CRN at 110
  const lockOf = (): bigint => h.last.events.filter((e) => e.type === 'balance' && e.reason === 'ORDER_LOCK' && e.userId === 1).reduce((s, e) => s + (e.type === 'balance' ? e.deltaLocked : 0n), 0n);
  // Buy for 15 USD: 0.1 CRN at 100 (10 USD) + the most lots 5 USD buys at 110 (454 lots = 4.994 USD).
  const q = accepted(h.place(1, { side: 'BUY', orderType: 'MARKET', quoteOrderQty: 15n * USD }));
  assert.equal(lockOf(), 15n * USD);
  assert.equal(q.order.status, 'FILLED');
  assert.equal(q.order.quantityLots, 1_454);
  assert.equal(q.order.cumQuote, 10n * USD + 454n * 11_000n);
  assert.deepEqual(h.balance(1, 'USD'), { free: 1000n * USD - q.order.cumQuote, locked: 0n });
  // Buy 0.1 CRN by quantity: locks the cost of the 546 lots left at 110 (6.006 USD), fills 546 and expires the rest.
  const m = accepted(h.place(1, { side: 'BUY', orderType: 'MARKET', quantityLots: 1_000 }));
  assert.equal(lockOf(), 546n * 11_000n);
  assert.equal(m.order.status, 'EXPIRED');
  assert.equal(m.order.executedLots, 546);
  // Sell by quote amount: locks the lots the amount sells for.
  accepted(h.limit(1, 'BUY', 9_000, 2_000)); // 0.2 CRN bid at 90
  const s = accepted(h.place(2, { side: 'SELL', orderType: 'MARKET', quoteOrderQty: 9n * USD }));
  assert.equal(s.order.executedLots, 1_000);
  assert.equal(s.order.cumQuote, 9n * USD);
});

test('stop-limit orders lock at placement and settle when triggered', () => {
  const h = funded();
  h.credit(3, 'USD', 100n * USD);
  accepted(h.limit(2, 'SELL', 10_000, 100));
  accepted(h.limit(1, 'BUY', 10_000, 100)); // last price 100.00
  const stop = accepted(h.place(3, { side: 'BUY', orderType: 'STOP_LOSS_LIMIT', timeInForce: 'GTC', stopPriceTicks: 10_500, priceTicks: 10_600, quantityLots: 100 }));
  assert.equal(stop.order.workingTimeMs, -1);
  assert.deepEqual(h.balance(3, 'USD'), { free: 100n * USD - 1_060_000n, locked: 1_060_000n });
  accepted(h.limit(2, 'SELL', 10_500, 200));
  accepted(h.limit(1, 'BUY', 10_500, 100)); // trades at 105.00: the stop triggers and buys the other 100 lots at 105
  const triggered = h.last.events.filter((e): e is OrderEvent => e.type === 'order' && e.order.orderId === stop.order.orderId).map((e) => e.execution);
  assert.deepEqual(triggered, ['TRIGGERED', 'TRADE']);
  assert.deepEqual(h.balance(3, 'USD'), { free: 100n * USD - 1_050_000n, locked: 0n });
});

test('client order ids: unique among open orders, found by id, reserved prefix, freed when the order closes', () => {
  const h = funded();
  const a = accepted(h.limit(1, 'BUY', 10_000, 100, { clientOrderId: 'my-1' }));
  assert.equal(a.order.clientOrderId, 'my-1');
  assert.equal((h.limit(1, 'BUY', 10_000, 100, { clientOrderId: 'my-1' }) as RejectedResult).reason, 'DUPLICATE_CLIENT_ORDER_ID');
  assert.equal((h.limit(1, 'BUY', 10_000, 100, { clientOrderId: 'cairn-5' }) as RejectedResult).reason, 'RESERVED_CLIENT_ORDER_ID');
  const b = accepted(h.limit(1, 'BUY', 10_000, 100));
  assert.equal(b.order.clientOrderId, `cairn-${b.order.orderId}`);
  assert.equal(h.engine.getOpenOrder(1, 'CRNUSD', undefined, `cairn-${b.order.orderId}`)?.orderId, b.order.orderId);
  assert.equal(h.engine.getOpenOrder(1, 'CRNUSD', undefined, `cairn-0${b.order.orderId}`), undefined, 'only the canonical form');
  assert.equal(h.engine.getOpenOrder(1, 'CRNUSD', undefined, `cairn-${a.order.orderId}`), undefined, 'an order with its own client id');
  assert.equal(h.engine.getOpenOrder(2, 'CRNUSD', undefined, 'my-1'), undefined);
  accepted(h.run({ type: 'CANCEL_ORDER', symbol: 'CRNUSD', userId: 1, clientOrderId: 'my-1' }));
  accepted(h.limit(1, 'BUY', 10_000, 100, { clientOrderId: 'my-1' }));
  const all = h.run({ type: 'CANCEL_ALL_ORDERS', symbol: 'CRNUSD', userId: 1 }) as OrdersResult;
  assert.deepEqual(all.orders.map((o) => o.status), ['CANCELED', 'CANCELED']);
  assert.deepEqual(h.balance(1, 'USD'), { free: 1000n * USD, locked: 0n });
});

test('cancel-replace: refused new order cancels nothing; STOP_ON_FAILURE; the canceled funds pay for the new order', () => {
  const h = new EngineHarness();
  h.credit(1, 'USD', 100n * USD);
  const o = accepted(h.limit(1, 'BUY', 10_000, 10_000)); // all 100 USD locked
  const bad = h.run({ type: 'CANCEL_REPLACE', symbol: 'CRNUSD', userId: 1, cancelOrderId: o.order.orderId, mode: 'STOP_ON_FAILURE', order: { side: 'BUY', orderType: 'LIMIT', timeInForce: 'GTC', priceTicks: 1, quantityLots: 1 } }) as CancelReplaceResult;
  assert.equal(bad.ok, false);
  assert.equal((bad.newOrder as RejectedResult).reason, 'MIN_NOTIONAL');
  assert.equal(h.engine.getOpenOrders(1).length, 1);
  const missing = h.run({ type: 'CANCEL_REPLACE', symbol: 'CRNUSD', userId: 1, cancelOrderId: 999, mode: 'STOP_ON_FAILURE', order: { side: 'BUY', orderType: 'LIMIT', timeInForce: 'GTC', priceTicks: 9_000, quantityLots: 200 } }) as CancelReplaceResult;
  assert.equal((missing.cancel as RejectedResult).reason, 'UNKNOWN_ORDER');
  assert.equal((missing.newOrder as RejectedResult).reason, 'NOT_ATTEMPTED');
  const moved = h.run({ type: 'CANCEL_REPLACE', symbol: 'CRNUSD', userId: 1, cancelOrderId: o.order.orderId, mode: 'STOP_ON_FAILURE', order: { side: 'BUY', orderType: 'LIMIT', timeInForce: 'GTC', priceTicks: 9_000, quantityLots: 11_000 } }) as CancelReplaceResult;
  assert.equal(moved.ok, true);
  assert.deepEqual(h.balance(1, 'USD'), { free: 1n * USD, locked: 99n * USD });
});

test('gates: frozen accounts only cancel, CANCEL_ONLY and HALT markets', () => {
  const h = funded();
  const o = accepted(h.limit(1, 'BUY', 10_000, 100));
  h.run({ type: 'FREEZE_ACCOUNT', userId: 1 });
  assert.equal((h.limit(1, 'BUY', 10_000, 100) as RejectedResult).reason, 'ACCOUNT_FROZEN');
  assert.equal((h.run({ type: 'LOCK_WITHDRAWAL', withdrawalId: 'w1', userId: 1, asset: 'USD', amount: USD }) as RejectedResult).reason, 'ACCOUNT_FROZEN');
  h.run({ type: 'UNFREEZE_ACCOUNT', userId: 1 });
  assert.ok(h.run({ type: 'SET_MARKET_STATUS', symbol: 'CRNUSD', status: 'CANCEL_ONLY' }).ok);
  assert.equal((h.limit(1, 'BUY', 10_000, 100) as RejectedResult).reason, 'MARKET_CLOSED');
  assert.equal(h.engine.getMarketConfigs()[0]!.status, 'CANCEL_ONLY');
  accepted(h.run({ type: 'AMEND_ORDER', symbol: 'CRNUSD', userId: 1, orderId: o.order.orderId, newQuantityLots: 50 }));
  assert.ok(h.run({ type: 'SET_MARKET_STATUS', symbol: 'CRNUSD', status: 'HALT' }).ok);
  assert.equal((h.run({ type: 'CANCEL_ORDER', symbol: 'CRNUSD', userId: 1, orderId: o.order.orderId }) as RejectedResult).reason, 'MARKET_CLOSED');
  assert.ok(h.run({ type: 'SET_MARKET_STATUS', symbol: 'CRNUSD', status: 'TRADING' }).ok);
  accepted(h.run({ type: 'CANCEL_ORDER', symbol: 'CRNUSD', userId: 1, orderId: o.order.orderId }));
});

test('admin adjustments apply once: a repeat returns the first result; another request under the same id is refused', () => {
  const h = new EngineHarness();
  const first = h.run({ type: 'ADJUST_BALANCE', adjustmentId: 'fund-1', userId: 7, asset: 'USD', amount: 5n * USD }) as BalanceResult;
  assert.deepEqual([first.ok, first.free, first.duplicate], [true, 5n * USD, false]);
  h.credit(7, 'USD', USD);
  const again = h.run({ type: 'ADJUST_BALANCE', adjustmentId: 'fund-1', userId: 7, asset: 'USD', amount: 5n * USD }) as BalanceResult;
  assert.deepEqual([again.ok, again.free, again.duplicate], [true, 5n * USD, true]);
  assert.deepEqual(h.balance(7, 'USD'), { free: 6n * USD, locked: 0n });
  assert.equal((h.run({ type: 'ADJUST_BALANCE', adjustmentId: 'fund-1', userId: 7, asset: 'USD', amount: 6n * USD }) as RejectedResult).reason, 'ID_REUSED');
  // A debit beyond the free balance is refused, and that refusal is the first result of its id.
  const over = h.run({ type: 'ADJUST_BALANCE', adjustmentId: 'take-1', userId: 7, asset: 'USD', amount: -7n * USD }) as RejectedResult;
  assert.equal(over.reason, 'INSUFFICIENT_BALANCE');
  h.credit(7, 'USD', 10n * USD);
  assert.equal((h.run({ type: 'ADJUST_BALANCE', adjustmentId: 'take-1', userId: 7, asset: 'USD', amount: -7n * USD }) as RejectedResult).reason, 'INSUFFICIENT_BALANCE');
  assert.equal((h.run({ type: 'ADJUST_BALANCE', adjustmentId: 'x', userId: 7, asset: 'EUR', amount: 1n }) as RejectedResult).reason, 'UNKNOWN_ASSET');
});

test('on main only off-chain assets are credited by adjustment; CRN comes by deposit, once per outpoint', () => {
  const h = new EngineHarness('main');
  assert.equal((h.run({ type: 'ADJUST_BALANCE', adjustmentId: 'a', userId: 1, asset: 'CRN', amount: CRN }) as RejectedResult).reason, 'ADJUSTMENT_NOT_ALLOWED');
  assert.ok(h.run({ type: 'ADJUST_BALANCE', adjustmentId: 'b', userId: 1, asset: 'USD', amount: USD }).ok);
  const txid = 'ab'.repeat(32);
  const d1 = h.run({ type: 'CREDIT_DEPOSIT', txid, vout: 1, userId: 1, asset: 'CRN', amount: 2n * CRN }) as BalanceResult;
  const d2 = h.run({ type: 'CREDIT_DEPOSIT', txid, vout: 1, userId: 1, asset: 'CRN', amount: 2n * CRN }) as BalanceResult;
  assert.deepEqual([d1.duplicate, d2.duplicate, d2.free], [false, true, 2n * CRN]);
  assert.equal((h.run({ type: 'CREDIT_DEPOSIT', txid, vout: 1, userId: 2, asset: 'CRN', amount: 2n * CRN }) as RejectedResult).reason, 'ID_REUSED');
  assert.equal((h.run({ type: 'CREDIT_DEPOSIT', txid, vout: 2, userId: 1, asset: 'USD', amount: 1n }) as RejectedResult).reason, 'ASSET_NOT_ON_CHAIN');
  assert.deepEqual(h.balance(1, 'CRN'), { free: 2n * CRN, locked: 0n });
});

test('a reversed deposit leaves the ledger; short of funds the account goes negative and frozen; it can be credited again', () => {
  const h = new EngineHarness();
  const txid = 'ef'.repeat(32);
  assert.equal((h.run({ type: 'REVERSE_DEPOSIT', txid, vout: 0 }) as RejectedResult).reason, 'UNKNOWN_DEPOSIT');
  h.run({ type: 'CREDIT_DEPOSIT', txid, vout: 0, userId: 1, asset: 'CRN', amount: 2n * CRN });
  h.run({ type: 'CREDIT_DEPOSIT', txid, vout: 1, userId: 2, asset: 'CRN', amount: 3n * CRN });
  // User 2 withdraws 2 of its 3 CRN before the reorg: the reversal leaves it at −2 CRN, frozen.
  assert.ok(h.run({ type: 'LOCK_WITHDRAWAL', withdrawalId: 'w', userId: 2, asset: 'CRN', amount: 2n * CRN }).ok);
  assert.ok(h.run({ type: 'COMPLETE_WITHDRAWAL', withdrawalId: 'w' }).ok);
  const r1 = h.run({ type: 'REVERSE_DEPOSIT', txid, vout: 0 }) as BalanceResult;
  assert.deepEqual([r1.amount, r1.free], [-2n * CRN, 0n]);
  assert.equal(h.engine.isFrozen(1), false);
  const r2 = h.run({ type: 'REVERSE_DEPOSIT', txid, vout: 1 }) as BalanceResult;
  assert.deepEqual([r2.amount, r2.free], [-3n * CRN, -2n * CRN]);
  assert.equal(h.engine.isFrozen(2), true);
  assert.equal((h.run({ type: 'REVERSE_DEPOSIT', txid, vout: 1 }) as RejectedResult).reason, 'UNKNOWN_DEPOSIT');
  // It stays frozen while negative: unfreezing is refused.
  assert.equal((h.run({ type: 'UNFREEZE_ACCOUNT', userId: 2 }) as RejectedResult).reason, 'INSUFFICIENT_BALANCE');
  assert.equal(h.engine.isFrozen(2), true);
  // The state with a negative balance round-trips through the snapshot codec.
  const text = encodeEngineState(h.engine);
  assert.equal(encodeEngineState(decodeEngineState(text)), text);
  // Re-confirmed in the new branch: credited again (not a duplicate).
  const again = h.run({ type: 'CREDIT_DEPOSIT', txid, vout: 0, userId: 1, asset: 'CRN', amount: 2n * CRN }) as BalanceResult;
  assert.deepEqual([again.duplicate, again.free], [false, 2n * CRN]);
  const crn = h.engine.assetIndex.get('CRN')!;
  assert.deepEqual([h.engine.credited[crn], h.engine.withdrawn[crn]], [2n * CRN, 2n * CRN]);
});

test('withdrawals: lock, then complete (debits locked) or fail (unlocks); repeats return the first result', () => {
  const h = new EngineHarness();
  h.credit(1, 'CRN', 3n * CRN);
  assert.equal((h.run({ type: 'LOCK_WITHDRAWAL', withdrawalId: 'w0', userId: 1, asset: 'CRN', amount: 4n * CRN }) as RejectedResult).reason, 'INSUFFICIENT_BALANCE');
  assert.equal((h.run({ type: 'COMPLETE_WITHDRAWAL', withdrawalId: 'w0' }) as RejectedResult).reason, 'UNKNOWN_WITHDRAWAL');
  assert.ok(h.run({ type: 'LOCK_WITHDRAWAL', withdrawalId: 'w1', userId: 1, asset: 'CRN', amount: CRN }).ok);
  assert.ok(h.run({ type: 'LOCK_WITHDRAWAL', withdrawalId: 'w2', userId: 1, asset: 'CRN', amount: CRN }).ok);
  assert.deepEqual(h.balance(1, 'CRN'), { free: CRN, locked: 2n * CRN });
  const done = h.run({ type: 'COMPLETE_WITHDRAWAL', withdrawalId: 'w1', txid: 'cd'.repeat(32) }) as BalanceResult;
  assert.deepEqual([done.amount, done.locked, done.duplicate], [-CRN, CRN, false]);
  assert.equal((h.run({ type: 'COMPLETE_WITHDRAWAL', withdrawalId: 'w1' }) as BalanceResult).duplicate, true);
  assert.equal((h.run({ type: 'FAIL_WITHDRAWAL', withdrawalId: 'w1' }) as RejectedResult).reason, 'WITHDRAWAL_FINISHED');
  assert.ok(h.run({ type: 'FAIL_WITHDRAWAL', withdrawalId: 'w2' }).ok);
  assert.deepEqual(h.balance(1, 'CRN'), { free: 2n * CRN, locked: 0n });
  assert.deepEqual(
    h.engine.assets.map((a, i) => [a.asset, h.engine.credited[i], h.engine.withdrawn[i]]).filter(([a]) => a === 'CRN'),
    [['CRN', 3n * CRN, CRN]],
  );
});

test('configuration changes: fees and status may change, a grid may not; new markets start empty', () => {
  const h = new EngineHarness();
  const cfg = defaultExchangeConfig('regtest');
  const changedTick = { ...cfg, markets: cfg.markets.map((m) => (m.symbol === 'CRNUSD' ? { ...m, tickSize: '0.1' } : m)) };
  assert.equal((h.run({ type: 'CONFIGURE', config: changedTick }) as RejectedResult).reason, 'CONFIG_REFUSED');
  assert.equal((h.run({ type: 'CONFIGURE', config: { ...cfg, network: 'main' } }) as RejectedResult).reason, 'CONFIG_REFUSED');
  const more = { ...cfg, markets: [...cfg.markets.map((m) => ({ ...m, takerFeePpm: 2000 })), { ...cfg.markets[0]!, symbol: 'USDTUSD', displayName: 'USDT/USD', baseAsset: 'USDT', quoteAsset: 'USD', stepSize: '0.01', minQuantity: '0.01', maxQuantity: '1000000', tickSize: '0.0001', maxPrice: '10' }] };
  assert.ok(h.run({ type: 'CONFIGURE', config: more }).ok);
  assert.equal(h.engine.getMarket('CRNUSD')!.takerFeePpm, 2000n);
  assert.equal(h.engine.getMarket('USDTUSD')!.book.openOrderCount, 0);
});

test('the canonical state round-trips through a snapshot and a replay from scratch gives the same hash', () => {
  const h = funded();
  h.credit(3, 'USDT', 50n * USD);
  accepted(h.limit(2, 'SELL', 10_000, 3_000, { clientOrderId: 'ask-1' }));
  accepted(h.limit(1, 'BUY', 9_900, 2_000));
  accepted(h.limit(1, 'BUY', 10_000, 1_000));
  accepted(h.place(3, { side: 'BUY', orderType: 'STOP_LOSS_LIMIT', timeInForce: 'GTC', stopPriceTicks: 10_100, priceTicks: 10_100, quantityLots: 100 }, 'CRNUSDT'));
  h.run({ type: 'LOCK_WITHDRAWAL', withdrawalId: 'w1', userId: 2, asset: 'CRN', amount: CRN });
  h.run({ type: 'FREEZE_ACCOUNT', userId: 3 });
  const text = encodeEngineState(h.engine);
  const restored = decodeEngineState(text);
  assert.equal(computeStateHash(restored), computeStateHash(h.engine));
  // Same future: one more command on each gives the same outcome and hash.
  const next = { type: 'PLACE_ORDER', symbol: 'CRNUSD', userId: 1, order: { side: 'BUY', orderType: 'LIMIT', timeInForce: 'IOC', priceTicks: 10_000, quantityLots: 5_000 } } as const;
  const a = h.engine.apply({ seq: h.engine.seq + 1, timeMs: h.nowMs + 5, command: next });
  const b = restored.apply({ seq: restored.seq + 1, timeMs: h.nowMs + 5, command: next });
  assert.deepEqual(plainOutcome(b), plainOutcome(a));
  assert.equal(computeStateHash(restored), computeStateHash(h.engine));
  // Replay of the whole log from an empty engine.
  const replay = new EngineHarness(null);
  for (const sc of [...h.log, { seq: a.seq, timeMs: a.timeMs, command: next }]) replay.engine.apply(sc);
  assert.equal(computeStateHash(replay.engine), computeStateHash(h.engine));
  // A tampered or non-canonical text is refused.
  assert.throws(() => decodeEngineState(text.replace('"seq":', '"seq" :')), /canonical/);
  assert.throws(() => decodeEngineState(text.replace(/"lastOrderId":\d+/, '"lastOrderId":1')), /BAD_SNAPSHOT|above lastOrderId|engine state/);
});

test('apply refuses a command out of sequence or back in time', () => {
  const h = funded();
  assert.throws(() => h.engine.apply({ seq: h.engine.seq + 2, timeMs: h.nowMs + 1, command: { type: 'FREEZE_ACCOUNT', userId: 1 } }), /STATE_MISMATCH|applied after/);
  assert.throws(() => h.engine.apply({ seq: h.engine.seq + 1, timeMs: h.nowMs - 1, command: { type: 'FREEZE_ACCOUNT', userId: 1 } }), /before/);
});

test('user ids beyond the dense account array (2^20 and up) trade like small ones', () => {
  const h = new EngineHarness();
  const big = 5_000_000;
  h.credit(big, 'USD', 1000n * USD);
  h.credit(2, 'CRN', 10n * CRN);
  accepted(h.limit(2, 'SELL', 10_000, 10_000));
  const buy = accepted(h.limit(big, 'BUY', 10_000, 10_000));
  assert.equal(buy.order.status, 'FILLED');
  assert.deepEqual(h.balance(big, 'USD'), { free: 900n * USD, locked: 0n });
  assert.deepEqual(h.balance(big, 'CRN'), { free: CRN - 100_000n, locked: 0n });
  assert.deepEqual(h.engine.getOpenOrders(big), []);
  assert.equal(h.engine.accounts.has(big), true);
});

test('MAX_NUM_ORDERS counts open orders per user and market, also once a user has orders on several markets', () => {
  const cfg = defaultExchangeConfig('regtest');
  const h = new EngineHarness({ ...cfg, markets: cfg.markets.map((m) => ({ ...m, maxOpenOrders: 2 })) });
  h.credit(1, 'USD', 1000n * USD);
  h.credit(1, 'USDT', 1000n * USD);
  const bid = (symbol: string, priceTicks: number) => h.place(1, { side: 'BUY', orderType: 'LIMIT', timeInForce: 'GTC', priceTicks, quantityLots: 1_000 }, symbol);
  const refusal = (r: ReturnType<typeof bid>): string => (r.ok ? 'accepted' : (r as RejectedResult).reason);
  const a1 = accepted(bid('CRNUSD', 9_000));
  accepted(bid('CRNUSD', 9_001));
  assert.equal(refusal(bid('CRNUSD', 9_002)), 'MAX_NUM_ORDERS');
  // Another market has its own count.
  const b1 = accepted(bid('CRNUSDT', 9_000));
  accepted(bid('CRNUSDT', 9_001));
  assert.equal(refusal(bid('CRNUSDT', 9_002)), 'MAX_NUM_ORDERS');
  assert.equal(refusal(bid('CRNUSD', 9_002)), 'MAX_NUM_ORDERS');
  // A cancel frees a slot on its market only; a cancel-replace at the cap reuses the canceled order's slot.
  accepted(h.run({ type: 'CANCEL_ORDER', symbol: 'CRNUSD', userId: 1, orderId: a1.order.orderId }));
  assert.equal(refusal(bid('CRNUSDT', 9_002)), 'MAX_NUM_ORDERS');
  accepted(bid('CRNUSD', 9_003));
  const cr = h.run({ type: 'CANCEL_REPLACE', symbol: 'CRNUSDT', userId: 1, cancelOrderId: b1.order.orderId, mode: 'STOP_ON_FAILURE', order: { side: 'BUY', orderType: 'LIMIT', timeInForce: 'GTC', priceTicks: 9_004, quantityLots: 1_000 } });
  assert.equal(cr.ok, true);
  // With every order gone the counts start over, one market at a time.
  assert.ok(h.run({ type: 'CANCEL_ALL_ORDERS', symbol: 'CRNUSD', userId: 1 }).ok);
  assert.ok(h.run({ type: 'CANCEL_ALL_ORDERS', symbol: 'CRNUSDT', userId: 1 }).ok);
  assert.deepEqual(h.engine.getOpenOrders(1), []);
  accepted(bid('CRNUSDT', 9_000));
  accepted(bid('CRNUSDT', 9_001));
  assert.equal(refusal(bid('CRNUSDT', 9_002)), 'MAX_NUM_ORDERS');
  accepted(bid('CRNUSD', 9_000));
  accepted(bid('CRNUSD', 9_001));
  assert.equal(refusal(bid('CRNUSD', 9_002)), 'MAX_NUM_ORDERS');
  // The snapshot keeps the counts.
  const restored = decodeEngineState(encodeEngineState(h.engine));
  const again = restored.apply({ seq: restored.seq + 1, timeMs: h.nowMs + 1, command: { type: 'PLACE_ORDER', symbol: 'CRNUSD', userId: 1, order: { side: 'BUY', orderType: 'LIMIT', timeInForce: 'GTC', priceTicks: 9_002, quantityLots: 1_000 } } });
  assert.equal(refusal(again.result), 'MAX_NUM_ORDERS');
});

test('outcomes print as JSON and compare as plain objects the same as when orders were plain objects', () => {
  const h = funded();
  accepted(h.limit(2, 'SELL', 10_000, 10_000));
  accepted(h.limit(1, 'BUY', 10_100, 5_000));
  const fill = h.last;
  const json = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
  assert.equal(json(fill), json(plainOutcome(fill)));
  const printed = JSON.parse(json(fill)) as { result: { order: { orderId: number; status: string; clientOrderId: string } }; events: Array<{ type: string; execution?: string; order?: { status: string }; tradeId?: number }> };
  assert.deepEqual([printed.result.order.orderId, printed.result.order.status, printed.result.order.clientOrderId], [2, 'FILLED', 'cairn-2']);
  const reports = printed.events.filter((e) => e.type === 'order').map((e) => `${e.execution}:${e.order!.status}:${e.tradeId}`);
  assert.deepEqual(reports, ['NEW:NEW:0', 'TRADE:FILLED:1', 'TRADE:PARTIALLY_FILLED:1']);
  // The event's and the result's OrderState are built once and shared.
  const r = fill.result as OrderResult;
  assert.equal(r.order, r.order);
  const moved = h.run({ type: 'CANCEL_REPLACE', symbol: 'CRNUSD', userId: 2, cancelOrderId: 1, mode: 'STOP_ON_FAILURE', order: { side: 'SELL', orderType: 'LIMIT', timeInForce: 'GTC', priceTicks: 10_200, quantityLots: 1_000 } });
  assert.equal(moved.ok, true);
  assert.equal(json(h.last), json(plainOutcome(h.last)));
  const cr = JSON.parse(json(moved)) as { cancel: { order: { status: string } }; newOrder: { order: { status: string; priceTicks: number } } };
  assert.deepEqual([cr.cancel.order.status, cr.newOrder.order.status, cr.newOrder.order.priceTicks], ['CANCELED', 'NEW', 10_200]);
});

test('amounts above 2^53 stay exact: balances of 2^60, order locks and fees of 10^20 units (an 18-decimal quote)', () => {
  const ETHX = 10n ** 18n;
  const base = defaultExchangeConfig('regtest');
  const h = new EngineHarness({
    ...base,
    assets: [...base.assets, { asset: 'ETHX', decimals: 18, onChain: false }],
    markets: [{ ...base.markets[0]!, symbol: 'CRNETHX', displayName: 'CRN/ETHX', quoteAsset: 'ETHX', minNotional: '0', makerFeePpm: 1000, takerFeePpm: 2000 }],
  });
  const big = 2n ** 60n;
  h.credit(1, 'ETHX', 1_000_000n * ETHX);
  h.credit(2, 'CRN', big);
  h.credit(3, 'ETHX', 1_000n * ETHX);
  h.credit(3, 'CRN', 2n ** 53n - 50_000n);
  const on = (userId: number, side: 'BUY' | 'SELL', priceTicks: number, quantityLots: number): CommandResult =>
    h.place(userId, { side, orderType: 'LIMIT', timeInForce: 'GTC', priceTicks, quantityLots }, 'CRNETHX');
  // user 2 sells 2 CRN at 100.00; user 1 buys 1.5 CRN at 101.00 (locks 1.515 × 10^20), filled at 100.00.
  accepted(on(2, 'SELL', 10_000, 20_000));
  assert.deepEqual(h.balance(2, 'CRN'), { free: big - 2n * CRN, locked: 2n * CRN });
  const buy = accepted(on(1, 'BUY', 10_100, 15_000));
  assert.equal(buy.order.cumQuote, 150n * ETHX);
  assert.deepEqual(buy.fills.map((f) => f.commission), [300_000n]);
  assert.deepEqual(h.balance(1, 'ETHX'), { free: 1_000_000n * ETHX - 150n * ETHX, locked: 0n });
  assert.deepEqual(h.balance(1, 'CRN'), { free: 150_000_000n - 300_000n, locked: 0n });
  assert.deepEqual(h.balance(2, 'CRN'), { free: big - 2n * CRN, locked: CRN / 2n });
  assert.deepEqual(h.balance(2, 'ETHX'), { free: 150n * ETHX - 150n * ETHX / 1000n, locked: 0n });
  assert.deepEqual(h.balance(FEE_ACCOUNT_ID, 'ETHX'), { free: 150n * ETHX / 1000n, locked: 0n });
  const lock = h.last.events.find((e) => e.type === 'balance' && e.reason === 'ORDER_LOCK');
  assert.equal(lock?.type === 'balance' && lock.deltaLocked, 15_000n * 10_100n * 10n ** 12n);
  // user 3 holds 2^53 − 50,000 sats: buying 0.001 CRN takes it over 2^53, selling it back brings it under.
  accepted(on(3, 'BUY', 10_000, 10));
  assert.deepEqual(h.balance(3, 'CRN'), { free: 2n ** 53n - 50_000n + 100_000n - 200n, locked: 0n });
  accepted(on(3, 'SELL', 9_000, 10)); // rests: user 2's ask is above it
  assert.deepEqual(h.balance(3, 'CRN'), { free: 2n ** 53n - 50_000n - 200n, locked: 100_000n });
  accepted(on(1, 'BUY', 9_000, 10));
  assert.deepEqual(h.balance(3, 'CRN'), { free: 2n ** 53n - 50_000n - 200n, locked: 0n });
  // The rest of user 2's sell is canceled: its 0.5 CRN comes back.
  accepted(h.run({ type: 'CANCEL_ORDER', symbol: 'CRNETHX', userId: 2, orderId: 1 }) as CommandResult);
  assert.deepEqual(h.balance(2, 'CRN'), { free: big - 3n * CRN / 2n - 10n * 10_000n, locked: 0n });
  // A replay from an empty state gives the same state.
  const replay = new EngineHarness(null);
  for (const sc of h.log) replay.engine.apply(sc);
  assert.equal(computeStateHash(replay.engine), computeStateHash(h.engine));
  assert.equal(computeStateHash(decodeEngineState(encodeEngineState(h.engine))), computeStateHash(h.engine));
});
