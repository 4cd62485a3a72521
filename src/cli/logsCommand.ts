import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { defaultDevnetDir } from './devnetCommand.js';
import { CliError } from './input.js';
import { LogError } from '../logging/logError.js';
import { LogTail, logLevelName, parseLogLevel, parseSince, type LogQuery, type LogRecord } from '../logging/logReader.js';

interface LogsFlags {
  dir?: string;
  module?: string[];
  level?: string;
  since?: string;
  follow?: boolean;
  json?: boolean;
  lines?: string;
  pollMs: string;
}

/**
 * Where `cairn logs` reads when no --dir is given: $CAIRN_LOGS_DIR, else the logs/ folder of the default devnet dir
 * (~/.cairn/devnet-cluster/logs), where `cairn devnet` has its LogCollector write.
 */
export function defaultLogsDir(): string {
  return process.env['CAIRN_LOGS_DIR'] ?? join(defaultDevnetDir(), 'logs');
}

/** A devnet dir (it has devnet.json and a logs/ folder but no date folders) stands for its logs/ folder. */
export function resolveLogsDir(dir: string): string {
  if (!existsSync(join(dir, 'devnet.json')) || !existsSync(join(dir, 'logs'))) return dir;
  const hasDates = readdirSync(dir).some((d) => /^\d{4}-\d{2}-\d{2}$/.test(d));
  return hasDates ? dir : join(dir, 'logs');
}

/** Fields printed in the fixed columns, or not at all (pino's bookkeeping). */
const HIDDEN_FIELDS = new Set(['time', 'level', 'msg', 'module', 'node', 'source', 'pid', 'hostname', 'v', 'network']);
const MAX_VALUE_CHARS = 300;

const LEVEL_COLORS: Readonly<Record<string, string>> = {
  trace: '\x1b[90m',
  debug: '\x1b[36m',
  info: '\x1b[32m',
  warn: '\x1b[33m',
  error: '\x1b[31m',
  fatal: '\x1b[35m',
};

function formatValue(key: string, value: unknown): string {
  let text: string;
  if (key === 'err' && typeof value === 'object' && value !== null) {
    const err = value as { type?: unknown; message?: unknown };
    text = JSON.stringify(`${typeof err.type === 'string' ? err.type : 'Error'}: ${String(err.message)}`);
  } else if (typeof value === 'string') {
    text = /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  } else {
    text = JSON.stringify(value) ?? String(value);
  }
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS)}…` : text;
}

/**
 * One record as a line for people: `<ISO time> <LEVEL> <module> [<node or source>] <msg> key=value …` (the raw line when it
 * is not JSON). `color` adds ANSI colors to the level.
 */
export function formatLogRecord(record: LogRecord, color = false): string {
  const f = record.fields;
  if (f === undefined) return record.line;
  const time = Number.isFinite(record.timeMs) ? new Date(record.timeMs).toISOString() : '-'.padEnd(24);
  const name = logLevelName(record.level);
  const level = name.toUpperCase().padEnd(5);
  const parts = [time, color ? `${LEVEL_COLORS[name] ?? ''}${level}\x1b[0m` : level, record.module.padEnd(8)];
  // The process: the node's name when its logger sets one, else the collector's name for the producer dir.
  const origin = typeof f['node'] === 'string' ? f['node'] : f['source'];
  if (typeof origin === 'string') parts.push(`[${origin}]`);
  if (f['msg'] !== undefined) parts.push(String(f['msg']));
  for (const [key, value] of Object.entries(f)) {
    if (!HIDDEN_FIELDS.has(key)) parts.push(`${key}=${formatValue(key, value)}`);
  }
  return parts.join(' ');
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((m) => m.trim()).filter((m) => m.length > 0)];
}

/** Registers `cairn logs`. */
export function registerLogsCommand(program: Command): void {
  program
    .command('logs')
    .description(
      'read the consolidated logs written by `cairn log-collector` (<dir>/YYYY-MM-DD/<module>.ndjson), ordered by time: ' +
        'one line per record (time, level, module, [source], message, fields), or the stored JSON with --json',
    )
    .option('--dir <dir>', "log collector output dir, or a devnet dir (default $CAIRN_LOGS_DIR, else ~/.cairn/devnet-cluster/logs: the default devnet's)")
    .option('--module <m>', 'only this module (repeatable or comma-separated: --module chain,p2p)', collect)
    .option('--level <l>', 'only this level and above: trace | debug | info | warn | error | fatal')
    .option('--since <t>', 'only records since an ISO time (2025-06-01T12:00:00Z) or a duration ago (30s, 10m, 1h, 2d)')
    .option('-n, --lines <n>', 'print only the last n matching records (before following)')
    .option('-f, --follow', 'keep printing new records as they are collected, until Ctrl-C')
    .option('--json', 'print the stored NDJSON lines')
    .option('--poll-ms <ms>', 'with --follow, milliseconds between reads', '500')
    .action(async (flags: LogsFlags) => {
      const dir = resolveLogsDir(flags.dir ?? defaultLogsDir());
      let query: LogQuery;
      try {
        query = {
          modules: flags.module ?? [],
          ...(flags.level !== undefined ? { minLevel: parseLogLevel(flags.level) } : {}),
          ...(flags.since !== undefined ? { sinceMs: parseSince(flags.since, Date.now()) } : {}),
        };
      } catch (err) {
        if (err instanceof LogError) throw new CliError(err.message);
        throw err;
      }
      let last: number | undefined;
      if (flags.lines !== undefined) {
        last = Number(flags.lines);
        if (!Number.isInteger(last) || last < 0) throw new CliError('--lines must be an integer >= 0');
      }
      const pollMs = Number(flags.pollMs);
      if (!Number.isInteger(pollMs) || pollMs < 10) throw new CliError('--poll-ms must be an integer >= 10');
      if (!existsSync(dir) && !flags.follow) throw new CliError(`no logs at ${dir} (give --dir <log collector output dir>)`);

      const out = process.stdout;
      let broken = false;
      // `cairn logs | head`: stop quietly when the reader goes away.
      out.on('error', () => {
        broken = true;
      });
      const color = out.isTTY === true && process.env['NO_COLOR'] === undefined && !flags.json;
      const print = (records: readonly LogRecord[]): void => {
        if (records.length === 0 || broken) return;
        out.write(records.map((r) => (flags.json ? r.line : formatLogRecord(r, color))).join('\n') + '\n');
      };
      const tail = new LogTail(dir, query);
      const first = tail.poll();
      print(last !== undefined ? first.slice(Math.max(0, first.length - last)) : first);
      if (!flags.follow) return;
      await new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          print(tail.poll());
          if (broken) stop();
        }, pollMs);
        function stop(): void {
          clearInterval(timer);
          process.removeListener('SIGINT', stop);
          process.removeListener('SIGTERM', stop);
          resolve();
        }
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
