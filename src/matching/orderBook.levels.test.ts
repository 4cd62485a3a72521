/**
 * Level churn over a wide price range, where the optimized book keeps emptied levels for reuse and compacts them
 * (BookSide): thousands of levels come and go, a sweep crosses runs of empty levels, and the optimized book must
 * still match the naive one event for event, keep its structures consistent and its empty levels bounded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GRID } from './bookHarness.test.js';
import { encodeBookSnapshot } from './bookSnapshot.js';
import type { MatchCommand } from './matchCommand.js';
import { CollectingSink } from './matchEvent.js';
import { NaiveOrderBook } from './naiveOrderBook.js';
import { OrderBook } from './orderBook.js';

test('thousands of levels emptied, compacted, reused and swept: same events as the naive book, consistent state', () => {
  const N = 1500;
  const commands: MatchCommand[] = [];
  let id = 0;
  const limit = (userId: number, side: 'BUY' | 'SELL', priceTicks: number, quantityLots: number, tif: 'GTC' | 'IOC' = 'GTC'): void => {
    commands.push({ type: 'PLACE', order: { orderId: ++id, userId, side, type: 'LIMIT', timeInForce: tif, priceTicks, quantityLots } });
  };
  for (let p = 1; p <= N; p++) limit(p % 7, 'BUY', p, 1 + (p % 3)); // ids 1..N, bids at 1..N
  for (let p = 1; p <= N; p++) limit(p % 5, 'SELL', 2 * N + p, 1); // asks above
  // Cancel all bids but every 15th, in a scattered order (7919 is prime to N): > 1,024 empties, > 4× the live ones.
  for (let k = 0; k < N; k++) {
    const p = ((k * 7919) % N) + 1;
    if (p % 15 !== 0) commands.push({ type: 'CANCEL', orderId: p, userId: p % 7 });
  }
  // New bids at used prices (reuse) and at fresh ones (splice), then a sell sweep through many levels.
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
    if (i % 97 === 0) fast.validateInternalState();
  }
  fast.validateInternalState();
  assert.deepEqual(a.events, b.events);
  assert.equal(encodeBookSnapshot(fast.snapshot()), encodeBookSnapshot(naive.snapshot()));
  assert.ok(a.events.filter((e) => e.kind === 'TRADE').length > 50, 'the sweep traded through many levels');
  assert.deepEqual(fast.depth('BUY', 3), naive.depth('BUY', 3));
});
