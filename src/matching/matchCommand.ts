/**
 * Commands into an order book, in Binance's terms (order types, time in force, STP modes). Prices are integer ticks
 * and quantities integer lots of the market's grid; a quote amount is a bigint of quote-asset base units.
 * @see binance-spot-api-docs rest-api.md "New order (TRADE)", enums.md
 */

/** Order side. */
export type Side = 'BUY' | 'SELL';

/**
 * Order types the core matches (Binance names). `STOP_LOSS_LIMIT` and `TAKE_PROFIT_LIMIT` wait, off the book, until
 * the last trade price reaches `stopPriceTicks`, then act as a `LIMIT` order. `LIMIT_MAKER` is post-only.
 */
export type OrderType = 'LIMIT' | 'MARKET' | 'LIMIT_MAKER' | 'STOP_LOSS_LIMIT' | 'TAKE_PROFIT_LIMIT';

/** Time in force: `GTC` rests, `IOC` expires what it cannot fill at once, `FOK` fills whole or expires untouched. */
export type TimeInForce = 'GTC' | 'IOC' | 'FOK';

/**
 * Self-trade prevention mode (Binance): what happens when the taker would fill against a resting order of the same
 * user. The taker's mode decides. `NONE` trades; `EXPIRE_TAKER` expires the taker's remainder; `EXPIRE_MAKER`
 * expires that resting order and goes on matching; `EXPIRE_BOTH` expires both. Binance's `DECREMENT` and
 * `TRANSFER` (trade groups) are not offered.
 * @see binance-spot-api-docs faqs/stp_faq.md
 */
export type StpMode = 'NONE' | 'EXPIRE_TAKER' | 'EXPIRE_MAKER' | 'EXPIRE_BOTH';

/**
 * cairn's default STP mode when an order names none: `EXPIRE_MAKER`. A user's incoming order is never blocked by
 * their own stale resting order (that one is expired instead), and no wash trade is printed. Binance lets each symbol
 * choose its `defaultSelfTradePreventionMode`; the engine reports this one in exchangeInfo.
 */
export const DEFAULT_STP_MODE: StpMode = 'EXPIRE_MAKER';

/** Binance `cancelReplaceMode`: place the new order only if the cancel succeeded, or in any case. */
export type CancelReplaceMode = 'STOP_ON_FAILURE' | 'ALLOW_FAILURE';

/**
 * A new order. Which fields it needs depends on `type` (as Binance's mandatory parameters):
 * - `LIMIT`: timeInForce, priceTicks, quantityLots.
 * - `MARKET`: exactly one of quantityLots (base) or quoteOrderQty (quote base units: what a buy spends at most, or
 *   what a sell receives at most); no timeInForce.
 * - `LIMIT_MAKER`: priceTicks, quantityLots; no timeInForce (it rests, GTC).
 * - `STOP_LOSS_LIMIT`, `TAKE_PROFIT_LIMIT`: timeInForce, priceTicks, quantityLots, stopPriceTicks.
 * Fields a type does not use must be absent.
 */
export interface NewOrder {
  /** Unique per book and increasing: greater than every order id the book has seen (the engine's sequence). */
  readonly orderId: number;
  /** Owner account, a non-negative safe integer; self-trade prevention compares it. */
  readonly userId: number;
  readonly side: Side;
  readonly type: OrderType;
  readonly timeInForce?: TimeInForce;
  /** Limit price in ticks, 1..grid.maxPriceTicks. */
  readonly priceTicks?: number;
  /** Quantity in lots, 1..grid.maxQuantityLots. */
  readonly quantityLots?: number;
  /** MARKET by quote amount, in quote-asset base units (> 0). */
  readonly quoteOrderQty?: bigint;
  /** Trigger price in ticks for stop orders, 1..grid.maxPriceTicks. */
  readonly stopPriceTicks?: number;
  /** Defaults to DEFAULT_STP_MODE. */
  readonly stpMode?: StpMode;
}

/** Place a new order. */
export interface PlaceCommand {
  readonly type: 'PLACE';
  readonly order: NewOrder;
}

/** Cancel an open order (resting or a pending stop) of `userId`. */
export interface CancelCommand {
  readonly type: 'CANCEL';
  readonly orderId: number;
  readonly userId: number;
}

/**
 * Reduce an open order's quantity in place, keeping its queue priority (Binance "Order Amend Keep Priority").
 * `newQuantityLots` is the order's new total quantity: below the current one and above what has been executed.
 * @see binance-spot-api-docs faqs/order_amend_keep_priority.md
 */
export interface AmendKeepPriorityCommand {
  readonly type: 'AMEND_KEEP_PRIORITY';
  readonly orderId: number;
  readonly userId: number;
  readonly newQuantityLots: number;
}

/**
 * Cancel an open order and place a new one for the same user (`order.userId`) in one step (Binance
 * `order/cancelReplace`). The new order has its own id and joins the back of its level: a price change loses
 * priority.
 */
export interface CancelReplaceCommand {
  readonly type: 'CANCEL_REPLACE';
  readonly cancelOrderId: number;
  readonly mode: CancelReplaceMode;
  readonly order: NewOrder;
}

/** Every command an order book takes. */
export type MatchCommand = PlaceCommand | CancelCommand | AmendKeepPriorityCommand | CancelReplaceCommand;

/** The other side. */
export function oppositeSide(side: Side): Side {
  return side === 'BUY' ? 'SELL' : 'BUY';
}

/**
 * Whether a pending stop order triggers when the last trade price rises to its stop price (`STOP_LOSS` BUY,
 * `TAKE_PROFIT` SELL; placed with stop above the last price) rather than falls to it (`STOP_LOSS` SELL,
 * `TAKE_PROFIT` BUY).
 * @see binance-spot-api-docs rest-api.md "Trigger order price rules against market price"
 */
export function triggersOnRise(type: 'STOP_LOSS_LIMIT' | 'TAKE_PROFIT_LIMIT', side: Side): boolean {
  return (type === 'STOP_LOSS_LIMIT') === (side === 'BUY');
}
