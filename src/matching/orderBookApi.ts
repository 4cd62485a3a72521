/**
 * The contract every order book implementation meets (the optimized OrderBook and the NaiveOrderBook reference run
 * one shared test suite against it), and the matching rules they both follow.
 */
import type { BookSnapshot } from './bookSnapshot.js';
import type { CancelReplaceMode, MatchCommand, NewOrder, Side, StpMode } from './matchCommand.js';
import type { MatchEventSink } from './matchEvent.js';
import type { MarketGrid } from './marketGrid.js';

/** An open order as the book holds it: resting on a side, or a stop order waiting for its trigger. */
export interface OpenOrder {
  readonly orderId: number;
  readonly userId: number;
  readonly side: Side;
  /** Limit price in ticks. */
  readonly priceTicks: number;
  /** Current total quantity (after any amend). */
  readonly quantityLots: number;
  /** Unfilled lots (executed = quantity − remaining). */
  readonly remainingLots: number;
  /** Trigger price of a pending stop order; 0 for a resting order. */
  readonly stopPriceTicks: number;
}

/** One aggregated L2 level: price in ticks, total resting lots. */
export type DepthLevel = readonly [priceTicks: number, quantityLots: number];

/** What a market order could take from the book now: lots and their cost or proceeds in lots × ticks. */
export interface MarketPreview {
  readonly lots: number;
  readonly lotTicks: number;
}

/**
 * One market's order book: commands in, events out (through the sink passed to each command), no I/O, no clock.
 *
 * Rules, identical in every implementation:
 * - Price-time priority: best price first; at one price, the order that rested first. Fills are at the maker's
 *   price. After every command the book is not crossed (best bid < best ask).
 * - An accepted order gets a NEW event, then its TRADE events (between which STP may expire resting orders:
 *   TRADE_PREVENTION events about those makers), then at most one of RESTED (GTC remainder), EXPIRED (IOC, FOK,
 *   MARKET without liquidity) or TRADE_PREVENTION (the taker itself); with none of these it is FILLED. A stop
 *   order gets NEW alone, and the rest of that sequence after its TRIGGERED event. A refused
 *   one gets one REJECTED event and changes nothing (except that its id, if new, counts as seen).
 * - FOK: checked before any fill, against the liquidity the taker could actually fill (STP included); if short,
 *   NEW then EXPIRED with no fill and no other change.
 * - LIMIT_MAKER: refused (WOULD_TAKE) if its price reaches the best opposite price, own orders included.
 * - MARKET by quoteOrderQty: its quantity is fixed on arrival by previewMarket (the most lots the amount pays for,
 *   level by level, stopping at the first order it can take only in part); REJECTED when that is 0 lots. A buy
 *   never spends, a sell never receives, more than quoteOrderQty.
 * - Self-trade prevention by the taker's mode when it meets a resting order of its own user (the maker's mode is
 *   ignored): EXPIRE_TAKER expires the taker's remainder; EXPIRE_MAKER expires that maker and goes on;
 *   EXPIRE_BOTH expires the maker, then the taker.
 * - Stop orders (STOP_LOSS_LIMIT, TAKE_PROFIT_LIMIT) are refused when the last trade price already reached their
 *   stop price (WOULD_TRIGGER_IMMEDIATELY); with no trade yet they are accepted. After every command that traded,
 *   every stop whose stop price the last trade price reached triggers, in increasing orderId, each acting at once
 *   as a LIMIT order with its own timeInForce and STP mode; the orders they trade may trigger more (repeated until
 *   none is left to trigger).
 * - Cancel and amend act only on the user's own open orders; anything else is UNKNOWN_ORDER (no one learns whether
 *   another user's order exists).
 * The sink must not call back into the book.
 */
export interface OrderBookApi {
  readonly grid: MarketGrid;
  /** Highest order id seen. */
  readonly lastOrderId: number;
  /** Id of the last trade; 0 before the first. */
  readonly lastTradeId: number;
  /** Price of the last trade in ticks; 0 before the first. */
  readonly lastPriceTicks: number;
  /** Best bid in ticks, 0 when there are no bids. O(1). */
  readonly bestBidTicks: number;
  /** Best ask in ticks, 0 when there are no asks. O(1). */
  readonly bestAskTicks: number;
  /** Open orders: resting plus pending stops. */
  readonly openOrderCount: number;

  /** Applies any command (dispatches to the methods below). */
  apply(command: MatchCommand, sink: MatchEventSink): void;
  /** Places a new order. */
  place(order: NewOrder, sink: MatchEventSink): void;
  /** Cancels an open order of `userId` (CANCELED, or REJECTED UNKNOWN_ORDER). */
  cancel(orderId: number, userId: number, sink: MatchEventSink): void;
  /**
   * Sets an open order's total quantity to `newQuantityLots`, keeping its priority (REPLACED). Refused when not
   * smaller (AMEND_QUANTITY_INCREASE, AMEND_NO_CHANGE) or not above the executed quantity (AMEND_BELOW_EXECUTED).
   */
  amendKeepPriority(orderId: number, userId: number, newQuantityLots: number, sink: MatchEventSink): void;
  /**
   * Cancels `cancelOrderId` of `order.userId`, then places `order` — unless the cancel failed and the mode is
   * STOP_ON_FAILURE, in which case the new order is REJECTED NOT_ATTEMPTED. A new order that fails its own checks
   * (checkNewOrder: fields, ranges, a reused id) is REJECTED first and nothing is canceled, as Binance evaluates
   * filters before the cancel; book-dependent refusals (WOULD_TAKE, WOULD_TRIGGER_IMMEDIATELY) come after it.
   * @see binance-spot-api-docs rest-api.md "Cancel an Existing Order and Send a New Order"
   */
  cancelReplace(cancelOrderId: number, mode: CancelReplaceMode, order: NewOrder, sink: MatchEventSink): void;

  /**
   * What a MARKET order of `userId` on `takerSide` with this STP mode could take now: at most `maxLots`, paying
   * (or receiving) at most `maxLotTicks` lots × ticks; own resting orders are skipped under EXPIRE_MAKER and counted
   * otherwise. The engine uses it to lock funds for market orders; the book uses it to size quoteOrderQty orders.
   * Limits outside 1..2^53 − 1 (or not integers) preview nothing: `{lots: 0, lotTicks: 0}`.
   */
  previewMarket(takerSide: Side, userId: number, stpMode: StpMode, maxLots: number, maxLotTicks: number): MarketPreview;
  /** An open order by id, or undefined. */
  getOrder(orderId: number): OpenOrder | undefined;
  /** Aggregated levels of one side, best first, at most `maxLevels`. */
  depth(side: Side, maxLevels: number): DepthLevel[];
  /** The canonical state (see BookSnapshot). */
  snapshot(): BookSnapshot;
}

/** Dispatches a command to the book's methods; shared so every implementation reads commands alike. */
export function applyCommand(book: OrderBookApi, command: MatchCommand, sink: MatchEventSink): void {
  switch (command.type) {
    case 'PLACE':
      book.place(command.order, sink);
      return;
    case 'CANCEL':
      book.cancel(command.orderId, command.userId, sink);
      return;
    case 'AMEND_KEEP_PRIORITY':
      book.amendKeepPriority(command.orderId, command.userId, command.newQuantityLots, sink);
      return;
    case 'CANCEL_REPLACE':
      book.cancelReplace(command.cancelOrderId, command.mode, command.order, sink);
      return;
    default:
      throw new TypeError(`unknown matching command type ${String((command as { type?: unknown }).type)}`);
  }
}
