/**
 * The exchange in a data dir: it owns the dir (a pid lock), opens the command log (cutting a damaged tail), restores
 * the engine from the newest valid snapshot plus the log, applies the wanted configuration by a CONFIGURE command
 * when it differs, and then takes commands through its sequencer. Every N commands or T seconds it writes a snapshot;
 * on close it drains the sequencer and writes a last one. History and market data follow the published outcomes.
 * This is the engine's API for the gateway (commands in, results out, reads, a subscription to sequenced outcomes)
 * and for the chain bridge (deposit, withdrawal lock/complete/fail commands).
 *
 * Data dir layout: `command-log.sqlite` (+ -wal, -shm), `snapshots/`, `history.sqlite` (default history store),
 * `exchange.lock`.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { acquirePidLock, releasePidLock } from '../logging/pidLock.js';
import { auditEngine, type AuditReport } from './audit.js';
import { SqliteCommandLog } from './commandLog.js';
import type { EngineCommand } from './engineCommand.js';
import type { CommandOutcome, OrderState } from './engineEvent.js';
import type { ExchangeEngine } from './engine.js';
import { recoverEngine, type RecoveryReport } from './engineRecovery.js';
import { encodeEngineState, hashStateText } from './engineState.js';
import { encodeExchangeConfig, type ExchangeConfig, type MarketConfig } from './exchangeConfig.js';
import { ExchangeError } from './exchangeError.js';
import { Sequencer, type OutcomeListener, type SequencerStats } from './sequencer.js';
import { SnapshotStore } from './snapshotStore.js';

/** File names inside the data dir. */
export const DATADIR_FILES = Object.freeze({
  commandLog: 'command-log.sqlite',
  snapshots: 'snapshots',
  history: 'history.sqlite',
  lock: 'exchange.lock',
});

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
}

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
    this.sequencer.onOutcomes((outcomes) => this.afterBatch(outcomes));
    if (this.snapshotEveryMs > 0) {
      this.timer = setInterval(() => this.maybeSnapshot(true), Math.min(this.snapshotEveryMs, 60_000));
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
      log = SqliteCommandLog.open(join(datadir, DATADIR_FILES.commandLog));
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
      if (engine.config === undefined || encodeExchangeConfig(engine.config) !== encodeExchangeConfig(options.config)) {
        const outcome = await service.submit({ type: 'CONFIGURE', config: options.config });
        if (!outcome.result.ok) {
          await service.close();
          throw new ExchangeError('BAD_CONFIG', `the configuration cannot be applied: ${outcome.result.ok === false && 'message' in outcome.result ? outcome.result.message : 'refused'}`);
        }
        deps.logger.info({ seq: outcome.seq }, 'configuration applied');
      }
      return service;
    } catch (err) {
      if (log !== undefined && !(err instanceof ExchangeError && err.code === 'BAD_CONFIG')) log.close();
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

  private afterBatch(outcomes: readonly CommandOutcome[]): void {
    void outcomes;
    this.maybeSnapshot(false);
  }

  private maybeSnapshot(byTimer: boolean): void {
    if (this.snapshotWrite !== undefined || this.closing !== undefined) return;
    const since = this.engine.seq - this.lastSnapshotSeq;
    if (since <= 0) return;
    const due = since >= this.snapshotEvery || (this.snapshotEveryMs > 0 && Date.now() - this.lastSnapshotAtMs >= this.snapshotEveryMs);
    if (due || (byTimer && this.snapshotEveryMs > 0 && Date.now() - this.lastSnapshotAtMs >= this.snapshotEveryMs)) this.startSnapshot();
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
      await this.snapshotWrite;
      if (this.engine.seq !== this.lastSnapshotSeq && this.engine.seq === this.log.lastSeq) {
        try {
          this.snapshots.writeSync(this.engine.seq, encodeEngineState(this.engine));
        } catch (err) {
          this.deps.logger.warn({ err }, 'last snapshot not written');
        }
      }
      this.log.close();
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
