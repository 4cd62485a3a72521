/**
 * fast-check properties of the order book over random command sequences (every order type, TIF and STP mode,
 * cancels, amends, cancel-replaces, stop triggers, bad ids and other users' ids):
 * - differential: OrderBook and NaiveOrderBook emit identical events and hold identical snapshots after every command;
 * - never crossed; FIFO within a level and best price first; fills at the maker's price and within the taker's limit;
 * - quantity conserved per order (placed = filled + open + canceled + expired + amended away);
 * - funds conserved through an account model that locks what each order can spend, settles each fill and unlocks at
 *   the end: no lock is ever overdrawn (a quoteOrderQty buy never spends more than given), and at the end every open
 *   order's lock is exactly what it still needs;
 * - FOK all or nothing; post-only never takes; STP never fills a user against themself;
 * - determinism: the same commands give the same events and state hash, also across a snapshot/restore midway.
 * Runs: FC_RUNS (default 300) sequences of up to 120 commands; FC_SEED reproduces a failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BookHarness, GRID } from './bookHarness.test.js';
import { computeBookStateHash, decodeBookSnapshot, encodeBookSnapshot } from './bookSnapshot.js';
import { DEFAULT_STP_MODE, type MatchCommand, type NewOrder, type Side, type StpMode, type TimeInForce } from './matchCommand.js';
import { CollectingSink, type MatchEvent } from './matchEvent.js';
import { NaiveOrderBook } from './naiveOrderBook.js';
import { OrderBook } from './orderBook.js';

const RUNS = Number(process.env.FC_RUNS ?? 300);
const SEED = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED);
const fcParams = { numRuns: RUNS, includeErrorInReport: true, ...(SEED === undefined ? {} : { seed: SEED }) };

// ---- random commands -------------------------------------------------------------------------------------------

type OrderTemplate =
  | { t: 'LIMIT'; side: Side; price: number; qty: number; tif: TimeInForce; stp: StpMode | undefined }
  | { t: 'MARKET'; side: Side; qty: number; stp: StpMode | undefined }
  | { t: 'QUOTE'; side: Side; lotTicks: number; extraUnits: number; stp: StpMode | undefined }
  | { t: 'LIMIT_MAKER'; side: Side; price: number; qty: number }
  | { t: 'STOP'; type: 'STOP_LOSS_LIMIT' | 'TAKE_PROFIT_LIMIT'; side: Side; stop: number; price: number; qty: number; tif: TimeInForce; stp: StpMode | undefined };

type Action =
  | { a: 'place'; user: number; order: OrderTemplate; reuseId: boolean }
  | { a: 'cancel'; pick: number; asOwner: boolean }
  | { a: 'amend'; pick: number; asOwner: boolean; newQty: number }
  | { a: 'replace'; pick: number; asOwner: boolean; stopOnFailure: boolean; user: number; order: OrderTemplate };

const arbSide = fc.constantFrom<Side>('BUY', 'SELL');
const arbStp = fc.constantFrom<StpMode | undefined>(undefined, 'NONE', 'EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH');
const arbTif = fc.constantFrom<TimeInForce>('GTC', 'GTC', 'IOC', 'FOK');
const arbPrice = fc.integer({ min: 95, max: 105 });
const arbQty = fc.integer({ min: 1, max: 8 });
const arbUser = fc.integer({ min: 1, max: 4 });
/** Mostly the owner: other users' attempts only need to be frequent enough to be tested. */
const arbAsOwner = fc.integer({ min: 0, max: 4 }).map((n) => n !== 0);

const arbTemplate: fc.Arbitrary<OrderTemplate> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ t: fc.constant('LIMIT' as const), side: arbSide, price: arbPrice, qty: arbQty, tif: arbTif, stp: arbStp }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('MARKET' as const), side: arbSide, qty: arbQty, stp: arbStp }) },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('QUOTE' as const),
      side: arbSide,
      lotTicks: fc.integer({ min: 1, max: 1200 }),
      extraUnits: fc.integer({ min: 0, max: Number(GRID.quoteUnitsPerLotTick) - 1 }),
      stp: arbStp,
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('LIMIT_MAKER' as const), side: arbSide, price: arbPrice, qty: arbQty }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('STOP' as const),
      type: fc.constantFrom('STOP_LOSS_LIMIT' as const, 'TAKE_PROFIT_LIMIT' as const),
      side: arbSide,
      stop: fc.integer({ min: 92, max: 108 }),
      price: arbPrice,
      qty: arbQty,
      tif: arbTif,
      stp: arbStp,
    }),
  },
);

const arbAction: fc.Arbitrary<Action> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ a: fc.constant('place' as const), user: arbUser, order: arbTemplate, reuseId: fc.constant(false) }) },
  { weight: 1, arbitrary: fc.record({ a: fc.constant('place' as const), user: arbUser, order: arbTemplate, reuseId: fc.constant(true) }) },
  { weight: 3, arbitrary: fc.record({ a: fc.constant('cancel' as const), pick: fc.nat(), asOwner: arbAsOwner }) },
  { weight: 2, arbitrary: fc.record({ a: fc.constant('amend' as const), pick: fc.nat(), asOwner: arbAsOwner, newQty: fc.integer({ min: 0, max: 9 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({ a: fc.constant('replace' as const), pick: fc.nat(), asOwner: arbAsOwner, stopOnFailure: fc.boolean(), user: arbUser, order: arbTemplate }),
  },
);

const arbActions = fc.array(arbAction, { minLength: 1, maxLength: 120, size: 'max' });

function toOrder(orderId: number, userId: number, o: OrderTemplate): NewOrder {
  const stp = (s: StpMode | undefined): { stpMode?: StpMode } => (s === undefined ? {} : { stpMode: s });
  switch (o.t) {
    case 'LIMIT':
      return { orderId, userId, side: o.side, type: 'LIMIT', timeInForce: o.tif, priceTicks: o.price, quantityLots: o.qty, ...stp(o.stp) };
    case 'MARKET':
      return { orderId, userId, side: o.side, type: 'MARKET', quantityLots: o.qty, ...stp(o.stp) };
    case 'QUOTE':
      return {
        orderId,
        userId,
        side: o.side,
        type: 'MARKET',
        quoteOrderQty: BigInt(o.lotTicks) * GRID.quoteUnitsPerLotTick + BigInt(o.extraUnits),
        ...stp(o.stp),
      };
    case 'LIMIT_MAKER':
      return { orderId, userId, side: o.side, type: 'LIMIT_MAKER', priceTicks: o.price, quantityLots: o.qty };
    case 'STOP':
      return {
        orderId,
        userId,
        side: o.side,
        type: o.type,
        timeInForce: o.tif,
        stopPriceTicks: o.stop,
        priceTicks: o.price,
        quantityLots: o.qty,
        ...stp(o.stp),
      };
  }
}

/** Turns actions into concrete commands: increasing ids, targets picked among the ids issued so far. */
function toCommands(actions: readonly Action[]): MatchCommand[] {
  const owners: Array<[number, number]> = [];
  let nextId = 1;
  const target = (pick: number, asOwner: boolean): [number, number] => {
    if (owners.length === 0) return [pick + 1, 1];
    const [id, owner] = owners[pick % owners.length]!;
    return [id, asOwner ? owner : (owner % 4) + 1];
  };
  return actions.map((act): MatchCommand => {
    switch (act.a) {
      case 'place': {
        const id = act.reuseId && nextId > 1 ? nextId - 1 : nextId++;
        owners.push([id, act.user]);
        return { type: 'PLACE', order: toOrder(id, act.user, act.order) };
      }
      case 'cancel': {
        const [orderId, userId] = target(act.pick, act.asOwner);
        return { type: 'CANCEL', orderId, userId };
      }
      case 'amend': {
        const [orderId, userId] = target(act.pick, act.asOwner);
        return { type: 'AMEND_KEEP_PRIORITY', orderId, userId, newQuantityLots: act.newQty };
      }
      case 'replace': {
        const [cancelOrderId, owner] = target(act.pick, act.asOwner);
        const id = nextId++;
        owners.push([id, owner]);
        return { type: 'CANCEL_REPLACE', cancelOrderId, mode: act.stopOnFailure ? 'STOP_ON_FAILURE' : 'ALLOW_FAILURE', order: toOrder(id, owner, act.order) };
      }
    }
  });
}

// ---- an independent checker fed by the events ------------------------------------------------------------------

interface ModelResting {
  side: Side;
  price: number;
  remaining: number;
  restSeq: number;
}

interface OrderInfo {
  order: NewOrder;
  placed: number;
  accounted: number;
  lockAsset: 'base' | 'quote';
  lock: number;
  open: boolean;
}

/**
 * Checks each command's events against a model built only from earlier events and the commands: resting orders
 * (for FIFO and maker price), per-order quantities, and per-user funds in lots (base) and lots × ticks (quote).
 */
class EventChecker {
  private readonly resting = new Map<number, ModelResting>();
  private restSeq = 0;
  private readonly info = new Map<number, OrderInfo>();
  private readonly funds = new Map<string, { free: number; locked: number }>();
  private readonly INITIAL = 1e9;

  private account(user: number, asset: 'base' | 'quote'): { free: number; locked: number } {
    const key = `${user}:${asset}`;
    let a = this.funds.get(key);
    if (a === undefined) {
      a = { free: this.INITIAL, locked: 0 };
      this.funds.set(key, a);
    }
    return a;
  }

  /** `marketBuyCost`: what a MARKET buy by quantity may spend, from previewMarket before the command. */
  check(command: MatchCommand, events: readonly MatchEvent[], book: OrderBook, marketBuyCost: number): void {
    const newOrders = new Map<number, NewOrder>();
    if (command.type === 'PLACE' || command.type === 'CANCEL_REPLACE') newOrders.set(command.order.orderId, command.order);
    const takerTrades = new Map<number, number>();
    for (const e of events) {
      switch (e.kind) {
        case 'NEW': {
          const order = newOrders.get(e.orderId);
          assert.ok(order !== undefined, `NEW for an order this command did not place: ${e.orderId}`);
          assert.ok(!this.info.has(e.orderId), `order ${e.orderId} accepted twice`);
          let lock: number;
          let asset: 'base' | 'quote';
          if (order.side === 'SELL') {
            asset = 'base';
            lock = e.quantityLots;
          } else {
            asset = 'quote';
            if (order.type !== 'MARKET') lock = e.quantityLots * order.priceTicks!;
            else if (order.quoteOrderQty !== undefined) lock = Number(order.quoteOrderQty / GRID.quoteUnitsPerLotTick);
            else lock = marketBuyCost;
          }
          const acct = this.account(e.userId, asset);
          acct.free -= lock;
          acct.locked += lock;
          this.info.set(e.orderId, { order, placed: e.quantityLots, accounted: 0, lockAsset: asset, lock, open: true });
          break;
        }
        case 'RESTED':
          this.resting.set(e.orderId, { side: e.side, price: e.priceTicks, remaining: e.remainingLots, restSeq: this.restSeq++ });
          break;
        case 'TRADE': {
          const taker = this.info.get(e.orderId)!;
          const maker = this.resting.get(e.counterOrderId);
          assert.ok(maker !== undefined, `maker ${e.counterOrderId} is not resting`);
          // Fills at the maker's price, best price first, FIFO within the price.
          assert.equal(e.priceTicks, maker.price, 'fill not at the maker price');
          for (const [id, r] of this.resting) {
            if (r.side !== maker.side || id === e.counterOrderId) continue;
            const better = maker.side === 'BUY' ? r.price > maker.price : r.price < maker.price;
            assert.ok(!better, `maker ${e.counterOrderId} at ${maker.price} filled while ${id} rests at a better ${r.price}`);
            if (r.price === maker.price) assert.ok(r.restSeq > maker.restSeq, `FIFO broken: ${id} rested before ${e.counterOrderId}`);
          }
          // Within the taker's limit; post-only never takes; STP never lets a user fill against themself.
          const limit = taker.order.type === 'MARKET' ? undefined : taker.order.priceTicks!;
          if (limit !== undefined) assert.ok(e.side === 'BUY' ? e.priceTicks <= limit : e.priceTicks >= limit, 'fill beyond the taker limit');
          assert.notEqual(taker.order.type, 'LIMIT_MAKER', 'a LIMIT_MAKER order took liquidity');
          if (e.userId === e.counterUserId) assert.equal(taker.order.stpMode ?? DEFAULT_STP_MODE, 'NONE', 'self-trade despite STP');
          maker.remaining -= e.quantityLots;
          assert.equal(maker.remaining, e.counterRemainingLots);
          if (maker.remaining === 0) this.resting.delete(e.counterOrderId);
          takerTrades.set(e.orderId, (takerTrades.get(e.orderId) ?? 0) + e.quantityLots);
          this.settle(e, taker, this.info.get(e.counterOrderId)!, limit);
          break;
        }
        case 'CANCELED':
        case 'EXPIRED':
        case 'TRADE_PREVENTION': {
          if (e.bookDeltaLots !== 0) {
            assert.equal(this.resting.get(e.orderId)?.remaining, e.quantityLots);
            this.resting.delete(e.orderId);
          }
          const inf = this.info.get(e.orderId)!;
          if (e.kind === 'EXPIRED' && e.reason === 'UNFILLED_FOK_ORDER_EXPIRED') {
            assert.equal(takerTrades.get(e.orderId) ?? 0, 0, 'FOK order expired after filling');
            assert.equal(e.quantityLots, inf.placed - inf.accounted, 'FOK order expired in part');
          }
          inf.accounted += e.quantityLots;
          this.close(e.orderId);
          break;
        }
        case 'REPLACED': {
          const r = this.resting.get(e.orderId);
          if (r !== undefined) r.remaining = e.remainingLots;
          const inf = this.info.get(e.orderId)!;
          inf.accounted += e.quantityLots;
          const release = inf.lockAsset === 'quote' ? e.quantityLots * inf.order.priceTicks! : e.quantityLots;
          this.move(e.userId, inf, release);
          break;
        }
        case 'TRIGGERED':
        case 'REJECTED':
          break;
      }
    }
    // FOK orders that did not expire filled whole in this command.
    for (const [id, order] of newOrders) {
      const inf = this.info.get(id);
      if (inf !== undefined && order.type === 'LIMIT' && order.timeInForce === 'FOK' && inf.open === false && (takerTrades.get(id) ?? 0) > 0) {
        assert.equal(takerTrades.get(id), inf.placed, 'FOK filled in part');
      }
    }
    // The model's resting orders are the book's.
    const snap = book.snapshot();
    const bookResting = new Map([...snap.bids, ...snap.asks].map(([id, , , , remaining]) => [id, remaining]));
    assert.deepEqual(new Map([...this.resting].map(([id, r]): [number, number] => [id, r.remaining]).sort()), new Map([...bookResting].sort()));
  }

  /** Moves a fill between the two users and out of both locks; a lock never goes below zero. */
  private settle(e: MatchEvent, taker: OrderInfo, maker: OrderInfo, limit: number | undefined): void {
    const quote = e.quantityLots * e.priceTicks;
    const buyer = e.side === 'BUY' ? taker : maker;
    const seller = e.side === 'BUY' ? maker : taker;
    const buyerId = e.side === 'BUY' ? e.userId : e.counterUserId;
    const sellerId = e.side === 'BUY' ? e.counterUserId : e.userId;
    this.spend(buyerId, buyer, quote);
    this.account(buyerId, 'base').free += e.quantityLots;
    this.spend(sellerId, seller, e.quantityLots);
    this.account(sellerId, 'quote').free += quote;
    // A buy taker with a limit locked at its limit: the price improvement goes back at once.
    if (e.side === 'BUY' && limit !== undefined) this.move(buyerId, buyer, e.quantityLots * (limit - e.priceTicks));
    taker.accounted += e.quantityLots;
    maker.accounted += e.quantityLots;
    if (e.remainingLots === 0) this.close(e.orderId);
    if (e.counterRemainingLots === 0) this.close(e.counterOrderId);
  }

  private spend(user: number, inf: OrderInfo, amount: number): void {
    assert.ok(inf.lock >= amount, `order ${inf.order.orderId} spends ${amount} with ${inf.lock} locked`);
    inf.lock -= amount;
    this.account(user, inf.lockAsset).locked -= amount;
  }

  /** Unlocks part of an order's lock back to free. */
  private move(user: number, inf: OrderInfo, amount: number): void {
    assert.ok(inf.lock >= amount, `order ${inf.order.orderId} releases ${amount} with ${inf.lock} locked`);
    inf.lock -= amount;
    const a = this.account(user, inf.lockAsset);
    a.locked -= amount;
    a.free += amount;
  }

  private close(orderId: number): void {
    const inf = this.info.get(orderId)!;
    inf.open = false;
    this.move(inf.order.userId, inf, inf.lock);
  }

  /** End of a sequence: quantities and funds add up, and open orders hold exactly the lock they need. */
  finish(book: OrderBook): void {
    for (const [id, inf] of this.info) {
      const open = book.getOrder(id);
      assert.equal(inf.accounted + (open?.remainingLots ?? 0), inf.placed, `quantity of order ${id} does not add up`);
      assert.equal(inf.open, open !== undefined, `order ${id} open in the model but not in the book, or the reverse`);
      if (open !== undefined) {
        const need = inf.lockAsset === 'quote' ? open.remainingLots * open.priceTicks : open.remainingLots;
        assert.equal(inf.lock, need, `order ${id} locks ${inf.lock}, needs ${need}`);
      }
    }
    const users = new Set([...this.funds.keys()].map((k) => k.split(':')[0]));
    for (const asset of ['base', 'quote'] as const) {
      let total = 0;
      let locked = 0;
      for (const u of users) {
        const a = this.account(Number(u), asset);
        assert.ok(a.locked >= 0, 'negative lock');
        total += a.free + a.locked;
        locked += a.locked;
      }
      assert.equal(total, this.INITIAL * users.size, `${asset} not conserved`);
      let need = 0;
      for (const [, inf] of this.info) if (inf.open && inf.lockAsset === asset) need += inf.lock;
      assert.equal(locked, need);
    }
  }
}

/** The cost a MARKET buy by quantity may lock: what it could take now (its user's STP mode applied). */
function marketBuyCost(book: OrderBook, command: MatchCommand): number {
  const order = command.type === 'PLACE' || command.type === 'CANCEL_REPLACE' ? command.order : undefined;
  if (order === undefined || order.type !== 'MARKET' || order.side !== 'BUY' || order.quantityLots === undefined) return 0;
  // A cancel-replace first cancels: preview on a copy with the cancel applied.
  let b = book;
  if (command.type === 'CANCEL_REPLACE') {
    b = OrderBook.fromSnapshot(GRID, book.snapshot());
    b.cancel(command.cancelOrderId, order.userId, () => {});
  }
  return b.previewMarket('BUY', order.userId, order.stpMode ?? DEFAULT_STP_MODE, order.quantityLots, Number.MAX_SAFE_INTEGER).lotTicks;
}

// ---- the properties -------------------------------------------------------------------------------------------

test('OrderBook and NaiveOrderBook agree event for event, and every invariant holds after every command', () => {
  fc.assert(
    fc.property(arbActions, (actions) => {
      const commands = toCommands(actions);
      const fast = new BookHarness(new OrderBook(GRID));
      const naive = new BookHarness(new NaiveOrderBook(GRID));
      const checker = new EventChecker();
      for (const command of commands) {
        const cost = marketBuyCost(fast.book as OrderBook, command);
        fast.run(command); // also checks: not crossed, internal state, depth from bookDeltaLots
        naive.run(command);
        assert.deepEqual(fast.last, naive.last);
        assert.equal(encodeBookSnapshot(fast.book.snapshot()), encodeBookSnapshot(naive.book.snapshot()));
        checker.check(command, fast.last, fast.book as OrderBook, cost);
      }
      checker.finish(fast.book as OrderBook);
    }),
    fcParams,
  );
});

test('previewMarket agrees between the implementations for any side, user, STP mode and limits', () => {
  fc.assert(
    fc.property(arbActions, arbSide, arbUser, arbStp, fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 5000 }), (actions, side, user, stp, maxLots, maxLotTicks) => {
      const fast = new OrderBook(GRID);
      const naive = new NaiveOrderBook(GRID);
      for (const c of toCommands(actions)) {
        fast.apply(c, () => {});
        naive.apply(c, () => {});
      }
      const mode = stp ?? DEFAULT_STP_MODE;
      const p = fast.previewMarket(side, user, mode, maxLots, maxLotTicks);
      assert.deepEqual(p, naive.previewMarket(side, user, mode, maxLots, maxLotTicks));
      assert.ok(p.lots <= maxLots && p.lotTicks <= maxLotTicks);
    }),
    fcParams,
  );
});

test('determinism: the same commands give the same events and state hash, also across snapshot and restore', () => {
  fc.assert(
    fc.property(arbActions, fc.nat(), (actions, cutAt) => {
      const commands = toCommands(actions);
      const cut = cutAt % (commands.length + 1);
      const run = (): { events: MatchEvent[]; hash: string } => {
        const book = new OrderBook(GRID);
        const sink = new CollectingSink();
        for (const c of commands) book.apply(c, sink.sink);
        return { events: sink.events, hash: Buffer.from(computeBookStateHash(book.snapshot())).toString('hex') };
      };
      const first = run();
      assert.deepEqual(run(), first);
      // Stop after `cut` commands, write the snapshot as text, restore, and go on.
      const before = new OrderBook(GRID);
      const sink = new CollectingSink();
      for (const c of commands.slice(0, cut)) before.apply(c, sink.sink);
      const restored = OrderBook.fromSnapshot(GRID, decodeBookSnapshot(GRID, encodeBookSnapshot(before.snapshot())));
      for (const c of commands.slice(cut)) restored.apply(c, sink.sink);
      assert.deepEqual(sink.events, first.events);
      assert.equal(Buffer.from(computeBookStateHash(restored.snapshot())).toString('hex'), first.hash);
    }),
    fcParams,
  );
});
