/**
 * Start-up: the newest valid snapshot (invalid ones are skipped and reported, and so is one that is ahead of the log)
 * plus a replay of the command log after it; or, for checks, a replay of the whole log from an empty state.
 */
import type { CommandLog } from './commandLog.js';
import { ExchangeEngine } from './engine.js';
import type { SnapshotStore } from './snapshotStore.js';

/** Options of recoverEngine. */
export interface RecoverOptions {
  /** Replay the whole log from an empty state, ignoring snapshots. */
  readonly fromScratch?: boolean;
  /** Stop at this sequence number (default: the end of the log); snapshots beyond it are not used. */
  readonly toSeq?: number;
  /** Called every `progressEvery` replayed commands (default 100,000). */
  readonly onProgress?: (seq: number, lastSeq: number) => void;
  readonly progressEvery?: number;
}

/** What recovery used and did. */
export interface RecoveryReport {
  /** Seq of the snapshot started from (0: empty state). */
  readonly snapshotSeq: number;
  readonly snapshotPath: string | undefined;
  /** Snapshots passed over, newest first, and why. */
  readonly skippedSnapshots: ReadonlyArray<{ readonly path: string; readonly reason: string }>;
  /** Commands replayed from the log. */
  readonly replayed: number;
  /** The engine's seq at the end. */
  readonly seq: number;
}

/**
 * Rebuilds the engine from snapshots and the log.
 * @throws ExchangeError LOG_CORRUPT (a damaged record inside the range) | STATE_MISMATCH (the log does not continue the
 *   snapshot) | BAD_COMMAND/BAD_CONFIG (a record that no longer decodes)
 */
export function recoverEngine(log: CommandLog, snapshots: SnapshotStore | undefined, options: RecoverOptions = {}): { engine: ExchangeEngine; report: RecoveryReport } {
  const toSeq = Math.min(options.toSeq ?? log.lastSeq, log.lastSeq);
  const skipped: Array<{ path: string; reason: string }> = [];
  let engine: ExchangeEngine | undefined;
  let snapshotPath: string | undefined;
  if (options.fromScratch !== true && snapshots !== undefined) {
    for (const file of snapshots.list()) {
      if (file.seq > toSeq) {
        skipped.push({ path: file.path, reason: file.seq > log.lastSeq ? `ahead of the log (which ends at ${log.lastSeq})` : `after seq ${toSeq}` });
        continue;
      }
      const loaded = snapshots.load(file);
      if ('invalid' in loaded) {
        skipped.push({ path: file.path, reason: loaded.invalid });
        continue;
      }
      engine = loaded.engine;
      snapshotPath = file.path;
      break;
    }
  }
  engine ??= new ExchangeEngine();
  const snapshotSeq = engine.seq;
  const every = options.progressEvery ?? 100_000;
  let replayed = 0;
  // Nobody reads the replayed outcomes: skip building their order and ledger events.
  engine.userEvents = false;
  try {
    for (const sc of log.read(engine.seq + 1, toSeq)) {
      engine.apply(sc);
      replayed++;
      if (options.onProgress !== undefined && replayed % every === 0) options.onProgress(sc.seq, toSeq);
    }
  } finally {
    engine.userEvents = true;
  }
  return { engine, report: { snapshotSeq, snapshotPath, skippedSnapshots: skipped, replayed, seq: engine.seq } };
}
