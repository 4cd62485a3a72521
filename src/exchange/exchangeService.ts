/**
 * The exchange in a data dir: it owns the dir (a pid lock), opens the command log (cutting a damaged tail), restores
 * the engine from the newest valid snapshot plus the log, applies the wanted configuration by a CONFIGURE command
 * when it differs, and then takes commands through its sequencer. Every N commands or T seconds it writes a snapshot;
 * on close it drains the sequencer and writes a last one. Market data and user streams follow the published
 * outcomes; the history is written by a worker thread that follows the command log (historyWorker.ts).
 * This is the engine's API for the gateway (commands in, results out, reads, subscriptions to sequenced outcomes,
 * user events and market data) and for the chain bridge (deposit, withdrawal lock/complete/fail commands).
 *
 * Data dir layout (dataDirLayout.ts): `command-log.sqlite` (+ -wal, -shm), `snapshots/`, `history.sqlite` (default
 * history store), `exchange.lock`.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { acquirePidLock, releasePidLock } from '../logging/pidLock.js';
import { auditEngine, type AuditReport } from './audit.js';
import { SqliteCommandLog } from './commandLog.js';
import { DATADIR_FILES } from './dataDirLayout.js';
import type { EngineCommand } from './engineCommand.js';
import type { AccountEvent, BalanceEvent, CommandOutcome, OrderEvent, OrderState } from './engineEvent.js';
import type { ExchangeEngine } from './engine.js';
import { dropHistoryTables, openHistoryDb, type HistoryDb } from './historyDb.js';
import { HistoryQueries, type LedgerEntry, type PageQuery, type UserTrade } from './historyQueries.js';
import { HistoryFollower } from './historyFollower.js';
import type { HistoryWriter } from './historyWriter.js';
import { HistoryWorkerClient } from './historyWorkerClient.js';
import { KLINE_INTERVALS, type Kline, type KlineInterval } from './klines.js';
import { MarketData, type BookTicker, type DepthSnapshot, type MarketDataEvent, type MarketTrade, type Ticker24h } from './marketData.js';
import { recoverEngine, type RecoveryReport } from './engineRecovery.js';
import { encodeEngineState, hashStateText } from './engineState.js';
import { encodeExchangeConfig, type ExchangeConfig, type MarketConfig } from './exchangeConfig.js';
import { ExchangeError } from './exchangeError.js';
import { Sequencer, type OutcomeListener, type SequencerStats } from './sequencer.js';
import { SnapshotStore } from './snapshotStore.js';

export { DATADIR_FILES };

/** Options of an exchange service. */
export interface ExchangeServiceOptions {
  readonly datadir: string;
  /** The wanted configuration (markets file or the network's defaults); applied by CONFIGURE when it differs. */
  readonly config: ExchangeConfig;
  /** Snapshot after this many commands (default 10,000). */
  readonly snapshotEveryCommands?: number;
  /** … or this long after the last one, when anything changed (default 60,000 ms; 0 = never by time). */
  readonly snapshotEveryMs?: number;
  /** Snapshots kept (default 3). */
  readonly keepSnapshots?: number;
  /** The sequencer's clock (default Date.now). */
  readonly clock?: () => number;
  /** Largest batch per durable write (default 10,000). */
  readonly maxBatch?: number;
  /**
   * Where the history goes: SQLite in the data dir (default), PostgreSQL with `url` (and optionally a schema), or
   * nowhere (`false`: no orders/trades/ledger queries, market data starts empty after a restart).
   */
  readonly history?: HistoryOptions | false;
}

/** The history store of a service. */
export interface HistoryOptions {
  /** `postgres://…`; default SQLite `<datadir>/history.sqlite`. */
  readonly url?: string;
  readonly pgSchema?: string;
}

/** How long a history read waits for the history to reach the engine's seq (read your writes). */
const HISTORY_WAIT_MS = 5_000;

/**
 * The wanted configuration with the statuses the running exchange set (SET_MARKET_STATUS) kept for its existing
 * markets: a market halted at run time stays halted across restarts; the file's status applies to new markets.
 */
function withRuntimeStatuses(wanted: ExchangeConfig, current: ExchangeConfig | undefined): ExchangeConfig {
  if (current === undefined) return wanted;
  return { ...wanted, markets: wanted.markets.map((m) => ({ ...m, status: current.markets.find((c) => c.symbol === m.symbol)?.status ?? m.status })) };
}

/** What a user's data stream carries. */
export type UserEvent = OrderEvent | BalanceEvent | AccountEvent;

/** Dependencies. */
export interface ExchangeServiceDeps {
  readonly logger: Logger;
  /** The sequencer stopped for good (log write failed, engine failed): the process should exit non-zero. */
  readonly onFatal?: (err: Error) => void;
}

/** The engine's state hash at a sequence number. */
export interface StateHash {
  readonly seq: number;
  readonly hash: string;
}

/** A running exchange engine with its durable log. */
export class ExchangeService {
  private readonly sequencer: Sequencer;
  private readonly snapshotEvery: number;
  private readonly snapshotEveryMs: number;
  private lastSnapshotSeq: number;
  private lastSnapshotAtMs = Date.now();
  private snapshotWrite: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  private historyDb: HistoryDb | undefined;
  private historyWorker: HistoryWorkerClient | undefined;
  /** History reads (undefined when the history is off). */
  history: HistoryQueries | undefined;
  /** Market data (depth, trades, klines, tickers) from the published outcomes. */
  readonly marketData: MarketData;
  private readonly userListeners = new Map<number, Set<(events: readonly UserEvent[]) => void>>();

  private constructor(
    readonly options: ExchangeServiceOptions,
    private readonly deps: ExchangeServiceDeps,
    /** The engine (read it; never apply to it directly: commands go through submit). */
    readonly engine: ExchangeEngine,
    private readonly log: SqliteCommandLog,
    private readonly snapshots: SnapshotStore,
    private readonly lockPath: string,
    /** What start-up found and did. */
    readonly recovery: RecoveryReport,
  ) {
    this.snapshotEvery = options.snapshotEveryCommands ?? 10_000;
    this.snapshotEveryMs = options.snapshotEveryMs ?? 60_000;
    this.lastSnapshotSeq = recovery.snapshotSeq;
    this.sequencer = new Sequencer(
      { ...(options.clock !== undefined ? { clock: options.clock } : {}), ...(options.maxBatch !== undefined ? { maxBatch: options.maxBatch } : {}) },
      {
        engine,
        log,
        onFatal: (err) => {
          deps.logger.fatal({ err }, 'the exchange sequencer stopped');
          deps.onFatal?.(err);
        },
      },
    );
    this.marketData = new MarketData(engine);
    this.sequencer.onOutcomes((outcomes) => this.afterBatch(outcomes));
    if (this.snapshotEveryMs > 0) {
      this.timer = setInterval(() => this.maybeSnapshot(), Math.min(this.snapshotEveryMs, 60_000));
      this.timer.unref();
    }
  }

  /**
   * Opens the data dir and starts the engine.
   * @throws ExchangeError DATADIR_BUSY | LOG_CORRUPT | STATE_MISMATCH | BAD_CONFIG (the wanted configuration cannot
   *   replace the stored one)
   */
  static async open(options: ExchangeServiceOptions, deps: ExchangeServiceDeps): Promise<ExchangeService> {
    const { datadir } = options;
    mkdirSync(datadir, { recursive: true, mode: 0o700 });
    const lockPath = join(datadir, DATADIR_FILES.lock);
    try {
      acquirePidLock(lockPath, `exchange data dir ${datadir}`, { role: 'exchange' });
    } catch (err) {
      throw new ExchangeError('DATADIR_BUSY', (err as Error).message);
    }
    let log: SqliteCommandLog | undefined;
    try {
      // Appends go to a writer thread: the fsync of one batch does not stop the event loop from taking the next.
      log = await SqliteCommandLog.openWithWriterThread(join(datadir, DATADIR_FILES.commandLog));
      if (log.openReport.cutRecords > 0) {
        deps.logger.warn(log.openReport, `command log: cut ${log.openReport.cutRecords} damaged record(s) at its end`);
      }
      const snapshots = new SnapshotStore(join(datadir, DATADIR_FILES.snapshots), options.keepSnapshots ?? 3);
      snapshots.removeLeftovers();
      const started = Date.now();
      const { engine, report } = recoverEngine(log, snapshots, {
        onProgress: (seq, last) => deps.logger.info({ seq, last }, 'replaying the command log'),
      });
      for (const s of report.skippedSnapshots) deps.logger.warn(s, 'snapshot skipped');
      deps.logger.info({ ...report, ms: Date.now() - started }, 'exchange state restored');
      const service = new ExchangeService(options, deps, engine, log, snapshots, lockPath, report);
      const wanted = withRuntimeStatuses(options.config, engine.config);
      if (engine.config === undefined || encodeExchangeConfig(engine.config) !== encodeExchangeConfig(wanted)) {
        const outcome = await service.submit({ type: 'CONFIGURE', config: wanted });
        if (!outcome.result.ok) {
          await service.close();
          throw new ExchangeError('BAD_CONFIG', `the configuration cannot be applied: ${outcome.result.ok === false && 'message' in outcome.result ? outcome.result.message : 'refused'}`);
        }
        deps.logger.info({ seq: outcome.seq }, 'configuration applied');
      }
      if (options.history !== false) {
        try {
          await service.startHistory(options.history ?? {});
        } catch (err) {
          await service.close();
          throw err;
        }
      }
      return service;
    } catch (err) {
      log?.close(); // idempotent: a service that was created already closed it
      releasePidLock(lockPath);
      throw err;
    }
  }

  /**
   * Sequences a command; resolves once it is durable and applied, with its result and events.
   * @throws (rejects) ExchangeError CLOSED | BUSY | LOG_FAILED | STATE_MISMATCH
   */
  submit(command: EngineCommand): Promise<CommandOutcome> {
    return this.sequencer.submit(command);
  }

  /** Subscribes to applied batches (after durability, in sequence order); returns the unsubscribe function. */
  subscribe(listener: OutcomeListener): () => void {
    return this.sequencer.onOutcomes(listener);
  }

  /**
   * Subscribes to one user's events (a user data stream: order updates as executionReport, balance changes as
   * outboundAccountPosition/balanceUpdate, account freezes), one call per applied batch that has any, in sequence
   * order, after durability. Returns the unsubscribe function.
   */
  subscribeUser(userId: number, listener: (events: readonly UserEvent[]) => void): () => void {
    let set = this.userListeners.get(userId);
    if (set === undefined) this.userListeners.set(userId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.userListeners.delete(userId);
    };
  }

  /** Hands each batch's user events to their users' subscribers. PERF: O(events), nothing when no one listens. */
  private publishUserEvents(outcomes: readonly CommandOutcome[]): void {
    if (this.userListeners.size === 0) return;
    const byUser = new Map<number, UserEvent[]>();
    const add = (userId: number, e: UserEvent): void => {
      if (!this.userListeners.has(userId)) return;
      let list = byUser.get(userId);
      if (list === undefined) byUser.set(userId, (list = []));
      list.push(e);
    };
    for (const o of outcomes) {
      for (const e of o.events) {
        if (e.type === 'order') add(e.order.userId, e);
        else if (e.type === 'balance' || e.type === 'account') add(e.userId, e);
      }
    }
    for (const [userId, events] of byUser) {
      for (const l of this.userListeners.get(userId) ?? []) {
        try {
          l(events);
        } catch (err) {
          this.deps.logger.warn({ err, userId }, 'a user stream subscriber failed');
        }
      }
    }
  }

  /** The engine's current state hash. */
  stateHash(): StateHash {
    return { seq: this.engine.seq, hash: hashStateText(encodeEngineState(this.engine)) };
  }

  /** Audits the engine's books now. */
  audit(): AuditReport {
    return auditEngine(this.engine);
  }

  /** Sequencer counters. */
  sequencerStats(): SequencerStats {
    return this.sequencer.getStats();
  }

  /** Market configurations. */
  markets(): readonly MarketConfig[] {
    return this.engine.getMarketConfigs();
  }

  /** The user's balances per asset. */
  getBalances(userId: number): Array<{ asset: string; free: bigint; locked: bigint }> {
    return this.engine.getBalances(userId);
  }

  /** Every account's holding of one asset (free + locked), by user id, at the engine's current seq (see engine.getHoldings). */
  getHoldings(asset: string): { seq: number; holdings: Map<number, bigint> } {
    return { seq: this.engine.seq, holdings: this.engine.getHoldings(asset) };
  }

  /** The user's open orders (one market or all). */
  getOpenOrders(userId: number, symbol?: string): OrderState[] {
    return this.engine.getOpenOrders(userId, symbol);
  }

  /** Writes a snapshot now (waits for one in progress first). */
  async snapshotNow(): Promise<void> {
    await this.snapshotWrite;
    this.startSnapshot();
    await this.snapshotWrite;
  }

  /**
   * Starts the history worker, lets it catch up with the log, opens the read side, and seeds market data from it.
   * @throws ExchangeError BAD_CONFIG (the history cannot be opened) | STATE_MISMATCH (it is ahead of this log)
   */
  private async startHistory(h: HistoryOptions): Promise<void> {
    const logger = this.deps.logger;
    const worker = await HistoryWorkerClient.start(
      { datadir: this.options.datadir, retryMs: 5_000, ...(h.url !== undefined ? { url: h.url } : {}), ...(h.pgSchema !== undefined ? { pgSchema: h.pgSchema } : {}) },
      logger,
    );
    this.historyWorker = worker;
    const engine = this.engine;
    if (worker.seq > engine.seq) {
      throw new ExchangeError('STATE_MISMATCH', `the history (${worker.description}) is at seq ${worker.seq}, beyond the command log (${engine.seq}): it belongs to another exchange; rebuild it with cairn exchange replay --rebuild-history`);
    }
    if (worker.seq < engine.seq) logger.info({ from: worker.seq, to: engine.seq }, 'history: catching up from the command log');
    worker.notify(engine.seq);
    await worker.whenAt(engine.seq, Number.POSITIVE_INFINITY);
    if (worker.seq < engine.seq) throw new ExchangeError('STATE_MISMATCH', 'the history worker stopped before catching up');
    const db = await openHistoryDb({ sqlitePath: join(this.options.datadir, DATADIR_FILES.history), ...(h.url !== undefined ? { url: h.url } : {}), ...(h.pgSchema !== undefined ? { pgSchema: h.pgSchema } : {}) });
    this.historyDb = db;
    this.history = new HistoryQueries(db);
    // Market data picks up where the history is (= the engine's seq now).
    const since = Date.now() - 2 * 86_400_000;
    const trades: MarketTrade[] = [];
    const klines: Kline[] = [];
    for (const m of engine.getMarketConfigs()) {
      trades.push(...(await this.history.tradesSince(m.symbol, since, 1_000)));
      for (const interval of KLINE_INTERVALS) {
        if (interval !== '1m') klines.push(...(await this.history.klines(m.symbol, interval, { limit: 500 })));
      }
      klines.push(...(await this.history.klines(m.symbol, '1m', { startTime: since, limit: 1_000 })));
    }
    this.marketData.seed(trades, klines);
    logger.info({ history: db.description, seq: worker.seq }, 'history ready');
  }

  private afterBatch(outcomes: readonly CommandOutcome[]): void {
    try {
      this.marketData.apply(outcomes);
    } catch (err) {
      this.deps.logger.error({ err }, 'market data could not apply a batch');
    }
    this.publishUserEvents(outcomes);
    this.historyWorker?.notify(this.engine.seq);
    this.maybeSnapshot();
  }

  // ---- reads for the gateway -------------------------------------------------------------------------------------

  private async historyAtNow(): Promise<HistoryQueries> {
    if (this.history === undefined || this.historyWorker === undefined) throw new ExchangeError('BAD_QUERY', 'the history is off on this exchange');
    await this.historyWorker.whenAt(this.engine.seq, HISTORY_WAIT_MS);
    return this.history;
  }

  private checkSymbol(symbol: string): void {
    if (this.engine.getMarket(symbol) === undefined) throw new ExchangeError('BAD_QUERY', `invalid symbol ${JSON.stringify(symbol)}`);
  }

  /**
   * One order of the user (Binance GET order): open ones from the engine, others from the history once it has
   * caught up with everything applied so far. Another user's order is undefined, as an unknown one.
   * @throws ExchangeError BAD_QUERY
   */
  async getOrder(userId: number, symbol: string, ref: { orderId?: number; clientOrderId?: string }): Promise<OrderState | undefined> {
    this.checkSymbol(symbol);
    const open = this.engine.getOpenOrder(userId, symbol, ref.orderId, ref.clientOrderId);
    if (open !== undefined) return open;
    if (this.history === undefined) return undefined;
    return (await this.historyAtNow()).getOrder(userId, symbol, ref.orderId, ref.clientOrderId);
  }

  /** The user's orders on a market (Binance allOrders). @throws ExchangeError BAD_QUERY */
  async allOrders(userId: number, symbol: string, q: PageQuery & { orderId?: number } = {}): Promise<OrderState[]> {
    this.checkSymbol(symbol);
    return (await this.historyAtNow()).allOrders(userId, symbol, q);
  }

  /** The user's trades on a market (Binance myTrades). @throws ExchangeError BAD_QUERY */
  async myTrades(userId: number, symbol: string, q: PageQuery & { orderId?: number; fromId?: number } = {}): Promise<UserTrade[]> {
    this.checkSymbol(symbol);
    return (await this.historyAtNow()).myTrades(userId, symbol, q);
  }

  /** The user's balance changes. @throws ExchangeError BAD_QUERY */
  async ledger(userId: number, q: PageQuery & { asset?: string; fromSeq?: number } = {}): Promise<LedgerEntry[]> {
    return (await this.historyAtNow()).ledger(userId, q);
  }

  /** Public trades: the most recent from memory, older ones (fromId) from the history. @throws ExchangeError BAD_QUERY */
  async trades(symbol: string, q: { fromId?: number; limit?: number } = {}): Promise<MarketTrade[]> {
    this.checkSymbol(symbol);
    const limit = q.limit ?? 500;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) throw new ExchangeError('BAD_QUERY', 'limit must be 1..1000');
    if (q.fromId === undefined) {
      const recent = this.marketData.recentTrades(symbol, limit);
      if (recent.length === limit || this.history === undefined) return recent;
    }
    if (this.history === undefined) return this.marketData.recentTrades(symbol, 1000).filter((t) => t.tradeId >= q.fromId!).slice(0, limit);
    return (await this.historyAtNow()).trades(symbol, { ...q, limit });
  }

  /** Candles (Binance klines): from memory when it holds the range, else from the history. @throws ExchangeError BAD_QUERY */
  async klines(symbol: string, interval: KlineInterval, q: PageQuery = {}): Promise<Kline[]> {
    this.checkSymbol(symbol);
    const limit = q.limit ?? 500;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) throw new ExchangeError('BAD_QUERY', 'limit must be 1..1000');
    const fromMemory = this.marketData.klines(symbol, interval, { ...q, limit });
    if (fromMemory !== undefined || this.history === undefined) return fromMemory ?? [];
    return (await this.historyAtNow()).klines(symbol, interval, { ...q, limit });
  }

  /** L2 depth with its last update id. @throws ExchangeError BAD_QUERY */
  depth(symbol: string, limit = 100): DepthSnapshot {
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 5000) throw new ExchangeError('BAD_QUERY', 'limit must be 1..5000');
    return this.marketData.depth(symbol, limit);
  }

  /** Best bid and ask. @throws ExchangeError BAD_QUERY */
  bookTicker(symbol: string): BookTicker {
    return this.marketData.bookTicker(symbol);
  }

  /** 24 h rolling statistics at the wall clock now. @throws ExchangeError BAD_QUERY */
  ticker24h(symbol: string): Ticker24h {
    return this.marketData.ticker24h(symbol, Date.now());
  }

  /** Subscribes to market data events (depth diffs, book ticker, trades, candles); returns the unsubscribe function. */
  subscribeMarketData(listener: (events: readonly MarketDataEvent[]) => void): () => void {
    return this.marketData.subscribe(listener);
  }

  /** Waits until the history holds everything applied so far (tests, clean stops); false after the timeout. */
  historyCaughtUp(timeoutMs = HISTORY_WAIT_MS): Promise<boolean> {
    return this.historyWorker === undefined ? Promise.resolve(true) : this.historyWorker.whenAt(this.engine.seq, timeoutMs);
  }

  /** The last sequence number the history holds (0 without history). */
  historySeq(): number {
    return this.historyWorker?.seq ?? 0;
  }

  /** Starts a snapshot when N commands or T ms passed since the last one (and anything changed). */
  private maybeSnapshot(): void {
    if (this.snapshotWrite !== undefined || this.closing !== undefined) return;
    const since = this.engine.seq - this.lastSnapshotSeq;
    if (since <= 0) return;
    if (since >= this.snapshotEvery || (this.snapshotEveryMs > 0 && Date.now() - this.lastSnapshotAtMs >= this.snapshotEveryMs)) this.startSnapshot();
  }

  private startSnapshot(): void {
    const seq = this.engine.seq;
    if (seq === this.lastSnapshotSeq) return;
    // The text is taken now, at a consistent point (between batches); the file is written in the background.
    const text = encodeEngineState(this.engine);
    this.lastSnapshotSeq = seq;
    this.lastSnapshotAtMs = Date.now();
    this.snapshotWrite = this.snapshots
      .write(seq, text)
      .then(
        (file) => this.deps.logger.debug({ seq, path: file.path }, 'snapshot written'),
        (err: unknown) => this.deps.logger.warn({ err, seq }, 'snapshot not written (the log still has every command)'),
      )
      .finally(() => {
        this.snapshotWrite = undefined;
      });
  }

  /** Stops taking commands, drains the sequencer, writes a last snapshot, closes the log and frees the data dir. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.timer !== undefined) clearInterval(this.timer);
      await this.sequencer.close();
      this.historyWorker?.notify(this.engine.seq);
      await this.historyWorker?.close();
      await this.historyDb?.close();
      await this.snapshotWrite;
      if (this.engine.seq !== this.lastSnapshotSeq && this.engine.seq === this.log.lastSeq) {
        try {
          this.snapshots.writeSync(this.engine.seq, encodeEngineState(this.engine));
        } catch (err) {
          this.deps.logger.warn({ err }, 'last snapshot not written');
        }
      }
      await this.log.closeAndWait();
      releasePidLock(this.lockPath);
    })();
    return this.closing;
  }
}

/**
 * Restores the state of a data dir without taking it over (read-only log; a damaged tail is reported, not cut):
 * for `cairn exchange state-hash`, `audit` and `replay`.
 * @throws ExchangeError LOG_CORRUPT | STATE_MISMATCH, or a file error when the dir holds no command log
 */
export function readExchangeState(datadir: string, options: { fromScratch?: boolean; toSeq?: number } = {}): { engine: ExchangeEngine; report: RecoveryReport; log: { lastSeq: number; cutRecords: number } } {
  const log = SqliteCommandLog.open(join(datadir, DATADIR_FILES.commandLog), { readOnly: true });
  try {
    const snapshots = new SnapshotStore(join(datadir, DATADIR_FILES.snapshots));
    const { engine, report } = recoverEngine(log, snapshots, options);
    return { engine, report, log: { lastSeq: log.lastSeq, cutRecords: log.openReport.cutRecords } };
  } finally {
    log.close();
  }
}

/**
 * Rebuilds a data dir's history from its command log: drops the history tables and writes them again from a replay
 * from an empty state. Takes the data dir (the exchange must not be running).
 * @throws ExchangeError DATADIR_BUSY | LOG_CORRUPT | BAD_CONFIG
 */
export async function rebuildHistory(datadir: string, history: HistoryOptions): Promise<{ seq: number; rows: HistoryWriter['written'] }> {
  const lockPath = join(datadir, DATADIR_FILES.lock);
  try {
    acquirePidLock(lockPath, `exchange data dir ${datadir}`, { role: 'exchange' });
  } catch (err) {
    throw new ExchangeError('DATADIR_BUSY', (err as Error).message);
  }
  const log = SqliteCommandLog.open(join(datadir, DATADIR_FILES.commandLog), { readOnly: true });
  try {
    const snapshots = new SnapshotStore(join(datadir, DATADIR_FILES.snapshots));
    const opts = { sqlitePath: join(datadir, DATADIR_FILES.history), ...(history.url !== undefined ? { url: history.url } : {}), ...(history.pgSchema !== undefined ? { pgSchema: history.pgSchema } : {}) };
    const old = await openHistoryDb(opts);
    await dropHistoryTables(old);
    await old.close();
    const db = await openHistoryDb(opts);
    try {
      const follower = await HistoryFollower.open(db, log, snapshots);
      await follower.advanceTo(log.lastSeq);
      return { seq: follower.lastSeq, rows: follower.writer.written };
    } finally {
      await db.close();
    }
  } finally {
    log.close();
    releasePidLock(lockPath);
  }
}
