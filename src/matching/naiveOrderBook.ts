/**
 * The reference order book: plain arrays, every step recomputed from scratch (sort the resting orders, take the
 * first), so its correctness can be read off the code. It shares only the command checks and the event writer with
 * the optimized OrderBook; the shared suite and the differential property test hold the two to identical events and
 * snapshots. Far too slow for production (O(n log n) per fill).
 * @see exchange-core OrderBookNaiveImpl (the same role); STYLE.md §6.10
 */
import { checkBookSnapshot, type BookSnapshot, type SnapshotOrder, type SnapshotStop } from './bookSnapshot.js';
import { checkNewOrder, isIntIn } from './checkNewOrder.js';
import {
  DEFAULT_STP_MODE,
  oppositeSide,
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
import { applyCommand, type DepthLevel, type MarketPreview, type OpenOrder, type OrderBookApi } from './orderBookApi.js';

interface RestingOrder {
  orderId: number;
  userId: number;
  side: Side;
  priceTicks: number;
  quantityLots: number;
  remainingLots: number;
  /** Arrival on the book: lower = earlier = higher time priority. */
  seq: number;
}

interface PendingStop {
  orderId: number;
  userId: number;
  side: Side;
  type: 'STOP_LOSS_LIMIT' | 'TAKE_PROFIT_LIMIT';
  timeInForce: TimeInForce;
  stpMode: StpMode;
  stopPriceTicks: number;
  priceTicks: number;
  quantityLots: number;
}

/** The naive reference implementation of OrderBookApi. */
export class NaiveOrderBook implements OrderBookApi {
  private resting: RestingOrder[] = [];
  private stops: PendingStop[] = [];
  private seq = 0;
  private readonly out = new EventWriter();
  lastOrderId = 0;
  lastTradeId = 0;
  lastPriceTicks = 0;

  constructor(readonly grid: MarketGrid) {}

  /**
   * A book holding exactly the snapshot's state.
   * @throws MatchingError BAD_SNAPSHOT
   */
  static fromSnapshot(grid: MarketGrid, snapshot: BookSnapshot): NaiveOrderBook {
    checkBookSnapshot(grid, snapshot);
    const book = new NaiveOrderBook(grid);
    book.lastOrderId = snapshot.lastOrderId;
    book.lastTradeId = snapshot.lastTradeId;
    book.lastPriceTicks = snapshot.lastPriceTicks;
    for (const [side, list] of [['BUY', snapshot.bids], ['SELL', snapshot.asks]] as const) {
      for (const [orderId, userId, priceTicks, quantityLots, remainingLots] of list) {
        book.resting.push({ orderId, userId, side, priceTicks, quantityLots, remainingLots, seq: book.seq++ });
      }
    }
    for (const [orderId, userId, side, type, timeInForce, stpMode, stopPriceTicks, priceTicks, quantityLots] of snapshot.stops) {
      book.stops.push({ orderId, userId, side, type, timeInForce, stpMode, stopPriceTicks, priceTicks, quantityLots });
    }
    return book;
  }

  get bestBidTicks(): number {
    return this.sorted('BUY')[0]?.priceTicks ?? 0;
  }

  get bestAskTicks(): number {
    return this.sorted('SELL')[0]?.priceTicks ?? 0;
  }

  get openOrderCount(): number {
    return this.resting.length + this.stops.length;
  }

  apply(command: MatchCommand, sink: MatchEventSink): void {
    applyCommand(this, command, sink);
  }

  place(order: NewOrder, sink: MatchEventSink): void {
    const reason = checkNewOrder(this.grid, this.lastOrderId, order);
    if (typeof order === 'object' && order !== null && isIntIn(order.orderId, 1, Number.MAX_SAFE_INTEGER) && order.orderId > this.lastOrderId) {
      this.lastOrderId = order.orderId;
    }
    if (reason !== 'NONE') {
      this.reject(sink, order, reason);
      return;
    }
    const stpMode = order.stpMode ?? DEFAULT_STP_MODE;
    const { orderId, userId, side } = order;
    if (order.type === 'LIMIT_MAKER') {
      const bestOpposite = this.sorted(oppositeSide(side))[0];
      const price = order.priceTicks!;
      if (bestOpposite !== undefined && (side === 'BUY' ? price >= bestOpposite.priceTicks : price <= bestOpposite.priceTicks)) {
        this.reject(sink, order, 'WOULD_TAKE');
        return;
      }
      this.out.order(sink, 'NEW', orderId, userId, side, price, order.quantityLots!, order.quantityLots!, 'NEW', 'NONE', 0);
      this.rest(orderId, userId, side, price, order.quantityLots!, order.quantityLots!, sink);
      return;
    }
    if (order.type === 'STOP_LOSS_LIMIT' || order.type === 'TAKE_PROFIT_LIMIT') {
      if (this.lastPriceTicks !== 0 && this.reached(order.type, side, order.stopPriceTicks!)) {
        this.reject(sink, order, 'WOULD_TRIGGER_IMMEDIATELY');
        return;
      }
      this.out.order(sink, 'NEW', orderId, userId, side, order.priceTicks!, order.quantityLots!, order.quantityLots!, 'NEW', 'NONE', 0);
      this.stops.push({
        orderId,
        userId,
        side,
        type: order.type,
        timeInForce: order.timeInForce!,
        stpMode,
        stopPriceTicks: order.stopPriceTicks!,
        priceTicks: order.priceTicks!,
        quantityLots: order.quantityLots!,
      });
      return;
    }
    if (order.type === 'LIMIT') {
      this.out.order(sink, 'NEW', orderId, userId, side, order.priceTicks!, order.quantityLots!, order.quantityLots!, 'NEW', 'NONE', 0);
      this.execute(orderId, userId, side, order.priceTicks!, order.quantityLots!, order.timeInForce!, stpMode, sink);
    } else {
      let qty = order.quantityLots;
      if (qty === undefined) {
        const budget = quoteToLotTicks(this.grid, order.quoteOrderQty!);
        qty = this.previewMarket(side, userId, stpMode, this.grid.maxQuantityLots, budget).lots;
        if (qty === 0) {
          this.reject(sink, order, 'INSUFFICIENT_LIQUIDITY_FOR_QUOTE_ORDER');
          return;
        }
      }
      this.out.order(sink, 'NEW', orderId, userId, side, 0, qty, qty, 'NEW', 'NONE', 0);
      this.execute(orderId, userId, side, undefined, qty, 'MARKET', stpMode, sink);
    }
    this.triggerStops(sink);
  }

  cancel(orderId: number, userId: number, sink: MatchEventSink): void {
    this.tryCancel(orderId, userId, sink);
  }

  amendKeepPriority(orderId: number, userId: number, newQuantityLots: number, sink: MatchEventSink): void {
    const resting = this.resting.find((o) => o.orderId === orderId && o.userId === userId);
    const stop = this.stops.find((s) => s.orderId === orderId && s.userId === userId);
    let reason: MatchRejectReason | undefined;
    if (resting === undefined && stop === undefined) reason = 'UNKNOWN_ORDER';
    else if (!isIntIn(newQuantityLots, 1, this.grid.maxQuantityLots)) reason = 'INVALID_QUANTITY';
    else {
      const current = (resting ?? stop)!.quantityLots;
      const executed = resting === undefined ? 0 : resting.quantityLots - resting.remainingLots;
      if (newQuantityLots > current) reason = 'AMEND_QUANTITY_INCREASE';
      else if (newQuantityLots === current) reason = 'AMEND_NO_CHANGE';
      else if (newQuantityLots <= executed) reason = 'AMEND_BELOW_EXECUTED';
    }
    if (reason !== undefined) {
      this.out.order(sink, 'REJECTED', orderId, userId, 'BUY', 0, 0, 0, 'REJECTED', reason, 0);
      return;
    }
    if (resting !== undefined) {
      const removed = resting.quantityLots - newQuantityLots;
      resting.quantityLots = newQuantityLots;
      resting.remainingLots -= removed;
      const status = resting.remainingLots === resting.quantityLots ? 'NEW' : 'PARTIALLY_FILLED';
      this.out.order(sink, 'REPLACED', orderId, userId, resting.side, resting.priceTicks, removed, resting.remainingLots, status, 'NONE', -removed);
    } else {
      const removed = stop!.quantityLots - newQuantityLots;
      stop!.quantityLots = newQuantityLots;
      this.out.order(sink, 'REPLACED', orderId, userId, stop!.side, stop!.priceTicks, removed, newQuantityLots, 'NEW', 'NONE', 0);
    }
  }

  cancelReplace(cancelOrderId: number, mode: CancelReplaceMode, order: NewOrder, sink: MatchEventSink): void {
    if (checkNewOrder(this.grid, this.lastOrderId, order) !== 'NONE') {
      this.place(order, sink); // refuses it, with its reason, before anything is canceled
      return;
    }
    if (!this.tryCancel(cancelOrderId, order.userId, sink) && mode === 'STOP_ON_FAILURE') {
      this.reject(sink, order, 'NOT_ATTEMPTED');
      return;
    }
    this.place(order, sink);
  }

  previewMarket(takerSide: Side, userId: number, stpMode: StpMode, maxLots: number, maxLotTicks: number): MarketPreview {
    let lots = 0;
    let lotTicks = 0;
    if (!isIntIn(maxLots, 1, Number.MAX_SAFE_INTEGER) || !isIntIn(maxLotTicks, 1, Number.MAX_SAFE_INTEGER)) return { lots, lotTicks };
    for (const maker of this.sorted(oppositeSide(takerSide))) {
      if (lots >= maxLots) break;
      if (stpMode === 'EXPIRE_MAKER' && maker.userId === userId) continue;
      // The most whole lots the rest of the amount pays for at this price (exact in bigint), within both limits.
      const affordable = Number((BigInt(maxLotTicks) - BigInt(lotTicks)) / BigInt(maker.priceTicks));
      if (affordable === 0) break;
      const take = Math.min(maker.remainingLots, maxLots - lots, affordable);
      lots += take;
      lotTicks += take * maker.priceTicks;
      if (take < maker.remainingLots) break;
    }
    return { lots, lotTicks };
  }

  getOrder(orderId: number): OpenOrder | undefined {
    const o = this.resting.find((r) => r.orderId === orderId);
    if (o !== undefined) {
      return { orderId, userId: o.userId, side: o.side, priceTicks: o.priceTicks, quantityLots: o.quantityLots, remainingLots: o.remainingLots, stopPriceTicks: 0 };
    }
    const s = this.stops.find((x) => x.orderId === orderId);
    if (s === undefined) return undefined;
    return { orderId, userId: s.userId, side: s.side, priceTicks: s.priceTicks, quantityLots: s.quantityLots, remainingLots: s.quantityLots, stopPriceTicks: s.stopPriceTicks };
  }

  depth(side: Side, maxLevels: number): DepthLevel[] {
    const out: [number, number][] = [];
    for (const o of this.sorted(side)) {
      const last = out[out.length - 1];
      if (last !== undefined && last[0] === o.priceTicks) last[1] += o.remainingLots;
      else out.push([o.priceTicks, o.remainingLots]);
    }
    return out.slice(0, maxLevels);
  }

  snapshot(): BookSnapshot {
    const tuple = (o: RestingOrder): SnapshotOrder => [o.orderId, o.userId, o.priceTicks, o.quantityLots, o.remainingLots];
    const stops: SnapshotStop[] = [...this.stops]
      .sort((a, b) => a.orderId - b.orderId)
      .map((s) => [s.orderId, s.userId, s.side, s.type, s.timeInForce, s.stpMode, s.stopPriceTicks, s.priceTicks, s.quantityLots]);
    return {
      version: 1,
      symbol: this.grid.symbol,
      tickSize: this.grid.tickSize,
      stepSize: this.grid.stepSize,
      lastOrderId: this.lastOrderId,
      lastTradeId: this.lastTradeId,
      lastPriceTicks: this.lastPriceTicks,
      bids: this.sorted('BUY').map(tuple),
      asks: this.sorted('SELL').map(tuple),
      stops,
    };
  }

  // ---------------------------------------------------------------------------------------------------------------

  /** Resting orders of one side in priority order: best price first, then earliest arrival. */
  private sorted(side: Side): RestingOrder[] {
    return this.resting
      .filter((o) => o.side === side)
      .sort((a, b) => (a.priceTicks !== b.priceTicks ? (side === 'BUY' ? b.priceTicks - a.priceTicks : a.priceTicks - b.priceTicks) : a.seq - b.seq));
  }

  private reached(type: 'STOP_LOSS_LIMIT' | 'TAKE_PROFIT_LIMIT', side: Side, stopPriceTicks: number): boolean {
    return triggersOnRise(type, side) ? this.lastPriceTicks >= stopPriceTicks : this.lastPriceTicks <= stopPriceTicks;
  }

  private reject(sink: MatchEventSink, order: NewOrder, reason: MatchRejectReason): void {
    const valid = typeof order === 'object' && order !== null;
    const orderId = valid && isIntIn(order.orderId, 0, Number.MAX_SAFE_INTEGER) ? order.orderId : 0;
    const userId = valid && isIntIn(order.userId, 0, Number.MAX_SAFE_INTEGER) ? order.userId : 0;
    this.out.order(sink, 'REJECTED', orderId, userId, valid && order.side === 'SELL' ? 'SELL' : 'BUY', 0, 0, 0, 'REJECTED', reason, 0);
  }

  private tryCancel(orderId: number, userId: number, sink: MatchEventSink): boolean {
    const r = this.resting.findIndex((o) => o.orderId === orderId && o.userId === userId);
    if (r >= 0) {
      const [o] = this.resting.splice(r, 1);
      this.out.order(sink, 'CANCELED', orderId, userId, o!.side, o!.priceTicks, o!.remainingLots, 0, 'CANCELED', 'NONE', -o!.remainingLots);
      return true;
    }
    const s = this.stops.findIndex((x) => x.orderId === orderId && x.userId === userId);
    if (s >= 0) {
      const [x] = this.stops.splice(s, 1);
      this.out.order(sink, 'CANCELED', orderId, userId, x!.side, x!.priceTicks, x!.quantityLots, 0, 'CANCELED', 'NONE', 0);
      return true;
    }
    const safe = (v: number): number => (isIntIn(v, 0, Number.MAX_SAFE_INTEGER) ? v : 0);
    this.out.order(sink, 'REJECTED', safe(orderId), safe(userId), 'BUY', 0, 0, 0, 'REJECTED', 'UNKNOWN_ORDER', 0);
    return false;
  }

  private rest(orderId: number, userId: number, side: Side, priceTicks: number, quantityLots: number, remainingLots: number, sink: MatchEventSink): void {
    this.resting.push({ orderId, userId, side, priceTicks, quantityLots, remainingLots, seq: this.seq++ });
    const status = remainingLots === quantityLots ? 'NEW' : 'PARTIALLY_FILLED';
    this.out.order(sink, 'RESTED', orderId, userId, side, priceTicks, remainingLots, remainingLots, status, 'NONE', remainingLots);
  }

  /** Makers the taker may meet, in the order it meets them (within its limit price, if any). */
  private eligibleMakers(side: Side, limit: number | undefined): RestingOrder[] {
    return this.sorted(oppositeSide(side)).filter(
      (m) => limit === undefined || (side === 'BUY' ? m.priceTicks <= limit : m.priceTicks >= limit),
    );
  }

  private execute(
    orderId: number,
    userId: number,
    side: Side,
    limit: number | undefined,
    qty: number,
    mode: TimeInForce | 'MARKET',
    stpMode: StpMode,
    sink: MatchEventSink,
  ): void {
    if (mode === 'FOK') {
      // Walk the makers as matching would: skip own ones under EXPIRE_MAKER, stop at one under EXPIRE_TAKER/BOTH.
      let fillable = 0;
      for (const m of this.eligibleMakers(side, limit)) {
        if (m.userId === userId && stpMode !== 'NONE') {
          if (stpMode === 'EXPIRE_MAKER') continue;
          break;
        }
        fillable += m.remainingLots;
      }
      if (fillable < qty) {
        this.out.order(sink, 'EXPIRED', orderId, userId, side, limit ?? 0, qty, 0, 'EXPIRED', 'UNFILLED_FOK_ORDER_EXPIRED', 0);
        return;
      }
    }
    let remaining = qty;
    while (remaining > 0) {
      const maker = this.eligibleMakers(side, limit)[0];
      if (maker === undefined) break;
      if (maker.userId === userId && stpMode !== 'NONE') {
        if (stpMode === 'EXPIRE_TAKER') {
          this.out.prevented(sink, orderId, userId, side, maker.priceTicks, remaining, maker.orderId, maker.userId, maker.remainingLots, 0);
          return;
        }
        this.resting.splice(this.resting.indexOf(maker), 1);
        this.out.prevented(sink, maker.orderId, maker.userId, maker.side, maker.priceTicks, maker.remainingLots, orderId, userId, remaining, -maker.remainingLots);
        if (stpMode === 'EXPIRE_BOTH') {
          this.out.prevented(sink, orderId, userId, side, maker.priceTicks, remaining, maker.orderId, maker.userId, 0, 0);
          return;
        }
        continue;
      }
      const fill = Math.min(remaining, maker.remainingLots);
      remaining -= fill;
      maker.remainingLots -= fill;
      this.lastPriceTicks = maker.priceTicks;
      if (maker.remainingLots === 0) this.resting.splice(this.resting.indexOf(maker), 1);
      this.out.trade(sink, ++this.lastTradeId, orderId, userId, side, maker.priceTicks, fill, remaining, maker.orderId, maker.userId, maker.remainingLots);
    }
    if (remaining === 0) return;
    if (mode === 'GTC') {
      this.rest(orderId, userId, side, limit!, qty, remaining, sink);
      return;
    }
    const reason = mode === 'IOC' ? 'UNFILLED_IOC_QUANTITY_EXPIRED' : mode === 'MARKET' ? 'INSUFFICIENT_LIQUIDITY' : 'UNFILLED_FOK_ORDER_EXPIRED';
    this.out.order(sink, 'EXPIRED', orderId, userId, side, limit ?? 0, remaining, 0, 'EXPIRED', reason, 0);
  }

  /** Triggers reached stops in waves: all those the last price reached, by increasing orderId; then look again. */
  private triggerStops(sink: MatchEventSink): void {
    for (;;) {
      if (this.lastPriceTicks === 0) return;
      const wave = this.stops.filter((s) => this.reached(s.type, s.side, s.stopPriceTicks)).sort((a, b) => a.orderId - b.orderId);
      if (wave.length === 0) return;
      this.stops = this.stops.filter((s) => !wave.includes(s));
      for (const s of wave) {
        this.out.order(sink, 'TRIGGERED', s.orderId, s.userId, s.side, s.priceTicks, s.quantityLots, s.quantityLots, 'NEW', 'NONE', 0);
        this.execute(s.orderId, s.userId, s.side, s.priceTicks, s.quantityLots, s.timeInForce, s.stpMode, sink);
      }
    }
  }
}
