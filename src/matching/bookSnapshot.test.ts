import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { BookHarness, GRID, IMPLEMENTATIONS } from './bookHarness.test.js';
import { computeBookStateHash, encodeBookSnapshot } from './bookSnapshot.js';

/** The canonical encoding is the on-disk snapshot format and the input of the state hash: pinned here, byte for byte. */
const PINNED =
  '{"version":1,"symbol":"CRNUSD","tickSize":"0.01","stepSize":"0.0001","lastOrderId":5,"lastTradeId":1,"lastPriceTicks":101,' +
  '"bids":[[3,2,100,4,4]],"asks":[[2,1,101,3,1]],"stops":[[5,3,"SELL","STOP_LOSS_LIMIT","GTC","EXPIRE_MAKER",99,98,2]]}';

for (const { name, create } of IMPLEMENTATIONS) {
  test(`${name}: the canonical snapshot encoding and its hash are pinned`, () => {
    const h = new BookHarness(create(GRID));
    h.limit(1, 'BUY', 99, 1); // #1, canceled below
    h.limit(1, 'SELL', 101, 3); // #2
    h.limit(2, 'BUY', 100, 4); // #3
    h.limit(3, 'BUY', 101, 2, { tif: 'IOC' }); // #4 takes 2 of #2 at 101
    h.place({ userId: 3, side: 'SELL', type: 'STOP_LOSS_LIMIT', timeInForce: 'GTC', stopPriceTicks: 99, priceTicks: 98, quantityLots: 2 }); // #5
    h.run({ type: 'CANCEL', orderId: 1, userId: 1 });
    const snap = h.book.snapshot();
    assert.equal(encodeBookSnapshot(snap), PINNED);
    // Key order in the object does not matter, only the state.
    const reordered = Object.fromEntries(Object.entries(snap).reverse()) as unknown as typeof snap;
    assert.equal(encodeBookSnapshot(reordered), PINNED);
    assert.deepEqual(computeBookStateHash(snap), new Uint8Array(createHash('sha256').update(PINNED, 'utf8').digest()));
  });
}
