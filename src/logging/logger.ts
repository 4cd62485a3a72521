import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
import { RotatingLogDestination } from './rotatingLogDestination.js';

/** Names of the modules that log; each log line carries one in its `module` field (DESIGN.md, Logging). */
export type LogModule =
  | 'cli' | 'node' | 'chain' | 'mempool' | 'mining' | 'miner' | 'p2p' | 'api' | 'rpc' | 'stratum' | 'storage'
  | 'wallet' | 'exchange' | 'elect' | 'sim' | 'log-collector' | 'devnet' | (string & {});

/** Log level names (pino's, plus 'silent'). */
export type LogLevel = LevelWithSilent;

/** Options of the root logger of one process. */
export interface LoggerOptions {
  /** Lowest level written; default 'info' ($CAIRN_LOG_LEVEL overrides when the caller passes it through). */
  readonly level?: LogLevel;
  /**
   * Write NDJSON into this log dir: `current.ndjson`, rotated into `rotated/` for the LogCollector (see
   * RotatingLogDestination). Takes precedence over `file`.
   */
  readonly logDir?: string;
  /** Rotation of `logDir`: size limit (default 8 MiB) and age (default 2000 ms, 0 = by size only). */
  readonly rotation?: { readonly maxBytes?: number; readonly rotateIntervalMs?: number };
  /** Append NDJSON to this file (created with its folder). Default: standard error, so standard output stays for results. */
  readonly file?: string;
  /** Write to this stream instead (tests). Takes precedence over `logDir` and `file`. */
  readonly stream?: DestinationStream;
  /** Fields added to every line (e.g. `{ network: 'devnet', node: 'node1' }`). */
  readonly base?: Record<string, unknown>;
}

/**
 * Paths of fields that must never appear in a log line. A secret that reaches a logger under one of these names is
 * replaced by "[redacted]".
 */
export const REDACTED_PATHS: readonly string[] = [
  'password', '*.password', 'passphrase', '*.passphrase', 'mnemonic', '*.mnemonic', 'seed', '*.seed',
  'privateKey', '*.privateKey', 'xprv', '*.xprv', 'rpcpassword', '*.rpcpassword', 'authorization', '*.authorization',
  'headers.authorization', 'req.headers.authorization', 'token', '*.token',
];

/**
 * Creates the root pino logger of a process: one JSON object per line with `time` (ms since the epoch), `level`
 * (pino's numeric level), `msg`, and the base fields; secrets under REDACTED_PATHS are masked. Services never create
 * their own root: they receive `moduleLogger(root, 'chain')` through their deps.
 * @throws LogError dir-busy when `logDir` is owned by another live process
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const destination =
    options.stream ??
    (options.logDir !== undefined
      ? RotatingLogDestination.open({ dir: options.logDir, ...options.rotation })
      : options.file
        ? pino.destination({ dest: options.file, mkdir: true, sync: false })
        : pino.destination(2));
  return pino(
    {
      level: options.level ?? 'info',
      base: { pid: process.pid, ...options.base },
      redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.epochTime,
    },
    destination,
  );
}

/** A child logger whose every line carries `module`. */
export function moduleLogger(root: Logger, module: LogModule): Logger {
  return root.child({ module });
}

/** A logger that writes nothing (for library use and tests that do not look at logs). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

export type { Logger };
