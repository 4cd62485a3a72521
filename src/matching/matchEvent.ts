/**
 * Events out of an order book: everything the engine settles, logs and publishes. One flat event shape; the book
 * fills one reusable instance and hands it to the sink, so matching allocates nothing per fill.
 */
import type { Side } from './matchCommand.js';

/**
 * What happened to the event's order (Binance execution types where one exists):
 * - `NEW`: accepted (a stop order: accepted and waiting for its trigger).
 * - `TRADE`: the order (taker) filled against a resting order (maker).
 * - `RESTED`: the order's remainder joined the book (cairn's; Binance reports no separate event).
 * - `CANCELED`: canceled by its user.
 * - `EXPIRED`: its remainder expired by its type's rules (IOC, FOK, MARKET without liquidity).
 * - `TRADE_PREVENTION`: expired by self-trade prevention (status EXPIRED_IN_MATCH).
 * - `REPLACED`: its quantity was reduced in place, priority kept.
 * - `TRIGGERED`: a stop order's trigger price was reached; it now acts as a limit order (cairn's; Binance sends a
 *   NEW execution report with isWorking=true).
 * - `REJECTED`: the command was refused; nothing changed.
 */
export type MatchEventKind =
  | 'NEW'
  | 'TRADE'
  | 'RESTED'
  | 'CANCELED'
  | 'EXPIRED'
  | 'TRADE_PREVENTION'
  | 'REPLACED'
  | 'TRIGGERED'
  | 'REJECTED';

/** Binance order status. @see binance-spot-api-docs enums.md "Order status" */
export type OrderStatus =
  | 'NEW'
  | 'PARTIALLY_FILLED'
  | 'FILLED'
  | 'CANCELED'
  | 'REJECTED'
  | 'EXPIRED'
  | 'EXPIRED_IN_MATCH';

/** Why a command was refused (REJECTED events). Binance's message for each is in MATCH_REASON_MESSAGES. */
export type MatchRejectReason =
  | 'DUPLICATE_ORDER_ID'
  | 'UNKNOWN_ORDER'
  | 'INVALID_PRICE'
  | 'INVALID_QUANTITY'
  | 'INVALID_ORDER'
  | 'UNSUPPORTED_ORDER_COMBINATION'
  | 'WOULD_TAKE'
  | 'WOULD_TRIGGER_IMMEDIATELY'
  | 'INSUFFICIENT_LIQUIDITY_FOR_QUOTE_ORDER'
  | 'AMEND_QUANTITY_INCREASE'
  | 'AMEND_NO_CHANGE'
  | 'AMEND_BELOW_EXECUTED'
  | 'NOT_ATTEMPTED';

/** Why an order's remainder expired (EXPIRED and TRADE_PREVENTION events); Binance's expiryReason where it has one. */
export type MatchExpiryReason =
  | 'UNFILLED_IOC_QUANTITY_EXPIRED'
  | 'UNFILLED_FOK_ORDER_EXPIRED'
  | 'INSUFFICIENT_LIQUIDITY'
  | 'SELF_TRADE_PREVENTION';

/** An event's reason: `NONE` unless the event is REJECTED, EXPIRED or TRADE_PREVENTION. */
export type MatchReason = 'NONE' | MatchRejectReason | MatchExpiryReason;

/**
 * Binance's message for each reason, for the gateway's `{code, msg}` and execution reports.
 * @see binance-spot-api-docs errors.md "Messages for -1010 ERROR_MSG_RECEIVED, -2010 NEW_ORDER_REJECTED, ..."
 */
export const MATCH_REASON_MESSAGES: Readonly<Record<MatchReason, string>> = Object.freeze({
  NONE: '',
  DUPLICATE_ORDER_ID: 'Duplicate order sent.',
  UNKNOWN_ORDER: 'Unknown order sent.',
  INVALID_PRICE: 'Filter failure: PRICE_FILTER',
  INVALID_QUANTITY: 'Filter failure: LOT_SIZE',
  INVALID_ORDER: 'Invalid order parameters.',
  UNSUPPORTED_ORDER_COMBINATION: 'Unsupported order combination',
  WOULD_TAKE: 'Order would immediately match and take.',
  WOULD_TRIGGER_IMMEDIATELY: 'Order would trigger immediately.',
  INSUFFICIENT_LIQUIDITY_FOR_QUOTE_ORDER: 'Order book liquidity is less than symbol minimum quantity.',
  AMEND_QUANTITY_INCREASE: 'Order amend (quantity increase) is not supported.',
  AMEND_NO_CHANGE: 'The requested action would change no state; rejecting',
  AMEND_BELOW_EXECUTED: 'Order amend quantity must exceed the executed quantity.',
  NOT_ATTEMPTED: 'Order was not attempted: the cancel of cancel-replace failed.',
  UNFILLED_IOC_QUANTITY_EXPIRED: 'UNFILLED_IOC_QUANTITY_EXPIRED',
  UNFILLED_FOK_ORDER_EXPIRED: 'UNFILLED_FOK_ORDER_EXPIRED',
  INSUFFICIENT_LIQUIDITY: 'INSUFFICIENT_LIQUIDITY',
  SELF_TRADE_PREVENTION: 'SELF_TRADE_PREVENTION',
});

/**
 * One book event. Every field is always present (0, 'NONE' when it does not apply) so all events share one shape.
 *
 * Depth: `bookDeltaLots` is the signed change of resting lots this event makes at one price level — for `TRADE` the
 * maker's level (opposite side, `priceTicks`), otherwise the level of the event's own order (`side`, `priceTicks`).
 * Applying every event's delta to an L2 depth keeps it equal to the book.
 */
export interface MatchEvent {
  readonly kind: MatchEventKind;
  /** The order the event is about (the taker, for TRADE; the expired order, for TRADE_PREVENTION). */
  readonly orderId: number;
  readonly userId: number;
  /** The order's side (for a REJECTED cancel or amend, where no order is revealed: 'BUY'). */
  readonly side: Side;
  /** TRADE, TRADE_PREVENTION: the match price (the maker's price). Otherwise the order's limit price (0: MARKET). */
  readonly priceTicks: number;
  /**
   * Lots the event is about: NEW, TRIGGERED: the order's quantity; TRADE: lots filled; RESTED: lots that joined the
   * book; CANCELED, EXPIRED, TRADE_PREVENTION: lots removed; REPLACED: lots the amend removed; REJECTED: 0.
   */
  readonly quantityLots: number;
  /** The order's open (unfilled, unexpired) lots after the event. */
  readonly remainingLots: number;
  /** The order's Binance status after the event. */
  readonly status: OrderStatus;
  readonly reason: MatchReason;
  /** TRADE: the maker order; TRADE_PREVENTION: the order on the other side of the prevented match; else 0. */
  readonly counterOrderId: number;
  readonly counterUserId: number;
  /** TRADE: the maker's open lots after the fill (0 = FILLED); TRADE_PREVENTION: the other order's open lots. */
  readonly counterRemainingLots: number;
  /** TRADE: the book's trade id (1, 2, ...); else 0. */
  readonly tradeId: number;
  /** Signed change of resting lots at one price level (see above). */
  readonly bookDeltaLots: number;
}

/**
 * Receives a book's events in order. The event object is reused: it is valid only during the call, so copy
 * whatever must outlive it (`{...event}`).
 */
export type MatchEventSink = (event: MatchEvent) => void;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Fills the one reusable event and hands it to the sink; shared by the book implementations so they emit
 * identical events. PERF: one object for the life of the book, all fields written every time (one hidden class).
 */
export class EventWriter {
  private readonly ev: Mutable<MatchEvent> = {
    kind: 'NEW',
    orderId: 0,
    userId: 0,
    side: 'BUY',
    priceTicks: 0,
    quantityLots: 0,
    remainingLots: 0,
    status: 'NEW',
    reason: 'NONE',
    counterOrderId: 0,
    counterUserId: 0,
    counterRemainingLots: 0,
    tradeId: 0,
    bookDeltaLots: 0,
  };

  /** An event of the order alone (every kind but TRADE and TRADE_PREVENTION). */
  order(
    sink: MatchEventSink,
    kind: MatchEventKind,
    orderId: number,
    userId: number,
    side: Side,
    priceTicks: number,
    quantityLots: number,
    remainingLots: number,
    status: OrderStatus,
    reason: MatchReason,
    bookDeltaLots: number,
  ): void {
    const ev = this.ev;
    ev.kind = kind;
    ev.orderId = orderId;
    ev.userId = userId;
    ev.side = side;
    ev.priceTicks = priceTicks;
    ev.quantityLots = quantityLots;
    ev.remainingLots = remainingLots;
    ev.status = status;
    ev.reason = reason;
    ev.counterOrderId = 0;
    ev.counterUserId = 0;
    ev.counterRemainingLots = 0;
    ev.tradeId = 0;
    ev.bookDeltaLots = bookDeltaLots;
    sink(ev);
  }

  /** A fill of the taker against a maker at the maker's price. */
  trade(
    sink: MatchEventSink,
    tradeId: number,
    takerOrderId: number,
    takerUserId: number,
    takerSide: Side,
    priceTicks: number,
    quantityLots: number,
    takerRemainingLots: number,
    makerOrderId: number,
    makerUserId: number,
    makerRemainingLots: number,
  ): void {
    const ev = this.ev;
    ev.kind = 'TRADE';
    ev.orderId = takerOrderId;
    ev.userId = takerUserId;
    ev.side = takerSide;
    ev.priceTicks = priceTicks;
    ev.quantityLots = quantityLots;
    ev.remainingLots = takerRemainingLots;
    ev.status = takerRemainingLots === 0 ? 'FILLED' : 'PARTIALLY_FILLED';
    ev.reason = 'NONE';
    ev.counterOrderId = makerOrderId;
    ev.counterUserId = makerUserId;
    ev.counterRemainingLots = makerRemainingLots;
    ev.tradeId = tradeId;
    ev.bookDeltaLots = -quantityLots;
    sink(ev);
  }

  /** An order expired by self-trade prevention; `bookDeltaLots` is −expired for a resting maker, 0 for the taker. */
  prevented(
    sink: MatchEventSink,
    orderId: number,
    userId: number,
    side: Side,
    priceTicks: number,
    expiredLots: number,
    counterOrderId: number,
    counterUserId: number,
    counterRemainingLots: number,
    bookDeltaLots: number,
  ): void {
    const ev = this.ev;
    ev.kind = 'TRADE_PREVENTION';
    ev.orderId = orderId;
    ev.userId = userId;
    ev.side = side;
    ev.priceTicks = priceTicks;
    ev.quantityLots = expiredLots;
    ev.remainingLots = 0;
    ev.status = 'EXPIRED_IN_MATCH';
    ev.reason = 'SELF_TRADE_PREVENTION';
    ev.counterOrderId = counterOrderId;
    ev.counterUserId = counterUserId;
    ev.counterRemainingLots = counterRemainingLots;
    ev.tradeId = 0;
    ev.bookDeltaLots = bookDeltaLots;
    sink(ev);
  }
}

/** A sink that keeps a copy of every event, for tests and for building an order's full response. */
export class CollectingSink {
  readonly events: MatchEvent[] = [];
  /** Pass this as the book's sink. */
  readonly sink: MatchEventSink = (event) => {
    this.events.push({ ...event });
  };

  /** Returns the events collected so far and starts a new list. */
  take(): MatchEvent[] {
    return this.events.splice(0, this.events.length);
  }
}
