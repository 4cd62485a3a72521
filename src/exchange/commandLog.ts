/**
 * The command log: every sequenced command, in order, durable before it is applied. The default store is one SQLite
 * file in the data dir (better-sqlite3, WAL, synchronous=FULL: a commit returns only after the WAL is fsynced, so
 * a batch appended in one transaction costs one fsync — the group commit). Each record carries a CRC-32 of
 * `seq \n timeMs \n body`: SQLite already discards a torn WAL frame on open, and the checksum catches what SQLite
 * cannot (a record damaged after it was written). On open, a damaged tail (the records after the last good one, at
 * most one batch) is cut and reported; a damaged record followed by good ones is corruption the engine refuses to
 * replay past.
 * With a writer thread (SqliteCommandLog.openWithWriterThread, the exchange's default) appends go to a worker that
 * owns the writing connection (commandLogWriter.ts): the fsync no longer blocks the event loop, which keeps taking
 * requests for the next batch while one is being made durable.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { crc32 } from 'node:zlib';
import Database from 'better-sqlite3';
import { siblingWorkerUrl, spawnWorker } from '../workers/spawnWorker.js';
import { parseCommand, type EngineCommand, type SequencedCommand } from './engineCommand.js';
import { ExchangeError } from './exchangeError.js';

/** One record as stored: the command's canonical JSON text with its sequence number and time. */
export interface LogRecord {
  readonly seq: number;
  readonly timeMs: number;
  /** encodeCommand(command). */
  readonly body: string;
}

/**
 * Where sequenced commands go before they are applied. `append` resolves only once the records are durable; the
 * sequencer never applies or acknowledges a command before that. Implementations: SqliteCommandLog (default); a
 * replicated log (NATS JetStream) can implement the same contract.
 */
export interface CommandLog {
  /** Highest sequence number in the log (0 when empty). */
  readonly lastSeq: number;
  /**
   * Appends records whose seq continue lastSeq without gaps, durably (one fsync per call for SQLite).
   * @throws ExchangeError LOG_FAILED (not durable: the caller must stop)
   */
  append(records: readonly LogRecord[]): Promise<void>;
  /**
   * The records with fromSeq ≤ seq ≤ toSeq (default lastSeq), in order, checked and decoded.
   * @throws ExchangeError LOG_CORRUPT (bad checksum, gap, undecodable body)
   */
  read(fromSeq: number, toSeq?: number): Iterable<SequencedCommand>;
  /** Closes the store (idempotent). */
  close(): void;
}

/** The checksum of a record: CRC-32 (zlib's) of `seq \n timeMs \n body` in UTF-8. */
export function recordChecksum(seq: number, timeMs: number, body: string): number {
  return crc32(`${seq}\n${timeMs}\n${body}`);
}

const LOG_FORMAT = 'cairn-exchange-command-log/1';

/**
 * Opens (creating) a log file for appending: WAL, synchronous=FULL (every commit fsyncs the WAL, so an appended
 * batch is on disk when its transaction returns), the tables, and the format mark.
 * @throws Error (SQLite) when the file cannot be opened or created
 */
export function openLogForAppend(path: string): Database.Database {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec(`CREATE TABLE IF NOT EXISTS log_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS command_log (seq INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, body TEXT NOT NULL, crc INTEGER NOT NULL);
      INSERT OR IGNORE INTO log_meta (key, value) VALUES ('format', '${LOG_FORMAT}');`);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** What the writer thread (commandLogWriter.ts) is started with. */
export interface LogWriterData {
  readonly path: string;
}

/** Messages to the writer thread: one batch of consecutive records with one time (bodies joined by '\n'), or close. */
export type LogWriterRequest = { readonly type: 'append'; readonly first: number; readonly timeMs: number; readonly bodies: string } | { readonly type: 'close' };

/** Messages from the writer thread. */
export type LogWriterReply =
  | { readonly type: 'ready' }
  | { readonly type: 'appended'; readonly lastSeq: number }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'closed' };

/** What opening the log found and did. */
export interface LogOpenReport {
  /** Records cut from the damaged tail (0 normally). */
  readonly cutRecords: number;
  /** Their sequence numbers, first and last (0 when none). */
  readonly cutFromSeq: number;
  readonly cutToSeq: number;
}

/** Options of SqliteCommandLog.open. */
export interface SqliteCommandLogOptions {
  /** Open without writing: a damaged tail is reported and left alone (reads stop before it). */
  readonly readOnly?: boolean;
  /** Longest damaged tail cut on open; a longer one is not a crash artifact (default 100,000 records). */
  readonly maxTailCut?: number;
}

interface Row {
  seq: number;
  time_ms: number;
  body: string;
  crc: number;
}

/** The SQLite command log. */
export class SqliteCommandLog implements CommandLog {
  private _lastSeq: number;
  private closed = false;
  private readonly appendTx: ((records: readonly LogRecord[]) => void) | undefined;
  /** The writer thread, when appends go there (openWithWriterThread). */
  private writer: Worker | undefined;
  /** The append the writer thread is making durable (at most one at a time). */
  private inFlight: { readonly lastSeq: number; readonly resolve: () => void; readonly reject: (err: Error) => void } | undefined;
  /** Why the writer thread cannot take more appends (it failed or exited). */
  private writerFailure: ExchangeError | undefined;
  private writerClosed: Promise<void> | undefined;

  private constructor(
    private readonly db: Database.Database,
    readonly path: string,
    lastSeq: number,
    readonly openReport: LogOpenReport,
    readonly readOnly: boolean,
  ) {
    this._lastSeq = lastSeq;
    if (!readOnly) {
      const insert = db.prepare('INSERT INTO command_log (seq, time_ms, body, crc) VALUES (?, ?, ?, ?)');
      this.appendTx = db.transaction((records: readonly LogRecord[]) => {
        for (const r of records) insert.run(r.seq, r.timeMs, r.body, recordChecksum(r.seq, r.timeMs, r.body));
      });
    }
  }

  /**
   * Opens (creating) the log file, checks its format, and cuts a damaged tail (unless read-only).
   * @throws ExchangeError LOG_CORRUPT (not a command log, or a damaged tail longer than maxTailCut)
   */
  static open(path: string, options: SqliteCommandLogOptions = {}): SqliteCommandLog {
    const readOnly = options.readOnly === true;
    let db: Database.Database;
    if (readOnly) {
      db = new Database(path, { readonly: true, fileMustExist: true });
    } else {
      db = openLogForAppend(path);
    }
    try {
      const format = (db.prepare("SELECT value FROM log_meta WHERE key = 'format'").get() as { value: string } | undefined)?.value;
      if (format !== LOG_FORMAT) throw new ExchangeError('LOG_CORRUPT', `${path} is not a cairn exchange command log (format ${String(format)})`);
      const { lastGood, lastSeq, cut } = SqliteCommandLog.findDamagedTail(db, options.maxTailCut ?? 100_000, path);
      let report: LogOpenReport = { cutRecords: 0, cutFromSeq: 0, cutToSeq: 0 };
      if (cut > 0) {
        report = { cutRecords: cut, cutFromSeq: lastGood + 1, cutToSeq: lastSeq };
        if (!readOnly) db.prepare('DELETE FROM command_log WHERE seq > ?').run(lastGood);
      }
      return new SqliteCommandLog(db, path, lastGood, report, readOnly);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /**
   * Opens the log as `open` does (cutting a damaged tail on this thread), then starts the writer thread that makes
   * every later append durable (commandLogWriter.ts) and waits until it has the file open. Reads stay on this
   * thread's connection.
   * @throws ExchangeError LOG_CORRUPT (as open) | LOG_FAILED (the writer thread cannot open the file)
   */
  static async openWithWriterThread(path: string, options: Omit<SqliteCommandLogOptions, 'readOnly'> = {}): Promise<SqliteCommandLog> {
    const log = SqliteCommandLog.open(path, options);
    try {
      await log.startWriter();
      return log;
    } catch (err) {
      log.close();
      throw err;
    }
  }

  private startWriter(): Promise<void> {
    const data: LogWriterData = { path: this.path };
    const worker = spawnWorker(siblingWorkerUrl(import.meta.url, 'commandLogWriter'), { workerData: data });
    this.writer = worker;
    let markClosed: () => void = () => undefined;
    this.writerClosed = new Promise((resolve) => (markClosed = resolve));
    return new Promise((resolve, reject) => {
      let ready = false;
      const stop = (why: string): void => {
        const failure = new ExchangeError('LOG_FAILED', `command log ${this.path}: ${why}`);
        this.writerFailure ??= failure;
        const pending = this.inFlight;
        this.inFlight = undefined;
        pending?.reject(this.writerFailure);
        if (!ready) reject(failure);
      };
      worker.on('message', (m: LogWriterReply) => {
        switch (m.type) {
          case 'ready':
            ready = true;
            resolve();
            return;
          case 'appended': {
            const pending = this.inFlight;
            if (pending === undefined || pending.lastSeq !== m.lastSeq) {
              stop(`the writer thread confirmed seq ${m.lastSeq}, which was not asked for`);
              return;
            }
            this.inFlight = undefined;
            this._lastSeq = m.lastSeq;
            pending.resolve();
            return;
          }
          case 'failed':
            stop(`cannot append: ${m.message}`);
            return;
          case 'closed':
            markClosed();
            return;
        }
      });
      worker.on('error', (err) => stop(`the writer thread failed: ${err.message}`));
      worker.on('exit', (code) => {
        if (!this.closed) stop(`the writer thread exited (${code})`);
        markClosed();
      });
    });
  }

  /** Walks back from the end over records that fail their check; returns the last good seq and how many follow it. */
  private static findDamagedTail(db: Database.Database, maxCut: number, path: string): { lastGood: number; lastSeq: number; cut: number } {
    const max = (db.prepare('SELECT MAX(seq) AS s FROM command_log').get() as { s: number | null }).s ?? 0;
    const stmt = db.prepare('SELECT seq, time_ms, body, crc FROM command_log WHERE seq <= ? ORDER BY seq DESC LIMIT 256');
    let cut = 0;
    let below = max;
    let expected = max;
    for (;;) {
      const rows = stmt.all(below) as Row[];
      if (rows.length === 0) return { lastGood: 0, lastSeq: max, cut };
      for (const row of rows) {
        // A row whose seq is not the next one down leaves a gap: the rows above it are not a contiguous tail.
        if (row.seq === expected && checkRow(row) !== undefined) return { lastGood: row.seq, lastSeq: max, cut: max - row.seq };
        cut = max - row.seq + 1;
        expected = row.seq - 1;
        if (cut > maxCut) throw new ExchangeError('LOG_CORRUPT', `${path}: more than ${maxCut} damaged records at the end of the log; refusing to cut them`);
      }
      below = rows[rows.length - 1]!.seq - 1;
    }
  }

  get lastSeq(): number {
    return this._lastSeq;
  }

  /**
   * Read-only followers of a log another connection appends to: takes in the records appended since (their tail is
   * not checked again: the writer checked its own). Returns the new lastSeq.
   */
  refresh(): number {
    if (this.readOnly && !this.closed) {
      const max = (this.db.prepare('SELECT MAX(seq) AS s FROM command_log').get() as { s: number | null }).s ?? 0;
      if (max > this._lastSeq) this._lastSeq = max;
    }
    return this._lastSeq;
  }

  append(records: readonly LogRecord[]): Promise<void> {
    if (this.writer !== undefined) return this.appendOnWriter(records);
    if (this.closed || this.appendTx === undefined) return Promise.reject(new ExchangeError('LOG_FAILED', `command log ${this.path} is ${this.closed ? 'closed' : 'read-only'}`));
    if (records.length === 0) return Promise.resolve();
    for (let i = 0; i < records.length; i++) {
      if (records[i]!.seq !== this._lastSeq + 1 + i) {
        return Promise.reject(new ExchangeError('LOG_FAILED', `append of seq ${records[i]!.seq} after ${this._lastSeq + i}: sequence gap`));
      }
    }
    try {
      this.appendTx(records);
    } catch (err) {
      return Promise.reject(new ExchangeError('LOG_FAILED', `cannot append to ${this.path}: ${(err as Error).message}`));
    }
    this._lastSeq += records.length;
    return Promise.resolve();
  }

  /** An append through the writer thread: one message, resolved when the thread's commit (its fsync) returned. */
  private appendOnWriter(records: readonly LogRecord[]): Promise<void> {
    if (this.writerFailure !== undefined) return Promise.reject(this.writerFailure);
    if (this.closed) return Promise.reject(new ExchangeError('LOG_FAILED', `command log ${this.path} is closed`));
    if (this.inFlight !== undefined) return Promise.reject(new ExchangeError('LOG_FAILED', `append to ${this.path} while another is being written`));
    if (records.length === 0) return Promise.resolve();
    const first = records[0]!.seq;
    const timeMs = records[0]!.timeMs;
    if (first !== this._lastSeq + 1) return Promise.reject(new ExchangeError('LOG_FAILED', `append of seq ${first} after ${this._lastSeq}: sequence gap`));
    const bodies = new Array<string>(records.length);
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      // One message per batch: consecutive seqs and one time (the sequencer's batches), bodies without newlines.
      if (r.seq !== first + i || r.timeMs !== timeMs || r.body.includes('\n')) {
        return Promise.reject(new ExchangeError('LOG_FAILED', `append of seq ${r.seq}: a batch for the writer thread needs consecutive seqs, one time and one-line bodies`));
      }
      bodies[i] = r.body;
    }
    return new Promise<void>((resolve, reject) => {
      this.inFlight = { lastSeq: first + records.length - 1, resolve, reject };
      const message: LogWriterRequest = { type: 'append', first, timeMs, bodies: bodies.join('\n') };
      this.writer!.postMessage(message);
    });
  }

  *read(fromSeq: number, toSeq: number = this._lastSeq): Iterable<SequencedCommand> {
    const end = Math.min(toSeq, this._lastSeq);
    let expected = Math.max(1, fromSeq);
    if (expected > end) return;
    const stmt = this.db.prepare('SELECT seq, time_ms, body, crc FROM command_log WHERE seq >= ? AND seq <= ? ORDER BY seq');
    for (const row of stmt.iterate(expected, end) as IterableIterator<Row>) {
      if (row.seq !== expected) throw new ExchangeError('LOG_CORRUPT', `${this.path}: seq ${expected} is missing (next record is ${row.seq})`);
      const command = checkRow(row);
      if (command === undefined) throw new ExchangeError('LOG_CORRUPT', `${this.path}: record ${row.seq} is damaged (checksum or body), and records follow it`);
      yield { seq: row.seq, timeMs: row.time_ms, command };
      expected++;
    }
    if (expected <= end) throw new ExchangeError('LOG_CORRUPT', `${this.path}: records ${expected}..${end} are missing`);
  }

  /**
   * Closes the store (idempotent). With a writer thread: asks it to close its connection and lets it end without
   * waiting (closeAndWait waits); nothing is lost either way, an append resolved only once it was durable.
   */
  close(): void {
    this.closeStore(false);
  }

  /** Closes the store and waits until the writer thread (if any) has closed its connection and ended. */
  async closeAndWait(): Promise<void> {
    this.closeStore(true);
    await this.writerClosed;
  }

  private closeStore(wait: boolean): void {
    if (this.closed) return;
    this.closed = true;
    if (this.writer !== undefined) {
      const close: LogWriterRequest = { type: 'close' };
      this.writer.postMessage(close);
      // Not waited for: the thread must not keep the process alive (a waiter keeps it referenced until it ends).
      if (!wait) this.writer.unref();
    }
    this.db.close();
  }
}

/** The decoded command of a row whose checksum and body are good, else undefined. */
function checkRow(row: Row): EngineCommand | undefined {
  if (typeof row.body !== 'string' || typeof row.time_ms !== 'number' || recordChecksum(row.seq, row.time_ms, row.body) !== row.crc) return undefined;
  try {
    return parseCommand(row.body);
  } catch {
    return undefined;
  }
}
