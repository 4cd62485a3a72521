/**
 * Paginated reads of the history, with Binance's selection rules: with `fromId` (or `orderId` for allOrders) or
 * `startTime`, the first `limit` rows from there in ascending order; otherwise the most recent `limit` rows (before
 * `endTime` when given), still returned in ascending order. `limit` is 1..1000 (default 500). Every query of user
 * data is scoped to one user: another user's orders and trades are never returned.
 * @see binance-spot-api-docs rest-api.md "All orders (USER_DATA)", "Account trade list (USER_DATA)", "Old trade lookup"
 */
import { sql } from 'kysely';
import type { OrderStatus } from '../matching/matchEvent.js';
import type { OrderType, Side, StpMode, TimeInForce } from '../matching/matchCommand.js';
import type { LedgerReason, OrderState } from './engineEvent.js';
import { ExchangeError } from './exchangeError.js';
import type { HistoryDb, HistoryOrdersTable, HistoryTradesTable, LedgerGroupEntry } from './historyDb.js';
import { rowToKline } from './historyWriter.js';
import type { Kline, KlineInterval } from './klines.js';
import type { MarketTrade } from './marketData.js';

/** Binance's default and largest page. */
export const DEFAULT_LIMIT = 500;
export const MAX_LIMIT = 1000;

/** A page request. */
export interface PageQuery {
  readonly startTime?: number;
  readonly endTime?: number;
  /** 1..1000, default 500. */
  readonly limit?: number;
}

function checkPage(q: PageQuery): number {
  const limit = q.limit ?? DEFAULT_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new ExchangeError('BAD_QUERY', `limit must be 1..${MAX_LIMIT}`);
  for (const [k, v] of [['startTime', q.startTime], ['endTime', q.endTime]] as const) {
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 0)) throw new ExchangeError('BAD_QUERY', `${k} must be a time in ms`);
  }
  if (q.startTime !== undefined && q.endTime !== undefined && q.startTime > q.endTime) throw new ExchangeError('BAD_QUERY', 'startTime is after endTime');
  return limit;
}

/** One side of a trade as its user sees it (Binance myTrades). */
export interface UserTrade {
  readonly symbol: string;
  readonly tradeId: number;
  readonly orderId: number;
  readonly priceTicks: number;
  readonly quantityLots: number;
  readonly quote: bigint;
  readonly commission: bigint;
  readonly commissionAsset: string;
  readonly timeMs: number;
  readonly isBuyer: boolean;
  readonly isMaker: boolean;
}

/** One ledger entry with its place in the log. */
export interface LedgerEntry {
  readonly seq: number;
  readonly idx: number;
  readonly userId: number;
  readonly asset: string;
  readonly deltaFree: bigint;
  readonly deltaLocked: bigint;
  readonly free: bigint;
  readonly locked: bigint;
  readonly reason: LedgerReason;
  readonly symbol: string;
  readonly orderId: number;
  readonly tradeId: number;
  readonly externalId: string;
  readonly timeMs: number;
}

function rowToOrder(r: HistoryOrdersTable): OrderState {
  return {
    orderId: Number(r.order_id),
    symbol: r.symbol,
    userId: Number(r.user_id),
    clientOrderId: r.client_order_id,
    side: r.side as Side,
    orderType: r.order_type as OrderType,
    timeInForce: r.time_in_force as TimeInForce,
    priceTicks: Number(r.price_ticks),
    quantityLots: Number(r.quantity_lots),
    quoteOrderQty: BigInt(r.quote_order_qty),
    stopPriceTicks: Number(r.stop_price_ticks),
    stpMode: r.stp_mode as StpMode,
    executedLots: Number(r.executed_lots),
    cumQuote: BigInt(r.cum_quote),
    status: r.status as OrderStatus,
    timeMs: Number(r.time_ms),
    updateTimeMs: Number(r.update_time_ms),
    workingTimeMs: Number(r.working_time_ms),
  };
}

function rowToMarketTrade(r: HistoryTradesTable): MarketTrade {
  return {
    type: 'trade',
    symbol: r.symbol,
    tradeId: Number(r.trade_id),
    priceTicks: Number(r.price_ticks),
    quantityLots: Number(r.quantity_lots),
    quote: BigInt(r.quote),
    buyerOrderId: Number(r.buyer_order_id),
    sellerOrderId: Number(r.seller_order_id),
    isBuyerMaker: Number(r.is_buyer_maker) === 1,
    timeMs: Number(r.time_ms),
  };
}

/** Reads of one history database. */
export class HistoryQueries {
  constructor(private readonly h: HistoryDb) {}

  /**
   * One order of the user on the market by id or client order id (the newest with that client id).
   * @throws ExchangeError BAD_QUERY (neither id given)
   */
  async getOrder(userId: number, symbol: string, orderId?: number, clientOrderId?: string): Promise<OrderState | undefined> {
    if (orderId === undefined && clientOrderId === undefined) throw new ExchangeError('BAD_QUERY', 'either orderId or origClientOrderId must be sent');
    let q = this.h.db.selectFrom('exchange_orders').selectAll().where('user_id', '=', userId).where('symbol', '=', symbol);
    if (orderId !== undefined) q = q.where('order_id', '=', orderId);
    if (clientOrderId !== undefined) q = q.where('client_order_id', '=', clientOrderId);
    const row = await q.orderBy('order_id', 'desc').limit(1).executeTakeFirst();
    return row === undefined ? undefined : rowToOrder(row);
  }

  /** The user's orders on a market (Binance allOrders): from `orderId` up, from `startTime`, or the most recent. */
  async allOrders(userId: number, symbol: string, q: PageQuery & { orderId?: number } = {}): Promise<OrderState[]> {
    const limit = checkPage(q);
    let s = this.h.db.selectFrom('exchange_orders').selectAll().where('user_id', '=', userId).where('symbol', '=', symbol);
    if (q.orderId !== undefined) s = s.where('order_id', '>=', q.orderId);
    if (q.startTime !== undefined) s = s.where('time_ms', '>=', q.startTime);
    if (q.endTime !== undefined) s = s.where('time_ms', '<=', q.endTime);
    const ascending = q.orderId !== undefined || q.startTime !== undefined;
    const rows = await s.orderBy('order_id', ascending ? 'asc' : 'desc').limit(limit).execute();
    if (!ascending) rows.reverse();
    return rows.map(rowToOrder);
  }

  /**
   * The user's trades on a market (Binance myTrades): of one order, from `fromId` up, from `startTime`, or the
   * most recent. A trade of the user with themself (STP NONE) appears once per side.
   */
  async myTrades(userId: number, symbol: string, q: PageQuery & { orderId?: number; fromId?: number } = {}): Promise<UserTrade[]> {
    const limit = checkPage(q);
    const ascending = q.fromId !== undefined || q.startTime !== undefined;
    const side = async (buyer: boolean): Promise<UserTrade[]> => {
      let s = this.h.db.selectFrom('exchange_trades').selectAll().where('symbol', '=', symbol).where(buyer ? 'buyer_user_id' : 'seller_user_id', '=', userId);
      if (q.orderId !== undefined) s = s.where(buyer ? 'buyer_order_id' : 'seller_order_id', '=', q.orderId);
      if (q.fromId !== undefined) s = s.where('trade_id', '>=', q.fromId);
      if (q.startTime !== undefined) s = s.where('time_ms', '>=', q.startTime);
      if (q.endTime !== undefined) s = s.where('time_ms', '<=', q.endTime);
      const rows = await s.orderBy('trade_id', ascending ? 'asc' : 'desc').limit(limit).execute();
      return rows.map((r) => {
        const makerIsBuyer = Number(r.is_buyer_maker) === 1;
        return {
          symbol: r.symbol,
          tradeId: Number(r.trade_id),
          orderId: Number(buyer ? r.buyer_order_id : r.seller_order_id),
          priceTicks: Number(r.price_ticks),
          quantityLots: Number(r.quantity_lots),
          quote: BigInt(r.quote),
          commission: BigInt(buyer ? r.buyer_fee : r.seller_fee),
          commissionAsset: buyer ? r.buyer_fee_asset : r.seller_fee_asset,
          timeMs: Number(r.time_ms),
          isBuyer: buyer,
          isMaker: buyer === makerIsBuyer,
        };
      });
    };
    const both = [...(await side(true)), ...(await side(false))].sort((a, b) => a.tradeId - b.tradeId || Number(a.isBuyer) - Number(b.isBuyer));
    return ascending ? both.slice(0, limit) : both.slice(Math.max(0, both.length - limit));
  }

  /** Public trades of a market (Binance historicalTrades): from `fromId` up, or the most recent. */
  async trades(symbol: string, q: { fromId?: number; limit?: number } = {}): Promise<MarketTrade[]> {
    const limit = checkPage(q);
    let s = this.h.db.selectFrom('exchange_trades').selectAll().where('symbol', '=', symbol);
    if (q.fromId !== undefined) s = s.where('trade_id', '>=', q.fromId);
    const rows = await s.orderBy('trade_id', q.fromId !== undefined ? 'asc' : 'desc').limit(limit).execute();
    if (q.fromId === undefined) rows.reverse();
    return rows.map(rowToMarketTrade);
  }

  /** Trades of a market since `sinceMs`, oldest first, at most `max` (start-up of market data). */
  async tradesSince(symbol: string, sinceMs: number, max: number): Promise<MarketTrade[]> {
    const rows = await this.h.db.selectFrom('exchange_trades').selectAll().where('symbol', '=', symbol).where('time_ms', '>=', sinceMs).orderBy('trade_id', 'desc').limit(max).execute();
    return rows.reverse().map(rowToMarketTrade);
  }

  /**
   * The user's ledger: from `fromSeq` up, from `startTime`, or the most recent; optionally one asset. Changes come in
   * (seq, idx) order; `limit` counts changes (the rows hold a user's changes of one command each, so the rows are read
   * page by page until `limit` changes of the asset are found or the rows end).
   */
  async ledger(userId: number, q: PageQuery & { asset?: string; fromSeq?: number } = {}): Promise<LedgerEntry[]> {
    const limit = checkPage(q);
    const ascending = q.fromSeq !== undefined || q.startTime !== undefined;
    const out: LedgerEntry[] = [];
    let cursor: number | undefined;
    for (;;) {
      let s = this.h.db.selectFrom('exchange_ledger_groups').selectAll().where('user_id', '=', userId);
      if (q.fromSeq !== undefined) s = s.where('seq', '>=', q.fromSeq);
      if (q.startTime !== undefined) s = s.where('time_ms', '>=', q.startTime);
      if (q.endTime !== undefined) s = s.where('time_ms', '<=', q.endTime);
      if (cursor !== undefined) s = s.where('seq', ascending ? '>' : '<', cursor);
      const rows = await s.orderBy('seq', ascending ? 'asc' : 'desc').limit(limit).execute();
      for (const r of rows) {
        const seq = Number(r.seq);
        const timeMs = Number(r.time_ms);
        const entries = JSON.parse(r.entries) as LedgerGroupEntry[];
        if (!ascending) entries.reverse();
        for (const [idx, asset, deltaFree, deltaLocked, free, locked, reason, symbol, orderId, tradeId, externalId] of entries) {
          if (q.asset !== undefined && asset !== q.asset) continue;
          out.push({
            seq, idx, userId, asset, deltaFree: BigInt(deltaFree), deltaLocked: BigInt(deltaLocked), free: BigInt(free), locked: BigInt(locked),
            reason: reason as LedgerReason, symbol, orderId, tradeId, externalId, timeMs,
          });
        }
        if (out.length >= limit) break;
      }
      if (out.length >= limit || rows.length < limit) break;
      cursor = Number(rows[rows.length - 1]!.seq);
    }
    out.length = Math.min(out.length, limit);
    if (!ascending) out.reverse();
    return out;
  }

  /** Candles of a market (Binance klines): from `startTime`, or the most recent (before `endTime`). */
  async klines(symbol: string, interval: KlineInterval, q: PageQuery = {}): Promise<Kline[]> {
    const limit = checkPage(q);
    let s = this.h.db.selectFrom('exchange_klines').selectAll().where('symbol', '=', symbol).where('interval', '=', interval);
    if (q.startTime !== undefined) s = s.where('open_time_ms', '>=', q.startTime);
    if (q.endTime !== undefined) s = s.where('open_time_ms', '<=', q.endTime);
    const ascending = q.startTime !== undefined;
    const rows = await s.orderBy('open_time_ms', ascending ? 'asc' : 'desc').limit(limit).execute();
    if (!ascending) rows.reverse();
    return rows.map(rowToKline).filter((k): k is Kline => k !== undefined);
  }

  /** How many rows each table holds (checks and benches). */
  async counts(): Promise<{ orders: number; trades: number; ledger: number; klines: number }> {
    const count = async (t: 'exchange_orders' | 'exchange_trades' | 'exchange_klines'): Promise<number> =>
      Number((await this.h.db.selectFrom(t).select((e) => e.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    // The ledger counts balance changes (entries), not rows.
    const entries = this.h.kind === 'sqlite' ? sql<number>`coalesce(sum(json_array_length(entries)), 0)` : sql<number>`coalesce(sum(json_array_length(entries::json)), 0)`;
    const ledger = Number((await this.h.db.selectFrom('exchange_ledger_groups').select(entries.as('n')).executeTakeFirstOrThrow()).n);
    return { orders: await count('exchange_orders'), trades: await count('exchange_trades'), ledger, klines: await count('exchange_klines') };
  }
}
