/**
 * Writes the history by following the command log: a shadow engine, restored from the newest snapshot at or below
 * the history's last seq, replays the log after it and hands each chunk of outcomes to the HistoryWriter. The log is
 * the source of truth, so the history is rebuildable at any time, nothing is buffered in memory beyond one chunk,
 * and a writer that fell behind (or was stopped, or failed) simply reads on from where it is.
 */
import type { CommandLog } from './commandLog.js';
import type { ExchangeEngine } from './engine.js';
import { recoverEngine } from './engineRecovery.js';
import type { HistoryDb } from './historyDb.js';
import { HistoryWriter } from './historyWriter.js';
import type { SnapshotStore } from './snapshotStore.js';

/** Commands per chunk (one history transaction each). */
const DEFAULT_CHUNK = 2_000;

/** Follows one command log into one history database. */
export class HistoryFollower {
  private shadow: ExchangeEngine | undefined;

  private constructor(
    private readonly log: CommandLog & { refresh?: () => number },
    private readonly snapshots: SnapshotStore | undefined,
    readonly writer: HistoryWriter,
    private readonly chunk: number,
  ) {}

  /** Opens a follower on a migrated history database. */
  static async open(h: HistoryDb, log: CommandLog & { refresh?: () => number }, snapshots: SnapshotStore | undefined, chunk = DEFAULT_CHUNK): Promise<HistoryFollower> {
    let follower: HistoryFollower | undefined;
    // Fee assets come from the shadow engine's markets (a market's base and quote never change).
    const writer = await HistoryWriter.open(h, (symbol) => {
      const m = follower?.shadow?.getMarket(symbol);
      return m === undefined ? undefined : { base: m.def.config.baseAsset, quote: m.def.config.quoteAsset };
    });
    follower = new HistoryFollower(log, snapshots, writer, chunk);
    return follower;
  }

  /** The last sequence number written. */
  get lastSeq(): number {
    return this.writer.lastSeq;
  }

  /**
   * Writes the history up to `seq` (at most the log's end), a chunk per transaction, calling `onProgress` after each.
   * @throws ExchangeError LOG_CORRUPT | STATE_MISMATCH; the database's errors (the next call starts over cleanly)
   */
  async advanceTo(seq: number, onProgress?: (lastSeq: number) => void): Promise<void> {
    if (seq > this.log.lastSeq) this.log.refresh?.();
    const target = Math.min(seq, this.log.lastSeq);
    while (this.writer.lastSeq < target) {
      if (this.shadow === undefined || this.shadow.seq !== this.writer.lastSeq) {
        this.shadow = recoverEngine(this.log, this.snapshots, { toSeq: this.writer.lastSeq }).engine;
      }
      const shadow = this.shadow;
      const from = this.writer.lastSeq + 1;
      // Read the chunk whole: the log's connection must be free again before the write is awaited.
      const records = [...this.log.read(from, Math.min(target, from + this.chunk - 1))];
      const outcomes = records.map((sc) => shadow.apply(sc));
      try {
        await this.writer.write(outcomes);
      } catch (err) {
        this.shadow = undefined; // ahead of the history now: rebuilt at the next call
        throw err;
      }
      onProgress?.(this.writer.lastSeq);
    }
  }
}
