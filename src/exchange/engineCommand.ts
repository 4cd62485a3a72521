/**
 * The engine's commands: everything that changes the exchange's state goes through one of these, gets a sequence
 * number and a time from the sequencer, and is written to the command log before it is applied. Prices are integer
 * ticks and quantities integer lots of the market's grid (the gateway converts Binance's decimal strings with
 * parsePriceTicks/parseQuantityLots); amounts are bigint base units of an asset.
 * The JSON codec here is the command log's record format and the `cairn exchange run` input format: bigints are
 * decimal strings, and decoding checks every field (a log or a pipe is input like any other).
 */
import type { OrderType, Side, StpMode, TimeInForce, CancelReplaceMode } from '../matching/matchCommand.js';
import { checkExchangeConfig, encodeExchangeConfig, MARKET_STATUSES, type ExchangeConfig, type MarketStatus } from './exchangeConfig.js';
import { ExchangeError } from './exchangeError.js';

/** The user id of the fee account: fees are credited to it; it cannot trade. Users are 1..2^53 − 1. */
export const FEE_ACCOUNT_ID = 0;

/** A new order's parameters (Binance `POST /api/v3/order` in grid units). */
export interface OrderParams {
  readonly side: Side;
  readonly orderType: OrderType;
  /** LIMIT, STOP_LOSS_LIMIT, TAKE_PROFIT_LIMIT: required; MARKET, LIMIT_MAKER: absent. */
  readonly timeInForce?: TimeInForce;
  readonly priceTicks?: number;
  readonly quantityLots?: number;
  /** MARKET by quote amount, quote-asset base units. */
  readonly quoteOrderQty?: bigint;
  readonly stopPriceTicks?: number;
  /** Default: the matching core's DEFAULT_STP_MODE (EXPIRE_MAKER). */
  readonly stpMode?: StpMode;
  /** Binance `newClientOrderId` (`^[a-zA-Z0-9-_]{1,36}$`), unique among the user's open orders; default `auto-<orderId>`. */
  readonly clientOrderId?: string;
}

/** Sets or changes the configuration (the first command of every log). See configChangeRefusal for what may change. */
export interface ConfigureCommand {
  readonly type: 'CONFIGURE';
  readonly config: ExchangeConfig;
}

/** Changes one market's status (TRADING, CANCEL_ONLY, HALT). */
export interface SetMarketStatusCommand {
  readonly type: 'SET_MARKET_STATUS';
  readonly symbol: string;
  readonly status: MarketStatus;
}

/** Places an order for `userId`, locking what it can spend. */
export interface PlaceOrderCommand {
  readonly type: 'PLACE_ORDER';
  readonly symbol: string;
  readonly userId: number;
  readonly order: OrderParams;
}

/** Cancels one open order of `userId`, by orderId or by clientOrderId (one of them). */
export interface CancelOrderCommand {
  readonly type: 'CANCEL_ORDER';
  readonly symbol: string;
  readonly userId: number;
  readonly orderId?: number;
  readonly clientOrderId?: string;
}

/** Cancels every open order of `userId` on the market (Binance `DELETE /api/v3/openOrders`). */
export interface CancelAllOrdersCommand {
  readonly type: 'CANCEL_ALL_ORDERS';
  readonly symbol: string;
  readonly userId: number;
}

/** Lowers an open order's quantity keeping its priority (Binance order amend keepPriority). */
export interface AmendOrderCommand {
  readonly type: 'AMEND_ORDER';
  readonly symbol: string;
  readonly userId: number;
  readonly orderId?: number;
  readonly clientOrderId?: string;
  /** The order's new total quantity. */
  readonly newQuantityLots: number;
}

/** Cancels an open order and places a new one (Binance `POST /api/v3/order/cancelReplace`). */
export interface CancelReplaceCommand {
  readonly type: 'CANCEL_REPLACE';
  readonly symbol: string;
  readonly userId: number;
  readonly cancelOrderId?: number;
  readonly cancelClientOrderId?: string;
  readonly mode: CancelReplaceMode;
  readonly order: OrderParams;
}

/**
 * An admin balance adjustment: `amount` (signed) to the user's free balance. Applies once per `adjustmentId`; a
 * repeat returns the first result (ViaBTC balance.update's business id, exchange-core's BALANCE_ADJUSTMENT).
 */
export interface AdjustBalanceCommand {
  readonly type: 'ADJUST_BALANCE';
  readonly adjustmentId: string;
  readonly userId: number;
  readonly asset: string;
  readonly amount: bigint;
  readonly memo?: string;
}

/** A confirmed chain deposit credited to `userId`; applies once per (txid, vout). */
export interface CreditDepositCommand {
  readonly type: 'CREDIT_DEPOSIT';
  /** Display hex txid (64 lowercase hex digits). */
  readonly txid: string;
  readonly vout: number;
  readonly userId: number;
  readonly asset: string;
  readonly amount: bigint;
}

/**
 * A credited chain deposit whose transaction left the best chain (a reorg): its amount leaves the account's free
 * balance, which may go negative (the account is then frozen). Applies to a credited (txid, vout) only; afterwards the
 * deposit counts as never credited, so a CREDIT_DEPOSIT after it re-confirms credits it again.
 */
export interface ReverseDepositCommand {
  readonly type: 'REVERSE_DEPOSIT';
  /** Display hex txid (64 lowercase hex digits). */
  readonly txid: string;
  readonly vout: number;
}

/** Moves `amount` from free to locked for a withdrawal being sent; applies once per `withdrawalId`. */
export interface LockWithdrawalCommand {
  readonly type: 'LOCK_WITHDRAWAL';
  readonly withdrawalId: string;
  readonly userId: number;
  readonly asset: string;
  readonly amount: bigint;
}

/** The withdrawal was sent: its locked amount leaves the exchange. */
export interface CompleteWithdrawalCommand {
  readonly type: 'COMPLETE_WITHDRAWAL';
  readonly withdrawalId: string;
  /** The chain transaction that paid it, when known. */
  readonly txid?: string;
}

/** The withdrawal failed: its locked amount returns to free. */
export interface FailWithdrawalCommand {
  readonly type: 'FAIL_WITHDRAWAL';
  readonly withdrawalId: string;
}

/** Freezes an account (no new orders, amends up or withdrawals; cancels still work) or unfreezes it. */
export interface FreezeAccountCommand {
  readonly type: 'FREEZE_ACCOUNT' | 'UNFREEZE_ACCOUNT';
  readonly userId: number;
}

/** Every command the engine takes. */
export type EngineCommand =
  | ConfigureCommand
  | SetMarketStatusCommand
  | PlaceOrderCommand
  | CancelOrderCommand
  | CancelAllOrdersCommand
  | AmendOrderCommand
  | CancelReplaceCommand
  | AdjustBalanceCommand
  | CreditDepositCommand
  | ReverseDepositCommand
  | LockWithdrawalCommand
  | CompleteWithdrawalCommand
  | FailWithdrawalCommand
  | FreezeAccountCommand;

/** The command type names. */
export type EngineCommandType = EngineCommand['type'];

/** A command as the sequencer stamped it: its place in the log and its time. */
export interface SequencedCommand {
  /** 1, 2, 3 … without gaps. */
  readonly seq: number;
  /** Milliseconds since the epoch when it was sequenced; never decreases along the log. */
  readonly timeMs: number;
  readonly command: EngineCommand;
}

/** Binance's newClientOrderId pattern. */
export const CLIENT_ORDER_ID_RE = /^[a-zA-Z0-9_-]{1,36}$/;
/** Pattern of adjustment and withdrawal ids. */
export const EXTERNAL_ID_RE = /^[A-Za-z0-9._:-]{1,64}$/;
const TXID_RE = /^[0-9a-f]{64}$/;
const BIGINT_RE = /^-?(0|[1-9]\d{0,39})$/;

// ---- encoding ----------------------------------------------------------------------------------------------------

function orderParamsJson(o: OrderParams): Record<string, unknown> {
  const out: Record<string, unknown> = { side: o.side, orderType: o.orderType };
  if (o.timeInForce !== undefined) out.timeInForce = o.timeInForce;
  if (o.priceTicks !== undefined) out.priceTicks = o.priceTicks;
  if (o.quantityLots !== undefined) out.quantityLots = o.quantityLots;
  if (o.quoteOrderQty !== undefined) out.quoteOrderQty = o.quoteOrderQty.toString();
  if (o.stopPriceTicks !== undefined) out.stopPriceTicks = o.stopPriceTicks;
  if (o.stpMode !== undefined) out.stpMode = o.stpMode;
  if (o.clientOrderId !== undefined) out.clientOrderId = o.clientOrderId;
  return out;
}

/** The command as a JSON-ready object (bigints as decimal strings, absent fields omitted). */
export function commandToJson(c: EngineCommand): Record<string, unknown> {
  switch (c.type) {
    case 'CONFIGURE':
      return { type: c.type, config: JSON.parse(encodeExchangeConfig(c.config)) as unknown };
    case 'PLACE_ORDER':
      return { type: c.type, symbol: c.symbol, userId: c.userId, order: orderParamsJson(c.order) };
    case 'CANCEL_REPLACE': {
      const out: Record<string, unknown> = { type: c.type, symbol: c.symbol, userId: c.userId };
      if (c.cancelOrderId !== undefined) out.cancelOrderId = c.cancelOrderId;
      if (c.cancelClientOrderId !== undefined) out.cancelClientOrderId = c.cancelClientOrderId;
      out.mode = c.mode;
      out.order = orderParamsJson(c.order);
      return out;
    }
    case 'ADJUST_BALANCE':
    case 'CREDIT_DEPOSIT':
    case 'LOCK_WITHDRAWAL':
      return { ...c, amount: c.amount.toString() };
    default:
      return { ...c };
  }
}

/** The canonical JSON text of a command (the command log's body). */
export function encodeCommand(c: EngineCommand): string {
  return JSON.stringify(commandToJson(c));
}

// ---- decoding ----------------------------------------------------------------------------------------------------

function fail(why: string): never {
  throw new ExchangeError('BAD_COMMAND', why);
}

function obj(v: unknown, where: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`${where} must be an object`);
  return v as Record<string, unknown>;
}

function onlyKeys(o: Record<string, unknown>, keys: readonly string[], where: string): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) fail(`${where}: unknown field ${JSON.stringify(k)}`);
}

function reqString(o: Record<string, unknown>, k: string, re: RegExp, where: string): string {
  const v = o[k];
  if (typeof v !== 'string' || !re.test(v)) fail(`${where}: ${k} must be a string matching ${String(re)}`);
  return v;
}

function optString(o: Record<string, unknown>, k: string, re: RegExp, where: string): string | undefined {
  return o[k] === undefined ? undefined : reqString(o, k, re, where);
}

function reqInt(o: Record<string, unknown>, k: string, min: number, max: number, where: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) fail(`${where}: ${k} must be an integer ${min}..${max}`);
  return v;
}

function optInt(o: Record<string, unknown>, k: string, min: number, max: number, where: string): number | undefined {
  return o[k] === undefined ? undefined : reqInt(o, k, min, max, where);
}

function reqBigint(o: Record<string, unknown>, k: string, where: string, positive: boolean): bigint {
  const v = o[k];
  if (typeof v !== 'string' || !BIGINT_RE.test(v)) fail(`${where}: ${k} must be an integer amount in base units, as a string`);
  const n = BigInt(v);
  if (positive ? n <= 0n : n === 0n) fail(`${where}: ${k} must be ${positive ? 'positive' : 'non-zero'}`);
  return n;
}

function oneOf<T extends string>(o: Record<string, unknown>, k: string, values: readonly T[], where: string, optional: boolean): T | undefined {
  const v = o[k];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) fail(`${where}: ${k} must be one of ${values.join(', ')}`);
  return v as T;
}

const USER_MAX = Number.MAX_SAFE_INTEGER;
const SYMBOL_RE = /^[A-Z0-9]{2,20}$/;
const ASSET_RE = /^[A-Z0-9]{2,10}$/;
const SIDES = ['BUY', 'SELL'] as const;
const ORDER_TYPES = ['LIMIT', 'MARKET', 'LIMIT_MAKER', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT_LIMIT'] as const;
const TIFS = ['GTC', 'IOC', 'FOK'] as const;
const STP_MODES = ['NONE', 'EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'] as const;
const ORDER_KEYS = ['side', 'orderType', 'timeInForce', 'priceTicks', 'quantityLots', 'quoteOrderQty', 'stopPriceTicks', 'stpMode', 'clientOrderId'];

function decodeOrderParams(v: unknown, where: string): OrderParams {
  const o = obj(v, where);
  onlyKeys(o, ORDER_KEYS, where);
  const out: { -readonly [K in keyof OrderParams]: OrderParams[K] } = {
    side: oneOf(o, 'side', SIDES, where, false)!,
    orderType: oneOf(o, 'orderType', ORDER_TYPES, where, false)!,
  };
  const tif = oneOf(o, 'timeInForce', TIFS, where, true);
  if (tif !== undefined) out.timeInForce = tif;
  const price = optInt(o, 'priceTicks', 1, Number.MAX_SAFE_INTEGER, where);
  if (price !== undefined) out.priceTicks = price;
  const qty = optInt(o, 'quantityLots', 1, Number.MAX_SAFE_INTEGER, where);
  if (qty !== undefined) out.quantityLots = qty;
  if (o.quoteOrderQty !== undefined) out.quoteOrderQty = reqBigint(o, 'quoteOrderQty', where, true);
  const stop = optInt(o, 'stopPriceTicks', 1, Number.MAX_SAFE_INTEGER, where);
  if (stop !== undefined) out.stopPriceTicks = stop;
  const stp = oneOf(o, 'stpMode', STP_MODES, where, true);
  if (stp !== undefined) out.stpMode = stp;
  const cid = optString(o, 'clientOrderId', CLIENT_ORDER_ID_RE, where);
  if (cid !== undefined) out.clientOrderId = cid;
  return out;
}

function orderRef(o: Record<string, unknown>, idKey: string, cidKey: string, where: string): { id?: number; cid?: string } {
  const id = optInt(o, idKey, 1, Number.MAX_SAFE_INTEGER, where);
  const cid = optString(o, cidKey, CLIENT_ORDER_ID_RE, where);
  if (id === undefined && cid === undefined) fail(`${where}: either ${idKey} or ${cidKey} must be sent`);
  return { ...(id !== undefined ? { id } : {}), ...(cid !== undefined ? { cid } : {}) };
}

/**
 * Checks a JSON value (a parsed log record or input line) and returns the command it describes.
 * @throws ExchangeError BAD_COMMAND naming the first bad field | BAD_CONFIG for a CONFIGURE with a bad configuration
 */
export function decodeCommand(value: unknown): EngineCommand {
  const o = obj(value, 'command');
  const type = o.type;
  const where = typeof type === 'string' ? type : 'command';
  switch (type) {
    case 'CONFIGURE':
      onlyKeys(o, ['type', 'config'], where);
      return { type, config: checkExchangeConfig(o.config) };
    case 'SET_MARKET_STATUS':
      onlyKeys(o, ['type', 'symbol', 'status'], where);
      return { type, symbol: reqString(o, 'symbol', SYMBOL_RE, where), status: oneOf(o, 'status', MARKET_STATUSES, where, false)! };
    case 'PLACE_ORDER':
      onlyKeys(o, ['type', 'symbol', 'userId', 'order'], where);
      return {
        type,
        symbol: reqString(o, 'symbol', SYMBOL_RE, where),
        userId: reqInt(o, 'userId', 0, USER_MAX, where),
        order: decodeOrderParams(o.order, `${where}.order`),
      };
    case 'CANCEL_ORDER':
    case 'AMEND_ORDER': {
      onlyKeys(o, type === 'AMEND_ORDER' ? ['type', 'symbol', 'userId', 'orderId', 'clientOrderId', 'newQuantityLots'] : ['type', 'symbol', 'userId', 'orderId', 'clientOrderId'], where);
      const ref = orderRef(o, 'orderId', 'clientOrderId', where);
      const base = {
        symbol: reqString(o, 'symbol', SYMBOL_RE, where),
        userId: reqInt(o, 'userId', 0, USER_MAX, where),
        ...(ref.id !== undefined ? { orderId: ref.id } : {}),
        ...(ref.cid !== undefined ? { clientOrderId: ref.cid } : {}),
      };
      return type === 'CANCEL_ORDER'
        ? { type, ...base }
        : { type, ...base, newQuantityLots: reqInt(o, 'newQuantityLots', 1, Number.MAX_SAFE_INTEGER, where) };
    }
    case 'CANCEL_ALL_ORDERS':
      onlyKeys(o, ['type', 'symbol', 'userId'], where);
      return { type, symbol: reqString(o, 'symbol', SYMBOL_RE, where), userId: reqInt(o, 'userId', 0, USER_MAX, where) };
    case 'CANCEL_REPLACE': {
      onlyKeys(o, ['type', 'symbol', 'userId', 'cancelOrderId', 'cancelClientOrderId', 'mode', 'order'], where);
      const ref = orderRef(o, 'cancelOrderId', 'cancelClientOrderId', where);
      return {
        type,
        symbol: reqString(o, 'symbol', SYMBOL_RE, where),
        userId: reqInt(o, 'userId', 0, USER_MAX, where),
        ...(ref.id !== undefined ? { cancelOrderId: ref.id } : {}),
        ...(ref.cid !== undefined ? { cancelClientOrderId: ref.cid } : {}),
        mode: oneOf(o, 'mode', ['STOP_ON_FAILURE', 'ALLOW_FAILURE'] as const, where, false)!,
        order: decodeOrderParams(o.order, `${where}.order`),
      };
    }
    case 'ADJUST_BALANCE': {
      onlyKeys(o, ['type', 'adjustmentId', 'userId', 'asset', 'amount', 'memo'], where);
      const memo = optString(o, 'memo', /^[^\u0000-\u001f]{0,200}$/, where);
      return {
        type,
        adjustmentId: reqString(o, 'adjustmentId', EXTERNAL_ID_RE, where),
        userId: reqInt(o, 'userId', 0, USER_MAX, where),
        asset: reqString(o, 'asset', ASSET_RE, where),
        amount: reqBigint(o, 'amount', where, false),
        ...(memo !== undefined ? { memo } : {}),
      };
    }
    case 'CREDIT_DEPOSIT':
      onlyKeys(o, ['type', 'txid', 'vout', 'userId', 'asset', 'amount'], where);
      return {
        type,
        txid: reqString(o, 'txid', TXID_RE, where),
        vout: reqInt(o, 'vout', 0, 0xffff_ffff, where),
        userId: reqInt(o, 'userId', 0, USER_MAX, where),
        asset: reqString(o, 'asset', ASSET_RE, where),
        amount: reqBigint(o, 'amount', where, true),
      };
    case 'REVERSE_DEPOSIT':
      onlyKeys(o, ['type', 'txid', 'vout'], where);
      return { type, txid: reqString(o, 'txid', TXID_RE, where), vout: reqInt(o, 'vout', 0, 0xffff_ffff, where) };
    case 'LOCK_WITHDRAWAL':
      onlyKeys(o, ['type', 'withdrawalId', 'userId', 'asset', 'amount'], where);
      return {
        type,
        withdrawalId: reqString(o, 'withdrawalId', EXTERNAL_ID_RE, where),
        userId: reqInt(o, 'userId', 0, USER_MAX, where),
        asset: reqString(o, 'asset', ASSET_RE, where),
        amount: reqBigint(o, 'amount', where, true),
      };
    case 'COMPLETE_WITHDRAWAL': {
      onlyKeys(o, ['type', 'withdrawalId', 'txid'], where);
      const txid = optString(o, 'txid', TXID_RE, where);
      return { type, withdrawalId: reqString(o, 'withdrawalId', EXTERNAL_ID_RE, where), ...(txid !== undefined ? { txid } : {}) };
    }
    case 'FAIL_WITHDRAWAL':
      onlyKeys(o, ['type', 'withdrawalId'], where);
      return { type, withdrawalId: reqString(o, 'withdrawalId', EXTERNAL_ID_RE, where) };
    case 'FREEZE_ACCOUNT':
    case 'UNFREEZE_ACCOUNT':
      onlyKeys(o, ['type', 'userId'], where);
      return { type, userId: reqInt(o, 'userId', 0, USER_MAX, where) };
    default:
      return fail(`unknown command type ${JSON.stringify(type)}`);
  }
}

/**
 * Parses a command's JSON text.
 * @throws ExchangeError BAD_COMMAND (not JSON, or see decodeCommand) | BAD_CONFIG
 */
export function parseCommand(text: string): EngineCommand {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    fail(`command is not JSON: ${(err as Error).message}`);
  }
  return decodeCommand(value);
}
