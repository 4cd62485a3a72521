/**
 * Writes the history (orders, trades, ledger, klines) from command outcomes, idempotent by sequence number: each
 * write is one transaction that also records the last seq written, and outcomes at or below it are skipped, so a
 * restart re-writes nothing twice. On SQLite the rows go through prepared statements; on PostgreSQL through kysely's
 * multi-row inserts. Who produces the outcomes is HistoryFollower's business (a shadow engine over the command log).
 */
import type Database from 'better-sqlite3';
import type { CommandOutcome } from './engineEvent.js';
import type { HistoryDb, HistoryKlinesTable, HistoryLedgerGroupsTable, HistoryOrdersTable, HistoryTradesTable, LedgerGroupEntry } from './historyDb.js';
import { ExchangeError } from './exchangeError.js';
import { addTradeToKline, isKlineInterval, KLINE_INTERVALS, type Kline } from './klines.js';

/** Base and quote asset of a market (the fee assets of its trades), or undefined for an unknown market. */
export type MarketAssets = (symbol: string) => { base: string; quote: string } | undefined;

const INSERT_CHUNK = 1000;

/** The rows of one write. */
interface HistoryRows {
  readonly trades: readonly HistoryTradesTable[];
  readonly ledger: readonly HistoryLedgerGroupsTable[];
  readonly orders: readonly HistoryOrdersTable[];
  readonly klines: readonly HistoryKlinesTable[];
  readonly lastSeq: number;
}

const TRADE_COLS = ['symbol', 'trade_id', 'price_ticks', 'quantity_lots', 'quote', 'buyer_order_id', 'seller_order_id', 'buyer_user_id', 'seller_user_id', 'is_buyer_maker', 'buyer_fee', 'buyer_fee_asset', 'seller_fee', 'seller_fee_asset', 'time_ms', 'seq'] as const;
const LEDGER_COLS = ['user_id', 'seq', 'time_ms', 'entries'] as const;
const ORDER_COLS = ['order_id', 'symbol', 'user_id', 'client_order_id', 'side', 'order_type', 'time_in_force', 'price_ticks', 'quantity_lots', 'quote_order_qty', 'stop_price_ticks', 'stp_mode', 'executed_lots', 'cum_quote', 'status', 'time_ms', 'update_time_ms', 'working_time_ms', 'seq'] as const;
const ORDER_UPDATE_COLS = ['quantity_lots', 'executed_lots', 'cum_quote', 'status', 'update_time_ms', 'working_time_ms', 'seq'] as const;
const KLINE_COLS = ['symbol', 'interval', 'open_time_ms', 'close_time_ms', 'open_ticks', 'high_ticks', 'low_ticks', 'close_ticks', 'volume_lots', 'quote_volume', 'trades', 'taker_buy_volume_lots', 'taker_buy_quote_volume', 'first_trade_id', 'last_trade_id'] as const;
const KLINE_UPDATE_COLS = ['high_ticks', 'low_ticks', 'close_ticks', 'volume_lots', 'quote_volume', 'trades', 'taker_buy_volume_lots', 'taker_buy_quote_volume', 'last_trade_id'] as const;

const placeholders = (n: number): string => Array.from({ length: n }, () => '?').join(', ');
const updates = (cols: readonly string[]): string => cols.map((c) => `${c} = excluded.${c}`).join(', ');

/**
 * The SQLite fast path: prepared single-row statements in one better-sqlite3 transaction (the same statements kysely
 * would build, without compiling a multi-row insert for every batch).
 */
class SqliteRowWriter {
  private readonly write: (rows: HistoryRows) => void;

  constructor(db: Database.Database) {
    const trade = db.prepare(`INSERT INTO exchange_trades (${TRADE_COLS.join(', ')}) VALUES (${placeholders(TRADE_COLS.length)}) ON CONFLICT DO NOTHING`);
    const ledger = db.prepare(`INSERT INTO exchange_ledger_groups (${LEDGER_COLS.join(', ')}) VALUES (${placeholders(LEDGER_COLS.length)}) ON CONFLICT DO NOTHING`);
    const order = db.prepare(`INSERT INTO exchange_orders (${ORDER_COLS.join(', ')}) VALUES (${placeholders(ORDER_COLS.length)}) ON CONFLICT (order_id) DO UPDATE SET ${updates(ORDER_UPDATE_COLS)}`);
    const kline = db.prepare(`INSERT INTO exchange_klines (${KLINE_COLS.join(', ')}) VALUES (${placeholders(KLINE_COLS.length)}) ON CONFLICT (symbol, interval, open_time_ms) DO UPDATE SET ${updates(KLINE_UPDATE_COLS)}`);
    const meta = db.prepare(`INSERT INTO exchange_history_meta (key, value) VALUES ('last_seq', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`);
    this.write = db.transaction((rows: HistoryRows) => {
      for (const r of rows.trades) trade.run(TRADE_COLS.map((c) => r[c]));
      for (const r of rows.ledger) ledger.run(r.user_id, r.seq, r.time_ms, r.entries);
      for (const r of rows.orders) order.run(ORDER_COLS.map((c) => r[c]));
      for (const r of rows.klines) kline.run(KLINE_COLS.map((c) => r[c]));
      meta.run(String(rows.lastSeq));
    });
  }

  run(rows: HistoryRows): void {
    this.write(rows);
  }
}

/** Converts a candle to its row. */
function klineToRow(k: Kline): HistoryKlinesTable {
  return {
    symbol: k.symbol,
    interval: k.interval,
    open_time_ms: k.openTimeMs,
    close_time_ms: k.closeTimeMs,
    open_ticks: k.openTicks,
    high_ticks: k.highTicks,
    low_ticks: k.lowTicks,
    close_ticks: k.closeTicks,
    volume_lots: k.volumeLots.toString(),
    quote_volume: k.quoteVolume.toString(),
    trades: k.trades,
    taker_buy_volume_lots: k.takerBuyVolumeLots.toString(),
    taker_buy_quote_volume: k.takerBuyQuoteVolume.toString(),
    first_trade_id: k.firstTradeId,
    last_trade_id: k.lastTradeId,
  };
}

/** Converts a row to its candle (undefined for an interval this version does not know). */
export function rowToKline(r: HistoryKlinesTable): Kline | undefined {
  if (!isKlineInterval(r.interval)) return undefined;
  return {
    symbol: r.symbol,
    interval: r.interval,
    openTimeMs: Number(r.open_time_ms),
    closeTimeMs: Number(r.close_time_ms),
    openTicks: Number(r.open_ticks),
    highTicks: Number(r.high_ticks),
    lowTicks: Number(r.low_ticks),
    closeTicks: Number(r.close_ticks),
    volumeLots: BigInt(r.volume_lots),
    quoteVolume: BigInt(r.quote_volume),
    trades: Number(r.trades),
    takerBuyVolumeLots: BigInt(r.taker_buy_volume_lots),
    takerBuyQuoteVolume: BigInt(r.taker_buy_quote_volume),
    firstTradeId: Number(r.first_trade_id),
    lastTradeId: Number(r.last_trade_id),
  };
}

/** Writes history rows for contiguous outcomes. */
export class HistoryWriter {
  private _lastSeq: number;
  /** The current candle per `<symbol> <interval>`, as written. */
  private readonly klines = new Map<string, Kline>();
  private readonly sqliteWriter: SqliteRowWriter | undefined;
  /** Rows written since open, for benches and tests (`ledger`: balance changes; `ledgerRows`: their rows, one per user per command). */
  readonly written = { batches: 0, orders: 0, trades: 0, ledger: 0, ledgerRows: 0, klines: 0 };

  private constructor(
    private readonly h: HistoryDb,
    lastSeq: number,
    private readonly assetsOf: MarketAssets,
  ) {
    this._lastSeq = lastSeq;
    this.sqliteWriter = h.sqlite !== undefined ? new SqliteRowWriter(h.sqlite) : undefined;
  }

  /** Opens the writer on a migrated history database: reads its last seq and its current candles. */
  static async open(h: HistoryDb, assetsOf: MarketAssets): Promise<HistoryWriter> {
    const row = await h.db.selectFrom('exchange_history_meta').select('value').where('key', '=', 'last_seq').executeTakeFirst();
    const w = new HistoryWriter(h, row === undefined ? 0 : Number(row.value), assetsOf);
    const latest = await h.db
      .selectFrom('exchange_klines as k')
      .selectAll()
      .where(({ eb, selectFrom }) =>
        eb('k.open_time_ms', '=', selectFrom('exchange_klines as k2').select((e) => e.fn.max('k2.open_time_ms').as('m')).whereRef('k2.symbol', '=', 'k.symbol').whereRef('k2.interval', '=', 'k.interval')),
      )
      .execute();
    for (const r of latest) {
      const k = rowToKline(r);
      if (k !== undefined) w.klines.set(`${k.symbol} ${k.interval}`, k);
    }
    return w;
  }

  /** The last sequence number written. */
  get lastSeq(): number {
    return this._lastSeq;
  }

  /**
   * Writes the outcomes after lastSeq in one transaction (those at or below it are skipped: a repeat writes nothing).
   * @throws ExchangeError STATE_MISMATCH when they do not continue lastSeq (a gap); the database's errors
   */
  async write(outcomes: readonly CommandOutcome[]): Promise<void> {
    const fresh = outcomes.filter((o) => o.seq > this._lastSeq);
    if (fresh.length === 0) return;
    if (fresh[0]!.seq !== this._lastSeq + 1) throw new ExchangeError('STATE_MISMATCH', `history at seq ${this._lastSeq} cannot take seq ${fresh[0]!.seq}`);
    await this.writeContiguous(fresh);
  }
  /** Writes contiguous outcomes (first = lastSeq + 1) in one transaction. */
  private async writeContiguous(outcomes: readonly CommandOutcome[]): Promise<void> {
    const orders = new Map<number, HistoryOrdersTable>();
    const trades: HistoryTradesTable[] = [];
    const ledger: HistoryLedgerGroupsTable[] = [];
    let changes = 0;
    /** The command's balance changes per user, in order (one ledger row per user per command). */
    const byUser = new Map<number, LedgerGroupEntry[]>();
    /**
     * The batch's current candle per symbol, one slot per interval (KLINE_INTERVALS order, undefined = none yet), and
     * the candles it closed (a later trade opened the next one): those and the current ones are the rows to write.
     * PERF: slots by index, not a map keyed by `<symbol> <interval> <open>` strings built for every trade × 15.
     */
    const current = new Map<string, Array<Kline | undefined>>();
    const closed: Kline[] = [];
    for (const o of outcomes) {
      let idx = 0;
      byUser.clear();
      for (const e of o.events) {
        switch (e.type) {
          case 'order': {
            const s = e.order;
            orders.set(s.orderId, {
              order_id: s.orderId,
              symbol: s.symbol,
              user_id: s.userId,
              client_order_id: s.clientOrderId,
              side: s.side,
              order_type: s.orderType,
              time_in_force: s.timeInForce,
              price_ticks: s.priceTicks,
              quantity_lots: s.quantityLots,
              quote_order_qty: s.quoteOrderQty.toString(),
              stop_price_ticks: s.stopPriceTicks,
              stp_mode: s.stpMode,
              executed_lots: s.executedLots,
              cum_quote: s.cumQuote.toString(),
              status: s.status,
              time_ms: s.timeMs,
              update_time_ms: s.updateTimeMs,
              working_time_ms: s.workingTimeMs,
              seq: o.seq,
            });
            break;
          }
          case 'trade': {
            const assets = this.assetsOf(e.symbol);
            trades.push({
              symbol: e.symbol,
              trade_id: e.tradeId,
              price_ticks: e.priceTicks,
              quantity_lots: e.quantityLots,
              quote: e.quote.toString(),
              buyer_order_id: e.buyerOrderId,
              seller_order_id: e.sellerOrderId,
              buyer_user_id: e.buyerUserId,
              seller_user_id: e.sellerUserId,
              is_buyer_maker: e.isBuyerMaker ? 1 : 0,
              buyer_fee: e.buyerFee.toString(),
              buyer_fee_asset: assets?.base ?? '',
              seller_fee: e.sellerFee.toString(),
              seller_fee_asset: assets?.quote ?? '',
              time_ms: e.timeMs,
              seq: o.seq,
            });
            let slots = current.get(e.symbol);
            if (slots === undefined) current.set(e.symbol, (slots = new Array<Kline | undefined>(KLINE_INTERVALS.length).fill(undefined)));
            for (let i = 0; i < KLINE_INTERVALS.length; i++) {
              const interval = KLINE_INTERVALS[i]!;
              const before = slots[i];
              const k = addTradeToKline(e.symbol, interval, before ?? this.klines.get(`${e.symbol} ${interval}`), e);
              if (before !== undefined && before.openTimeMs !== k.openTimeMs) closed.push(before);
              slots[i] = k;
            }
            break;
          }
          case 'balance': {
            const entry: LedgerGroupEntry = [
              idx++, e.asset, e.deltaFree.toString(), e.deltaLocked.toString(), e.free.toString(), e.locked.toString(), e.reason, e.symbol, e.orderId, e.tradeId, e.externalId,
            ];
            const list = byUser.get(e.userId);
            if (list === undefined) byUser.set(e.userId, [entry]);
            else list.push(entry);
            break;
          }
          default:
        }
      }
      changes += idx;
      for (const [userId, list] of byUser) ledger.push({ user_id: userId, seq: o.seq, time_ms: o.timeMs, entries: JSON.stringify(list) });
    }
    const lastSeq = outcomes[outcomes.length - 1]!.seq;
    const klineRows = closed.map(klineToRow);
    for (const slots of current.values()) for (const k of slots) if (k !== undefined) klineRows.push(klineToRow(k));
    const orderRows = [...orders.values()];
    if (this.sqliteWriter !== undefined) this.sqliteWriter.run({ trades, ledger, orders: orderRows, klines: klineRows, lastSeq });
    else await this.h.db.transaction().execute(async (trx) => {
      for (let i = 0; i < trades.length; i += INSERT_CHUNK) {
        await trx.insertInto('exchange_trades').values(trades.slice(i, i + INSERT_CHUNK)).onConflict((oc) => oc.doNothing()).execute();
      }
      for (let i = 0; i < ledger.length; i += INSERT_CHUNK) {
        await trx.insertInto('exchange_ledger_groups').values(ledger.slice(i, i + INSERT_CHUNK)).onConflict((oc) => oc.doNothing()).execute();
      }
      for (let i = 0; i < orderRows.length; i += INSERT_CHUNK) {
        await trx
          .insertInto('exchange_orders')
          .values(orderRows.slice(i, i + INSERT_CHUNK))
          .onConflict((oc) =>
            oc.column('order_id').doUpdateSet((eb) => ({
              quantity_lots: eb.ref('excluded.quantity_lots'),
              executed_lots: eb.ref('excluded.executed_lots'),
              cum_quote: eb.ref('excluded.cum_quote'),
              status: eb.ref('excluded.status'),
              update_time_ms: eb.ref('excluded.update_time_ms'),
              working_time_ms: eb.ref('excluded.working_time_ms'),
              seq: eb.ref('excluded.seq'),
            })),
          )
          .execute();
      }
      for (let i = 0; i < klineRows.length; i += INSERT_CHUNK) {
        await trx
          .insertInto('exchange_klines')
          .values(klineRows.slice(i, i + INSERT_CHUNK))
          .onConflict((oc) =>
            oc.columns(['symbol', 'interval', 'open_time_ms']).doUpdateSet((eb) => ({
              high_ticks: eb.ref('excluded.high_ticks'),
              low_ticks: eb.ref('excluded.low_ticks'),
              close_ticks: eb.ref('excluded.close_ticks'),
              volume_lots: eb.ref('excluded.volume_lots'),
              quote_volume: eb.ref('excluded.quote_volume'),
              trades: eb.ref('excluded.trades'),
              taker_buy_volume_lots: eb.ref('excluded.taker_buy_volume_lots'),
              taker_buy_quote_volume: eb.ref('excluded.taker_buy_quote_volume'),
              last_trade_id: eb.ref('excluded.last_trade_id'),
            })),
          )
          .execute();
      }
      await trx
        .insertInto('exchange_history_meta')
        .values({ key: 'last_seq', value: String(lastSeq) })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value: String(lastSeq) }))
        .execute();
    });
    for (const [symbol, slots] of current) {
      for (let i = 0; i < slots.length; i++) if (slots[i] !== undefined) this.klines.set(`${symbol} ${KLINE_INTERVALS[i]}`, slots[i]!);
    }
    this._lastSeq = lastSeq;
    this.written.batches++;
    this.written.orders += orders.size;
    this.written.trades += trades.length;
    this.written.ledger += changes;
    this.written.ledgerRows += ledger.length;
    this.written.klines += klineRows.length;
  }
}
