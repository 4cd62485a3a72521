/**
 * Level churn over a wide price range, where the optimized book's sides split into many chunks (BookSide): thousands
 * of levels come and go deep in the book and at its top, chunks split and vanish, a sweep crosses many levels, and the
 * optimized book must still match the naive one event for event and keep its structures consistent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GRID } from './bookHarness.test.js';
import { encodeBookSnapshot } from './bookSnapshot.js';
import type { MatchCommand } from './matchCommand.js';
import { CollectingSink } from './matchEvent.js';
import { NaiveOrderBook } from './naiveOrderBook.js';
import { OrderBook } from './orderBook.js';

test('thousands of levels created, emptied, re-created and swept: same events as the naive book, consistent state', () => {
  const N = 5000;
  const ASKS = 100;
  const commands: MatchCommand[] = [];
  let id = 0;
  const limit = (userId: number, side: 'BUY' | 'SELL', priceTicks: number, quantityLots: number, tif: 'GTC' | 'IOC' = 'GTC'): void => {
    commands.push({ type: 'PLACE', order: { orderId: ++id, userId, side, type: 'LIMIT', timeInForce: tif, priceTicks, quantityLots } });
  };
  for (let p = 1; p <= N; p++) limit(p % 7, 'BUY', p, 1 + (p % 3)); // ids 1..N, bids at 1..N
  for (let p = 1; p <= ASKS; p++) limit(p % 5, 'SELL', 2 * N + p, 1); // asks above
  // Cancel all bids but every 50th, in a scattered order (7919 is prime to N): the emptied levels stay until there
  // are more than BookSide keeps (4,096 and 8× the live ones), then a compaction drops them.
  for (let k = 0; k < N; k++) {
    const p = ((k * 7919) % N) + 1;
    if (p % 50 !== 0) commands.push({ type: 'CANCEL', orderId: p, userId: p % 7 });
  }
  // New bids at used prices and at fresh ones, deep and at the top, then a sell sweep through many levels.
  for (let p = 3; p <= N; p += 45) limit(9, 'BUY', p, 2);
  for (let p = N + 1; p <= N + 40; p += 3) limit(9, 'BUY', p, 1);
  limit(8, 'SELL', 200, 150, 'IOC');
  for (let p = 100; p <= 600; p += 7) limit(10, 'BUY', p, 1);

  const fast = new OrderBook(GRID);
  const naive = new NaiveOrderBook(GRID);
  const a = new CollectingSink();
  const b = new CollectingSink();
  for (const [i, c] of commands.entries()) {
    fast.apply(c, a.sink);
    naive.apply(c, b.sink);
    if (i % 197 === 0) fast.validateInternalState();
  }
  fast.validateInternalState();
  assert.deepEqual(a.events, b.events);
  assert.equal(encodeBookSnapshot(fast.snapshot()), encodeBookSnapshot(naive.snapshot()));
  assert.ok(a.events.filter((e) => e.kind === 'TRADE').length > 50, 'the sweep traded through many levels');
  assert.deepEqual(fast.depth('BUY', 3), naive.depth('BUY', 3));
});

test('random deep books (hundreds of levels a side, chunks splitting and emptying): same events as the naive book', () => {
  const arbCommand = fc.oneof(
    { weight: 8, arbitrary: fc.record({ k: fc.constant('bid' as const), price: fc.integer({ min: 1, max: 1000 }), user: fc.integer({ min: 1, max: 9 }) }) },
    { weight: 8, arbitrary: fc.record({ k: fc.constant('ask' as const), price: fc.integer({ min: 1001, max: 2000 }), user: fc.integer({ min: 1, max: 9 }) }) },
    { weight: 3, arbitrary: fc.record({ k: fc.constant('cancel' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('sweep' as const), sell: fc.boolean(), qty: fc.integer({ min: 1, max: 25 }) }) },
  );
  fc.assert(
    fc.property(fc.array(arbCommand, { minLength: 500, maxLength: 900 }), (actions) => {
      const fast = new OrderBook(GRID);
      const naive = new NaiveOrderBook(GRID);
      const a = new CollectingSink();
      const b = new CollectingSink();
      const placed: Array<[number, number]> = [];
      let id = 0;
      for (const act of actions) {
        let c: MatchCommand;
        if (act.k === 'cancel') {
          const [orderId, userId] = placed[act.pick % Math.max(1, placed.length)] ?? [1, 1];
          c = { type: 'CANCEL', orderId, userId };
        } else if (act.k === 'sweep') {
          c = { type: 'PLACE', order: { orderId: ++id, userId: 99, side: act.sell ? 'SELL' : 'BUY', type: 'MARKET', quantityLots: act.qty } };
        } else {
          placed.push([++id, act.user]);
          c = { type: 'PLACE', order: { orderId: id, userId: act.user, side: act.k === 'bid' ? 'BUY' : 'SELL', type: 'LIMIT', timeInForce: 'GTC', priceTicks: act.price, quantityLots: 1 + (id % 4) } };
        }
        fast.apply(c, a.sink);
        naive.apply(c, b.sink);
        fast.validateInternalState();
      }
      assert.deepEqual(a.events, b.events);
      assert.equal(encodeBookSnapshot(fast.snapshot()), encodeBookSnapshot(naive.snapshot()));
    }),
    // A failure here shrinks over hundreds of commands: bound the time, and count an interrupted run as failed.
    { numRuns: Number(process.env.FC_RUNS ?? 300) / 10, interruptAfterTimeLimit: 60_000, markInterruptAsFailure: true },
  );
});
