/**
 * Writes the history (orders, trades, ledger, klines) from the engine's published outcomes, idempotent by sequence
 * number: each write is one transaction that also records the last seq written, and outcomes at or below it are
 * skipped, so a restart re-writes nothing twice. It never holds the engine back: outcomes queue (bounded by a number
 * of events); when the queue overflows, when a write fails, or when the outcomes it gets do not continue its last
 * seq (it started behind the engine), it catches up from the command log instead (a shadow engine replays the log
 * from the newest snapshot at or below its seq) and then goes on with the live outcomes.
 */
import type { Logger } from 'pino';
import type { CommandOutcome } from './engineEvent.js';
import type { HistoryDb, HistoryKlinesTable, HistoryLedgerTable, HistoryOrdersTable, HistoryTradesTable } from './historyDb.js';
import { addTradeToKline, isKlineInterval, KLINE_INTERVALS, type Kline } from './klines.js';

/** Produces the outcomes of the commands after `afterSeq` up to `toSeq`, in order, a chunk at a time. */
export type ReplaySource = (afterSeq: number, toSeq: number) => Iterable<readonly CommandOutcome[]>;

/** Options of the writer. */
export interface HistoryWriterOptions {
  /** Queued events beyond which the queue is dropped for a catch-up from the log (default 200,000). */
  readonly maxQueuedEvents?: number;
  /** Wait after a failed write before trying again from the log (default 5,000 ms). */
  readonly retryMs?: number;
}

/** Dependencies of the writer. */
export interface HistoryWriterDeps {
  readonly logger: Logger;
  /** The log replay used to catch up. */
  readonly replay: ReplaySource;
  /** The engine's current seq (how far a catch-up goes). */
  readonly currentSeq: () => number;
  /** Base and quote asset of a market (fee assets of trades). */
  readonly assetsOf: (symbol: string) => { base: string; quote: string } | undefined;
}

const INSERT_CHUNK = 1000;

/** Converts a candle to its row. */
export function klineToRow(k: Kline): HistoryKlinesTable {
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

/** The history writer of one engine. */
export class HistoryWriter {
  private _lastSeq: number;
  private queue: CommandOutcome[] = [];
  private queuedEvents = 0;
  private needsCatchUp = false;
  private pumping: Promise<void> | undefined;
  private closed = false;
  private waiters: Array<{ seq: number; resolve: (ok: boolean) => void }> = [];
  private readonly maxQueuedEvents: number;
  private readonly retryMs: number;
  /** The current candle per `<symbol> <interval>`, as written. */
  private readonly klines = new Map<string, Kline>();
  /** Rows written since open, for benches and tests. */
  readonly written = { batches: 0, orders: 0, trades: 0, ledger: 0, klines: 0, catchUps: 0 };

  private constructor(
    private readonly h: HistoryDb,
    lastSeq: number,
    options: HistoryWriterOptions,
    private readonly deps: HistoryWriterDeps,
  ) {
    this._lastSeq = lastSeq;
    this.maxQueuedEvents = options.maxQueuedEvents ?? 200_000;
    this.retryMs = options.retryMs ?? 5_000;
  }

  /** Opens the writer on a migrated history database: reads its last seq and its current candles. */
  static async open(h: HistoryDb, options: HistoryWriterOptions, deps: HistoryWriterDeps): Promise<HistoryWriter> {
    const row = await h.db.selectFrom('exchange_history_meta').select('value').where('key', '=', 'last_seq').executeTakeFirst();
    const w = new HistoryWriter(h, row === undefined ? 0 : Number(row.value), options, deps);
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

  /** Queues a batch of live outcomes (called after they are durable); returns at once. */
  enqueue(outcomes: readonly CommandOutcome[]): void {
    if (this.closed) return;
    for (const o of outcomes) {
      this.queue.push(o);
      this.queuedEvents += o.events.length + 1;
    }
    if (this.queuedEvents > this.maxQueuedEvents) {
      // Never buffer without bound: drop the queue and catch up from the log.
      this.deps.logger.warn({ queued: this.queue.length, lastSeq: this._lastSeq }, 'history writer behind: catching up from the command log');
      this.queue = [];
      this.queuedEvents = 0;
      this.needsCatchUp = true;
    }
    this.pump();
  }

  /** Catches up from the log to the engine's current seq (start-up, rebuild); resolves when done. */
  async catchUp(): Promise<void> {
    this.needsCatchUp = true;
    this.pump();
    await this.pumping;
  }

  /** Resolves true once everything up to `seq` is written, false after `timeoutMs`. */
  whenAt(seq: number, timeoutMs: number): Promise<boolean> {
    if (this._lastSeq >= seq) return Promise.resolve(true);
    return new Promise((resolve) => {
      const entry = { seq, resolve };
      this.waiters.push(entry);
      setTimeout(() => {
        const i = this.waiters.indexOf(entry);
        if (i >= 0) {
          this.waiters.splice(i, 1);
          resolve(false);
        }
      }, timeoutMs).unref();
    });
  }

  /** Writes what is queued, then stops taking outcomes. */
  async close(): Promise<void> {
    this.pump();
    await this.pumping;
    this.closed = true;
    for (const w of this.waiters) w.resolve(false);
    this.waiters = [];
  }

  private pump(): void {
    if (this.pumping !== undefined) return;
    this.pumping = this.run().finally(() => {
      this.pumping = undefined;
      if (!this.closed && (this.queue.length > 0 || this.needsCatchUp)) this.pump();
    });
  }

  private async run(): Promise<void> {
    for (;;) {
      if (this.needsCatchUp) {
        this.needsCatchUp = false;
        try {
          await this.runCatchUp();
        } catch (err) {
          this.deps.logger.error({ err, lastSeq: this._lastSeq }, 'history catch-up failed; retrying');
          this.needsCatchUp = true;
          await new Promise((r) => setTimeout(r, this.retryMs).unref());
          if (this.closed) return;
        }
        continue;
      }
      if (this.queue.length === 0) return;
      const batch = this.queue;
      this.queue = [];
      this.queuedEvents = 0;
      const fresh = batch.filter((o) => o.seq > this._lastSeq);
      if (fresh.length === 0) continue;
      if (fresh[0]!.seq !== this._lastSeq + 1) {
        // Outcomes from further on than where the history is: fill the gap from the log first.
        this.needsCatchUp = true;
        continue;
      }
      try {
        await this.write(fresh);
      } catch (err) {
        this.deps.logger.error({ err, lastSeq: this._lastSeq }, 'history write failed; will catch up from the command log');
        this.needsCatchUp = true;
        await new Promise((r) => setTimeout(r, this.retryMs).unref());
        if (this.closed) return;
      }
    }
  }

  private async runCatchUp(): Promise<void> {
    const target = this.deps.currentSeq();
    if (this._lastSeq >= target) return;
    this.written.catchUps++;
    const from = this._lastSeq;
    this.deps.logger.info({ from, to: target }, 'history: catching up from the command log');
    for (const chunk of this.deps.replay(this._lastSeq, target)) {
      const fresh = chunk.filter((o) => o.seq > this._lastSeq);
      if (fresh.length > 0) await this.write(fresh);
    }
    this.deps.logger.info({ from, to: this._lastSeq }, 'history: caught up');
  }

  /** Writes contiguous outcomes (first = lastSeq + 1) in one transaction. */
  private async write(outcomes: readonly CommandOutcome[]): Promise<void> {
    const orders = new Map<number, HistoryOrdersTable>();
    const trades: HistoryTradesTable[] = [];
    const ledger: HistoryLedgerTable[] = [];
    /** The batch's current candle per `<symbol> <interval>`, and every candle it touched by open time. */
    const current = new Map<string, Kline>();
    const touched = new Map<string, Kline>();
    for (const o of outcomes) {
      let idx = 0;
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
            const assets = this.deps.assetsOf(e.symbol);
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
            for (const interval of KLINE_INTERVALS) {
              const key = `${e.symbol} ${interval}`;
              const k = addTradeToKline(e.symbol, interval, current.get(key) ?? this.klines.get(key), e);
              current.set(key, k);
              touched.set(`${key} ${k.openTimeMs}`, k);
            }
            break;
          }
          case 'balance':
            ledger.push({
              seq: o.seq,
              idx: idx++,
              user_id: e.userId,
              asset: e.asset,
              delta_free: e.deltaFree.toString(),
              delta_locked: e.deltaLocked.toString(),
              free: e.free.toString(),
              locked: e.locked.toString(),
              reason: e.reason,
              symbol: e.symbol,
              order_id: e.orderId,
              trade_id: e.tradeId,
              external_id: e.externalId,
              time_ms: o.timeMs,
            });
            break;
          default:
        }
      }
    }
    const lastSeq = outcomes[outcomes.length - 1]!.seq;
    const klineRows = [...touched.values()].map(klineToRow);
    await this.h.db.transaction().execute(async (trx) => {
      for (let i = 0; i < trades.length; i += INSERT_CHUNK) {
        await trx.insertInto('exchange_trades').values(trades.slice(i, i + INSERT_CHUNK)).onConflict((oc) => oc.doNothing()).execute();
      }
      for (let i = 0; i < ledger.length; i += INSERT_CHUNK) {
        await trx.insertInto('exchange_ledger').values(ledger.slice(i, i + INSERT_CHUNK)).onConflict((oc) => oc.doNothing()).execute();
      }
      const orderRows = [...orders.values()];
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
    for (const [key, k] of current) this.klines.set(key, k);
    this._lastSeq = lastSeq;
    this.written.batches++;
    this.written.orders += orders.size;
    this.written.trades += trades.length;
    this.written.ledger += ledger.length;
    this.written.klines += klineRows.length;
    const ready = this.waiters.filter((w) => w.seq <= lastSeq);
    if (ready.length > 0) {
      this.waiters = this.waiters.filter((w) => w.seq > lastSeq);
      for (const w of ready) w.resolve(true);
    }
  }
}
