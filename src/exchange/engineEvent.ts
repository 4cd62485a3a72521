/**
 * What the engine returns for each command (its result) and what it publishes (its events): order updates in the
 * shape of Binance's executionReport, trades, ledger entries (every balance change with its reason), depth changes
 * with per-market update ids, and configuration/account changes. Units are the engine's: ticks, lots, bigint base
 * units; the gateway formats them as Binance's decimal strings.
 */
import type { MatchExpiryReason, MatchRejectReason, OrderStatus } from '../matching/matchEvent.js';
import type { OrderType, Side, StpMode, TimeInForce } from '../matching/matchCommand.js';
import type { EngineCommand } from './engineCommand.js';

/** An order as the engine holds it: Binance's order fields in grid units. */
export interface OrderState {
  readonly orderId: number;
  readonly symbol: string;
  readonly userId: number;
  /** The client's id, or `cairn-<orderId>` when none was given. */
  readonly clientOrderId: string;
  readonly side: Side;
  readonly orderType: OrderType;
  /** MARKET and LIMIT_MAKER orders report GTC, as Binance does. */
  readonly timeInForce: TimeInForce;
  /** Limit price in ticks; 0 for MARKET. */
  readonly priceTicks: number;
  /** Total quantity in lots (after amends; for a quoteOrderQty MARKET order, the lots fixed on arrival). */
  readonly quantityLots: number;
  /** MARKET by quote amount: the amount in quote base units; else 0n. */
  readonly quoteOrderQty: bigint;
  /** Stop price in ticks; 0 for other types. */
  readonly stopPriceTicks: number;
  readonly stpMode: StpMode;
  /** Filled lots. */
  readonly executedLots: number;
  /** Quote base units traded (Binance cummulativeQuoteQty). */
  readonly cumQuote: bigint;
  readonly status: OrderStatus;
  /** Creation time, ms. */
  readonly timeMs: number;
  /** Time of the last change, ms. */
  readonly updateTimeMs: number;
  /** When the order started working (on the book or matching), ms; -1 for a stop order still waiting. */
  readonly workingTimeMs: number;
}

/** One fill of an order, as Binance's FULL response lists them. */
export interface FillInfo {
  readonly tradeId: number;
  readonly priceTicks: number;
  readonly quantityLots: number;
  /** Fee charged to this order's user, base units of `commissionAsset`. */
  readonly commission: bigint;
  readonly commissionAsset: string;
}

/**
 * Why a command was refused. The book's reasons (MatchRejectReason) plus the engine's:
 * - `UNKNOWN_SYMBOL`: no such market. `NOT_CONFIGURED`: no CONFIGURE command yet.
 * - `MARKET_CLOSED`: the market's status does not take this command.
 * - `ACCOUNT_DISABLED`: the fee account cannot trade. `ACCOUNT_FROZEN`: the account is frozen.
 * - `INSUFFICIENT_BALANCE`: free balance below what the command must lock or debit.
 * - `MIN_QUANTITY` (LOT_SIZE minQty), `MIN_NOTIONAL` (NOTIONAL), `MAX_NUM_ORDERS`: Binance filters.
 * - `DUPLICATE_CLIENT_ORDER_ID`: the clientOrderId is in use by an open order of the user on that market.
 * - `RESERVED_CLIENT_ORDER_ID`: a client id with the `cairn-` prefix the engine gives orders without one.
 * - `UNKNOWN_ASSET`, `ADJUSTMENT_NOT_ALLOWED` (an on-chain asset outside devnet/regtest), `ASSET_NOT_ON_CHAIN`
 *   (a deposit of an off-chain asset), `UNKNOWN_WITHDRAWAL`, `UNKNOWN_DEPOSIT` (reversing a
 *   deposit that is not credited), `WITHDRAWAL_FINISHED` (completing a failed withdrawal
 *   or failing a completed one), `ID_REUSED` (an idempotency id reused for a different request).
 * - `CONFIG_REFUSED`: a configuration change that is not allowed (see configChangeRefusal).
 */
export type EngineRejectReason =
  | MatchRejectReason
  | 'UNKNOWN_SYMBOL'
  | 'NOT_CONFIGURED'
  | 'MARKET_CLOSED'
  | 'ACCOUNT_DISABLED'
  | 'ACCOUNT_FROZEN'
  | 'INSUFFICIENT_BALANCE'
  | 'MIN_QUANTITY'
  | 'MIN_NOTIONAL'
  | 'MAX_NUM_ORDERS'
  | 'DUPLICATE_CLIENT_ORDER_ID'
  | 'RESERVED_CLIENT_ORDER_ID'
  | 'UNKNOWN_ASSET'
  | 'ADJUSTMENT_NOT_ALLOWED'
  | 'ASSET_NOT_ON_CHAIN'
  | 'UNKNOWN_WITHDRAWAL'
  | 'UNKNOWN_DEPOSIT'
  | 'WITHDRAWAL_FINISHED'
  | 'ID_REUSED'
  | 'CONFIG_REFUSED';

/**
 * Binance's answer for each reason: the error code of a refused new order (the gateway uses -2011 for cancels and
 * -2013 for queries of an unknown order) and its message.
 * @see binance-spot-api-docs errors.md ("Messages for -1010 ERROR_MSG_RECEIVED, -2010 NEW_ORDER_REJECTED …", "Filter failures")
 */
export const REJECT_INFO: Readonly<Record<EngineRejectReason, { readonly code: number; readonly msg: string }>> = Object.freeze({
  DUPLICATE_ORDER_ID: { code: -2010, msg: 'Duplicate order sent.' },
  UNKNOWN_ORDER: { code: -2011, msg: 'Unknown order sent.' },
  INVALID_PRICE: { code: -1013, msg: 'Filter failure: PRICE_FILTER' },
  INVALID_QUANTITY: { code: -1013, msg: 'Filter failure: LOT_SIZE' },
  INVALID_ORDER: { code: -1102, msg: 'Mandatory parameter was not sent, was empty/null, or malformed.' },
  UNSUPPORTED_ORDER_COMBINATION: { code: -1014, msg: 'Unsupported order combination.' },
  WOULD_TAKE: { code: -2010, msg: 'Order would immediately match and take.' },
  WOULD_TRIGGER_IMMEDIATELY: { code: -2010, msg: 'Order would trigger immediately.' },
  INSUFFICIENT_LIQUIDITY_FOR_QUOTE_ORDER: { code: -2010, msg: 'Order book liquidity is less than symbol minimum quantity.' },
  AMEND_QUANTITY_INCREASE: { code: -2038, msg: 'Order amend (quantity increase) is not supported.' },
  AMEND_NO_CHANGE: { code: -2038, msg: 'The requested action would change no state; rejecting' },
  AMEND_BELOW_EXECUTED: { code: -2038, msg: 'Order amend quantity must exceed the executed quantity.' },
  NOT_ATTEMPTED: { code: -2021, msg: 'Order cancel-replace partially failed.' },
  UNKNOWN_SYMBOL: { code: -1121, msg: 'Invalid symbol.' },
  NOT_CONFIGURED: { code: -1121, msg: 'Invalid symbol.' },
  MARKET_CLOSED: { code: -2010, msg: 'Market is closed.' },
  ACCOUNT_DISABLED: { code: -2010, msg: 'This account may not place or cancel orders.' },
  ACCOUNT_FROZEN: { code: -2010, msg: 'This action is disabled on this account.' },
  INSUFFICIENT_BALANCE: { code: -2010, msg: 'Account has insufficient balance for requested action.' },
  MIN_QUANTITY: { code: -1013, msg: 'Filter failure: LOT_SIZE' },
  MIN_NOTIONAL: { code: -1013, msg: 'Filter failure: NOTIONAL' },
  MAX_NUM_ORDERS: { code: -1013, msg: 'Filter failure: MAX_NUM_ORDERS' },
  DUPLICATE_CLIENT_ORDER_ID: { code: -2010, msg: 'Duplicate order sent.' },
  RESERVED_CLIENT_ORDER_ID: { code: -1100, msg: "Illegal characters found in parameter 'newClientOrderId'; the prefix 'cairn-' is reserved." },
  UNKNOWN_ASSET: { code: -1130, msg: 'Invalid data sent for a parameter: unknown asset.' },
  ADJUSTMENT_NOT_ALLOWED: { code: -2010, msg: 'This action is disabled on this account.' },
  ASSET_NOT_ON_CHAIN: { code: -1130, msg: 'Invalid data sent for a parameter: the asset is not on the chain.' },
  UNKNOWN_WITHDRAWAL: { code: -2013, msg: 'Withdrawal does not exist.' },
  UNKNOWN_DEPOSIT: { code: -2013, msg: 'Deposit does not exist or is not credited.' },
  WITHDRAWAL_FINISHED: { code: -2010, msg: 'The withdrawal is already finished.' },
  ID_REUSED: { code: -1130, msg: 'Invalid data sent for a parameter: the id was used for another request.' },
  CONFIG_REFUSED: { code: -1130, msg: 'Invalid data sent for a parameter: configuration change refused.' },
});

/** A refused command: nothing changed (except that a new order id the book saw counts as used). */
export interface RejectedResult {
  readonly ok: false;
  readonly reason: EngineRejectReason;
  /** Human-readable detail (Binance's message, with specifics). */
  readonly message: string;
}

/** PLACE_ORDER, CANCEL_ORDER, AMEND_ORDER: the order after the command, and the fills it took as the arriving order. */
export interface OrderResult {
  readonly ok: true;
  readonly kind: 'order';
  readonly order: OrderState;
  readonly fills: readonly FillInfo[];
}

/** CANCEL_ALL_ORDERS: the canceled orders. */
export interface OrdersResult {
  readonly ok: true;
  readonly kind: 'orders';
  readonly orders: readonly OrderState[];
}

/** CANCEL_REPLACE: both halves (Binance's cancelResult/newOrderResult); `ok` when both succeeded. */
export interface CancelReplaceResult {
  readonly ok: boolean;
  readonly kind: 'cancelReplace';
  readonly cancel: OrderResult | RejectedResult;
  readonly newOrder: OrderResult | RejectedResult;
}

/**
 * ADJUST_BALANCE, CREDIT_DEPOSIT, LOCK/COMPLETE/FAIL_WITHDRAWAL: the balance after the first application. A repeat
 * of the same id returns that first result with `duplicate: true` and changes nothing.
 */
export interface BalanceResult {
  readonly ok: true;
  readonly kind: 'balance';
  readonly userId: number;
  readonly asset: string;
  /** The signed change of the balance (free + locked) … */
  readonly amount: bigint;
  /** … and the account's free and locked after it. */
  readonly free: bigint;
  readonly locked: bigint;
  readonly duplicate: boolean;
}

/** CONFIGURE, SET_MARKET_STATUS, FREEZE/UNFREEZE_ACCOUNT. */
export interface DoneResult {
  readonly ok: true;
  readonly kind: 'done';
}

/** Every result. */
export type CommandResult = RejectedResult | OrderResult | OrdersResult | CancelReplaceResult | BalanceResult | DoneResult;

/** Binance execution types, plus `TRIGGERED` (a stop order started working; Binance reports NEW with w=true). */
export type ExecutionType = 'NEW' | 'TRADE' | 'CANCELED' | 'EXPIRED' | 'TRADE_PREVENTION' | 'REPLACED' | 'TRIGGERED';

/** An order changed (executionReport). */
export interface OrderEvent {
  readonly type: 'order';
  readonly execution: ExecutionType;
  /** The order after the change. */
  readonly order: OrderState;
  /** EXPIRED, TRADE_PREVENTION: why. */
  readonly reason: MatchExpiryReason | 'NONE';
  /** TRADE: the fill. */
  readonly tradeId: number;
  readonly lastLots: number;
  readonly lastPriceTicks: number;
  readonly lastQuote: bigint;
  readonly commission: bigint;
  /** '' when no commission applies. */
  readonly commissionAsset: string;
  readonly isMaker: boolean;
  /** TRADE_PREVENTION: the order on the other side of the prevented match. */
  readonly counterOrderId: number;
}

/** A fill, as the public trade record (`<symbol>@trade`) and both sides' user trades (myTrades). */
export interface TradeEvent {
  readonly type: 'trade';
  readonly symbol: string;
  /** Per-market trade id: 1, 2, 3 … */
  readonly tradeId: number;
  readonly priceTicks: number;
  readonly quantityLots: number;
  /** Quote base units: lots × ticks × quoteUnitsPerLotTick. */
  readonly quote: bigint;
  readonly buyerOrderId: number;
  readonly sellerOrderId: number;
  readonly buyerUserId: number;
  readonly sellerUserId: number;
  /** Binance `m`: the buyer was the maker (the taker sold). */
  readonly isBuyerMaker: boolean;
  /** Fee paid by the buyer, base-asset units (on what it received). */
  readonly buyerFee: bigint;
  /** Fee paid by the seller, quote-asset units. */
  readonly sellerFee: bigint;
  readonly timeMs: number;
}

/**
 * Why a balance changed (the ledger's reason):
 * `ORDER_LOCK` free→locked for a new order; `ORDER_UNLOCK` locked→free (cancel, expiry, amend, a fill at a better
 * price than the limit, what a finished order did not spend); `FILL` a fill's settlement (locked spent, free
 * received); `FEE` a fee (−payer, +fee account); `ADJUSTMENT`; `DEPOSIT`; `DEPOSIT_REVERSAL` (a credited
 * deposit reorged out of the chain: −free, which may go negative); `WITHDRAWAL_LOCK`; `WITHDRAWAL_UNLOCK`
 * (failed); `WITHDRAWAL` (completed: locked leaves the exchange).
 */
export type LedgerReason =
  | 'ORDER_LOCK'
  | 'ORDER_UNLOCK'
  | 'FILL'
  | 'FEE'
  | 'ADJUSTMENT'
  | 'DEPOSIT'
  | 'DEPOSIT_REVERSAL'
  | 'WITHDRAWAL_LOCK'
  | 'WITHDRAWAL_UNLOCK'
  | 'WITHDRAWAL';

/** One ledger entry: a change of one account's free and/or locked balance of one asset. */
export interface BalanceEvent {
  readonly type: 'balance';
  readonly userId: number;
  readonly asset: string;
  readonly deltaFree: bigint;
  readonly deltaLocked: bigint;
  /** Balances after the change. */
  readonly free: bigint;
  readonly locked: bigint;
  readonly reason: LedgerReason;
  /** The market, for order-related entries; else ''. */
  readonly symbol: string;
  /** The order, for order-related entries; else 0. */
  readonly orderId: number;
  /** The trade, for FILL and FEE entries; else 0. */
  readonly tradeId: number;
  /** Adjustment id, `txid:vout` of a deposit, or withdrawal id; else ''. */
  readonly externalId: string;
}

/** `DepthEvent.changes` side code of a bid level. */
export const DEPTH_BID = 0;
/** `DepthEvent.changes` side code of an ask level. */
export const DEPTH_ASK = 1;

/**
 * The depth of one market changed: `updateId` is the market's next depth update id (contiguous per market, so a
 * client can check Binance's U/u rule), and `changes` lists the signed lots per changed level.
 */
export interface DepthEvent {
  readonly type: 'depth';
  readonly symbol: string;
  readonly updateId: number;
  /**
   * Flat triples `[side, priceTicks, deltaLots, …]` (side DEPTH_BID or DEPTH_ASK), one per changed level, in order of
   * first change, never a zero delta. PERF: one array, not a tuple per level.
   */
  readonly changes: readonly number[];
}

/** The configuration or a market's status changed (exchangeInfo must be re-read). */
export interface ConfigEvent {
  readonly type: 'config';
}

/** An account was frozen or unfrozen. */
export interface AccountEvent {
  readonly type: 'account';
  readonly userId: number;
  readonly frozen: boolean;
}

/** Every event. */
export type EngineEvent = OrderEvent | TradeEvent | BalanceEvent | DepthEvent | ConfigEvent | AccountEvent;

/** One applied command: its place in the log, its result and its events (published only once it is durable). */
export interface CommandOutcome {
  readonly seq: number;
  readonly timeMs: number;
  readonly command: EngineCommand;
  readonly result: CommandResult;
  readonly events: readonly EngineEvent[];
}

/** An order event as a plain object (its `order` read once, so built if it was not yet). */
export function plainOrderEvent(e: OrderEvent): OrderEvent {
  return {
    type: 'order',
    execution: e.execution,
    order: e.order,
    reason: e.reason,
    tradeId: e.tradeId,
    lastLots: e.lastLots,
    lastPriceTicks: e.lastPriceTicks,
    lastQuote: e.lastQuote,
    commission: e.commission,
    commissionAsset: e.commissionAsset,
    isMaker: e.isMaker,
    counterOrderId: e.counterOrderId,
  };
}

/** A ledger entry as a plain object (the engine's entries build their bigint fields on read). */
export function plainBalanceEvent(e: BalanceEvent): BalanceEvent {
  return {
    type: 'balance',
    userId: e.userId,
    asset: e.asset,
    deltaFree: e.deltaFree,
    deltaLocked: e.deltaLocked,
    free: e.free,
    locked: e.locked,
    reason: e.reason,
    symbol: e.symbol,
    orderId: e.orderId,
    tradeId: e.tradeId,
    externalId: e.externalId,
  };
}

/** A result as plain objects (an order result's `order` read, so built if it was not yet). */
export function plainResult(r: CommandResult): CommandResult {
  if (!r.ok && !('kind' in r)) return r;
  switch (r.kind) {
    case 'order':
      return { ok: true, kind: 'order', order: r.order, fills: r.fills };
    case 'cancelReplace':
      return { ok: r.ok, kind: 'cancelReplace', cancel: plainResult(r.cancel) as OrderResult | RejectedResult, newOrder: plainResult(r.newOrder) as OrderResult | RejectedResult };
    default:
      return r;
  }
}

/**
 * The outcome with plain objects only: the engine's order events, ledger entries and order results are class
 * instances whose `order` or bigint amounts are built on read (OrderSnapshot and LedgerEntry in engineRecords.ts),
 * which deepStrictEqual and structuredClone do not see (JSON.stringify does, through their toJSON). Use this form to
 * compare outcomes, or to send them to another thread.
 */
export function plainOutcome(o: CommandOutcome): CommandOutcome {
  return {
    seq: o.seq,
    timeMs: o.timeMs,
    command: o.command,
    result: plainResult(o.result),
    events: o.events.map((e) => (e.type === 'order' ? plainOrderEvent(e) : e.type === 'balance' ? plainBalanceEvent(e) : e)),
  };
}
