/**
 * The command log: every sequenced command, in order, durable before it is applied. The default store is one SQLite
 * file in the data dir (better-sqlite3, WAL, synchronous=FULL: a commit returns only after the WAL is fsynced, so
 * a batch appended in one transaction costs one fsync — the group commit). Each record carries a CRC-32 of
 * `seq \n timeMs \n body`: SQLite already discards a torn WAL frame on open, and the checksum catches what SQLite
 * cannot (a record damaged after it was written). On open, a damaged tail (the records after the last good one, at
 * most one batch) is cut and reported; a damaged record followed by good ones is corruption the engine refuses to
 * replay past.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';
import Database from 'better-sqlite3';
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
function recordChecksum(seq: number, timeMs: number, body: string): number {
  return crc32(`${seq}\n${timeMs}\n${body}`);
}

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

const LOG_FORMAT = 'cairn-exchange-command-log/1';

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
      mkdirSync(dirname(path), { recursive: true });
      db = new Database(path);
      db.pragma('journal_mode = WAL');
      // FULL: every commit fsyncs the WAL, so an appended batch is on disk when append returns.
      db.pragma('synchronous = FULL');
      db.exec(`CREATE TABLE IF NOT EXISTS log_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS command_log (seq INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, body TEXT NOT NULL, crc INTEGER NOT NULL);
        INSERT OR IGNORE INTO log_meta (key, value) VALUES ('format', '${LOG_FORMAT}');`);
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

  close(): void {
    if (this.closed) return;
    this.closed = true;
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
