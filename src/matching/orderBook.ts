/**
 * The optimized order book of one market: price levels as intrusive FIFO queues, sides as sorted arrays of levels
 * keyed by integer tick, open orders in an open-addressing index by id, pending stop orders in two arrays sorted by
 * trigger price.
 * Integers are JS numbers (bounded by the grid: lots × ticks < 2^53); events go to the caller's sink through one
 * reused object.
 * @see exchange-core OrderBookDirectImpl; nautilus_trader crates/model/src/orderbook/ (ladder, level)
 */
import { checkBookSnapshot, type BookSnapshot, type SnapshotOrder, type SnapshotStop } from './bookSnapshot.js';
import { BookSide } from './bookSide.js';
import { checkNewOrder, isIntIn } from './checkNewOrder.js';
import {
  DEFAULT_STP_MODE,
  triggersOnRise,
  type CancelReplaceMode,
  type MatchCommand,
  type NewOrder,
  type Side,
  type StpMode,
  type TimeInForce,
} from './matchCommand.js';
import { EventWriter, type MatchEventSink, type MatchRejectReason } from './matchEvent.js';
import { quoteToLotTicks, type MarketGrid } from './marketGrid.js';
import { MatchingError } from './matchingError.js';
import { applyCommand, type DepthLevel, type MarketPreview, type OpenOrder, type OrderBookApi } from './orderBookApi.js';
import { IntKeyMap } from './intKeyMap.js';
import { OrderNode, PriceLevel } from './priceLevel.js';

/** How a taker's unfilled remainder ends: rests (GTC), expires (IOC, MARKET), or was checked whole before (FOK). */
type TakerMode = TimeInForce | 'MARKET';

type StopType = 'STOP_LOSS_LIMIT' | 'TAKE_PROFIT_LIMIT';

/** Recycled order nodes kept at most (about 1 MB); beyond that, freed nodes go to the garbage collector. */
const MAX_FREE_NODES = 16_384;

/** A stop order waiting for its trigger. */
class StopOrder {
  constructor(
    readonly orderId: number,
    readonly userId: number,
    readonly side: Side,
    readonly type: StopType,
    readonly timeInForce: TimeInForce,
    readonly stpMode: StpMode,
    readonly stopPriceTicks: number,
    readonly priceTicks: number,
    public quantityLots: number,
  ) {}
}

/**
 * The production order book. Follows the rules documented on OrderBookApi.
 * PERF: best bid/ask O(1); cancel by id O(1); a fill O(1); an order at a price seen lately O(1), at a new price an
 * O(log levels) search plus a splice of at most 128 elements (see BookSide). Order nodes are recycled through a
 * bounded free list, so resting orders do not churn the old-generation heap.
 */
export class OrderBook implements OrderBookApi {
  private readonly bids = new BookSide('BUY');
  private readonly asks = new BookSide('SELL');
  private readonly orders = new IntKeyMap<OrderNode>();
  private readonly stops = new Map<number, StopOrder>();
  /** Stops that trigger when the price rises to them, sorted by descending stop price (next to trigger last). */
  private readonly riseStops: StopOrder[] = [];
  /** Stops that trigger when the price falls to them, sorted by ascending stop price (next to trigger last). */
  private readonly fallStops: StopOrder[] = [];
  private readonly out = new EventWriter();
  /** Nodes of orders that left the book, reused by `rest` (never while a command still reads them: see execute). */
  private readonly freeNodes: OrderNode[] = [];
  private _lastOrderId = 0;
  private _lastTradeId = 0;
  private _lastPriceTicks = 0;

  constructor(readonly grid: MarketGrid) {}

  /**
   * A book holding exactly the snapshot's state.
   * @throws MatchingError BAD_SNAPSHOT
   */
  static fromSnapshot(grid: MarketGrid, snapshot: BookSnapshot): OrderBook {
    checkBookSnapshot(grid, snapshot);
    const book = new OrderBook(grid);
    book._lastOrderId = snapshot.lastOrderId;
    book._lastTradeId = snapshot.lastTradeId;
    book._lastPriceTicks = snapshot.lastPriceTicks;
    for (const [side, list] of [['BUY', snapshot.bids], ['SELL', snapshot.asks]] as const) {
      // The snapshot lists each side in priority order, so a level's orders are contiguous and in FIFO order.
      const levels: PriceLevel[] = [];
      for (const [orderId, userId, priceTicks, quantityLots, remainingLots] of list) {
        let level = levels[levels.length - 1];
        if (level === undefined || level.priceTicks !== priceTicks) levels.push((level = new PriceLevel(priceTicks)));
        const node = new OrderNode(orderId, userId, side, priceTicks, quantityLots, remainingLots);
        level.append(node);
        book.orders.set(orderId, node);
      }
      (side === 'BUY' ? book.bids : book.asks).load(levels);
    }
    for (const [orderId, userId, side, type, tif, stp, stopPriceTicks, priceTicks, quantityLots] of snapshot.stops) {
      book.addStop(new StopOrder(orderId, userId, side, type, tif, stp, stopPriceTicks, priceTicks, quantityLots));
    }
    return book;
  }

  get lastOrderId(): number {
    return this._lastOrderId;
  }

  get lastTradeId(): number {
    return this._lastTradeId;
  }

  get lastPriceTicks(): number {
    return this._lastPriceTicks;
  }

  get bestBidTicks(): number {
    return this.bids.best()?.priceTicks ?? 0;
  }

  get bestAskTicks(): number {
    return this.asks.best()?.priceTicks ?? 0;
  }

  get openOrderCount(): number {
    return this.orders.size + this.stops.size;
  }

  apply(command: MatchCommand, sink: MatchEventSink): void {
    applyCommand(this, command, sink);
  }

  place(order: NewOrder, sink: MatchEventSink): void {
    const reason = checkNewOrder(this.grid, this._lastOrderId, order);
    if (reason !== 'NONE') {
      this.noteOrderId(order);
      this.reject(sink, order, reason);
      return;
    }
    this.placeChecked(order, sink);
  }

  /**
   * `place` without its checkNewOrder: for a caller that has just run checkNewOrder(grid, lastOrderId, order) on this
   * book and got 'NONE', with no place in between (the exchange engine checks each order once, before it locks funds).
   * PERF: the engine's checks ran already; running them again was a second pass over every field.
   */
  placeChecked(order: NewOrder, sink: MatchEventSink): void {
    this._lastOrderId = order.orderId;
    const { orderId, userId, side } = order;
    const stpMode = order.stpMode ?? DEFAULT_STP_MODE;
    switch (order.type) {
      case 'LIMIT': {
        const qty = order.quantityLots!;
        this.out.order(sink, 'NEW', orderId, userId, side, order.priceTicks!, qty, qty, 'NEW', 'NONE', 0);
        this.execute(orderId, userId, side, order.priceTicks!, qty, order.timeInForce!, stpMode, sink);
        break;
      }
      case 'MARKET': {
        let qty: number;
        if (order.quoteOrderQty !== undefined) {
          qty = this.previewMarket(side, userId, stpMode, this.grid.maxQuantityLots, quoteToLotTicks(this.grid, order.quoteOrderQty)).lots;
          if (qty === 0) {
            this.reject(sink, order, 'INSUFFICIENT_LIQUIDITY_FOR_QUOTE_ORDER');
            return;
          }
        } else {
          qty = order.quantityLots!;
        }
        this.out.order(sink, 'NEW', orderId, userId, side, 0, qty, qty, 'NEW', 'NONE', 0);
        this.execute(orderId, userId, side, 0, qty, 'MARKET', stpMode, sink);
        break;
      }
      case 'LIMIT_MAKER': {
        const price = order.priceTicks!;
        const opposite = side === 'BUY' ? this.asks.best() : this.bids.best();
        if (opposite !== undefined && (side === 'BUY' ? price >= opposite.priceTicks : price <= opposite.priceTicks)) {
          this.reject(sink, order, 'WOULD_TAKE');
          return;
        }
        const qty = order.quantityLots!;
        this.out.order(sink, 'NEW', orderId, userId, side, price, qty, qty, 'NEW', 'NONE', 0);
        this.rest(orderId, userId, side, price, qty, qty, sink);
        return; // a maker cannot trade, so nothing can trigger
      }
      default: {
        const type = order.type as StopType;
        const stop = order.stopPriceTicks!;
        const last = this._lastPriceTicks;
        if (last !== 0 && (triggersOnRise(type, side) ? last >= stop : last <= stop)) {
          this.reject(sink, order, 'WOULD_TRIGGER_IMMEDIATELY');
          return;
        }
        const qty = order.quantityLots!;
        this.out.order(sink, 'NEW', orderId, userId, side, order.priceTicks!, qty, qty, 'NEW', 'NONE', 0);
        this.addStop(new StopOrder(orderId, userId, side, type, order.timeInForce!, stpMode, stop, order.priceTicks!, qty));
        return;
      }
    }
    if (this.riseStops.length !== 0 || this.fallStops.length !== 0) this.runTriggers(sink);
  }

  cancel(orderId: number, userId: number, sink: MatchEventSink): void {
    this.cancelOrReject(orderId, userId, sink);
  }

  amendKeepPriority(orderId: number, userId: number, newQuantityLots: number, sink: MatchEventSink): void {
    const node = this.orders.get(orderId);
    const stop = node === undefined ? this.stops.get(orderId) : undefined;
    const target = node ?? stop;
    let reason: MatchRejectReason | 'NONE' = 'NONE';
    if (target === undefined || target.userId !== userId) reason = 'UNKNOWN_ORDER';
    else if (!isIntIn(newQuantityLots, 1, this.grid.maxQuantityLots)) reason = 'INVALID_QUANTITY';
    else if (newQuantityLots > target.quantityLots) reason = 'AMEND_QUANTITY_INCREASE';
    else if (newQuantityLots === target.quantityLots) reason = 'AMEND_NO_CHANGE';
    else if (node !== undefined && newQuantityLots <= node.quantityLots - node.remainingLots) reason = 'AMEND_BELOW_EXECUTED';
    if (reason !== 'NONE') {
      this.out.order(sink, 'REJECTED', orderId, userId, 'BUY', 0, 0, 0, 'REJECTED', reason, 0);
      return;
    }
    if (node !== undefined) {
      const removed = node.quantityLots - newQuantityLots;
      node.quantityLots = newQuantityLots;
      node.remainingLots -= removed;
      node.level!.totalLots -= removed;
      const status = node.remainingLots === node.quantityLots ? 'NEW' : 'PARTIALLY_FILLED';
      this.out.order(sink, 'REPLACED', orderId, userId, node.side, node.priceTicks, removed, node.remainingLots, status, 'NONE', -removed);
    } else {
      const s = stop!;
      const removed = s.quantityLots - newQuantityLots;
      s.quantityLots = newQuantityLots;
      this.out.order(sink, 'REPLACED', orderId, userId, s.side, s.priceTicks, removed, newQuantityLots, 'NEW', 'NONE', 0);
    }
  }

  cancelReplace(cancelOrderId: number, mode: CancelReplaceMode, order: NewOrder, sink: MatchEventSink): void {
    // The new order's own checks come first: if they fail, nothing is canceled (Binance evaluates filters first).
    const reason = checkNewOrder(this.grid, this._lastOrderId, order);
    if (reason !== 'NONE') {
      this.noteOrderId(order);
      this.reject(sink, order, reason);
      return;
    }
    const canceled = this.cancelOrReject(cancelOrderId, order.userId, sink);
    if (!canceled && mode === 'STOP_ON_FAILURE') {
      this.reject(sink, order, 'NOT_ATTEMPTED');
      return;
    }
    this.place(order, sink);
  }

  previewMarket(takerSide: Side, userId: number, stpMode: StpMode, maxLots: number, maxLotTicks: number): MarketPreview {
    const chunks = (takerSide === 'BUY' ? this.asks : this.bids).chunks;
    let lots = 0;
    let lotTicks = 0;
    if (!isIntIn(maxLots, 1, Number.MAX_SAFE_INTEGER) || !isIntIn(maxLotTicks, 1, Number.MAX_SAFE_INTEGER)) return { lots, lotTicks };
    for (let c = chunks.length - 1; c >= 0; c--) {
      const chunk = chunks[c]!;
      for (let i = chunk.length - 1; i >= 0; i--) {
        const level = chunk[i]!;
        const price = level.priceTicks;
        // An empty level has no nodes: the loop passes it by.
        for (let node = level.head; node !== null; node = node.next) {
          if (stpMode === 'EXPIRE_MAKER' && node.userId === userId) continue;
          // Exact: both operands are integers ≤ 2^53 − 1, where floor of the double quotient is the integer quotient.
          const affordable = Math.floor((maxLotTicks - lotTicks) / price);
          if (affordable === 0) return { lots, lotTicks };
          const take = Math.min(node.remainingLots, affordable, maxLots - lots);
          lots += take;
          lotTicks += take * price;
          if (take < node.remainingLots || lots === maxLots) return { lots, lotTicks };
        }
      }
    }
    return { lots, lotTicks };
  }

  getOrder(orderId: number): OpenOrder | undefined {
    const node = this.orders.get(orderId);
    if (node !== undefined) {
      const { userId, side, priceTicks, quantityLots, remainingLots } = node;
      return { orderId, userId, side, priceTicks, quantityLots, remainingLots, stopPriceTicks: 0 };
    }
    const s = this.stops.get(orderId);
    if (s === undefined) return undefined;
    return {
      orderId,
      userId: s.userId,
      side: s.side,
      priceTicks: s.priceTicks,
      quantityLots: s.quantityLots,
      remainingLots: s.quantityLots,
      stopPriceTicks: s.stopPriceTicks,
    };
  }

  depth(side: Side, maxLevels: number): DepthLevel[] {
    const chunks = (side === 'BUY' ? this.bids : this.asks).chunks;
    const out: DepthLevel[] = [];
    for (let c = chunks.length - 1; c >= 0 && out.length < maxLevels; c--) {
      const chunk = chunks[c]!;
      for (let i = chunk.length - 1; i >= 0 && out.length < maxLevels; i--) {
        const level = chunk[i]!;
        if (level.orderCount !== 0) out.push([level.priceTicks, level.totalLots]);
      }
    }
    return out;
  }

  snapshot(): BookSnapshot {
    const sideOrders = (side: BookSide): SnapshotOrder[] => {
      const out: SnapshotOrder[] = [];
      for (let c = side.chunks.length - 1; c >= 0; c--) {
        const chunk = side.chunks[c]!;
        for (let i = chunk.length - 1; i >= 0; i--) {
          for (let n = chunk[i]!.head; n !== null; n = n.next) out.push([n.orderId, n.userId, n.priceTicks, n.quantityLots, n.remainingLots]);
        }
      }
      return out;
    };
    const stops: SnapshotStop[] = [...this.stops.values()]
      .sort((a, b) => a.orderId - b.orderId)
      .map((s) => [s.orderId, s.userId, s.side, s.type, s.timeInForce, s.stpMode, s.stopPriceTicks, s.priceTicks, s.quantityLots]);
    return {
      version: 1,
      symbol: this.grid.symbol,
      tickSize: this.grid.tickSize,
      stepSize: this.grid.stepSize,
      lastOrderId: this._lastOrderId,
      lastTradeId: this._lastTradeId,
      lastPriceTicks: this._lastPriceTicks,
      bids: sideOrders(this.bids),
      asks: sideOrders(this.asks),
      stops,
    };
  }

  /**
   * Checks the internal structures against each other (levels sorted, totals and counts, links, id index, no cross).
   * For tests; O(orders).
   * @throws MatchingError BAD_SNAPSHOT describing the first inconsistency
   */
  validateInternalState(): void {
    const fail = (why: string): never => {
      throw new MatchingError('BAD_SNAPSHOT', `OrderBook internal state: ${why}`);
    };
    let seen = 0;
    for (const side of [this.bids, this.asks]) {
      let prev: number | undefined;
      let levelCount = 0;
      if (side.best()?.orderCount === 0) fail('the best level is empty');
      if (!side.emptyLevelsWithinBound()) fail('too many empty levels kept');
      for (const chunk of side.chunks) {
        if (chunk.length === 0 || chunk.length > 128) fail('chunk size out of range');
        for (const level of chunk) {
          if (prev !== undefined && (side.side === 'BUY' ? level.priceTicks <= prev : level.priceTicks >= prev)) fail('levels out of order');
          prev = level.priceTicks;
          if (level.orderCount === 0) {
            if (level.head !== null || level.tail !== null || level.totalLots !== 0) fail(`empty level ${level.priceTicks} holds orders`);
            continue;
          }
          levelCount++;
          if (side.get(level.priceTicks) !== level) fail(`level ${level.priceTicks} missing from the price map`);
          let total = 0;
          let count = 0;
          let back: OrderNode | null = null;
          for (let n = level.head; n !== null; n = n.next) {
            if (n.prev !== back || n.level !== level || n.priceTicks !== level.priceTicks || n.side !== side.side) fail(`bad links at ${n.orderId}`);
            if (this.orders.get(n.orderId) !== n) fail(`order ${n.orderId} missing from the id map`);
            if (n.remainingLots < 1 || n.remainingLots > n.quantityLots) fail(`order ${n.orderId} remaining out of range`);
            total += n.remainingLots;
            count++;
            back = n;
          }
          if (back !== level.tail) fail(`tail of level ${level.priceTicks}`);
          if (count === 0 || count !== level.orderCount || total !== level.totalLots) fail(`totals of level ${level.priceTicks}`);
          seen += count;
        }
      }
      if (levelCount !== side.size) fail('level count');
    }
    if (seen !== this.orders.size) fail('id map holds orders that are not on the book');
    if (this.bestBidTicks !== 0 && this.bestAskTicks !== 0 && this.bestBidTicks >= this.bestAskTicks) fail('crossed book');
    if (this.riseStops.length + this.fallStops.length !== this.stops.size) fail('stop indexes disagree');
  }

  // ---------------------------------------------------------------------------------------------------------------

  /** An invalid or duplicate order still marks its id as seen when the id itself is new and valid. */
  private noteOrderId(order: NewOrder): void {
    if (typeof order === 'object' && order !== null && isIntIn(order.orderId, this._lastOrderId + 1, Number.MAX_SAFE_INTEGER)) {
      this._lastOrderId = order.orderId;
    }
  }

  private reject(sink: MatchEventSink, order: NewOrder, reason: MatchRejectReason): void {
    const o = typeof order === 'object' && order !== null ? order : ({} as Partial<NewOrder>);
    const orderId = isIntIn(o.orderId, 0, Number.MAX_SAFE_INTEGER) ? o.orderId : 0;
    const userId = isIntIn(o.userId, 0, Number.MAX_SAFE_INTEGER) ? o.userId : 0;
    const side: Side = o.side === 'SELL' ? 'SELL' : 'BUY';
    this.out.order(sink, 'REJECTED', orderId, userId, side, 0, 0, 0, 'REJECTED', reason, 0);
  }

  /** Cancels when the order is the user's; otherwise emits REJECTED UNKNOWN_ORDER. Returns whether it canceled. */
  private cancelOrReject(orderId: number, userId: number, sink: MatchEventSink): boolean {
    const node = this.orders.get(orderId);
    if (node !== undefined && node.userId === userId) {
      const remaining = node.remainingLots;
      this.removeResting(node);
      this.out.order(sink, 'CANCELED', orderId, userId, node.side, node.priceTicks, remaining, 0, 'CANCELED', 'NONE', -remaining);
      return true;
    }
    const stop = node === undefined ? this.stops.get(orderId) : undefined;
    if (stop !== undefined && stop.userId === userId) {
      this.removeStop(stop);
      this.out.order(sink, 'CANCELED', orderId, userId, stop.side, stop.priceTicks, stop.quantityLots, 0, 'CANCELED', 'NONE', 0);
      return true;
    }
    this.out.order(sink, 'REJECTED', isIntIn(orderId, 0, Number.MAX_SAFE_INTEGER) ? orderId : 0,
      isIntIn(userId, 0, Number.MAX_SAFE_INTEGER) ? userId : 0, 'BUY', 0, 0, 0, 'REJECTED', 'UNKNOWN_ORDER', 0);
    return false;
  }

  /** Takes a resting order off the book (and its level, if that empties). */
  private removeResting(node: OrderNode): void {
    const level = node.level!;
    level.unlink(node);
    this.orders.delete(node.orderId);
    if (level.orderCount === 0) (node.side === 'BUY' ? this.bids : this.asks).emptied(level);
    if (this.freeNodes.length < MAX_FREE_NODES) this.freeNodes.push(node);
  }

  private rest(orderId: number, userId: number, side: Side, price: number, qty: number, remaining: number, sink: MatchEventSink): void {
    const free = this.freeNodes.pop();
    const node = free === undefined ? new OrderNode(orderId, userId, side, price, qty, remaining) : free.reset(orderId, userId, side, price, qty, remaining);
    (side === 'BUY' ? this.bids : this.asks).levelFor(price).append(node);
    this.orders.set(orderId, node);
    this.out.order(sink, 'RESTED', orderId, userId, side, price, remaining, remaining, remaining === qty ? 'NEW' : 'PARTIALLY_FILLED', 'NONE', remaining);
  }

  /**
   * Runs a taker against the opposite side: FOK pre-check, fills in price-time priority at the makers' prices,
   * self-trade prevention, then rests or expires the remainder. `limit` 0 means no limit (MARKET).
   */
  private execute(
    orderId: number,
    userId: number,
    side: Side,
    limit: number,
    qty: number,
    mode: TakerMode,
    stpMode: StpMode,
    sink: MatchEventSink,
  ): void {
    const isBuy = side === 'BUY';
    const opposite = isBuy ? this.asks : this.bids;
    if (mode === 'FOK' && !this.canFillWhole(opposite, isBuy, userId, limit, qty, stpMode)) {
      this.out.order(sink, 'EXPIRED', orderId, userId, side, limit, qty, 0, 'EXPIRED', 'UNFILLED_FOK_ORDER_EXPIRED', 0);
      return;
    }
    const out = this.out;
    const stpActive = stpMode !== 'NONE';
    let remaining = qty;
    while (remaining > 0) {
      const level = opposite.best();
      if (level === undefined) break;
      const price = level.priceTicks;
      if (limit !== 0 && (isBuy ? price > limit : price < limit)) break;
      let maker = level.head;
      while (maker !== null && remaining > 0) {
        const next: OrderNode | null = maker.next;
        if (stpActive && maker.userId === userId) {
          if (stpMode === 'EXPIRE_TAKER') {
            out.prevented(sink, orderId, userId, side, price, remaining, maker.orderId, maker.userId, maker.remainingLots, 0);
            return;
          }
          const makerRemaining = maker.remainingLots;
          this.removeRestingFromLevel(maker, level);
          out.prevented(sink, maker.orderId, maker.userId, maker.side, price, makerRemaining, orderId, userId, remaining, -makerRemaining);
          if (stpMode === 'EXPIRE_BOTH') {
            if (level.orderCount === 0) opposite.emptied(level);
            out.prevented(sink, orderId, userId, side, price, remaining, maker.orderId, maker.userId, 0, 0);
            return;
          }
          maker = next;
          continue;
        }
        const makerRemaining = maker.remainingLots;
        const fill = remaining < makerRemaining ? remaining : makerRemaining;
        remaining -= fill;
        maker.remainingLots = makerRemaining - fill;
        level.totalLots -= fill;
        this._lastPriceTicks = price;
        if (maker.remainingLots === 0) this.removeRestingFromLevel(maker, level);
        out.trade(sink, ++this._lastTradeId, orderId, userId, side, price, fill, remaining, maker.orderId, maker.userId, maker.remainingLots);
        maker = next;
      }
      if (level.orderCount === 0) opposite.emptied(level);
    }
    if (remaining === 0) return;
    if (mode === 'GTC') this.rest(orderId, userId, side, limit, qty, remaining, sink);
    else {
      const reason = mode === 'IOC' ? 'UNFILLED_IOC_QUANTITY_EXPIRED' : mode === 'MARKET' ? 'INSUFFICIENT_LIQUIDITY' : 'UNFILLED_FOK_ORDER_EXPIRED';
      out.order(sink, 'EXPIRED', orderId, userId, side, limit, remaining, 0, 'EXPIRED', reason, 0);
    }
  }

  /**
   * Unlinks a maker from the level being matched; the caller reports the level once it is empty. The node goes to
   * the free list but keeps its fields until `rest` reuses it, which no matching loop does, so the caller may still
   * read it for the event.
   */
  private removeRestingFromLevel(node: OrderNode, level: PriceLevel): void {
    level.unlink(node);
    this.orders.delete(node.orderId);
    if (this.freeNodes.length < MAX_FREE_NODES) this.freeNodes.push(node);
  }

  /** FOK pre-check: can the taker fill `qty` whole, given what STP would skip or stop at? */
  private canFillWhole(opposite: BookSide, isBuy: boolean, userId: number, limit: number, qty: number, stpMode: StpMode): boolean {
    let need = qty;
    const chunks = opposite.chunks;
    for (let c = chunks.length - 1; c >= 0; c--) {
      const chunk = chunks[c]!;
      for (let i = chunk.length - 1; i >= 0; i--) {
        const level = chunk[i]!;
        if (level.orderCount === 0) continue;
        if (isBuy ? level.priceTicks > limit : level.priceTicks < limit) return false;
        if (stpMode === 'NONE') {
          need -= level.totalLots;
          if (need <= 0) return true;
          continue;
        }
        for (let n = level.head; n !== null; n = n.next) {
          if (n.userId === userId) {
            if (stpMode === 'EXPIRE_MAKER') continue;
            return false; // EXPIRE_TAKER / EXPIRE_BOTH: the taker would expire here
          }
          need -= n.remainingLots;
          if (need <= 0) return true;
        }
      }
    }
    return false;
  }

  private addStop(stop: StopOrder): void {
    this.stops.set(stop.orderId, stop);
    const rise = triggersOnRise(stop.type, stop.side);
    const list = rise ? this.riseStops : this.fallStops;
    // rise: descending stop price; fall: ascending. Binary search for the insertion point.
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const p = list[mid]!.stopPriceTicks;
      if (rise ? p >= stop.stopPriceTicks : p <= stop.stopPriceTicks) lo = mid + 1;
      else hi = mid;
    }
    list.splice(lo, 0, stop);
  }

  private removeStop(stop: StopOrder): void {
    this.stops.delete(stop.orderId);
    const list = triggersOnRise(stop.type, stop.side) ? this.riseStops : this.fallStops;
    list.splice(list.indexOf(stop), 1);
  }

  /** Triggers every stop the last price reached, in waves, each wave in increasing orderId. */
  private runTriggers(sink: MatchEventSink): void {
    for (;;) {
      const last = this._lastPriceTicks;
      if (last === 0) return;
      const rise = this.riseStops;
      const fall = this.fallStops;
      let wave: StopOrder[] | undefined;
      while (rise.length !== 0 && rise[rise.length - 1]!.stopPriceTicks <= last) (wave ??= []).push(rise.pop()!);
      while (fall.length !== 0 && fall[fall.length - 1]!.stopPriceTicks >= last) (wave ??= []).push(fall.pop()!);
      if (wave === undefined) return;
      wave.sort((a, b) => a.orderId - b.orderId);
      for (const s of wave) {
        this.stops.delete(s.orderId);
        this.out.order(sink, 'TRIGGERED', s.orderId, s.userId, s.side, s.priceTicks, s.quantityLots, s.quantityLots, 'NEW', 'NONE', 0);
        this.execute(s.orderId, s.userId, s.side, s.priceTicks, s.quantityLots, s.timeInForce, s.stpMode, sink);
      }
    }
  }
}
