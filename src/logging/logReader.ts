import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LogError } from './logError.js';

/** pino's numeric levels by name. */
export const LOG_LEVELS: Readonly<Record<string, number>> = Object.freeze({
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
});

/**
 * The numeric level of a level name (`info`) or number (`30`).
 * @throws LogError bad-query for anything else
 */
export function parseLogLevel(text: string): number {
  const byName = LOG_LEVELS[text.toLowerCase()];
  if (byName !== undefined) return byName;
  if (/^\d+$/.test(text)) return Number(text);
  throw new LogError('bad-query', `unknown log level '${text}' (one of ${Object.keys(LOG_LEVELS).join(', ')})`);
}

/** The name of a numeric level (`30` → `info`); other numbers as `level<n>`. */
export function logLevelName(level: number): string {
  for (const [name, value] of Object.entries(LOG_LEVELS)) if (value === level) return name;
  return `level${level}`;
}

const RELATIVE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/;
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * A `--since` value as ms since the epoch: a duration back from `nowMs` (`30s`, `10m`, `1h`, `2d`, `1w`, `500ms`) or
 * an ISO 8601 date or date-time (`2025-06-01`, `2025-06-01T12:00:00Z`; without a zone it is UTC).
 * @throws LogError bad-query when it is neither
 */
export function parseSince(text: string, nowMs: number): number {
  const trimmed = text.trim();
  const rel = RELATIVE.exec(trimmed);
  if (rel) return nowMs - Number(rel[1]) * UNIT_MS[rel[2]!]!;
  if (/^\d{4}-\d{2}-\d{2}/.test(trimmed)) {
    const hasZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(trimmed) || trimmed.length === 10;
    const ms = Date.parse(hasZone ? trimmed : `${trimmed}Z`);
    if (Number.isFinite(ms)) return ms;
  }
  throw new LogError('bad-query', `cannot read '${text}' as a time: use an ISO date-time (2025-06-01T12:00:00Z) or a duration (10m, 1h, 2d)`);
}

/** Which consolidated log records to read. */
export interface LogQuery {
  /** Only these modules (file names under each date folder); all when absent or empty. */
  readonly modules?: readonly string[];
  /** Only records at this numeric level or above. */
  readonly minLevel?: number;
  /** Only records at or after this time, ms since the epoch. */
  readonly sinceMs?: number;
}

/** One line of the consolidated logs. */
export interface LogRecord {
  /** The line's `time`, ms since the epoch (NaN when it has none). */
  readonly timeMs: number;
  /** pino's numeric level (0 when the line has none). */
  readonly level: number;
  /** The line's `module`, or its file's name. */
  readonly module: string;
  /** The line as stored. */
  readonly line: string;
  /** The parsed line; undefined when it is not a JSON object. */
  readonly fields: Readonly<Record<string, unknown>> | undefined;
}

const DATE_DIR = /^\d{4}-\d{2}-\d{2}$/;
const READ_CHUNK_BYTES = 4 * 1024 * 1024;

/** Parses one consolidated line; `fileModule` is the module its file is named after. */
export function parseLogRecord(line: string, fileModule: string): LogRecord {
  let fields: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) fields = parsed as Record<string, unknown>;
  } catch {
    fields = undefined;
  }
  const time = fields?.['time'];
  const timeMs = typeof time === 'number' ? time : typeof time === 'string' ? Date.parse(time) : NaN;
  const rawLevel = fields?.['level'];
  const level = typeof rawLevel === 'number' ? rawLevel : typeof rawLevel === 'string' ? (LOG_LEVELS[rawLevel] ?? 0) : 0;
  const module = typeof fields?.['module'] === 'string' ? (fields['module'] as string) : fileModule;
  return { timeMs, level, module, line, fields };
}

/** True when the record passes the query (the module is checked on the file name, before reading). */
function matches(record: LogRecord, query: LogQuery): boolean {
  if (query.minLevel !== undefined && record.level < query.minLevel) return false;
  if (query.sinceMs !== undefined && !(record.timeMs >= query.sinceMs)) return false;
  return true;
}

/**
 * Reads the consolidated logs of a LogCollector output dir (`<dir>/YYYY-MM-DD/<module>.ndjson`) incrementally: each
 * poll() returns the complete lines appended since the previous one (all of them on the first), filtered by the
 * query and ordered by time (stable, so lines of one file keep their order). New dates and modules are picked up as
 * they appear; a line still being written is left for the next poll.
 */
export class LogTail {
  private readonly offsets = new Map<string, number>();
  private readonly modules: ReadonlySet<string> | undefined;
  private readonly sinceDate: string | undefined;

  constructor(
    readonly dir: string,
    private readonly query: LogQuery = {},
  ) {
    this.modules = query.modules && query.modules.length > 0 ? new Set(query.modules) : undefined;
    this.sinceDate = query.sinceMs !== undefined ? new Date(query.sinceMs).toISOString().slice(0, 10) : undefined;
  }

  /** New matching records since the last poll (see the class comment). A missing dir reads as empty. */
  poll(): LogRecord[] {
    const out: LogRecord[] = [];
    for (const date of this.dates()) {
      let names: string[];
      try {
        names = readdirSync(join(this.dir, date)).filter((n) => n.endsWith('.ndjson')).sort();
      } catch {
        continue;
      }
      for (const name of names) {
        const module = name.slice(0, -'.ndjson'.length);
        if (this.modules && !this.modules.has(module)) continue;
        this.readNew(join(this.dir, date, name), module, out);
      }
    }
    return out
      .map((record, i) => ({ record, i }))
      .sort((a, b) => (a.record.timeMs || 0) - (b.record.timeMs || 0) || a.i - b.i)
      .map((x) => x.record);
  }

  private dates(): string[] {
    try {
      return readdirSync(this.dir)
        .filter((d) => DATE_DIR.test(d) && (this.sinceDate === undefined || d >= this.sinceDate))
        .sort();
    } catch {
      return [];
    }
  }

  private readNew(path: string, module: string, out: LogRecord[]): void {
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      return;
    }
    let offset = this.offsets.get(path) ?? 0;
    // Smaller than before: the collector rolled back an interrupted batch; carry on from the new end.
    if (size < offset) offset = size;
    if (size === offset) {
      this.offsets.set(path, offset);
      return;
    }
    const fd = openSync(path, 'r');
    try {
      // Bytes after the last newline seen (split lines are joined as bytes, so a UTF-8 character cut by a chunk
      // boundary stays whole).
      let carry = Buffer.alloc(0);
      while (offset < size) {
        const want = Math.min(READ_CHUNK_BYTES, size - offset);
        const buf = Buffer.alloc(want);
        const got = readSync(fd, buf, 0, want, offset);
        if (got === 0) break;
        offset += got;
        const bytes = carry.length > 0 ? Buffer.concat([carry, buf.subarray(0, got)]) : buf.subarray(0, got);
        const lastNewline = bytes.lastIndexOf(0x0a);
        if (lastNewline < 0) {
          carry = bytes;
          continue;
        }
        for (const line of bytes.subarray(0, lastNewline).toString('utf8').split('\n')) {
          if (line.trim().length === 0) continue;
          const record = parseLogRecord(line, module);
          if (matches(record, this.query)) out.push(record);
        }
        carry = Buffer.from(bytes.subarray(lastNewline + 1));
      }
      // The unfinished tail is read again next time.
      this.offsets.set(path, offset - carry.length);
    } finally {
      closeSync(fd);
    }
  }
}
