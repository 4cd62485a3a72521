/**
 * Unit tests of the engine's split balances (Account, OrderRecord locks): a bigint part and a number part whose sum
 * must equal the exact bigint result of every change, on both sides of 2^53 and across it. And of the order views
 * (OrderSnapshot and the order events, separate classes with the same accessors): each shows the order as it was.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { plainBalanceEvent, plainOrderEvent } from './engineEvent.js';
import {
  Account,
  bigAmount,
  ExpiryUpdate,
  OrderLockEntry,
  OrderRecord,
  OrderSnapshot,
  OrderUpdate,
  toAmount,
  TradeUpdate,
  type Amount,
  type MarketState,
} from './engineRecords.js';

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** xorshift32: a deterministic stream of uint32s. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>>= 0);
  };
}

test('split balances follow exact bigint arithmetic across 2^53 (numbers and bigints, up and down)', () => {
  const next = rng(20261206);
  // Starting points on both sides of the safe range and at its edges.
  const starts = [0n, SAFE - 3n, SAFE, SAFE + 1n, -SAFE + 2n, 2n ** 60n, -(2n ** 60n), 2n ** 54n - 5n, 10n ** 15n];
  for (const start of starts) {
    const acct = new Account(1, 2);
    const model = { free: start, locked: 0n };
    acct.setFree(0, start);
    for (let step = 0; step < 2_000; step++) {
      // Amounts of every size: small, near 2^53, above it (as bigints).
      const kind = next() % 4;
      const big = kind === 3;
      const raw = kind === 0 ? BigInt(next() % 1000) : kind === 1 ? BigInt(next()) * 1_000_000n : kind === 2 ? SAFE - BigInt(next() % 1000) : 2n ** 53n + BigInt(next());
      const amount: Amount = big ? raw : toAmount(raw);
      assert.equal(typeof amount === 'number' ? Number.isSafeInteger(amount) : true, true);
      switch (next() % 4) {
        case 0:
          acct.addFree(0, amount);
          model.free += raw;
          break;
        case 1:
          acct.addFree(0, -amount);
          model.free -= raw;
          break;
        case 2:
          acct.lock(0, amount);
          model.free -= raw;
          model.locked += raw;
          break;
        default:
          acct.unlock(0, amount);
          model.free += raw;
          model.locked -= raw;
      }
      assert.equal(acct.freeOf(0), model.free, `start ${start}, step ${step}`);
      assert.equal(acct.lockedOf(0), model.locked, `start ${start}, step ${step}`);
      // Asset 0's free and locked number parts sit at lo[0] and lo[1].
      assert.ok(Number.isSafeInteger(acct.lo[0]!) && Number.isSafeInteger(acct.lo[1]!));
      // A change made in bigint leaves a safe value as a number alone.
      if (big && model.free >= -SAFE && model.free <= SAFE) assert.equal(acct.hi[0], 0n);
      // bigParts counts the non-zero bigint parts (the ledger entry's fast path trusts it).
      assert.equal(acct.bigParts, acct.hi.filter((h) => h !== 0n).length, `bigParts at start ${start}, step ${step}`);
      // freeBelow agrees with the bigint comparison, for amounts just around the balance and far from it.
      for (const probe of [model.free - 1n, model.free, model.free + 1n, 0n, SAFE, 2n ** 54n]) {
        assert.equal(acct.freeBelow(0, toAmount(probe)), model.free < probe, `freeBelow(${probe}) at ${model.free}`);
      }
    }
    // The other asset was never touched.
    assert.equal(acct.freeOf(1), 0n);
    assert.equal(acct.lockedOf(1), 0n);
  }
});

test('order record locks follow exact bigint arithmetic across 2^53 (subLock by numbers and bigints, setLock)', () => {
  const next = rng(20261207);
  const market = { symbol: 'CRNUSD', index: 0 } as unknown as MarketState;
  for (const start of [0n, 5_000n, SAFE - 3n, SAFE, SAFE + 1n, 2n ** 60n, 2n ** 54n - 5n, 10n ** 15n]) {
    const rec = new OrderRecord(1, market, 7, '', 'BUY', 'LIMIT', 'GTC', 1_000, 5, 0n, 0, 'EXPIRE_MAKER', 1_700_000_000_000, toAmount(start));
    let model = start;
    for (let step = 0; step < 2_000; step++) {
      const kind = next() % 5;
      const raw = kind === 0 ? BigInt(next() % 1000) : kind === 1 ? BigInt(next()) * 1_000_000n : kind === 2 ? SAFE - BigInt(next() % 1000) : 2n ** 53n + BigInt(next());
      // Negative amounts too: a lock grows back through subLock(−a) in this model.
      const signed = next() % 2 === 0 ? raw : -raw;
      if (kind === 4) {
        // setLock takes a bigint of any size (a restored snapshot's lock): small ones become numbers.
        const v = next() % 2 === 0 ? BigInt(next() % 100_000) : signed;
        rec.setLock(v);
        model = v;
      } else {
        rec.subLock(kind === 3 ? signed : toAmount(signed));
        model -= signed;
      }
      assert.equal(rec.lockedRemaining, model, `start ${start}, step ${step}`);
      const a = rec.lockAmount;
      // A number exactly when the lock is a safe integer.
      assert.equal(typeof a, model >= -SAFE && model <= SAFE ? 'number' : 'bigint', `start ${start}, step ${step}`);
      assert.equal(bigAmount(a), model);
    }
  }
});

test('toAmount keeps safe integers as numbers and everything else as bigints; bigAmount inverts it', () => {
  for (const v of [0n, 1n, -1n, SAFE, -SAFE, SAFE + 1n, -SAFE - 1n, 2n ** 64n]) {
    const a = toAmount(v);
    assert.equal(typeof a, v >= -SAFE && v <= SAFE ? 'number' : 'bigint');
    assert.equal(bigAmount(a), v);
  }
});

test('order views (snapshot, update, trade, expiry) show the order as it was when taken, with the record\'s fixed fields', () => {
  // Only `symbol` of the market is read by the views.
  const market = { symbol: 'CRNUSD' } as unknown as MarketState;
  const rec = new OrderRecord(42, market, 7, '', 'BUY', 'LIMIT', 'GTC', 1_000, 5, 0n, 0, 'EXPIRE_MAKER', 1_700_000_000_000, 5_000);
  const views = [
    new OrderSnapshot(rec),
    new OrderUpdate(rec, 'NEW'),
    new TradeUpdate(rec, 9, 2, 990, 1_980n, 3n, 'CRN', false),
    new ExpiryUpdate(rec, 'EXPIRED', 'UNFILLED_IOC_QUANTITY_EXPIRED', 0),
  ];
  const before = rec.state();
  // The record changes after the views were taken; they keep the old values.
  rec.executedLots = 2;
  rec.cumQuote = 1_980n;
  rec.status = 'PARTIALLY_FILLED';
  rec.updateTimeMs = 1_700_000_000_500;
  for (const v of views) {
    assert.equal(v.orderId, 42);
    assert.equal(v.userId, 7);
    assert.equal(v.status, 'NEW');
    assert.deepEqual(v.order, before);
    assert.equal(v.order, v.order, 'order is built once');
    assert.equal(v.order.clientOrderId, 'cairn-42');
  }
  const [, update, trade, expiry] = views as [OrderSnapshot, OrderUpdate, TradeUpdate, ExpiryUpdate];
  const json = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
  assert.equal(json(views[0]), json(before));
  for (const e of [update, trade, expiry]) assert.equal(e.type, 'order');
  assert.deepEqual(
    [update.execution, update.reason, update.counterOrderId, update.tradeId, update.lastQuote, update.commissionAsset, update.isMaker],
    ['NEW', 'NONE', 0, 0, 0n, '', false],
  );
  assert.deepEqual(
    [trade.execution, trade.reason, trade.tradeId, trade.lastLots, trade.lastPriceTicks, trade.lastQuote, trade.commission, trade.commissionAsset],
    ['TRADE', 'NONE', 9, 2, 990, 1_980n, 3n, 'CRN'],
  );
  assert.deepEqual([expiry.execution, expiry.reason, expiry.counterOrderId], ['EXPIRED', 'UNFILLED_IOC_QUANTITY_EXPIRED', 0]);
  // An event's JSON form is its plain form.
  for (const e of [update, trade, expiry]) assert.equal(json(e), json(plainOrderEvent(e)));
  // The copied fields are the only own enumerable ones (so deepStrictEqual sees no record).
  assert.deepEqual(Object.keys(update), ['quantityLots', 'executedLots', 'cumQuote', 'status', 'updateTimeMs', 'workingTimeMs', 'execution']);
});

test('order records keep their own terms (type, time in force, STP mode, stop price, quote quantity), shared or not', () => {
  const market = { symbol: 'CRNUSD' } as unknown as MarketState;
  const mk = (id: number, type: 'LIMIT' | 'MARKET' | 'STOP_LOSS_LIMIT', tif: 'GTC' | 'IOC', stp: 'NONE' | 'EXPIRE_MAKER', stop: number, qoq: bigint): OrderRecord =>
    new OrderRecord(id, market, 3, '', 'SELL', type, tif, type === 'MARKET' ? 0 : 500, 4, qoq, stop, stp, 1_700_000_000_000, 400);
  const recs = [
    mk(1, 'LIMIT', 'GTC', 'EXPIRE_MAKER', 0, 0n),
    mk(2, 'LIMIT', 'IOC', 'EXPIRE_MAKER', 0, 0n),
    mk(3, 'LIMIT', 'GTC', 'NONE', 0, 0n),
    mk(4, 'STOP_LOSS_LIMIT', 'GTC', 'NONE', 450, 0n),
    mk(5, 'MARKET', 'GTC', 'NONE', 0, 12_345n),
    mk(6, 'LIMIT', 'GTC', 'EXPIRE_MAKER', 0, 0n),
  ];
  const terms = (r: OrderRecord): unknown[] => [r.orderType, r.timeInForce, r.stpMode, r.stopPriceTicks, r.quoteOrderQty];
  assert.deepEqual(recs.map(terms), [
    ['LIMIT', 'GTC', 'EXPIRE_MAKER', 0, 0n],
    ['LIMIT', 'IOC', 'EXPIRE_MAKER', 0, 0n],
    ['LIMIT', 'GTC', 'NONE', 0, 0n],
    ['STOP_LOSS_LIMIT', 'GTC', 'NONE', 450, 0n],
    ['MARKET', 'GTC', 'NONE', 0, 12_345n],
    ['LIMIT', 'GTC', 'EXPIRE_MAKER', 0, 0n],
  ]);
  // A stop order is not working until triggered; the others are from their time.
  assert.deepEqual(recs.map((r) => r.workingTimeMs), [1_700_000_000_000, 1_700_000_000_000, 1_700_000_000_000, -1, 1_700_000_000_000, 1_700_000_000_000]);
  // The public state carries the terms.
  const s = recs[3]!.state();
  assert.deepEqual([s.orderType, s.timeInForce, s.stpMode, s.stopPriceTicks, s.quoteOrderQty, s.clientOrderId], ['STOP_LOSS_LIMIT', 'GTC', 'NONE', 450, 0n, 'cairn-4']);
});

test('order lock entries give signed deltas, no external id, and the balances after the move (also above 2^53)', () => {
  const json = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
  for (const start of [10n ** 15n, 2n ** 60n]) {
    const acct = new Account(9, 2);
    acct.setFree(1, start);
    const amount = toAmount(2n ** 40n + 3n);
    acct.lock(1, amount);
    const locked = new OrderLockEntry(9, 'USD', amount, acct, 1, 'ORDER_LOCK', 'CRNUSD', 77, 0);
    acct.unlock(1, amount);
    const unlocked = new OrderLockEntry(9, 'USD', amount, acct, 1, 'ORDER_UNLOCK', 'CRNUSD', 77, 5);
    const a = 2n ** 40n + 3n;
    assert.deepEqual(plainBalanceEvent(locked), {
      type: 'balance', userId: 9, asset: 'USD', deltaFree: -a, deltaLocked: a, free: start - a, locked: a,
      reason: 'ORDER_LOCK', symbol: 'CRNUSD', orderId: 77, tradeId: 0, externalId: '',
    });
    assert.deepEqual(plainBalanceEvent(unlocked), {
      type: 'balance', userId: 9, asset: 'USD', deltaFree: a, deltaLocked: -a, free: start, locked: 0n,
      reason: 'ORDER_UNLOCK', symbol: 'CRNUSD', orderId: 77, tradeId: 5, externalId: '',
    });
    assert.equal(json(unlocked), json(plainBalanceEvent(unlocked)));
  }
});
