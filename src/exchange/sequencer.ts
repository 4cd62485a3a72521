/**
 * The sequencer: the one writer of an engine. Commands submitted during one event-loop turn form one batch; the
 * batch gets consecutive sequence numbers and the sequencer's clock (never decreasing), is appended to the command
 * log in one durable write (group commit: one fsync for the batch), and only then is applied to the engine, its
 * results resolved and its outcomes published — so nothing anyone sees is lost by a crash. While a write is in
 * flight (an asynchronous log: the writer thread), new commands wait for the next batch, which goes to the log as soon
 * as that write is durable, before the durable batch is applied (one write in flight at a time, never one per
 * command).
 * @see LMAX disruptor (journal before business logic); exchange-core's journaling processor
 */
import type { CommandLog, LogRecord } from './commandLog.js';
import { encodeCommand, type EngineCommand, type SequencedCommand } from './engineCommand.js';
import type { CommandOutcome } from './engineEvent.js';
import type { ExchangeEngine } from './engine.js';
import { ExchangeError } from './exchangeError.js';

/** Receives each applied batch's outcomes, in sequence order, after they are durable. */
export type OutcomeListener = (outcomes: readonly CommandOutcome[]) => void;

/** Options of the sequencer. */
export interface SequencerOptions {
  /** Time source, ms since the epoch (default Date.now). Read only when a batch is sequenced. */
  readonly clock?: () => number;
  /** Most commands in one batch (default 10,000); the rest go to the next write. */
  readonly maxBatch?: number;
  /** Most commands waiting for a write; beyond it submit refuses with BUSY (back-pressure; default 100,000). */
  readonly maxPending?: number;
}

/** Dependencies of the sequencer. */
export interface SequencerDeps {
  readonly engine: ExchangeEngine;
  readonly log: CommandLog;
  /** Called once when the sequencer stops for good (log write failed, engine threw): the process should exit. */
  readonly onFatal?: (err: Error) => void;
}

interface Pending {
  readonly command: EngineCommand;
  readonly resolve: (o: CommandOutcome) => void;
  readonly reject: (err: Error) => void;
}

/** Sequencer statistics, for benches and metrics. */
export interface SequencerStats {
  /** Batches written (= durable writes = fsyncs for SQLite). */
  readonly batches: number;
  /** Commands written. */
  readonly commands: number;
  /** Largest batch. */
  readonly maxBatch: number;
}

/** Sequences, logs, applies and publishes commands for one engine. */
export class Sequencer {
  private readonly clock: () => number;
  private readonly maxBatch: number;
  private readonly maxPending: number;
  private pending: Pending[] = [];
  private scheduled = false;
  private writing = false;
  private closed = false;
  private failure: Error | undefined;
  private lastTimeMs: number;
  private readonly listeners = new Set<OutcomeListener>();
  private idleWaiters: Array<() => void> = [];
  private stats = { batches: 0, commands: 0, maxBatch: 0 };

  constructor(
    options: SequencerOptions,
    private readonly deps: SequencerDeps,
  ) {
    this.clock = options.clock ?? Date.now;
    this.maxBatch = options.maxBatch ?? 10_000;
    this.maxPending = options.maxPending ?? 100_000;
    this.lastTimeMs = deps.engine.timeMs;
    if (deps.log.lastSeq !== deps.engine.seq) {
      throw new ExchangeError('STATE_MISMATCH', `the engine is at seq ${deps.engine.seq} but the log ends at ${deps.log.lastSeq}`);
    }
  }

  /**
   * Submits a command; resolves with its outcome once it is durable and applied.
   * @throws (rejects) ExchangeError CLOSED (stopping) | BUSY (too many commands waiting) | LOG_FAILED (a write failed) |
   *   STATE_MISMATCH (the engine failed on an earlier command)
   */
  submit(command: EngineCommand): Promise<CommandOutcome> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new ExchangeError('CLOSED', 'the exchange is stopping'));
    if (this.pending.length >= this.maxPending) return Promise.reject(new ExchangeError('BUSY', `${this.maxPending} commands are waiting for the log; try again`));
    return new Promise<CommandOutcome>((resolve, reject) => {
      this.pending.push({ command, resolve, reject });
      this.schedule();
    });
  }

  /** Subscribes to applied batches (after durability); returns the unsubscribe function. */
  onOutcomes(listener: OutcomeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The last sequence number applied. */
  get lastSeq(): number {
    return this.deps.engine.seq;
  }

  /** Counters since start. */
  getStats(): SequencerStats {
    return { ...this.stats };
  }

  /** Resolves when nothing is waiting or being written. */
  whenIdle(): Promise<void> {
    if (!this.writing && this.pending.length === 0 && !this.scheduled) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops taking commands; resolves once every command already submitted is written and applied (or failed). */
  async close(): Promise<void> {
    this.closed = true;
    await this.whenIdle();
  }

  private schedule(): void {
    if (this.scheduled || this.writing) return;
    this.scheduled = true;
    // The end of this turn: every command submitted in it joins the batch.
    setImmediate(() => {
      this.scheduled = false;
      this.startWrite();
    });
  }

  /** Sequences the waiting commands (up to maxBatch) as one batch and hands it to the log. */
  private startWrite(): void {
    if (this.writing || this.failure !== undefined) return;
    if (this.pending.length === 0) {
      this.notifyIdle();
      return;
    }
    this.writing = true;
    const batch = this.pending.length <= this.maxBatch ? this.pending : this.pending.slice(0, this.maxBatch);
    this.pending = this.pending.length <= this.maxBatch ? [] : this.pending.slice(this.maxBatch);
    const now = this.clock();
    const timeMs = now > this.lastTimeMs ? Math.floor(now) : this.lastTimeMs;
    this.lastTimeMs = timeMs;
    const first = this.deps.log.lastSeq + 1;
    const records: LogRecord[] = new Array<LogRecord>(batch.length);
    const sequenced: SequencedCommand[] = new Array<SequencedCommand>(batch.length);
    for (let i = 0; i < batch.length; i++) {
      const command = batch[i]!.command;
      records[i] = { seq: first + i, timeMs, body: encodeCommand(command) };
      sequenced[i] = { seq: first + i, timeMs, command };
    }
    let appended: Promise<void>;
    try {
      appended = this.deps.log.append(records);
    } catch (err) {
      appended = Promise.reject(err);
    }
    appended.then(
      () => this.afterWrite(batch, sequenced),
      (err: unknown) => {
        this.writing = false;
        this.fail(err instanceof Error ? err : new Error(String(err)), batch);
      },
    );
  }

  /**
   * A batch is durable: the commands that arrived while it was written go to the log at once (pipelining: the next
   * fsync runs while this batch is applied and answered), then this batch is applied in sequence order, answered and
   * published.
   */
  private afterWrite(batch: readonly Pending[], sequenced: readonly SequencedCommand[]): void {
    this.writing = false;
    if (this.failure !== undefined) {
      // The engine failed on an earlier batch while this one was being written: it is in the log, never applied.
      for (const p of batch) p.reject(this.failure);
      this.notifyIdle();
      return;
    }
    if (this.pending.length > 0) this.startWrite();
    const outcomes: CommandOutcome[] = new Array<CommandOutcome>(batch.length);
    for (let i = 0; i < batch.length; i++) {
      let outcome: CommandOutcome;
      try {
        outcome = this.deps.engine.apply(sequenced[i]!);
      } catch (err) {
        // A bug or a broken state: the engine cannot be trusted past this command. The log holds it; stop.
        this.fail(new ExchangeError('STATE_MISMATCH', `applying seq ${sequenced[i]!.seq} failed: ${(err as Error).message}`), batch.slice(i));
        return;
      }
      outcomes[i] = outcome;
      batch[i]!.resolve(outcome);
    }
    this.stats.batches++;
    this.stats.commands += batch.length;
    if (batch.length > this.stats.maxBatch) this.stats.maxBatch = batch.length;
    for (const listener of this.listeners) {
      try {
        listener(outcomes);
      } catch {
        // A listener's failure is its own (history and market data report their errors); the engine goes on.
      }
    }
    if (!this.writing && this.pending.length === 0 && !this.scheduled) this.notifyIdle();
  }

  private fail(err: Error, batch: readonly Pending[]): void {
    if (this.failure !== undefined) {
      // Already stopped (a batch written after the failure ended in error too): one failure, reported once.
      for (const p of batch) p.reject(this.failure);
      if (!this.writing) this.notifyIdle();
      return;
    }
    const failure = err instanceof ExchangeError ? err : new ExchangeError('LOG_FAILED', err.message);
    this.failure = failure;
    this.closed = true;
    for (const p of batch) p.reject(failure);
    for (const p of this.pending) p.reject(failure);
    this.pending = [];
    // A batch still being written is rejected when its write ends (afterWrite); idle waiters wait for that.
    if (!this.writing) this.notifyIdle();
    this.deps.onFatal?.(failure);
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
