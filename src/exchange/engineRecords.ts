/**
 * The engine's mutable records: an open order with what it still has locked, an account's balances and open orders,
 * a market's book and settings, and the idempotency records of admin and chain-bridge commands. Only the engine
 * mutates them; everything it hands out is a copy (OrderState, results, events) or, for orders, a snapshot
 * (OrderSnapshot) that copies what can change and reads the rest from the record, whose other fields never change.
 */
import type { MatchExpiryReason, OrderStatus } from '../matching/matchEvent.js';
import type { OrderType, Side, StpMode, TimeInForce } from '../matching/matchCommand.js';
import type { OrderBook } from '../matching/orderBook.js';
import type { MarketDefinition, MarketStatus } from './exchangeConfig.js';
import {
  plainBalanceEvent,
  plainOrderEvent,
  type BalanceEvent,
  type BalanceResult,
  type CancelReplaceResult,
  type ExecutionType,
  type FillInfo,
  type LedgerReason,
  type OrderEvent,
  type OrderResult,
  type OrderState,
  type RejectedResult,
} from './engineEvent.js';

/** Prefix of the client order ids the engine gives orders sent without one (`cairn-<orderId>`); reserved. */
export const AUTO_CLIENT_ORDER_ID_PREFIX = 'cairn-';

/**
 * An amount in base units on the engine's hot path: a number when it is a safe integer (|v| ≤ 2^53 − 1), else a
 * bigint (a bigint may also hold a small value). Exact either way. PERF: number arithmetic allocates nothing, where
 * every bigint result is a new heap object (V8 has no small-bigint form); the bench's place, cancel and move
 * commands make ~6 bigints each for their locks alone.
 */
export type Amount = number | bigint;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const MAX_SAFE_BIG = BigInt(MAX_SAFE);
/** 2^54: a split balance whose bigint part is at least this exceeds any safe number whatever its number part. */
const TWO_54 = 1n << 54n;

/** The amount as a bigint. */
export function bigAmount(a: Amount): bigint {
  return typeof a === 'number' ? BigInt(a) : a;
}

/** A bigint as an Amount: a number when it is a safe integer. */
export function toAmount(v: bigint): Amount {
  return v <= MAX_SAFE_BIG && v >= -MAX_SAFE_BIG ? Number(v) : v;
}

/** −a (a safe integer's negation is one too). */
export function negAmount(a: Amount): Amount {
  return -a;
}

/** Whether the amount is zero. */
export function isZeroAmount(a: Amount): boolean {
  return a === 0 || a === 0n;
}

/** hi + lo as one bigint (a split value, see Account). */
function joined(hi: bigint, lo: number): bigint {
  return lo === 0 ? hi : hi === 0n ? BigInt(lo) : hi + BigInt(lo);
}

/**
 * Whether hi + lo < a (exact). No bigint is made when hi is 0n (the usual case: a balance credited or set as a safe
 * integer keeps hi = 0n while it stays one) or when hi is far from every safe number.
 */
function splitBelow(hi: bigint, lo: number, a: Amount): boolean {
  if (typeof a === 'number') {
    if (hi === 0n) return lo < a;
    // |lo|, |a| ≤ 2^53 − 1: hi ≥ 2^54 puts hi + lo above a, hi ≤ −2^54 below.
    if (hi >= TWO_54) return false;
    if (hi <= -TWO_54) return true;
  }
  return joined(hi, lo) < bigAmount(a);
}

/**
 * The terms of an order that rarely vary and never change: type, time in force, STP mode, stop price, quote
 * quantity. Shared by the records of orders with the same terms (see termsOf).
 */
class OrderTerms {
  constructor(
    readonly orderType: OrderType,
    readonly timeInForce: TimeInForce,
    readonly stpMode: StpMode,
    readonly stopPriceTicks: number,
    readonly quoteOrderQty: bigint,
  ) {}
}

/** Terms shared by records (stop price 0, no quote quantity), most recently made last; at most TERMS_KEPT. */
const sharedTerms: OrderTerms[] = [];
const TERMS_KEPT = 16;
/** The shared terms termsOf returned last (PERF: checked first; orders come in runs of the same terms). */
let lastTerms: OrderTerms | undefined;

/**
 * The OrderTerms object for these terms: a shared one when there is no stop price and no quote quantity (a limit
 * order's usual case; compared by value, so any string instances do), else a new one.
 */
function termsOf(orderType: OrderType, timeInForce: TimeInForce, stpMode: StpMode, stopPriceTicks: number, quoteOrderQty: bigint): OrderTerms {
  if (stopPriceTicks !== 0 || quoteOrderQty !== 0n) return new OrderTerms(orderType, timeInForce, stpMode, stopPriceTicks, quoteOrderQty);
  const last = lastTerms;
  if (last !== undefined && last.orderType === orderType && last.timeInForce === timeInForce && last.stpMode === stpMode) return last;
  return (lastTerms = sharedTermsFor(orderType, timeInForce, stpMode));
}

/** The shared OrderTerms (stop price 0, no quote quantity) for these, made and kept when there is none. */
function sharedTermsFor(orderType: OrderType, timeInForce: TimeInForce, stpMode: StpMode): OrderTerms {
  for (let i = sharedTerms.length - 1; i >= 0; i--) {
    const t = sharedTerms[i]!;
    if (t.orderType === orderType && t.timeInForce === timeInForce && t.stpMode === stpMode) return t;
  }
  const t = new OrderTerms(orderType, timeInForce, stpMode, 0, 0n);
  if (sharedTerms.length === TERMS_KEPT) sharedTerms.shift();
  sharedTerms.push(t);
  return t;
}

/**
 * An open order (resting, or a stop waiting for its trigger), plus the amount it has locked. PERF: a class with
 * every field set in the constructor, so all records share one hidden class. The fields a move or fill reads come
 * first (fewer cache lines touched per record), and the rarely varied terms sit in one shared OrderTerms object
 * read through getters: 176 bytes per record instead of 216 (Node 20 has no pointer compression; padding 56 bytes
 * onto the record made the engine 2.8% slower, so its size is on the hot path).
 */
export class OrderRecord {
  readonly orderId: number;
  readonly userId: number;
  readonly market: MarketState;
  /** The owner's account, set when the order is registered (ExchangeEngine.addOpen). PERF: no lookup per fill. */
  account!: Account;
  readonly side: Side;
  readonly priceTicks: number;
  quantityLots: number;
  /**
   * What the order still has locked, as lockHi + lockLo (see Account for the split). PERF: a fill, an amend or a
   * finish changes the number part in place; no bigint is made while the lock is a safe integer.
   */
  private lockHi = 0n;
  private lockLo = 0;
  executedLots = 0;
  cumQuote = 0n;
  status: OrderStatus = 'NEW';
  updateTimeMs: number;
  workingTimeMs: number;
  /** Neighbours in the account's list of open orders (Account.firstOrder …). */
  prevInAccount: OrderRecord | undefined = undefined;
  nextInAccount: OrderRecord | undefined = undefined;
  /** '' when the engine's `cairn-<orderId>` applies. */
  readonly clientOrderId: string;
  readonly timeMs: number;
  private readonly terms: OrderTerms;

  constructor(
    orderId: number,
    market: MarketState,
    userId: number,
    /** '' when the engine's `cairn-<orderId>` applies. */
    clientOrderId: string,
    side: Side,
    orderType: OrderType,
    timeInForce: TimeInForce,
    priceTicks: number,
    quantityLots: number,
    quoteOrderQty: bigint,
    stopPriceTicks: number,
    stpMode: StpMode,
    timeMs: number,
    /** Base units of the asset the order spends (quote for a buy, base for a sell) still locked for it. */
    lockedRemaining: Amount,
  ) {
    this.orderId = orderId;
    this.userId = userId;
    this.market = market;
    this.side = side;
    this.priceTicks = priceTicks;
    this.quantityLots = quantityLots;
    this.setLock(lockedRemaining);
    this.updateTimeMs = timeMs;
    this.workingTimeMs = orderType === 'STOP_LOSS_LIMIT' || orderType === 'TAKE_PROFIT_LIMIT' ? -1 : timeMs;
    this.clientOrderId = clientOrderId;
    this.timeMs = timeMs;
    this.terms = termsOf(orderType, timeInForce, stpMode, stopPriceTicks, quoteOrderQty);
  }

  /** The order type. */
  get orderType(): OrderType {
    return this.terms.orderType;
  }
  /** The time in force. */
  get timeInForce(): TimeInForce {
    return this.terms.timeInForce;
  }
  /** The self-trade prevention mode. */
  get stpMode(): StpMode {
    return this.terms.stpMode;
  }
  /** The stop price in ticks (0: not a stop order). */
  get stopPriceTicks(): number {
    return this.terms.stopPriceTicks;
  }
  /** A MARKET order's quote quantity (0n: by base quantity, or not a MARKET order). */
  get quoteOrderQty(): bigint {
    return this.terms.quoteOrderQty;
  }

  /** Base units of the asset the order spends (quote for a buy, base for a sell) still locked for it. */
  get lockedRemaining(): bigint {
    return joined(this.lockHi, this.lockLo);
  }
  set lockedRemaining(v: bigint) {
    this.setLock(v);
  }

  /** The lock as an Amount (a number while it is a safe integer). */
  get lockAmount(): Amount {
    return this.lockHi === 0n ? this.lockLo : joined(this.lockHi, this.lockLo);
  }

  /** Sets the lock. */
  setLock(v: Amount): void {
    if (typeof v === 'number') {
      this.lockHi = 0n;
      this.lockLo = v;
    } else {
      const a = toAmount(v);
      this.lockHi = typeof a === 'number' ? 0n : a;
      this.lockLo = typeof a === 'number' ? a : 0;
    }
  }

  /** Lock −= a. */
  subLock(a: Amount): void {
    if (typeof a === 'number' && this.lockHi === 0n) {
      const r = this.lockLo - a;
      if (r <= MAX_SAFE && r >= -MAX_SAFE) {
        this.lockLo = r;
        return;
      }
    }
    this.setLock(joined(this.lockHi, this.lockLo) - bigAmount(a));
  }

  /**
   * The client order id as shown (`cairn-<orderId>` when none was given). PERF: made on each read, not kept on the
   * record (a snapshot's `order` reads it once and keeps the OrderState).
   */
  get displayClientOrderId(): string {
    return this.clientOrderId === '' ? AUTO_CLIENT_ORDER_ID_PREFIX + this.orderId : this.clientOrderId;
  }

  /** A copy as the public OrderState. */
  state(): OrderState {
    return {
      orderId: this.orderId,
      symbol: this.market.symbol,
      userId: this.userId,
      clientOrderId: this.displayClientOrderId,
      side: this.side,
      orderType: this.orderType,
      timeInForce: this.timeInForce,
      priceTicks: this.priceTicks,
      quantityLots: this.quantityLots,
      quoteOrderQty: this.quoteOrderQty,
      stopPriceTicks: this.stopPriceTicks,
      stpMode: this.stpMode,
      executedLots: this.executedLots,
      cumQuote: this.cumQuote,
      status: this.status,
      timeMs: this.timeMs,
      updateTimeMs: this.updateTimeMs,
      workingTimeMs: this.workingTimeMs,
    };
  }
}

/** The fields of an order that change, as a snapshot copies them. */
interface ChangingFields {
  readonly quantityLots: number;
  readonly executedLots: number;
  readonly cumQuote: bigint;
  readonly status: OrderStatus;
  readonly updateTimeMs: number;
  readonly workingTimeMs: number;
}

/** The public OrderState of `r` with its changing fields as `s` copied them. */
function orderStateOf(r: OrderRecord, s: ChangingFields): OrderState {
  return {
    orderId: r.orderId,
    symbol: r.market.symbol,
    userId: r.userId,
    clientOrderId: r.displayClientOrderId,
    side: r.side,
    orderType: r.orderType,
    timeInForce: r.timeInForce,
    priceTicks: r.priceTicks,
    quantityLots: s.quantityLots,
    quoteOrderQty: r.quoteOrderQty,
    stopPriceTicks: r.stopPriceTicks,
    stpMode: r.stpMode,
    executedLots: s.executedLots,
    cumQuote: s.cumQuote,
    status: s.status,
    timeMs: r.timeMs,
    updateTimeMs: s.updateTimeMs,
    workingTimeMs: s.workingTimeMs,
  };
}

/**
 * An order as it was at one moment: the fields that change (quantity, executed, cumulative quote, status, times)
 * copied, the others read from the record (they never change). `order` builds the public OrderState on first read
 * and keeps it. PERF: an order event or result costs one small object instead of a full OrderState copy (and the
 * `cairn-<orderId>` string) per change; the copy is made only where a consumer reads it (history, user streams, the
 * gateway's responses). The record and the cache are private fields, so deepStrictEqual compares the copied fields
 * only: compare `plainOutcome` forms (engineEvent.ts) to compare whole orders. JSON.stringify gives the verbose
 * form (toJSON), as it did when these were plain objects. The order events (OrderUpdate, TradeUpdate) have the same
 * fields and accessors; see OrderUpdate for why they are separate classes.
 */
export class OrderSnapshot implements ChangingFields {
  readonly #rec: OrderRecord;
  #state: OrderState | undefined = undefined;
  readonly quantityLots: number;
  readonly executedLots: number;
  readonly cumQuote: bigint;
  readonly status: OrderStatus;
  readonly updateTimeMs: number;
  readonly workingTimeMs: number;

  constructor(rec: OrderRecord) {
    this.#rec = rec;
    this.quantityLots = rec.quantityLots;
    this.executedLots = rec.executedLots;
    this.cumQuote = rec.cumQuote;
    this.status = rec.status;
    this.updateTimeMs = rec.updateTimeMs;
    this.workingTimeMs = rec.workingTimeMs;
  }

  /** The order's id (read from the record: it never changes). PERF: one field less per event and result. */
  get orderId(): number {
    return this.#rec.orderId;
  }

  /** The order's user (read from the record, like orderId). */
  get userId(): number {
    return this.#rec.userId;
  }

  /** The order as the public OrderState at the snapshot's moment (built once, then shared: do not mutate). */
  get order(): OrderState {
    return (this.#state ??= orderStateOf(this.#rec, this));
  }

  /** JSON form: the OrderState. */
  toJSON(): unknown {
    return this.order;
  }
}

/**
 * The engine's OrderEvent (executionReport) for every change but a fill and an expiry: a snapshot of the order after
 * the change (the fields and accessors of OrderSnapshot) plus what changed. `type`, the expiry fields ('NONE', 0) and
 * the fill fields (0, 0n, '', false) are read from the prototype (PERF: eleven fewer fields on the common events, a
 * place and a cancel); ExpiryUpdate and TradeUpdate have theirs. Read `order` for the OrderState (built on first
 * read). See OrderEvent for the fields.
 * PERF: not a subclass of OrderSnapshot. V8 does not inline a super() call into a base class that declares fields
 * (ES2022 class fields), so a subclass instance took ~21 ns to build against ~7 ns for the flat class (scratch
 * microbench, compiled dist); on the exchange bench stream (two order events per move) the engine was 1.1x faster
 * with user events (interleaved A/B, see the commit).
 */
export class OrderUpdate implements OrderEvent, ChangingFields {
  readonly #rec: OrderRecord;
  #state: OrderState | undefined = undefined;
  readonly quantityLots: number;
  readonly executedLots: number;
  readonly cumQuote: bigint;
  readonly status: OrderStatus;
  readonly updateTimeMs: number;
  readonly workingTimeMs: number;
  readonly execution: ExecutionType;

  constructor(rec: OrderRecord, execution: ExecutionType) {
    this.#rec = rec;
    this.quantityLots = rec.quantityLots;
    this.executedLots = rec.executedLots;
    this.cumQuote = rec.cumQuote;
    this.status = rec.status;
    this.updateTimeMs = rec.updateTimeMs;
    this.workingTimeMs = rec.workingTimeMs;
    this.execution = execution;
  }

  /** The order's id (read from the record). */
  get orderId(): number {
    return this.#rec.orderId;
  }

  /** The order's user (read from the record). */
  get userId(): number {
    return this.#rec.userId;
  }

  /** The order as the public OrderState after the change (built once, then shared: do not mutate). */
  get order(): OrderState {
    return (this.#state ??= orderStateOf(this.#rec, this));
  }

  /** 'order'. */
  get type(): 'order' {
    return 'order';
  }

  /** JSON form: the plain OrderEvent (`order` as an OrderState). */
  toJSON(): unknown {
    return plainOrderEvent(this);
  }

  /** 'NONE': not an expiry. */
  get reason(): MatchExpiryReason | 'NONE' {
    return 'NONE';
  }
  /** 0: not a self-trade prevention. */
  get counterOrderId(): number {
    return 0;
  }

  /** 0: not a fill. */
  get tradeId(): number {
    return 0;
  }
  /** 0: not a fill. */
  get lastLots(): number {
    return 0;
  }
  /** 0: not a fill. */
  get lastPriceTicks(): number {
    return 0;
  }
  /** 0n: not a fill. */
  get lastQuote(): bigint {
    return 0n;
  }
  /** 0n: not a fill. */
  get commission(): bigint {
    return 0n;
  }
  /** '': not a fill. */
  get commissionAsset(): string {
    return '';
  }
  /** false: not a fill. */
  get isMaker(): boolean {
    return false;
  }
}

/**
 * The engine's OrderEvent of an expiry (EXPIRED, TRADE_PREVENTION): an OrderUpdate with its reason and, for a
 * self-trade prevention, the order on the other side. (A subclass, so slower to build than OrderUpdate: expiries
 * are rare.)
 */
export class ExpiryUpdate extends OrderUpdate {
  constructor(
    rec: OrderRecord,
    execution: ExecutionType,
    readonly expiryReason: MatchExpiryReason | 'NONE',
    readonly expiryCounterOrderId: number,
  ) {
    super(rec, execution);
  }

  /** Why the order expired. */
  override get reason(): MatchExpiryReason | 'NONE' {
    return this.expiryReason;
  }
  /** TRADE_PREVENTION: the order on the other side of the prevented match; else 0. */
  override get counterOrderId(): number {
    return this.expiryCounterOrderId;
  }
}

/**
 * The engine's OrderEvent of a fill (execution TRADE): a snapshot of the order after the fill (the fields and
 * accessors of OrderSnapshot) with the fill's fields. Not a subclass, for the reason given at OrderUpdate.
 */
export class TradeUpdate implements OrderEvent, ChangingFields {
  readonly #rec: OrderRecord;
  #state: OrderState | undefined = undefined;
  readonly quantityLots: number;
  readonly executedLots: number;
  readonly cumQuote: bigint;
  readonly status: OrderStatus;
  readonly updateTimeMs: number;
  readonly workingTimeMs: number;
  readonly tradeId: number;
  readonly lastLots: number;
  readonly lastPriceTicks: number;
  readonly lastQuote: bigint;
  readonly commission: bigint;
  readonly commissionAsset: string;
  readonly isMaker: boolean;

  constructor(
    rec: OrderRecord,
    tradeId: number,
    lastLots: number,
    lastPriceTicks: number,
    lastQuote: bigint,
    commission: bigint,
    commissionAsset: string,
    isMaker: boolean,
  ) {
    this.#rec = rec;
    this.quantityLots = rec.quantityLots;
    this.executedLots = rec.executedLots;
    this.cumQuote = rec.cumQuote;
    this.status = rec.status;
    this.updateTimeMs = rec.updateTimeMs;
    this.workingTimeMs = rec.workingTimeMs;
    this.tradeId = tradeId;
    this.lastLots = lastLots;
    this.lastPriceTicks = lastPriceTicks;
    this.lastQuote = lastQuote;
    this.commission = commission;
    this.commissionAsset = commissionAsset;
    this.isMaker = isMaker;
  }

  /** The order's id (read from the record). */
  get orderId(): number {
    return this.#rec.orderId;
  }

  /** The order's user (read from the record). */
  get userId(): number {
    return this.#rec.userId;
  }

  /** The order as the public OrderState after the fill (built once, then shared: do not mutate). */
  get order(): OrderState {
    return (this.#state ??= orderStateOf(this.#rec, this));
  }

  /** 'order'. */
  get type(): 'order' {
    return 'order';
  }
  /** 'TRADE'. */
  get execution(): ExecutionType {
    return 'TRADE';
  }
  /** 'NONE': not an expiry. */
  get reason(): MatchExpiryReason | 'NONE' {
    return 'NONE';
  }
  /** 0: not a self-trade prevention. */
  get counterOrderId(): number {
    return 0;
  }

  /** JSON form: the plain OrderEvent (`order` as an OrderState). */
  toJSON(): unknown {
    return plainOrderEvent(this);
  }
}

/** An order's state at one moment as the engine hands it out: a snapshot or an order event (same accessors). */
export type OrderView = OrderSnapshot | OrderUpdate | TradeUpdate;

/**
 * Balance slot k of the account (2i: asset i free, 2i + 1: locked; see Account) as an Amount. PERF: both balances of
 * an asset sit in one array, and no bigint part is read while the account has none.
 */
function slotAmount(acct: Account, k: number): Amount {
  const l = acct.lo[k]!;
  if (acct.bigParts === 0) return l;
  const h = acct.hi[k]!;
  return h === 0n ? l : joined(h, l);
}

/**
 * The engine's BalanceEvent (one ledger entry): the deltas and the balances after the change as Amounts; the bigint
 * fields are built on read. PERF: an entry costs one object and no bigint on the common path (amounts that are safe
 * integers are numbers; a balance above that is joined into one bigint here); a consumer
 * reading `free` twice gets two equal bigints. Compare `plainOutcome` forms (deepStrictEqual sees the class); JSON
 * is the plain form (toJSON).
 */
export class LedgerEntry implements BalanceEvent {
  // PERF: each field first holds undefined, so V8 keeps it tagged: a small integer is stored inline and a larger
  // number as one immutable box. A field of double representation would box every value, small ones included.
  readonly #deltaFree: Amount = undefined as unknown as Amount;
  readonly #deltaLocked: Amount = undefined as unknown as Amount;
  readonly #free: Amount = undefined as unknown as Amount;
  readonly #locked: Amount = undefined as unknown as Amount;

  constructor(
    readonly userId: number,
    readonly asset: string,
    deltaFree: Amount,
    deltaLocked: Amount,
    acct: Account,
    assetIndex: number,
    readonly reason: LedgerReason,
    readonly symbol: string,
    readonly orderId: number,
    readonly tradeId: number,
    readonly externalId: string,
  ) {
    this.#deltaFree = deltaFree;
    this.#deltaLocked = deltaLocked;
    this.#free = slotAmount(acct, 2 * assetIndex);
    this.#locked = slotAmount(acct, 2 * assetIndex + 1);
  }

  /** 'balance'. */
  get type(): 'balance' {
    return 'balance';
  }
  /** Change of the free balance. */
  get deltaFree(): bigint {
    return bigAmount(this.#deltaFree);
  }
  /** Change of the locked balance. */
  get deltaLocked(): bigint {
    return bigAmount(this.#deltaLocked);
  }
  /** Free balance after the change. */
  get free(): bigint {
    return bigAmount(this.#free);
  }
  /** Locked balance after the change. */
  get locked(): bigint {
    return bigAmount(this.#locked);
  }

  /** JSON form: the plain BalanceEvent. */
  toJSON(): unknown {
    return plainBalanceEvent(this);
  }
}

/**
 * The engine's BalanceEvent of an order lock or unlock (ORDER_LOCK: free → locked; ORDER_UNLOCK: locked → free),
 * the most common ledger entries (two per move). Same fields as LedgerEntry: the two deltas are the amount with the
 * direction's signs, `externalId` is ''. PERF: one amount field instead of two deltas and no externalId field
 * (16 bytes less per entry; Node 20 has no pointer compression), and no negated copy made when it is built. A flat
 * class, not a subclass, for the reason given at OrderUpdate.
 */
export class OrderLockEntry implements BalanceEvent {
  // PERF: tagged fields, as in LedgerEntry.
  readonly #amount: Amount = undefined as unknown as Amount;
  readonly #free: Amount = undefined as unknown as Amount;
  readonly #locked: Amount = undefined as unknown as Amount;

  constructor(
    readonly userId: number,
    readonly asset: string,
    /** The amount moved (> 0). */
    amount: Amount,
    acct: Account,
    assetIndex: number,
    readonly reason: 'ORDER_LOCK' | 'ORDER_UNLOCK',
    readonly symbol: string,
    readonly orderId: number,
    readonly tradeId: number,
  ) {
    this.#amount = amount;
    this.#free = slotAmount(acct, 2 * assetIndex);
    this.#locked = slotAmount(acct, 2 * assetIndex + 1);
  }

  /** 'balance'. */
  get type(): 'balance' {
    return 'balance';
  }
  /** Change of the free balance: −amount for a lock, +amount for an unlock. */
  get deltaFree(): bigint {
    const a = bigAmount(this.#amount);
    return this.reason === 'ORDER_LOCK' ? -a : a;
  }
  /** Change of the locked balance: +amount for a lock, −amount for an unlock. */
  get deltaLocked(): bigint {
    const a = bigAmount(this.#amount);
    return this.reason === 'ORDER_LOCK' ? a : -a;
  }
  /** Free balance after the change. */
  get free(): bigint {
    return bigAmount(this.#free);
  }
  /** Locked balance after the change. */
  get locked(): bigint {
    return bigAmount(this.#locked);
  }
  /** '': an order's lock has no external id. */
  get externalId(): string {
    return '';
  }

  /** JSON form: the plain BalanceEvent. */
  toJSON(): unknown {
    return plainBalanceEvent(this);
  }
}

/** The engine's OrderResult: the order after the command (an OrderView, materialized on first read) and its fills. */
export class SnapshotOrderResult implements OrderResult {
  readonly ok = true as const;
  readonly kind = 'order' as const;
  readonly #snapshot: OrderView;

  constructor(
    snapshot: OrderView,
    readonly fills: readonly FillInfo[],
  ) {
    this.#snapshot = snapshot;
  }

  /** The order after the command. */
  get order(): OrderState {
    return this.#snapshot.order;
  }

  /** JSON form: the plain OrderResult. */
  toJSON(): unknown {
    return { ok: true, kind: 'order', order: this.order, fills: this.fills };
  }

  /** The order's snapshot (the order id, status, executed lots … without building the OrderState). */
  get snapshot(): OrderView {
    return this.#snapshot;
  }
}

/** No fills: shared, never mutated. */
export const NO_FILLS: readonly FillInfo[] = Object.freeze([]);

/**
 * The engine's CancelReplaceResult when both halves succeeded (a move: the old order canceled, the new one placed):
 * the two orders' snapshots and the new order's fills, with `cancel` and `newOrder` built as SnapshotOrderResults on
 * first read and kept. PERF: one object per move instead of three (the bench's most common command); consumers
 * reading `cancel` and `newOrder` see the same values and objects as before. Compare `plainOutcome` forms; JSON is
 * the plain form (toJSON).
 */
export class MoveResult implements CancelReplaceResult {
  readonly #canceled: OrderView;
  readonly #placed: OrderView;
  readonly #fills: readonly FillInfo[];
  #cancel: SnapshotOrderResult | undefined = undefined;
  #newOrder: SnapshotOrderResult | undefined = undefined;

  constructor(canceled: OrderView, placed: OrderView, fills: readonly FillInfo[]) {
    this.#canceled = canceled;
    this.#placed = placed;
    this.#fills = fills;
  }

  /** true: both halves succeeded. */
  get ok(): true {
    return true;
  }

  /** 'cancelReplace'. */
  get kind(): 'cancelReplace' {
    return 'cancelReplace';
  }

  /** The canceled order's result (no fills). */
  get cancel(): SnapshotOrderResult {
    return (this.#cancel ??= new SnapshotOrderResult(this.#canceled, NO_FILLS));
  }

  /** The new order's result and its fills as the arriving order. */
  get newOrder(): SnapshotOrderResult {
    return (this.#newOrder ??= new SnapshotOrderResult(this.#placed, this.#fills));
  }

  /** JSON form: the plain CancelReplaceResult. */
  toJSON(): unknown {
    return { ok: true, kind: 'cancelReplace', cancel: this.cancel, newOrder: this.newOrder };
  }
}

/** One market in the engine: its definition, its book, its status and fee rates, its depth update id. */
export class MarketState {
  readonly symbol: string;
  makerFeePpm: bigint;
  takerFeePpm: bigint;
  /** The fee rates as numbers (≤ MAX_FEE_PPM), for the engine's exact float fee path (feeOn in engine.ts). */
  makerFeePpmNum: number;
  takerFeePpmNum: number;
  status: MarketStatus;
  /**
   * The grid's quoteUnitsPerLotTick and baseUnitsPerLot as numbers (Infinity when not a safe integer), for the
   * engine's exact float fast path (see quoteUnits in engine.ts).
   */
  readonly quoteUnitsPerLotTickNum: number;
  readonly baseUnitsPerLotNum: number;
  /** def.minNotionalUnits as a number (Infinity when not a safe integer), for the same fast path. */
  minNotionalNum: number;

  constructor(
    /** Position in the configuration's market list. */
    readonly index: number,
    public def: MarketDefinition,
    readonly book: OrderBook,
    readonly baseIndex: number,
    readonly quoteIndex: number,
    /** Id of the last depth change (0: none yet); +1 for every command that changes the depth. */
    public depthUpdateId: number,
  ) {
    this.symbol = def.config.symbol;
    this.quoteUnitsPerLotTickNum = safeNumber(def.grid.quoteUnitsPerLotTick);
    this.baseUnitsPerLotNum = safeNumber(def.grid.baseUnitsPerLot);
    this.minNotionalNum = safeNumber(def.minNotionalUnits);
    this.makerFeePpm = BigInt(def.config.makerFeePpm);
    this.takerFeePpm = BigInt(def.config.takerFeePpm);
    this.makerFeePpmNum = def.config.makerFeePpm;
    this.takerFeePpmNum = def.config.takerFeePpm;
    this.status = def.config.status;
  }

  /** Takes a new definition of the same grid (fees, filters, status). */
  redefine(def: MarketDefinition): void {
    this.def = def;
    this.minNotionalNum = safeNumber(def.minNotionalUnits);
    this.makerFeePpm = BigInt(def.config.makerFeePpm);
    this.takerFeePpm = BigInt(def.config.takerFeePpm);
    this.makerFeePpmNum = def.config.makerFeePpm;
    this.takerFeePpmNum = def.config.takerFeePpm;
    this.status = def.config.status;
  }
}

/** `v` as a number when it is a safe integer, else Infinity (so any product with it fails a ≤ 2^53 − 1 check). */
function safeNumber(v: bigint): number {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= 0n ? Number(v) : Number.POSITIVE_INFINITY;
}

/** Account.soleMarket when the account has no open orders. */
const NO_MARKET = -1;
/** Account.soleMarket when its open orders are on more than one market. */
const MANY_MARKETS = -2;

/**
 * One account: free and locked balance per asset (by asset index), frozen flag, open orders.
 *
 * Each balance is split in two: a bigint part and a number part (a safe integer), the balance being their sum; read
 * it exact with freeOf / lockedOf. A change that keeps the number part a safe integer changes only that part; any
 * other goes through bigint and stores the result normalized (a safe value all in the number part, bigint part 0n;
 * a larger one all in the bigint part: see addAt). So every value stays exact at any size, a balance that is
 * set or credited as a safe integer stays a pure number, and one above 2^53 still takes number changes.
 * PERF: a bigint balance allocates on every lock, unlock and fill; with the split, the common change is a float add
 * into a double array. Measured on the exchange bench's stream (with LedgerEntry and number amounts): 1,234 → 1,054
 * bytes allocated per command with user events, 884 → 730 without; CPU, base and this interleaved in 5k-command
 * chunks in two worker threads, 1.14× faster with user events, 1.13× without.
 */
export class Account {
  /**
   * Bigint and number parts of the balances: asset i's free balance at index 2i, its locked balance at 2i + 1.
   * PERF: one array of numbers for both balances of an asset (a lock, an unlock and a ledger entry touch one array
   * and usually one cache line, where separate free and locked arrays took two of each), and the bigint parts are
   * read only when `bigParts` says some is non-zero. Measured together with OrderRecord's smaller layout and
   * OrderLockEntry: 1.05-1.06x with user events and 1.06x without (interleaved A/B in two worker threads, both
   * orders of the pair); this part alone read about 1.02x, within the noise.
   */
  readonly hi: bigint[] = [];
  readonly lo: number[] = [];
  /** Number of non-zero entries in `hi` (0 on the usual account: every balance a safe integer). */
  bigParts = 0;
  frozen = false;
  /**
   * Open orders in order of placement (= increasing id), as an intrusive doubly linked list through the records.
   * PERF: O(1) add and remove without a map per account.
   */
  firstOrder: OrderRecord | undefined = undefined;
  lastOrder: OrderRecord | undefined = undefined;
  /** Number of open orders. */
  openOrderCount = 0;
  /** Open orders with an explicit client order id, by `<symbol> <clientOrderId>`. */
  readonly clientIds = new Map<string, OrderRecord>();
  /**
   * The market index of all open orders when they are on one market (NO_MARKET when there are none, MANY_MARKETS
   * when on several: then `openCounts` counts them per market index). PERF: the usual one-market account keeps no
   * per-market array to touch on every place and cancel.
   */
  private soleMarket = NO_MARKET;
  private readonly openCounts: number[] = [];

  constructor(
    readonly userId: number,
    assetCount: number,
  ) {
    this.grow(assetCount);
  }

  /** Makes room for assets added by a configuration change. */
  grow(assetCount: number): void {
    while (this.hi.length < 2 * assetCount) {
      this.hi.push(0n);
      this.lo.push(0);
    }
  }

  /** Number of assets the account has room for. */
  get assetCount(): number {
    return this.hi.length >> 1;
  }

  /** The free balance of asset `i` (0n when the account has no room for it). */
  freeOf(i: number): bigint {
    return 2 * i < this.hi.length ? joined(this.hi[2 * i]!, this.lo[2 * i]!) : 0n;
  }

  /** The locked balance of asset `i` (0n when the account has no room for it). */
  lockedOf(i: number): bigint {
    return 2 * i < this.hi.length ? joined(this.hi[2 * i + 1]!, this.lo[2 * i + 1]!) : 0n;
  }

  /** Sets the free balance of asset `i` (restore, tests). */
  setFree(i: number, v: bigint): void {
    this.setAt(2 * i, v);
  }

  /** Sets the locked balance of asset `i` (restore, tests). */
  setLocked(i: number, v: bigint): void {
    this.setAt(2 * i + 1, v);
  }

  /** free[i] += d. */
  addFree(i: number, d: Amount): void {
    this.addAt(2 * i, d, 1);
  }

  /** locked[i] += d. */
  addLocked(i: number, d: Amount): void {
    this.addAt(2 * i + 1, d, 1);
  }

  /**
   * Moves `a` of asset `i` from free to locked. PERF: both number parts changed in one step when they stay safe
   * integers (see addAt for the exactness argument); else each through addAt.
   */
  lock(i: number, a: Amount): void {
    const lo = this.lo;
    const f = 2 * i;
    if (typeof a === 'number') {
      const free = lo[f]! - a;
      const locked = lo[f + 1]! + a;
      if (free <= MAX_SAFE && free >= -MAX_SAFE && locked <= MAX_SAFE && locked >= -MAX_SAFE) {
        lo[f] = free;
        lo[f + 1] = locked;
        return;
      }
    }
    this.addAt(f, a, -1);
    this.addAt(f + 1, a, 1);
  }

  /** Moves `a` of asset `i` from locked to free (as lock, the other way). */
  unlock(i: number, a: Amount): void {
    const lo = this.lo;
    const f = 2 * i;
    if (typeof a === 'number') {
      const free = lo[f]! + a;
      const locked = lo[f + 1]! - a;
      if (free <= MAX_SAFE && free >= -MAX_SAFE && locked <= MAX_SAFE && locked >= -MAX_SAFE) {
        lo[f] = free;
        lo[f + 1] = locked;
        return;
      }
    }
    this.addAt(f + 1, a, -1);
    this.addAt(f, a, 1);
  }

  /** Whether the free balance of asset `i` is below `a`. */
  freeBelow(i: number, a: Amount): boolean {
    return this.bigParts === 0 && typeof a === 'number' ? this.lo[2 * i]! < a : splitBelow(this.hi[2 * i]!, this.lo[2 * i]!, a);
  }

  /**
   * hi[k] + lo[k] += d (sign +1) or −= d (sign −1). A number sum that stays a safe integer is exact (both terms are
   * safe integers, and a rounded sum ≤ 2^53 − 1 comes from an exact one) and only lo[k] changes; otherwise the sum is
   * made in bigint and stored normalized: all in lo[k] when it is a safe integer (hi[k] = 0n), else all in hi[k].
   */
  private addAt(k: number, d: Amount, sign: 1 | -1): void {
    const l = this.lo[k]!;
    if (typeof d === 'number') {
      const r = sign === 1 ? l + d : l - d;
      if (r <= MAX_SAFE && r >= -MAX_SAFE) {
        this.lo[k] = r;
        return;
      }
    }
    const dBig = bigAmount(d);
    const h = this.hi[k]!;
    this.setAt(k, sign === 1 ? h + BigInt(l) + dBig : h + BigInt(l) - dBig);
  }

  /** Stores `v` at slot k normalized (see addAt), keeping bigParts. */
  private setAt(k: number, v: bigint): void {
    const a = toAmount(v);
    const wasBig = this.hi[k] !== 0n;
    const isBig = typeof a !== 'number';
    this.hi[k] = isBig ? a : 0n;
    this.lo[k] = isBig ? 0 : a;
    if (wasBig !== isBig) this.bigParts += isBig ? 1 : -1;
  }

  /** Whether some free balance is negative (a reversed deposit). */
  hasNegativeFree(): boolean {
    for (let i = 0; i < this.assetCount; i++) if (this.freeOf(i) < 0n) return true;
    return false;
  }

  /** Number of open orders on the market with index `marketIndex`. */
  openCountOn(marketIndex: number): number {
    const sole = this.soleMarket;
    if (sole === MANY_MARKETS) return this.openCounts[marketIndex] ?? 0;
    return sole === marketIndex ? this.openOrderCount : 0;
  }

  /** Appends an open order to the account's list. */
  linkOrder(rec: OrderRecord): void {
    const i = rec.market.index;
    const sole = this.soleMarket;
    const n = this.openOrderCount;
    if (sole === MANY_MARKETS) {
      this.openCounts[i] = (this.openCounts[i] ?? 0) + 1;
    } else if (n === 0) {
      this.soleMarket = i;
    } else if (sole !== i) {
      // A second market: count per market from now on (until the account has no open orders).
      this.openCounts[sole] = n;
      this.openCounts[i] = 1;
      this.soleMarket = MANY_MARKETS;
    }
    rec.prevInAccount = this.lastOrder;
    rec.nextInAccount = undefined;
    if (this.lastOrder === undefined) this.firstOrder = rec;
    else this.lastOrder.nextInAccount = rec;
    this.lastOrder = rec;
    this.openOrderCount = n + 1;
  }

  /** Removes an open order from the account's list. */
  unlinkOrder(rec: OrderRecord): void {
    const { prevInAccount: prev, nextInAccount: next } = rec;
    if (prev === undefined) this.firstOrder = next;
    else prev.nextInAccount = next;
    if (next === undefined) this.lastOrder = prev;
    else next.prevInAccount = prev;
    rec.prevInAccount = rec.nextInAccount = undefined;
    const n = --this.openOrderCount;
    if (this.soleMarket === MANY_MARKETS) {
      this.openCounts[rec.market.index]!--;
      if (n === 0) {
        this.openCounts.length = 0;
        this.soleMarket = NO_MARKET;
      }
    } else if (n === 0) {
      this.soleMarket = NO_MARKET;
    }
  }

  /** The open orders, oldest first (a copy: safe to cancel while iterating). */
  openOrders(): OrderRecord[] {
    const out: OrderRecord[] = [];
    for (let r = this.firstOrder; r !== undefined; r = r.nextInAccount) out.push(r);
    return out;
  }

  /** True when the account holds nothing and has no flag: the canonical state leaves it out. */
  isEmpty(): boolean {
    if (this.frozen || this.openOrderCount !== 0) return false;
    for (let i = 0; i < this.assetCount; i++) if (this.freeOf(i) !== 0n || this.lockedOf(i) !== 0n) return false;
    return true;
  }
}

/** The key of a client order id in Account.clientIds. */
export function clientIdKey(symbol: string, clientOrderId: string): string {
  return `${symbol} ${clientOrderId}`;
}

/** An applied (or refused) admin adjustment or deposit: the request, and the first result. */
export interface CreditRecord {
  readonly userId: number;
  readonly asset: string;
  readonly amount: bigint;
  readonly result: BalanceResult | RejectedResult;
}

/** State of a withdrawal: its lock was refused, it is locked, it was sent, or it failed (unlocked). */
export type WithdrawalState = 'REJECTED' | 'LOCKED' | 'COMPLETED' | 'FAILED';

/** A withdrawal: the request, its state, and the first result of each step. */
export interface WithdrawalRecord {
  readonly userId: number;
  readonly asset: string;
  readonly amount: bigint;
  state: WithdrawalState;
  /** The chain transaction that paid it (COMPLETED, when given). */
  txid: string;
  readonly lockResult: BalanceResult | RejectedResult;
  /** Result of the COMPLETE or FAIL step that finished it. */
  finishResult: BalanceResult | undefined;
}
