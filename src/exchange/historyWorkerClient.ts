/**
 * The engine's side of the history worker (historyWorker.ts): starts it, tells it how far the engine got (at most
 * one message per event-loop turn), tracks how far the history got, and lets reads wait for it (read your writes).
 */
import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { siblingWorkerUrl, spawnWorker } from '../workers/spawnWorker.js';
import { ExchangeError } from './exchangeError.js';

/** Longest wait before the worker hears of applied commands when no reader waits for them, ms. */
const TIP_INTERVAL_MS = 20;

/** What the worker is started with. */
export interface HistoryWorkerData {
  readonly datadir: string;
  /** PostgreSQL URL; default SQLite in the data dir. */
  readonly url?: string;
  readonly pgSchema?: string;
  /** Wait after a failed write before trying again, ms. */
  readonly retryMs: number;
}

/** Messages from the worker. */
export type HistoryWorkerMessage =
  | { readonly type: 'ready'; readonly seq: number; readonly description: string }
  | { readonly type: 'progress'; readonly seq: number }
  | { readonly type: 'log'; readonly level: 'error' | 'fatal'; readonly msg: string; readonly err?: string }
  | { readonly type: 'closed' };

/** A running history worker. */
export class HistoryWorkerClient {
  private _seq: number;
  private tip = 0;
  private notifyScheduled = false;
  /** The last tip sent to the worker. */
  private postedTip = 0;
  private tipTimer: NodeJS.Timeout | undefined;
  private waiters: Array<{ seq: number; resolve: (ok: boolean) => void }> = [];
  private exited = false;
  private readonly closed: Promise<void>;

  private constructor(
    private readonly worker: Worker,
    readyMessage: Extract<HistoryWorkerMessage, { type: 'ready' }>,
    private readonly logger: Logger,
  ) {
    this._seq = readyMessage.seq;
    this.description = readyMessage.description;
    this.closed = new Promise((resolve) => {
      worker.on('exit', (code) => {
        this.exited = true;
        if (code !== 0) logger.error({ code }, 'the history worker exited');
        this.releaseWaiters();
        resolve();
      });
    });
    worker.on('message', (m: HistoryWorkerMessage) => this.onMessage(m));
  }

  /** Where the history is (no credentials). */
  readonly description: string;

  /**
   * Starts the worker and waits until its database is open and migrated.
   * @throws ExchangeError BAD_CONFIG when the worker cannot open the history (with the reason)
   */
  static start(data: HistoryWorkerData, logger: Logger): Promise<HistoryWorkerClient> {
    const worker = spawnWorker(siblingWorkerUrl(import.meta.url, 'historyWorker'), { workerData: data });
    return new Promise((resolve, reject) => {
      let failure = 'the history worker exited during start-up';
      const onMessage = (m: HistoryWorkerMessage): void => {
        if (m.type === 'ready') {
          worker.off('message', onMessage);
          worker.off('exit', onExit);
          worker.off('error', onError);
          resolve(new HistoryWorkerClient(worker, m, logger));
        } else if (m.type === 'log') {
          failure = `${m.msg}: ${m.err ?? ''}`;
        }
      };
      const onExit = (): void => reject(new ExchangeError('BAD_CONFIG', failure));
      const onError = (err: Error): void => {
        failure = `the history worker failed: ${err.message}`;
      };
      worker.on('message', onMessage);
      worker.on('exit', onExit);
      worker.on('error', onError);
    });
  }

  /** The last sequence number the history holds. */
  get seq(): number {
    return this._seq;
  }

  /**
   * Tells the worker the engine applied up to `seq`. PERF: a message wakes the worker thread (and its answer wakes
   * this one), which costs more than the few records of one batch on a busy machine; so the tip goes out at most every
   * TIP_INTERVAL_MS, and at once (next turn) when a reader waits for the history (whenAt).
   */
  notify(seq: number): void {
    if (seq <= this.tip || this.exited) return;
    this.tip = seq;
    if (this.waiters.length > 0) this.postTipSoon();
    else if (this.tipTimer === undefined && !this.notifyScheduled) {
      this.tipTimer = setTimeout(() => {
        this.tipTimer = undefined;
        this.postTip();
      }, TIP_INTERVAL_MS);
    }
  }

  private postTipSoon(): void {
    if (this.notifyScheduled) return;
    this.notifyScheduled = true;
    setImmediate(() => {
      this.notifyScheduled = false;
      this.postTip();
    });
  }

  private postTip(): void {
    if (this.exited || this.tip <= this.postedTip) return;
    if (this.tipTimer !== undefined) clearTimeout(this.tipTimer);
    this.tipTimer = undefined;
    this.postedTip = this.tip;
    this.worker.postMessage({ type: 'tip', seq: this.tip });
  }

  /** Resolves true once the history holds `seq`, false after `timeoutMs` or when the worker is gone. */
  whenAt(seq: number, timeoutMs: number): Promise<boolean> {
    if (this._seq >= seq) return Promise.resolve(true);
    if (this.exited) return Promise.resolve(false);
    return new Promise((resolve) => {
      const entry = { seq, resolve };
      this.waiters.push(entry);
      if (this.tip > this.postedTip) this.postTipSoon();
      if (Number.isFinite(timeoutMs)) {
        setTimeout(() => {
          const i = this.waiters.indexOf(entry);
          if (i >= 0) {
            this.waiters.splice(i, 1);
            resolve(false);
          }
        }, timeoutMs).unref();
      }
    });
  }

  /** Lets the worker write up to the last notified seq, then stops it. */
  async close(): Promise<void> {
    if (this.tipTimer !== undefined) clearTimeout(this.tipTimer);
    this.tipTimer = undefined;
    if (!this.exited) {
      if (this.tip > 0) this.worker.postMessage({ type: 'tip', seq: this.tip });
      this.worker.postMessage({ type: 'close' });
    }
    await this.closed;
  }

  private onMessage(m: HistoryWorkerMessage): void {
    if (m.type === 'progress') {
      this._seq = m.seq;
      const ready = this.waiters.filter((w) => w.seq <= m.seq);
      if (ready.length > 0) {
        this.waiters = this.waiters.filter((w) => w.seq > m.seq);
        for (const w of ready) w.resolve(true);
      }
    } else if (m.type === 'log') {
      this.logger[m.level]({ err: m.err }, m.msg);
    }
  }

  private releaseWaiters(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w.resolve(this._seq >= w.seq);
  }
}
