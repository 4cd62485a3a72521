import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Slots of the shared state array. */
const RUNNING = 0;
const CLOSED = 1;
const FAILED = 2;
const STATE_SLOTS = 3;

/** How long close() waits for the thread to close its connection, ms (it is at most finishing one checkpoint). */
const CLOSE_TIMEOUT_MS = 60_000;

/**
 * The thread's code, plain CommonJS (no TypeScript loader in a worker): one better-sqlite3 connection to the store's
 * file that runs `PRAGMA wal_checkpoint(PASSIVE)` on each 'checkpoint' message and closes on 'close', reporting
 * through the shared state (RUNNING back to 0 when a checkpoint is done, CLOSED 1 when the connection is closed,
 * FAILED 1 when the connection cannot open or a checkpoint throws).
 */
const THREAD_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const state = new Int32Array(workerData.state);
const done = (slot, value) => { Atomics.store(state, slot, value); Atomics.notify(state, slot); };
let db;
try {
  const Database = require(workerData.sqliteModule);
  db = new Database(workerData.path, { fileMustExist: true });
  db.pragma('synchronous = NORMAL');
  db.pragma('wal_autocheckpoint = 0');
} catch {
  done(${FAILED}, 1);
}
parentPort.on('message', (message) => {
  if (message === 'checkpoint') {
    try {
      if (db !== undefined) db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      done(${FAILED}, 1);
    }
    done(${RUNNING}, 0);
  } else if (message === 'close') {
    try {
      if (db !== undefined) db.close();
    } catch {}
    done(${CLOSED}, 1);
    parentPort.close();
  }
});
`;

/** What WalCheckpointThread.request did. */
export type CheckpointRequest = 'started' | 'busy' | 'unavailable';

/**
 * A worker thread with its own SQLite connection to a store's file, which checkpoints the write-ahead log (PASSIVE:
 * never waiting for readers or the writer) when asked, so the main thread does not wait for the checkpoint's two
 * fsyncs. SQLite coordinates the two connections as it does two processes; durability is unchanged (the checkpoint is
 * the same call, on another connection).
 * The thread starts on the first request. A thread that fails (its connection does not open, a checkpoint throws, it
 * exits) makes every later request 'unavailable', so the caller checkpoints on its own connection.
 * PERF: on the block connect bench a checkpoint (about 650 pages per 1,250-tx block) took 6.5-11 ms of wall time but
 * 2.3-4.2 ms of the thread's CPU: the rest was the main thread, one of the verifying threads, waiting for fsync.
 */
export class WalCheckpointThread {
  private readonly state = new Int32Array(new SharedArrayBuffer(4 * STATE_SLOTS));
  private worker: Worker | undefined;
  private closed = false;

  /** `path`: the database file (which must exist, in WAL mode). */
  constructor(private readonly path: string) {}

  /**
   * Starts a checkpoint on the thread: 'started'; 'busy' when the previous one still runs (nothing started);
   * 'unavailable' when the thread failed or was closed (the caller checkpoints itself).
   */
  request(): CheckpointRequest {
    if (this.closed || Atomics.load(this.state, FAILED) === 1) return 'unavailable';
    if (Atomics.load(this.state, RUNNING) === 1) return 'busy';
    const worker = this.worker ?? this.start();
    if (worker === undefined) return 'unavailable';
    Atomics.store(this.state, RUNNING, 1);
    worker.postMessage('checkpoint');
    return 'started';
  }

  /** Whether a checkpoint requested on the thread has not finished yet. */
  get running(): boolean {
    return Atomics.load(this.state, RUNNING) === 1 && Atomics.load(this.state, FAILED) === 0;
  }

  /**
   * Blocks the calling thread until the checkpoint running on the thread (if any) is done, or `timeoutMs` passed.
   * Returns whether none runs any more.
   */
  waitIdle(timeoutMs = CLOSE_TIMEOUT_MS): boolean {
    const deadline = performance.now() + timeoutMs;
    while (this.running) {
      const left = deadline - performance.now();
      if (left <= 0) return false;
      Atomics.wait(this.state, RUNNING, 1, left);
    }
    return true;
  }

  /**
   * Closes the thread's connection and waits for it (at most CLOSE_TIMEOUT_MS), so the caller's connection is the
   * last one when it closes in turn (SQLite then checkpoints and removes the log). Idempotent.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const worker = this.worker;
    if (worker === undefined) return;
    worker.postMessage('close');
    const deadline = performance.now() + CLOSE_TIMEOUT_MS;
    while (Atomics.load(this.state, CLOSED) === 0 && Atomics.load(this.state, FAILED) === 0) {
      const left = deadline - performance.now();
      if (left <= 0) break;
      Atomics.wait(this.state, CLOSED, 0, Math.min(left, 50));
    }
    void worker.terminate().catch(() => undefined);
  }

  private start(): Worker | undefined {
    try {
      const sqliteModule = createRequire(import.meta.url).resolve('better-sqlite3');
      const worker = new Worker(THREAD_SOURCE, {
        eval: true,
        execArgv: [],
        workerData: { path: this.path, state: this.state.buffer, sqliteModule },
      });
      worker.unref();
      const fail = (): void => {
        Atomics.store(this.state, FAILED, 1);
        Atomics.store(this.state, RUNNING, 0);
        Atomics.notify(this.state, RUNNING);
        Atomics.notify(this.state, CLOSED);
      };
      worker.on('error', fail);
      worker.on('exit', () => {
        if (!this.closed) fail();
      });
      this.worker = worker;
      return worker;
    } catch {
      Atomics.store(this.state, FAILED, 1);
      return undefined;
    }
  }
}
