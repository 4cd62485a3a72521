/**
 * The exchange engine: a deterministic state machine from sequenced commands to results and events. It holds the
 * markets (one matching-core OrderBook each), the accounts (free and locked balance per asset, bigint base units),
 * the open orders with what each has locked, the fee account, and the idempotency records of admin and chain-bridge
 * commands. No I/O and no clock: the time of a command is the sequencer's stamp, so the same log gives the same
 * state, byte for byte (see engineState.ts for the canonical form and its hash).
 *
 * Settlement rules:
 * - Placing an order locks exactly what it can spend: a limit-priced buy (LIMIT, LIMIT_MAKER, stop-limit) locks
 *   quantity × price in quote units; a MARKET buy by quoteOrderQty locks that amount; a MARKET buy by quantity locks
 *   what previewMarket says the book's best `quantity` lots cost now; a sell locks its quantity in base units (a
 *   MARKET sell by quoteOrderQty: the lots previewMarket says the amount buys). Fees are charged on the asset
 *   received, so nothing more is locked.
 * - A fill settles both sides in one step at the maker's price: the buyer's locked quote pays lots × price, the
 *   seller's locked base delivers the lots; each receives the other asset minus its fee. A limit buy filled below its
 *   limit unlocks the difference at once, so an open order always has exactly remaining × limit locked.
 * - Fee = ceil(received × rate / 10^6) in base units of the asset received, at the maker's or taker's rate of the
 *   market; it moves to the fee account (user 0). Rounding up never creates money: the fee is part of what the payer
 *   received (fee ≤ received because rate ≤ 10%), and payer + fee account get exactly the amount the counterparty
 *   gave up. So each fill's ledger entries sum to zero per asset.
 * - Cancels, expiries (IOC, FOK, MARKET remainder, self-trade prevention) and amends unlock what the removed lots had
 *   locked; a finished order unlocks whatever it did not spend (a MARKET buy's unused bound).
 * Invariant (auditEngineState): per asset, Σ over all accounts (fee account included) of free + locked = credited −
 * withdrawn; every locked balance = Σ of its open orders' locks + its pending withdrawals; nothing is negative.
 * @see exchange-core RiskEngine/SimpleEventsProcessor (lock on place, settle per trade event); ViaBTC matchengine
 *   me_trade.c (fees on the received asset)
 */
import { checkNewOrder } from '../matching/checkNewOrder.js';
import { DEFAULT_STP_MODE, type NewOrder } from '../matching/matchCommand.js';
import type { MatchEvent, MatchEventSink, MatchRejectReason } from '../matching/matchEvent.js';
import { baseAmount, lotTicksToQuote, quoteAmount, quoteToLotTicks } from '../matching/marketGrid.js';
import { IntKeyMap } from '../matching/intKeyMap.js';
import { OrderBook } from '../matching/orderBook.js';
import {
  adjustmentAllowed,
  configChangeRefusal,
  defineMarket,
  PPM,
  type AssetConfig,
  type ExchangeConfig,
  type MarketConfig,
} from './exchangeConfig.js';
import {
  FEE_ACCOUNT_ID,
  type AdjustBalanceCommand,
  type AmendOrderCommand,
  type CancelAllOrdersCommand,
  type CancelOrderCommand,
  type CancelReplaceCommand,
  type CompleteWithdrawalCommand,
  type CreditDepositCommand,
  type EngineCommand,
  type FailWithdrawalCommand,
  type LockWithdrawalCommand,
  type ReverseDepositCommand,
  type OrderParams,
  type PlaceOrderCommand,
  type SequencedCommand,
} from './engineCommand.js';
import {
  DEPTH_ASK,
  DEPTH_BID,
  REJECT_INFO,
  type BalanceResult,
  type CancelReplaceResult,
  type CommandOutcome,
  type CommandResult,
  type EngineEvent,
  type EngineRejectReason,
  type ExecutionType,
  type FillInfo,
  type LedgerReason,
  type OrderEvent,
  type OrderResult,
  type OrderState,
  type RejectedResult,
} from './engineEvent.js';
import {
  Account,
  AUTO_CLIENT_ORDER_ID_PREFIX,
  bigAmount,
  clientIdKey,
  ExpiryUpdate,
  isZeroAmount,
  LedgerEntry,
  MarketState,
  negAmount,
  MoveResult,
  NO_FILLS,
  OrderLockEntry,
  OrderRecord,
  OrderSnapshot,
  OrderUpdate,
  type OrderView,
  SnapshotOrderResult,
  TradeUpdate,
  toAmount,
  type Amount,
  type CreditRecord,
  type WithdrawalRecord,
} from './engineRecords.js';
import { ExchangeError } from './exchangeError.js';

/** A refused result with Binance's message for the reason, plus detail. */
export function rejected(reason: EngineRejectReason, detail?: string): RejectedResult {
  const msg = REJECT_INFO[reason].msg;
  return { ok: false, reason, message: detail === undefined ? msg : `${msg} (${detail})` };
}

/** User ids below this are also kept in a dense array (ExchangeEngine.accountById). */
const DENSE_USER_IDS = 1 << 20;

/** True for an integer user id in [0, DENSE_USER_IDS) (anything else would not index the dense array). */
function isDenseUserId(userId: number): boolean {
  return (userId | 0) === userId && userId >= 0 && userId < DENSE_USER_IDS;
}

/** True for a refusal (RejectedResult) among the engine's internal step results (a NewOrder has no `ok`). */
function isRefusal(x: object): x is RejectedResult {
  return (x as { ok?: unknown }).ok === false;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Quote base units of `lots` × `ticks` on the market, as an Amount: a number when the product is a safe integer —
 * lots × ticks is below 2^53 on the grid, and a product of two integers that comes out ≤ 2^53 − 1 is exact (IEEE
 * multiplication rounds correctly, and every integer up to 2^53 is representable; a true product above that rounds
 * to ≥ 2^53 and takes the bigint path). PERF: no bigint is made on the common path.
 */
function quoteUnits(m: MarketState, lots: number, ticks: number): Amount {
  const n = lots * ticks * m.quoteUnitsPerLotTickNum;
  return n <= Number.MAX_SAFE_INTEGER ? n : quoteAmount(m.def.grid, lots, ticks);
}

/** Base units of `lots` on the market (same exactness argument as quoteUnits). */
function baseUnits(m: MarketState, lots: number): Amount {
  const n = lots * m.baseUnitsPerLotNum;
  return n <= Number.MAX_SAFE_INTEGER ? n : baseAmount(m.def.grid, lots);
}

/**
 * The fee on `received` at `ratePpm` (ratePpmNum as a number): ceil(received × rate / 10^6). PERF: in float
 * arithmetic when received × rate is a safe integer (exact, as in quoteUnits; `%` of two doubles is exact, so the
 * quotient (x − x % 10^6) / 10^6 is an exact integer division), else in bigint.
 */
function feeOn(received: Amount, ratePpmNum: number, ratePpm: bigint): Amount {
  if (ratePpmNum === 0) return 0;
  if (typeof received === 'number') {
    const x = received * ratePpmNum;
    if (x <= Number.MAX_SAFE_INTEGER) {
      const r = x % 1_000_000;
      return (x - r) / 1_000_000 + (r === 0 ? 0 : 1);
    }
  }
  return toAmount((bigAmount(received) * ratePpm + PPM - 1n) / PPM);
}

/**
 * Whether `lots` × `ticks` costs less than `minNotional` quote units (= quoteUnits(m, lots, ticks) < minNotional).
 * PERF: compared as numbers when the product is a safe integer (exact, as in quoteUnits; a minimum that is not a
 * safe integer reads as Infinity, above every such product), so no bigint is made.
 */
function notionalBelow(m: MarketState, lots: number, ticks: number, minNotional: bigint): boolean {
  const n = lots * ticks * m.quoteUnitsPerLotTickNum;
  return n <= Number.MAX_SAFE_INTEGER ? n < m.minNotionalNum : quoteAmount(m.def.grid, lots, ticks) < minNotional;
}

function bothRejected(reason: EngineRejectReason, detail: string | undefined): CancelReplaceResult {
  return { ok: false, kind: 'cancelReplace', cancel: rejected(reason, detail), newOrder: rejected(reason, detail) };
}

/**
 * The engine. `apply` takes commands in sequence order (seq 1, 2, 3 … with non-decreasing times) and returns each
 * one's outcome; read methods give copies of the current state. Not thread-safe; one engine per process and data dir.
 */
export class ExchangeEngine {
  /** @internal state, read by engineState.ts through exportState/fromState. */
  cfg: ExchangeConfig | undefined;
  readonly assets: AssetConfig[] = [];
  readonly assetIndex = new Map<string, number>();
  readonly markets: MarketState[] = [];
  readonly marketIndex = new Map<string, MarketState>();
  readonly accounts = new Map<number, Account>();
  /**
   * The same accounts by user id in a dense array, for ids below DENSE_USER_IDS (the gateway numbers users 1, 2, 3 …);
   * larger ids are only in `accounts`. PERF: an indexed load instead of a hash lookup on every order command.
   */
  private readonly accountById: Array<Account | undefined> = [];
  /** Every open order by id. PERF: an open-addressing int map (the matching core's), not a Map. */
  readonly openOrders = new IntKeyMap<OrderRecord>();
  lastOrderId = 0;
  seq = 0;
  /**
   * Whether outcomes carry the user events: OrderEvent (executionReport) and BalanceEvent (the ledger). Default true.
   * Set it to false while nobody reads them — replaying the log at start-up, say — and the engine does not build them
   * (PERF: about a third of an order command's allocations, ~10% of its CPU on the bench stream). Results, trade,
   * depth, config and account events, the state and its hash are the same either way.
   */
  userEvents = true;
  timeMs = 0;
  /** Per asset index: everything credited (adjustments up, deposits) and withdrawn (adjustments down, withdrawals). */
  readonly credited: bigint[] = [];
  readonly withdrawn: bigint[] = [];
  readonly adjustments = new Map<string, CreditRecord>();
  readonly deposits = new Map<string, CreditRecord>();
  readonly withdrawals = new Map<string, WithdrawalRecord>();

  // ---- the command being applied ----
  /**
   * The command's time, ms. PERF: starts as `undefined` (never read so) so that V8 keeps the field tagged: the
   * command's boxed number is then shared by every record, event and snapshot of the command, where a double field
   * would make a new box at each of those stores.
   */
  private now = undefined as unknown as number;
  /**
   * The command's events so far: the first `eventCount` entries (the rest are stale). PERF: one reused array written
   * by index — `length = 0` would drop its storage and make every command grow it again.
   */
  private readonly eventScratch: EngineEvent[] = [];
  private eventCount = 0;
  /** The order command's account as orderGate found it (undefined: the user has none yet). PERF: one lookup. */
  private acct: Account | undefined = undefined;
  /** Asset index the prepared order locks (quote for a buy, base for a sell). */
  private lockAsset = 0;
  /**
   * The new order being prepared and placed. PERF: one reused object with every field present (one hidden class);
   * the book copies what it keeps, and only one order is prepared at a time.
   */
  private readonly draft: Mutable<NewOrder> = {
    orderId: 0,
    userId: 0,
    side: 'BUY',
    type: 'LIMIT',
    timeInForce: undefined,
    priceTicks: undefined,
    quantityLots: undefined,
    quoteOrderQty: undefined,
    stopPriceTicks: undefined,
    stpMode: undefined,
  };
  /** The record the current book call is about (placed, canceled or amended). PERF: spares its id lookup. */
  private hotRec: OrderRecord | undefined = undefined;
  /** The market of the last order command (markets are never removed, so it stays valid). */
  private lastMarket: MarketState | undefined = undefined;
  private market: MarketState | undefined;
  private takerId = 0;
  private takerFills: FillInfo[] | undefined;
  /** The fills of the order submitOrder placed last (its result's `fills`). */
  private placedFills: readonly FillInfo[] = NO_FILLS;
  private bookRejected: MatchRejectReason | undefined;
  /**
   * The order whose result the command returns, and its last event in this command (every change of an order is
   * followed by an event): the result reuses that snapshot instead of taking another. PERF: kept here, not on the
   * long-lived record, so the snapshot dies young.
   */
  private watchedId = 0;
  private watchedSnapshot: OrderView | undefined;
  /** Depth changes of the current command: [side, priceTicks, deltaLots] triples. */
  private readonly depthDeltas: number[] = [];
  /** Numbers used in depthDeltas (PERF: written by index, like eventScratch). */
  private depthCount = 0;
  private readonly onMatch: MatchEventSink = (e) => this.handleMatch(e);

  /** The configuration, or undefined before the first CONFIGURE. */
  get config(): ExchangeConfig | undefined {
    return this.cfg;
  }

  /**
   * Applies the next command and returns its outcome (result and events).
   * @throws ExchangeError STATE_MISMATCH when `seq` is not the next sequence number or the time goes backwards —
   *   the caller feeds a wrong log; nothing was applied
   */
  apply(sc: SequencedCommand): CommandOutcome {
    if (sc.seq !== this.seq + 1) throw new ExchangeError('STATE_MISMATCH', `command ${sc.seq} applied after ${this.seq}`);
    if (!(sc.timeMs >= this.timeMs)) throw new ExchangeError('STATE_MISMATCH', `command ${sc.seq}: time ${sc.timeMs} is before ${this.timeMs}`);
    this.seq = sc.seq;
    this.timeMs = sc.timeMs;
    this.now = sc.timeMs;
    this.eventCount = 0;
    this.depthCount = 0; // both 0 already, unless a command threw midway
    const result = this.dispatch(sc.command);
    const events = this.takeEvents();
    this.eventCount = 0;
    this.market = undefined;
    this.acct = undefined;
    this.hotRec = undefined;
    return { seq: sc.seq, timeMs: sc.timeMs, command: sc.command, result, events };
  }

  /**
   * A new array of the command's events. PERF: array literals for up to six events (a move by cancel-replace makes
   * five), allocated inline, instead of a call to the slice builtin.
   */
  private takeEvents(): EngineEvent[] {
    const e = this.eventScratch;
    switch (this.eventCount) {
      case 0:
        return [];
      case 1:
        return [e[0]!];
      case 2:
        return [e[0]!, e[1]!];
      case 3:
        return [e[0]!, e[1]!, e[2]!];
      case 4:
        return [e[0]!, e[1]!, e[2]!, e[3]!];
      case 5:
        return [e[0]!, e[1]!, e[2]!, e[3]!, e[4]!];
      case 6:
        return [e[0]!, e[1]!, e[2]!, e[3]!, e[4]!, e[5]!];
      default:
        return e.slice(0, this.eventCount);
    }
  }

  private dispatch(c: EngineCommand): CommandResult {
    switch (c.type) {
      case 'PLACE_ORDER':
        return this.placeOrder(c);
      case 'CANCEL_ORDER':
        return this.cancelOrder(c);
      case 'CANCEL_ALL_ORDERS':
        return this.cancelAllOrders(c);
      case 'AMEND_ORDER':
        return this.amendOrder(c);
      case 'CANCEL_REPLACE':
        return this.cancelReplace(c);
      case 'ADJUST_BALANCE':
        return this.adjustBalance(c);
      case 'CREDIT_DEPOSIT':
        return this.creditDeposit(c);
      case 'REVERSE_DEPOSIT':
        return this.reverseDeposit(c);
      case 'LOCK_WITHDRAWAL':
        return this.lockWithdrawal(c);
      case 'COMPLETE_WITHDRAWAL':
        return this.completeWithdrawal(c);
      case 'FAIL_WITHDRAWAL':
        return this.failWithdrawal(c);
      case 'FREEZE_ACCOUNT':
      case 'UNFREEZE_ACCOUNT': {
        const frozen = c.type === 'FREEZE_ACCOUNT';
        const acct = this.account(c.userId);
        // An account left negative by a reversed deposit stays frozen until it is paid back.
        if (!frozen && acct.hasNegativeFree()) return rejected('INSUFFICIENT_BALANCE', `user ${c.userId} has a negative balance`);
        if (acct.frozen !== frozen) {
          acct.frozen = frozen;
          this.emit({ type: 'account', userId: c.userId, frozen });
        }
        return { ok: true, kind: 'done' };
      }
      case 'CONFIGURE':
        return this.configure(c.config);
      case 'SET_MARKET_STATUS': {
        const cfg = this.cfg;
        if (cfg === undefined) return rejected('NOT_CONFIGURED');
        if (!this.marketIndex.has(c.symbol)) return rejected('UNKNOWN_SYMBOL', c.symbol);
        return this.configure({ ...cfg, markets: cfg.markets.map((m) => (m.symbol === c.symbol ? { ...m, status: c.status } : m)) });
      }
      default:
        // decodeCommand admits only the types above; a replayed log goes through it too.
        throw new ExchangeError('BAD_COMMAND', `unknown command type ${String((c as { type?: unknown }).type)}`);
    }
  }

  // ---- configuration -------------------------------------------------------------------------------------------

  private configure(next: ExchangeConfig): CommandResult {
    if (this.cfg !== undefined) {
      const refusal = configChangeRefusal(this.cfg, next);
      if (refusal !== undefined) return rejected('CONFIG_REFUSED', refusal);
    }
    this.installConfig(next);
    this.emit({ type: 'config' });
    return { ok: true, kind: 'done' };
  }

  /**
   * Takes a configuration (checked by the caller against the current one): adds assets and markets, redefines
   * markets. `restored` gives the books of a snapshot (with their depth update ids) instead of empty ones.
   */
  installConfig(next: ExchangeConfig, restored?: ReadonlyMap<string, { book: OrderBook; depthUpdateId: number }>): void {
    for (const a of next.assets) {
      if (this.assetIndex.has(a.asset)) continue;
      this.assetIndex.set(a.asset, this.assets.length);
      this.assets.push(a);
      this.credited.push(0n);
      this.withdrawn.push(0n);
    }
    for (const acct of this.accounts.values()) acct.grow(this.assets.length);
    for (const mc of next.markets) {
      const def = defineMarket(mc, next.assets);
      const existing = this.marketIndex.get(mc.symbol);
      if (existing !== undefined) {
        existing.redefine(def);
      } else {
        const r = restored?.get(mc.symbol);
        this.addMarket(def, r?.book ?? new OrderBook(def.grid), r?.depthUpdateId ?? 0);
      }
    }
    this.cfg = next;
  }

  /** Adds a market (used by configure and by restore). */
  addMarket(def: ReturnType<typeof defineMarket>, book: OrderBook, depthUpdateId: number): MarketState {
    const m = new MarketState(
      this.markets.length,
      def,
      book,
      this.assetIndex.get(def.config.baseAsset)!,
      this.assetIndex.get(def.config.quoteAsset)!,
      depthUpdateId,
    );
    this.markets.push(m);
    this.marketIndex.set(m.symbol, m);
    return m;
  }

  // ---- balances ------------------------------------------------------------------------------------------------

  /** The account of `userId`, created empty on first use. */
  account(userId: number): Account {
    let acct = this.findAccount(userId);
    if (acct === undefined) {
      acct = new Account(userId, this.assets.length);
      this.accounts.set(userId, acct);
      if (isDenseUserId(userId)) {
        const dense = this.accountById;
        while (dense.length <= userId) dense.push(undefined);
        dense[userId] = acct;
      }
    }
    return acct;
  }

  /** The account of `userId`, or undefined when it has none. */
  private findAccount(userId: number): Account | undefined {
    return isDenseUserId(userId) ? this.accountById[userId] : this.accounts.get(userId);
  }

  /** Adds an event to the command's outcome. */
  private emit(e: EngineEvent): void {
    this.eventScratch[this.eventCount++] = e;
  }

  /** Changes one balance and records the ledger entry. Callers check that nothing goes negative. */
  private move(
    acct: Account,
    asset: number,
    deltaFree: Amount,
    deltaLocked: Amount,
    reason: LedgerReason,
    symbol: string,
    orderId: number,
    tradeId: number,
    externalId: string,
  ): void {
    if (!isZeroAmount(deltaFree)) acct.addFree(asset, deltaFree);
    if (!isZeroAmount(deltaLocked)) acct.addLocked(asset, deltaLocked);
    if (!this.userEvents) return;
    this.balanceEvent(acct, asset, deltaFree, deltaLocked, reason, symbol, orderId, tradeId, externalId);
  }

  /**
   * Moves `amount` (> 0) of an order's asset from free to locked (`toLocked`) or back, and records the ledger entry
   * (ORDER_LOCK or ORDER_UNLOCK, an OrderLockEntry). PERF: a subtraction instead of adding a negated copy; the
   * entry keeps the amount and gives the signed deltas on read.
   */
  private lockMove(acct: Account, asset: number, amount: Amount, toLocked: boolean, symbol: string, orderId: number, tradeId: number): void {
    if (toLocked) acct.lock(asset, amount);
    else acct.unlock(asset, amount);
    if (!this.userEvents) return;
    this.emit(new OrderLockEntry(acct.userId, this.assets[asset]!.asset, amount, acct, asset, toLocked ? 'ORDER_LOCK' : 'ORDER_UNLOCK', symbol, orderId, tradeId));
  }

  /** Adds the ledger entry of a balance change (a BalanceEvent) with the account's balances after it. */
  private balanceEvent(
    acct: Account,
    asset: number,
    deltaFree: Amount,
    deltaLocked: Amount,
    reason: LedgerReason,
    symbol: string,
    orderId: number,
    tradeId: number,
    externalId: string,
  ): void {
    this.emit(new LedgerEntry(acct.userId, this.assets[asset]!.asset, deltaFree, deltaLocked, acct, asset, reason, symbol, orderId, tradeId, externalId));
  }

  // ---- orders --------------------------------------------------------------------------------------------------

  /**
   * Checks shared by every order command: the market exists and takes it, the user may trade. Leaves the user's
   * account (undefined when there is none yet) in `this.acct` for the rest of the command.
   */
  private orderGate(symbol: string, userId: number, placing: boolean): MarketState | RejectedResult {
    // PERF: the previous order command's market first (a string compare, usually of the same string).
    const last = this.lastMarket;
    const m = last !== undefined && last.symbol === symbol ? last : (this.lastMarket = this.marketIndex.get(symbol));
    if (m === undefined) return this.cfg === undefined ? rejected('NOT_CONFIGURED') : rejected('UNKNOWN_SYMBOL', symbol);
    if (m.status === 'HALT' || (placing && m.status !== 'TRADING')) return rejected('MARKET_CLOSED', `${symbol} is ${m.status}`);
    if (userId === FEE_ACCOUNT_ID) return rejected('ACCOUNT_DISABLED', 'the fee account does not trade');
    const acct = (this.acct = this.findAccount(userId));
    if (placing && acct?.frozen === true) return rejected('ACCOUNT_FROZEN');
    return m;
  }

  /**
   * Context-free checks of a new order and its filters (Binance evaluates these before anything else, also in
   * cancel-replace). `freed`: the order a cancel-replace is about to cancel (its client id and its slot count as free).
   */
  private prepareOrder(m: MarketState, userId: number, p: OrderParams, freed: OrderRecord | undefined): NewOrder | RejectedResult {
    const grid = m.def.grid;
    // Absent fields are undefined, which the book reads as absent.
    const order = this.draft;
    order.orderId = this.lastOrderId + 1;
    order.userId = userId;
    order.side = p.side;
    order.type = p.orderType;
    order.timeInForce = p.timeInForce;
    order.priceTicks = p.priceTicks;
    order.quantityLots = p.quantityLots;
    order.quoteOrderQty = p.quoteOrderQty;
    order.stopPriceTicks = p.stopPriceTicks;
    order.stpMode = p.stpMode;
    // Checked here, once: submitOrder places it with placeChecked.
    const reason = checkNewOrder(grid, m.book.lastOrderId, order);
    if (reason !== 'NONE') return rejected(reason);
    const qty = p.quantityLots;
    if (qty !== undefined && qty < m.def.minQuantityLots) return rejected('MIN_QUANTITY', `quantity below minQty ${m.def.config.minQuantity}`);
    const minNotional = m.def.minNotionalUnits;
    if (p.priceTicks !== undefined && minNotional !== 0n && notionalBelow(m, qty!, p.priceTicks, minNotional)) {
      return rejected('MIN_NOTIONAL', `price × quantity below minNotional ${m.def.config.minNotional}`);
    }
    if (p.quoteOrderQty !== undefined && p.quoteOrderQty < minNotional) {
      return rejected('MIN_NOTIONAL', `quoteOrderQty below minNotional ${m.def.config.minNotional}`);
    }
    const acct = this.acct;
    const cid = p.clientOrderId;
    if (cid !== undefined) {
      if (cid.startsWith(AUTO_CLIENT_ORDER_ID_PREFIX)) return rejected('RESERVED_CLIENT_ORDER_ID');
      const holder = acct?.clientIds.get(clientIdKey(m.symbol, cid));
      if (holder !== undefined && holder !== freed) return rejected('DUPLICATE_CLIENT_ORDER_ID', `clientOrderId ${cid} is in use`);
    }
    if (p.orderType !== 'MARKET' && acct !== undefined) {
      // PERF: the account's total bounds its count on this market, so the per-market array is read only when the
      // total reaches the limit.
      const max = m.def.config.maxOpenOrders;
      const freedSlot = freed !== undefined ? 1 : 0;
      if (acct.openOrderCount - freedSlot >= max && acct.openCountOn(m.index) - freedSlot >= max) {
        return rejected('MAX_NUM_ORDERS', `at most ${max} open orders on ${m.symbol}`);
      }
    }
    this.lockAsset = p.side === 'BUY' ? m.quoteIndex : m.baseIndex;
    return order;
  }

  /** What the prepared order must lock now (market orders look at the book), or a refusal. */
  private computeLock(m: MarketState, o: NewOrder): Amount | RejectedResult {
    const grid = m.def.grid;
    const stp = o.stpMode ?? DEFAULT_STP_MODE;
    let lock: Amount;
    if (o.type !== 'MARKET') {
      lock = o.side === 'BUY' ? quoteUnits(m, o.quantityLots!, o.priceTicks!) : baseUnits(m, o.quantityLots!);
    } else if (o.quoteOrderQty !== undefined) {
      if (o.side === 'BUY') {
        lock = toAmount(o.quoteOrderQty);
      } else {
        const lots = m.book.previewMarket('SELL', o.userId, stp, grid.maxQuantityLots, quoteToLotTicks(grid, o.quoteOrderQty)).lots;
        if (lots !== 0 && lots < m.def.minQuantityLots) return rejected('MIN_QUANTITY', `quoteOrderQty buys less than minQty ${m.def.config.minQuantity}`);
        lock = toAmount(baseAmount(grid, lots));
      }
    } else if (o.side === 'BUY') {
      const preview = m.book.previewMarket('BUY', o.userId, stp, o.quantityLots!, Number.MAX_SAFE_INTEGER);
      const quote = lotTicksToQuote(grid, preview.lotTicks);
      lock = toAmount(quote);
      if (preview.lots !== 0 && quote < m.def.minNotionalUnits) return rejected('MIN_NOTIONAL', `the book's price × quantity is below minNotional ${m.def.config.minNotional}`);
    } else {
      lock = baseUnits(m, o.quantityLots!);
      const preview = m.book.previewMarket('SELL', o.userId, stp, o.quantityLots!, Number.MAX_SAFE_INTEGER);
      if (preview.lots !== 0 && lotTicksToQuote(grid, preview.lotTicks) < m.def.minNotionalUnits) {
        return rejected('MIN_NOTIONAL', `the book's price × quantity is below minNotional ${m.def.config.minNotional}`);
      }
    }
    const acct = this.acct;
    if (acct === undefined ? bigAmount(lock) > 0n : acct.freeBelow(this.lockAsset, lock)) return rejected('INSUFFICIENT_BALANCE');
    return lock;
  }

  /**
   * Locks `lock`, records and places the prepared order; returns its snapshot once the book is done with it (its
   * fills in `placedFills`), or the book's refusal.
   */
  private submitOrder(m: MarketState, p: OrderParams, o: NewOrder, lock: Amount): OrderView | RejectedResult {
    const acct = (this.acct ??= this.account(o.userId));
    const orderId = o.orderId;
    this.lastOrderId = orderId;
    const tif = o.timeInForce ?? 'GTC';
    const rec = new OrderRecord(
      orderId,
      m,
      o.userId,
      p.clientOrderId ?? '',
      o.side,
      o.type,
      tif,
      o.priceTicks ?? 0,
      o.quantityLots ?? 0,
      o.quoteOrderQty ?? 0n,
      o.stopPriceTicks ?? 0,
      o.stpMode ?? DEFAULT_STP_MODE,
      this.now,
      lock,
    );
    if (!isZeroAmount(lock)) this.lockMove(acct, this.lockAsset, lock, true, m.symbol, orderId, 0);
    this.addOpen(acct, rec);
    this.market = m;
    this.takerId = orderId;
    this.takerFills = undefined;
    this.bookRejected = undefined;
    this.watch(orderId);
    this.hotRec = rec;
    m.book.placeChecked(o, this.onMatch);
    this.flushDepth(m);
    this.placedFills = this.takerFills ?? NO_FILLS;
    this.takerFills = undefined;
    this.takerId = 0;
    if (this.bookRejected !== undefined) {
      // Refused by the book (post-only would take, stop would trigger, no liquidity for a quote order): undo.
      this.finishOrder(rec);
      return rejected(this.bookRejected);
    }
    return this.watchedResult(rec);
  }

  /** The result of a placed order (its snapshot and placedFills), or the refusal. */
  private placedResult(s: OrderView | RejectedResult): OrderResult | RejectedResult {
    if (isRefusal(s)) return s;
    const fills = this.placedFills;
    this.placedFills = NO_FILLS;
    return new SnapshotOrderResult(s, fills);
  }

  /** Starts watching an order's events for the command's result. */
  private watch(orderId: number): void {
    this.watchedId = orderId;
    this.watchedSnapshot = undefined;
  }

  /** The watched order's snapshot after the command: its last event, or a fresh one. */
  private watchedResult(rec: OrderRecord): OrderView {
    const s = this.watchedId === rec.orderId ? this.watchedSnapshot : undefined;
    this.watchedId = 0;
    this.watchedSnapshot = undefined;
    return s ?? new OrderSnapshot(rec);
  }

  /** Registers an open order with its account (also used to restore a snapshot). */
  addOpen(acct: Account, rec: OrderRecord): void {
    rec.account = acct;
    this.openOrders.set(rec.orderId, rec);
    acct.linkOrder(rec);
    if (rec.clientOrderId !== '') acct.clientIds.set(clientIdKey(rec.market.symbol, rec.clientOrderId), rec);
  }

  /** The order left the book (filled, canceled, expired, refused): unlock what it did not spend, forget it. */
  private finishOrder(rec: OrderRecord): void {
    const acct = rec.account;
    const rest = rec.lockAmount;
    if (!isZeroAmount(rest)) {
      const m = rec.market;
      rec.setLock(0);
      this.lockMove(acct, rec.side === 'BUY' ? m.quoteIndex : m.baseIndex, rest, false, m.symbol, rec.orderId, 0);
    }
    this.openOrders.delete(rec.orderId);
    acct.unlinkOrder(rec);
    if (rec.clientOrderId !== '') acct.clientIds.delete(clientIdKey(rec.market.symbol, rec.clientOrderId));
  }

  private placeOrder(c: PlaceOrderCommand): CommandResult {
    const m = this.orderGate(c.symbol, c.userId, true);
    if (!(m instanceof MarketState)) return m;
    const order = this.prepareOrder(m, c.userId, c.order, undefined);
    if (isRefusal(order)) return order;
    const lock = this.computeLock(m, order);
    if (typeof lock === 'object') return lock;
    return this.placedResult(this.submitOrder(m, c.order, order, lock));
  }

  /** An open order of the account by id, or undefined (also when it is another user's). */
  private ownOrder(acct: Account, orderId: number): OrderRecord | undefined {
    const rec = this.openOrders.get(orderId);
    return rec !== undefined && rec.userId === acct.userId ? rec : undefined;
  }

  /** The user's open order on the market by id or client id, or undefined (another user's order is "unknown"). */
  private findOrder(m: MarketState, acct: Account | undefined, orderId: number | undefined, clientOrderId: string | undefined): OrderRecord | undefined {
    if (acct === undefined) return undefined;
    let rec: OrderRecord | undefined;
    if (orderId !== undefined) {
      rec = this.ownOrder(acct, orderId);
      if (rec !== undefined && clientOrderId !== undefined && rec.displayClientOrderId !== clientOrderId) return undefined;
    } else if (clientOrderId !== undefined) {
      if (clientOrderId.startsWith(AUTO_CLIENT_ORDER_ID_PREFIX)) {
        const id = Number(clientOrderId.slice(AUTO_CLIENT_ORDER_ID_PREFIX.length));
        rec = Number.isSafeInteger(id) && id > 0 ? this.ownOrder(acct, id) : undefined;
        // Only the engine's own form names it (`cairn-1e3` is not order 1000's id).
        if (rec !== undefined && (rec.clientOrderId !== '' || rec.displayClientOrderId !== clientOrderId)) rec = undefined;
      } else {
        rec = acct.clientIds.get(clientIdKey(m.symbol, clientOrderId));
      }
    }
    return rec !== undefined && rec.market === m ? rec : undefined;
  }

  /** Cancels one open order through the book; returns its final state. */
  private cancelRecord(m: MarketState, rec: OrderRecord): OrderView {
    this.market = m;
    this.bookRejected = undefined;
    this.watch(rec.orderId);
    this.hotRec = rec;
    m.book.cancel(rec.orderId, rec.userId, this.onMatch);
    if (this.bookRejected !== undefined) {
      // The engine's open orders and the book disagree: state is corrupt, stop rather than guess.
      throw new ExchangeError('STATE_MISMATCH', `order ${rec.orderId} is open in the engine but the book refused its cancel (${this.bookRejected})`);
    }
    return this.watchedResult(rec);
  }

  private cancelOrder(c: CancelOrderCommand): CommandResult {
    const m = this.orderGate(c.symbol, c.userId, false);
    if (!(m instanceof MarketState)) return m;
    const rec = this.findOrder(m, this.acct, c.orderId, c.clientOrderId);
    if (rec === undefined) return rejected('UNKNOWN_ORDER');
    const result = new SnapshotOrderResult(this.cancelRecord(m, rec), NO_FILLS);
    this.flushDepth(m);
    return result;
  }

  private cancelAllOrders(c: CancelAllOrdersCommand): CommandResult {
    const m = this.orderGate(c.symbol, c.userId, false);
    if (!(m instanceof MarketState)) return m;
    const acct = this.accounts.get(c.userId);
    const mine = acct === undefined ? [] : acct.openOrders().filter((r) => r.market === m);
    if (mine.length === 0) return rejected('UNKNOWN_ORDER', 'no open orders');
    const orders: OrderState[] = [];
    for (const rec of mine) orders.push(this.cancelRecord(m, rec).order);
    this.flushDepth(m);
    return { ok: true, kind: 'orders', orders };
  }

  private amendOrder(c: AmendOrderCommand): CommandResult {
    const m = this.orderGate(c.symbol, c.userId, false);
    if (!(m instanceof MarketState)) return m;
    const rec = this.findOrder(m, this.acct, c.orderId, c.clientOrderId);
    if (rec === undefined) return rejected('UNKNOWN_ORDER');
    this.market = m;
    this.bookRejected = undefined;
    this.watch(rec.orderId);
    this.hotRec = rec;
    m.book.amendKeepPriority(rec.orderId, rec.userId, c.newQuantityLots, this.onMatch);
    this.flushDepth(m);
    if (this.bookRejected !== undefined) return rejected(this.bookRejected);
    return new SnapshotOrderResult(this.watchedResult(rec), NO_FILLS);
  }

  private cancelReplace(c: CancelReplaceCommand): CommandResult {
    const m = this.orderGate(c.symbol, c.userId, true);
    if (!(m instanceof MarketState)) return bothRejected(m.reason, undefined);
    const target = this.findOrder(m, this.acct, c.cancelOrderId, c.cancelClientOrderId);
    const prepared = this.prepareOrder(m, c.userId, c.order, target);
    if (isRefusal(prepared)) {
      // The new order fails its own checks: Binance evaluates them before the cancel, so nothing is canceled.
      return { ok: false, kind: 'cancelReplace', cancel: rejected('NOT_ATTEMPTED', 'the new order was refused'), newOrder: prepared };
    }
    let canceled: OrderView | undefined;
    if (target === undefined) {
      if (c.mode === 'STOP_ON_FAILURE') return { ok: false, kind: 'cancelReplace', cancel: rejected('UNKNOWN_ORDER'), newOrder: rejected('NOT_ATTEMPTED') };
    } else {
      canceled = this.cancelRecord(m, target);
    }
    const lock = this.computeLock(m, prepared);
    const placed = typeof lock !== 'object' ? this.submitOrder(m, c.order, prepared, lock) : lock;
    this.flushDepth(m);
    if (canceled !== undefined && !isRefusal(placed)) {
      const fills = this.placedFills;
      this.placedFills = NO_FILLS;
      return new MoveResult(canceled, placed, fills);
    }
    const cancel = canceled === undefined ? rejected('UNKNOWN_ORDER') : new SnapshotOrderResult(canceled, NO_FILLS);
    const newOrder = this.placedResult(placed);
    return { ok: cancel.ok && newOrder.ok, kind: 'cancelReplace', cancel, newOrder };
  }

  // ---- book events -------------------------------------------------------------------------------------------------

  private handleMatch(e: MatchEvent): void {
    if (e.bookDeltaLots !== 0) {
      const bid = e.kind === 'TRADE' ? e.side === 'SELL' : e.side === 'BUY';
      const d = this.depthDeltas;
      const n = this.depthCount;
      d[n] = bid ? DEPTH_BID : DEPTH_ASK;
      d[n + 1] = e.priceTicks;
      d[n + 2] = e.bookDeltaLots;
      this.depthCount = n + 3;
    }
    switch (e.kind) {
      case 'TRADE':
        this.settleTrade(e);
        return;
      case 'NEW': {
        const rec = this.record(e.orderId);
        rec.quantityLots = e.quantityLots; // a quoteOrderQty MARKET order's lots are fixed here
        this.orderEvent(rec, 'NEW', 'NONE', 0);
        return;
      }
      case 'RESTED':
        return;
      case 'TRIGGERED': {
        const rec = this.record(e.orderId);
        rec.workingTimeMs = this.now;
        rec.updateTimeMs = this.now;
        this.orderEvent(rec, 'TRIGGERED', 'NONE', 0);
        return;
      }
      case 'CANCELED':
      case 'EXPIRED':
      case 'TRADE_PREVENTION': {
        const rec = this.record(e.orderId);
        rec.status = e.status;
        rec.updateTimeMs = this.now;
        this.orderEvent(rec, e.kind, e.reason as OrderEventReason, e.kind === 'TRADE_PREVENTION' ? e.counterOrderId : 0);
        this.finishOrder(rec);
        return;
      }
      case 'REPLACED': {
        const rec = this.record(e.orderId);
        const m = rec.market;
        rec.quantityLots -= e.quantityLots;
        rec.updateTimeMs = this.now;
        const release = rec.side === 'BUY' ? quoteUnits(m, e.quantityLots, rec.priceTicks) : baseUnits(m, e.quantityLots);
        rec.subLock(release);
        this.lockMove(rec.account, rec.side === 'BUY' ? m.quoteIndex : m.baseIndex, release, false, m.symbol, rec.orderId, 0);
        this.orderEvent(rec, 'REPLACED', 'NONE', 0);
        return;
      }
      case 'REJECTED':
        this.bookRejected = e.reason as MatchRejectReason;
        return;
    }
  }

  /** The open order `orderId` (the hot record, or from the index). */
  private record(orderId: number): OrderRecord {
    const hot = this.hotRec;
    return hot !== undefined && hot.orderId === orderId ? hot : this.openOrders.get(orderId)!;
  }

  private settleTrade(e: MatchEvent): void {
    const m = this.market!;
    const taker = this.record(e.orderId);
    const maker = this.openOrders.get(e.counterOrderId)!;
    const lots = e.quantityLots;
    const price = e.priceTicks;
    const base = baseUnits(m, lots);
    const quote = quoteUnits(m, lots, price);
    const takerBuys = taker.side === 'BUY';
    const buyer = takerBuys ? taker : maker;
    const seller = takerBuys ? maker : taker;
    const buyerFee = takerBuys ? feeOn(base, m.takerFeePpmNum, m.takerFeePpm) : feeOn(base, m.makerFeePpmNum, m.makerFeePpm);
    const sellerFee = takerBuys ? feeOn(quote, m.makerFeePpmNum, m.makerFeePpm) : feeOn(quote, m.takerFeePpmNum, m.takerFeePpm);
    // The bigint forms the trade's events and the orders' cumulative quote carry.
    const quoteBig = bigAmount(quote);
    const buyerFeeBig = bigAmount(buyerFee);
    const sellerFeeBig = bigAmount(sellerFee);
    const tradeId = e.tradeId;
    const sym = m.symbol;
    const bi = m.baseIndex;
    const qi = m.quoteIndex;
    const buyerAcct = buyer.account;
    const sellerAcct = seller.account;

    this.emit({
      type: 'trade',
      symbol: sym,
      tradeId,
      priceTicks: price,
      quantityLots: lots,
      quote: quoteBig,
      buyerOrderId: buyer.orderId,
      sellerOrderId: seller.orderId,
      buyerUserId: buyer.userId,
      sellerUserId: seller.userId,
      isBuyerMaker: !takerBuys,
      buyerFee: buyerFeeBig,
      sellerFee: sellerFeeBig,
      timeMs: this.now,
    });
    // Buyer: pays from its lock, receives base minus fee; a limit buy filled below its limit unlocks the difference.
    buyer.subLock(quote);
    this.move(buyerAcct, qi, 0, negAmount(quote), 'FILL', sym, buyer.orderId, tradeId, '');
    if (buyer.priceTicks > price) {
      const excess = quoteUnits(m, lots, buyer.priceTicks - price);
      buyer.subLock(excess);
      this.lockMove(buyerAcct, qi, excess, false, sym, buyer.orderId, tradeId);
    }
    this.move(buyerAcct, bi, base, 0, 'FILL', sym, buyer.orderId, tradeId, '');
    // Seller: delivers from its lock, receives quote minus fee.
    seller.subLock(base);
    this.move(sellerAcct, bi, 0, negAmount(base), 'FILL', sym, seller.orderId, tradeId, '');
    this.move(sellerAcct, qi, quote, 0, 'FILL', sym, seller.orderId, tradeId, '');
    const buyerPays = !isZeroAmount(buyerFee);
    const sellerPays = !isZeroAmount(sellerFee);
    if (buyerPays || sellerPays) {
      const feeAcct = this.account(FEE_ACCOUNT_ID);
      if (buyerPays) {
        this.move(buyerAcct, bi, negAmount(buyerFee), 0, 'FEE', sym, buyer.orderId, tradeId, '');
        this.move(feeAcct, bi, buyerFee, 0, 'FEE', sym, buyer.orderId, tradeId, '');
      }
      if (sellerPays) {
        this.move(sellerAcct, qi, negAmount(sellerFee), 0, 'FEE', sym, seller.orderId, tradeId, '');
        this.move(feeAcct, qi, sellerFee, 0, 'FEE', sym, seller.orderId, tradeId, '');
      }
    }
    const now = this.now;
    taker.executedLots += lots;
    taker.cumQuote += quoteBig;
    taker.status = e.status;
    taker.updateTimeMs = now;
    maker.executedLots += lots;
    maker.cumQuote += quoteBig;
    maker.status = e.counterRemainingLots === 0 ? 'FILLED' : 'PARTIALLY_FILLED';
    maker.updateTimeMs = now;
    const takerFee = takerBuys ? buyerFeeBig : sellerFeeBig;
    const makerFee = takerBuys ? sellerFeeBig : buyerFeeBig;
    const takerAsset = this.assets[takerBuys ? bi : qi]!.asset;
    const makerAsset = this.assets[takerBuys ? qi : bi]!.asset;
    this.tradeEvent(taker, tradeId, lots, price, quoteBig, takerFee, takerAsset, false);
    this.tradeEvent(maker, tradeId, lots, price, quoteBig, makerFee, makerAsset, true);
    if (taker.orderId === this.takerId) {
      (this.takerFills ??= []).push({ tradeId, priceTicks: price, quantityLots: lots, commission: takerFee, commissionAsset: takerAsset });
    }
    if (e.counterRemainingLots === 0) this.finishOrder(maker);
    if (e.remainingLots === 0) this.finishOrder(taker);
  }

  /** Adds an order event (remembered when it is about the watched order). */
  private emitOrderUpdate(ev: OrderUpdate | TradeUpdate): void {
    if (ev.orderId === this.watchedId) this.watchedSnapshot = ev;
    this.emit(ev);
  }

  private orderEvent(rec: OrderRecord, execution: ExecutionType, reason: OrderEventReason, counterOrderId: number): void {
    if (!this.userEvents) return;
    this.emitOrderUpdate(reason === 'NONE' && counterOrderId === 0 ? new OrderUpdate(rec, execution) : new ExpiryUpdate(rec, execution, reason, counterOrderId));
  }

  private tradeEvent(
    rec: OrderRecord,
    tradeId: number,
    lots: number,
    price: number,
    quote: bigint,
    commission: bigint,
    commissionAsset: string,
    isMaker: boolean,
  ): void {
    if (!this.userEvents) return;
    this.emitOrderUpdate(new TradeUpdate(rec, tradeId, lots, price, quote, commission, commissionAsset, isMaker));
  }

  /** Turns the command's depth changes into one DepthEvent (levels merged, zeros dropped) with the next update id. */
  private flushDepth(m: MarketState): void {
    const d = this.depthDeltas;
    const len = this.depthCount;
    if (len === 0) return;
    // Merge levels in place (first change's position wins), then drop zeros. PERF: the scratch array is reused and
    // the event gets one exact-size copy.
    let merged = 0;
    for (let i = 0; i < len; i += 3) {
      const side = d[i]!;
      const price = d[i + 1]!;
      let j = 0;
      while (j < merged && (d[j] !== side || d[j + 1] !== price)) j += 3;
      if (j < merged) d[j + 2]! += d[i + 2]!;
      else {
        if (merged !== i) {
          d[merged] = side;
          d[merged + 1] = price;
          d[merged + 2] = d[i + 2]!;
        }
        merged += 3;
      }
    }
    let n = 0;
    for (let i = 0; i < merged; i += 3) {
      if (d[i + 2] === 0) continue;
      if (n !== i) {
        d[n] = d[i]!;
        d[n + 1] = d[i + 1]!;
        d[n + 2] = d[i + 2]!;
      }
      n += 3;
    }
    // PERF: literals for the usual one or two levels (a place, a move), a builtin call otherwise.
    const changes = n === 0 ? undefined : n === 3 ? [d[0]!, d[1]!, d[2]!] : n === 6 ? [d[0]!, d[1]!, d[2]!, d[3]!, d[4]!, d[5]!] : d.slice(0, n);
    this.depthCount = 0;
    if (changes === undefined) return;
    this.emit({ type: 'depth', symbol: m.symbol, updateId: ++m.depthUpdateId, changes });
  }

  // ---- admin and chain bridge ----------------------------------------------------------------------------------------

  private balanceResult(userId: number, asset: number, amount: bigint): BalanceResult {
    const acct = this.account(userId);
    return { ok: true, kind: 'balance', userId, asset: this.assets[asset]!.asset, amount, free: acct.freeOf(asset), locked: acct.lockedOf(asset), duplicate: false };
  }

  private static repeat(first: BalanceResult | RejectedResult): BalanceResult | RejectedResult {
    return first.ok ? { ...first, duplicate: true } : first;
  }

  private adjustBalance(c: AdjustBalanceCommand): CommandResult {
    const prev = this.adjustments.get(c.adjustmentId);
    if (prev !== undefined) {
      if (prev.userId !== c.userId || prev.asset !== c.asset || prev.amount !== c.amount) return rejected('ID_REUSED', `adjustment ${c.adjustmentId} was for another request`);
      return ExchangeEngine.repeat(prev.result);
    }
    const result = this.applyAdjustment(c);
    this.adjustments.set(c.adjustmentId, { userId: c.userId, asset: c.asset, amount: c.amount, result });
    return result;
  }

  private applyAdjustment(c: AdjustBalanceCommand): BalanceResult | RejectedResult {
    if (this.cfg === undefined) return rejected('NOT_CONFIGURED');
    const ai = this.assetIndex.get(c.asset);
    if (ai === undefined) return rejected('UNKNOWN_ASSET', c.asset);
    if (c.amount > 0n && !adjustmentAllowed(this.cfg.network, this.assets[ai]!)) {
      return rejected('ADJUSTMENT_NOT_ALLOWED', `${c.asset} is credited by deposits only on ${this.cfg.network}`);
    }
    const acct = this.account(c.userId);
    if (c.amount < 0n && acct.freeOf(ai) < -c.amount) return rejected('INSUFFICIENT_BALANCE');
    this.move(acct, ai, c.amount, 0n, 'ADJUSTMENT', '', 0, 0, c.adjustmentId);
    if (c.amount > 0n) this.credited[ai]! += c.amount;
    else this.withdrawn[ai]! -= c.amount;
    return this.balanceResult(c.userId, ai, c.amount);
  }

  private creditDeposit(c: CreditDepositCommand): CommandResult {
    const key = `${c.txid}:${c.vout}`;
    const prev = this.deposits.get(key);
    if (prev !== undefined) {
      if (prev.userId !== c.userId || prev.asset !== c.asset || prev.amount !== c.amount) return rejected('ID_REUSED', `deposit ${key} was credited with other details`);
      return ExchangeEngine.repeat(prev.result);
    }
    let result: BalanceResult | RejectedResult;
    const ai = this.assetIndex.get(c.asset);
    if (this.cfg === undefined) result = rejected('NOT_CONFIGURED');
    else if (ai === undefined) result = rejected('UNKNOWN_ASSET', c.asset);
    else if (!this.assets[ai]!.onChain) result = rejected('ASSET_NOT_ON_CHAIN', c.asset);
    else {
      this.move(this.account(c.userId), ai, c.amount, 0n, 'DEPOSIT', '', 0, 0, key);
      this.credited[ai]! += c.amount;
      result = this.balanceResult(c.userId, ai, c.amount);
    }
    this.deposits.set(key, { userId: c.userId, asset: c.asset, amount: c.amount, result });
    return result;
  }

  /**
   * Takes back a credited deposit that a reorg removed: −amount from free (negative allowed), credited −= amount, the
   * deposit forgotten (so a re-confirmed one is credited again), and the account frozen when its free balance is now
   * negative. A deposit that is not credited is refused (UNKNOWN_DEPOSIT) without change, so a repeat is harmless.
   */
  private reverseDeposit(c: ReverseDepositCommand): CommandResult {
    const key = `${c.txid}:${c.vout}`;
    const prev = this.deposits.get(key);
    if (prev === undefined || !prev.result.ok) return rejected('UNKNOWN_DEPOSIT', key);
    const ai = this.assetIndex.get(prev.asset)!;
    const acct = this.account(prev.userId);
    this.deposits.delete(key);
    this.move(acct, ai, -prev.amount, 0n, 'DEPOSIT_REVERSAL', '', 0, 0, key);
    this.credited[ai]! -= prev.amount;
    if (acct.freeOf(ai) < 0n && !acct.frozen) {
      acct.frozen = true;
      this.emit({ type: 'account', userId: prev.userId, frozen: true });
    }
    return this.balanceResult(prev.userId, ai, -prev.amount);
  }

  private lockWithdrawal(c: LockWithdrawalCommand): CommandResult {
    const prev = this.withdrawals.get(c.withdrawalId);
    if (prev !== undefined) {
      if (prev.userId !== c.userId || prev.asset !== c.asset || prev.amount !== c.amount) return rejected('ID_REUSED', `withdrawal ${c.withdrawalId} was for another request`);
      return ExchangeEngine.repeat(prev.lockResult);
    }
    let result: BalanceResult | RejectedResult;
    const ai = this.assetIndex.get(c.asset);
    const acct = this.accounts.get(c.userId);
    if (this.cfg === undefined) result = rejected('NOT_CONFIGURED');
    else if (ai === undefined) result = rejected('UNKNOWN_ASSET', c.asset);
    else if (acct?.frozen === true) result = rejected('ACCOUNT_FROZEN');
    else if (acct === undefined || acct.freeOf(ai) < c.amount) result = rejected('INSUFFICIENT_BALANCE');
    else {
      this.move(acct, ai, -c.amount, c.amount, 'WITHDRAWAL_LOCK', '', 0, 0, c.withdrawalId);
      result = this.balanceResult(c.userId, ai, 0n);
    }
    this.withdrawals.set(c.withdrawalId, {
      userId: c.userId,
      asset: c.asset,
      amount: c.amount,
      state: result.ok ? 'LOCKED' : 'REJECTED',
      txid: '',
      lockResult: result,
      finishResult: undefined,
    });
    return result;
  }

  private finishWithdrawal(c: CompleteWithdrawalCommand | FailWithdrawalCommand): CommandResult {
    const w = this.withdrawals.get(c.withdrawalId);
    if (w === undefined || w.state === 'REJECTED') return rejected('UNKNOWN_WITHDRAWAL', c.withdrawalId);
    const complete = c.type === 'COMPLETE_WITHDRAWAL';
    const target = complete ? 'COMPLETED' : 'FAILED';
    if (w.state === target) return { ...w.finishResult!, duplicate: true };
    if (w.state !== 'LOCKED') return rejected('WITHDRAWAL_FINISHED', `withdrawal ${c.withdrawalId} is ${w.state}`);
    const ai = this.assetIndex.get(w.asset)!;
    const acct = this.accounts.get(w.userId)!;
    if (complete) {
      this.move(acct, ai, 0n, -w.amount, 'WITHDRAWAL', '', 0, 0, c.withdrawalId);
      this.withdrawn[ai]! += w.amount;
      w.txid = (c as CompleteWithdrawalCommand).txid ?? '';
    } else {
      this.move(acct, ai, w.amount, -w.amount, 'WITHDRAWAL_UNLOCK', '', 0, 0, c.withdrawalId);
    }
    w.state = target;
    w.finishResult = this.balanceResult(w.userId, ai, complete ? -w.amount : 0n);
    return w.finishResult;
  }

  private completeWithdrawal(c: CompleteWithdrawalCommand): CommandResult {
    return this.finishWithdrawal(c);
  }

  private failWithdrawal(c: FailWithdrawalCommand): CommandResult {
    return this.finishWithdrawal(c);
  }

  // ---- reads ---------------------------------------------------------------------------------------------------

  /** Every open order, by increasing id. */
  listOpenOrders(): OrderRecord[] {
    const out: OrderRecord[] = [];
    this.openOrders.forEach((rec) => out.push(rec));
    return out.sort((a, b) => a.orderId - b.orderId);
  }

  /** A market by symbol, or undefined. */
  getMarket(symbol: string): MarketState | undefined {
    return this.marketIndex.get(symbol);
  }

  /** The market configurations in order. */
  getMarketConfigs(): readonly MarketConfig[] {
    return this.cfg?.markets ?? [];
  }

  /** The user's balances, one entry per asset (zeros included), in configuration order. */
  getBalances(userId: number): Array<{ asset: string; free: bigint; locked: bigint }> {
    const acct = this.accounts.get(userId);
    return this.assets.map((a, i) => ({ asset: a.asset, free: acct?.freeOf(i) ?? 0n, locked: acct?.lockedOf(i) ?? 0n }));
  }

  /**
   * Every account's holding (free + locked; negative after a reversed deposit) of one asset, by user id, the fee
   * account included; accounts holding none are left out. Empty for an unknown asset.
   */
  getHoldings(asset: string): Map<number, bigint> {
    const out = new Map<number, bigint>();
    const ai = this.assetIndex.get(asset);
    if (ai === undefined) return out;
    for (const [userId, acct] of this.accounts) {
      const v = acct.freeOf(ai) + acct.lockedOf(ai);
      if (v !== 0n) out.set(userId, v);
    }
    return out;
  }

  /** Whether the account is frozen. */
  isFrozen(userId: number): boolean {
    return this.accounts.get(userId)?.frozen === true;
  }

  /** The user's open orders, on one market or all, by increasing order id. */
  getOpenOrders(userId: number, symbol?: string): OrderState[] {
    const acct = this.accounts.get(userId);
    if (acct === undefined) return [];
    const out: OrderState[] = [];
    for (let rec = acct.firstOrder; rec !== undefined; rec = rec.nextInAccount) if (symbol === undefined || rec.market.symbol === symbol) out.push(rec.state());
    return out;
  }

  /** One open order of the user on the market, by id or client order id; undefined if not open or not theirs. */
  getOpenOrder(userId: number, symbol: string, orderId?: number, clientOrderId?: string): OrderState | undefined {
    const m = this.marketIndex.get(symbol);
    if (m === undefined) return undefined;
    return this.findOrder(m, this.accounts.get(userId), orderId, clientOrderId)?.state();
  }
}

type OrderEventReason = OrderEvent['reason'];

