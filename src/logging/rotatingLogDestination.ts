import { closeSync, fstatSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  ACK_SUFFIX,
  CURRENT_LOG_FILE,
  PRODUCER_LOCK_FILE,
  ROTATED_DIR,
  fsyncDir,
  rotatedFileName,
} from './logDirLayout.js';
import { acquirePidLock, releasePidLock } from './pidLock.js';

/** Default size at which current.ndjson is rotated: 8 MiB. */
export const DEFAULT_ROTATE_MAX_BYTES = 8 * 1024 * 1024;
/** Default age rotation: a non-empty current.ndjson is rotated every 2 s, so the collector sees lines promptly. */
export const DEFAULT_ROTATE_INTERVAL_MS = 2000;

/** Options of a producer's rotating NDJSON log dir. */
export interface RotatingLogOptions {
  /** The producer's log dir (created with its folders); one process writes it (see logDirLayout.ts). */
  readonly dir: string;
  /** Rotate once current.ndjson reaches this size, at the next line boundary (default 8 MiB). */
  readonly maxBytes?: number;
  /** Rotate a non-empty current.ndjson this often (default 2000 ms; 0 = by size only). */
  readonly rotateIntervalMs?: number;
  /** fsync a file before it is rotated and the folders after each rename (default true). */
  readonly fsync?: boolean;
}

/** Counters of one destination (for tests and diagnostics). */
export interface RotatingLogStats {
  /** Lines (write calls) appended to current.ndjson. */
  readonly writes: number;
  /** Write calls dropped because the file could not be written (disk full, dir deleted). */
  readonly droppedWrites: number;
  /** Rotations done, including a leftover current.ndjson recovered at startup. */
  readonly rotations: number;
  /** Rotated files deleted after their ack marker appeared. */
  readonly deletedAcked: number;
  /** Timer ticks run (each checks the age rotation and deletes acked files): tests wait on it instead of sleeping. */
  readonly ticks: number;
}

const open = new Map<string, RotatingLogDestination>();
let exitHookInstalled = false;

/** Closes every open destination (final rotation) when the process exits normally or through process.exit. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const dest of [...open.values()]) dest.close();
  });
}

/**
 * A pino destination that appends NDJSON to `<dir>/current.ndjson` with one synchronous write per line (so a line is
 * in the file as soon as the log call returns, and kill -9 loses nothing already logged) and rotates that file into
 * `<dir>/rotated/<startMs>-<pid>-<seq>.ndjson` by size and by age, always on a line boundary: fsync, atomic rename,
 * fsync of the folders. A rotated file is deleted only after the LogCollector wrote `<name>.ack` next to it; acked
 * files are deleted on every rotation and timer tick. On open, a leftover current.ndjson of a crashed run is rotated
 * first (sequence 0) and acked files are cleaned. close() rotates a last time; every open destination is closed on
 * process exit. Within one process, opening the same dir again returns the same destination.
 * Errors while writing drop the line (counted) rather than throw into the caller; if the dir disappears (a deleted
 * temp dir) the destination closes itself.
 * @throws LogError dir-busy (from open) when another live process holds `<dir>/producer.json`
 */
export class RotatingLogDestination {
  private fd: number | undefined;
  private sizeBytes = 0;
  private endsWithNewline = true;
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private lastRotationMs = Date.now();
  private counters = { writes: 0, droppedWrites: 0, rotations: 0, deletedAcked: 0, ticks: 0 };
  /** Start time of this producer (ms since the epoch); the first part of its rotated file names. */
  readonly startMs = Date.now();
  readonly dir: string;
  private readonly rotatedDir: string;
  private readonly currentPath: string;
  private readonly lockPath: string;
  private readonly maxBytes: number;
  private readonly rotateIntervalMs: number;
  private readonly durable: boolean;

  private constructor(options: RotatingLogOptions) {
    this.dir = resolve(options.dir);
    this.rotatedDir = join(this.dir, ROTATED_DIR);
    this.currentPath = join(this.dir, CURRENT_LOG_FILE);
    this.lockPath = join(this.dir, PRODUCER_LOCK_FILE);
    this.maxBytes = options.maxBytes ?? DEFAULT_ROTATE_MAX_BYTES;
    this.rotateIntervalMs = options.rotateIntervalMs ?? DEFAULT_ROTATE_INTERVAL_MS;
    this.durable = options.fsync ?? true;
  }

  /**
   * Opens the log dir for this process (see the class comment), or returns this process's open destination for it.
   * @throws LogError dir-busy
   */
  static open(options: RotatingLogOptions): RotatingLogDestination {
    const existing = open.get(resolve(options.dir));
    if (existing && !existing.closed) return existing;
    const dest = new RotatingLogDestination(options);
    mkdirSync(dest.rotatedDir, { recursive: true });
    // A collector holds the lock only while it rotates a crashed run's leftover current.ndjson: wait for it.
    acquirePidLock(dest.lockPath, `log dir ${dest.dir}`, { role: 'producer', waitForRole: 'collector' });
    try {
      dest.recoverLeftover();
      dest.deleteAcked();
      dest.openCurrent();
    } catch (err) {
      releasePidLock(dest.lockPath);
      throw err;
    }
    // Ticks also when age rotation is off, to delete acked files.
    const tickMs = dest.rotateIntervalMs > 0 ? dest.rotateIntervalMs : DEFAULT_ROTATE_INTERVAL_MS;
    dest.timer = setInterval(() => dest.tick(), tickMs);
    dest.timer.unref();
    open.set(dest.dir, dest);
    installExitHook();
    return dest;
  }

  /** Counters so far. */
  get stats(): RotatingLogStats {
    return { ...this.counters };
  }

  /** Appends one chunk (pino hands over one whole line per call) and rotates when the size limit is reached. */
  write(chunk: string): void {
    if (!this.closed && this.fd === undefined) {
      try {
        this.openCurrent();
      } catch (err) {
        this.failed(err);
      }
    }
    if (this.closed || this.fd === undefined) {
      this.counters.droppedWrites++;
      return;
    }
    const bytes = Buffer.from(chunk, 'utf8');
    try {
      let off = 0;
      while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off);
    } catch {
      this.counters.droppedWrites++;
      return;
    }
    this.counters.writes++;
    this.sizeBytes += bytes.length;
    if (bytes.length > 0) this.endsWithNewline = bytes[bytes.length - 1] === 0x0a;
    if (this.sizeBytes >= this.maxBytes) this.rotate();
  }

  /** pino's logger.flush(): fsyncs current.ndjson (the lines are already in the file), then calls back. */
  flush(cb?: (err?: Error) => void): void {
    this.flushSync();
    cb?.();
  }

  /** fsyncs current.ndjson. */
  flushSync(): void {
    if (this.fd === undefined) return;
    try {
      fsyncSync(this.fd);
    } catch {
      // nothing more to do: the data is in the kernel's cache
    }
  }

  /**
   * Moves current.ndjson to rotated/ under the next sequence number and starts an empty one; then deletes acked
   * files. Does nothing when current.ndjson is empty or does not end with a newline. Returns the rotated file's name.
   */
  rotate(): string | undefined {
    if (this.closed || this.fd === undefined || this.sizeBytes === 0 || !this.endsWithNewline) return undefined;
    const name = rotatedFileName({ startMs: this.startMs, pid: process.pid, seq: this.seq + 1 });
    try {
      if (this.durable) fsyncSync(this.fd);
      // Renaming the open file is fine: the descriptor follows the inode, and we close it right after.
      renameSync(this.currentPath, join(this.rotatedDir, name));
    } catch (err) {
      this.failed(err);
      return undefined;
    }
    this.seq++;
    this.counters.rotations++;
    this.lastRotationMs = Date.now();
    closeSync(this.fd);
    this.fd = undefined;
    if (this.durable) {
      fsyncDir(this.rotatedDir);
      fsyncDir(this.dir);
    }
    try {
      this.openCurrent();
    } catch (err) {
      this.failed(err);
      return name;
    }
    this.deleteAcked();
    return name;
  }

  /**
   * Deletes every rotated file whose ack marker exists, then the marker (a marker without its file is a leftover of
   * an interrupted deletion and goes too). Returns how many files were deleted.
   */
  deleteAcked(): number {
    let names: string[];
    try {
      names = readdirSync(this.rotatedDir);
    } catch (err) {
      this.failed(err);
      return 0;
    }
    const present = new Set(names);
    let deleted = 0;
    for (const marker of names) {
      if (!marker.endsWith(ACK_SUFFIX)) continue;
      const file = marker.slice(0, -ACK_SUFFIX.length);
      try {
        if (present.has(file)) {
          unlinkSync(join(this.rotatedDir, file));
          deleted++;
        }
        unlinkSync(join(this.rotatedDir, marker));
      } catch {
        // retried on the next tick
      }
    }
    // A collector killed while writing a marker leaves `<name>.ack.tmp`; drop it once the file itself is gone.
    for (const tmp of names) {
      if (tmp.endsWith(`${ACK_SUFFIX}.tmp`) && !present.has(tmp.slice(0, -`${ACK_SUFFIX}.tmp`.length))) {
        try {
          unlinkSync(join(this.rotatedDir, tmp));
        } catch {
          // retried later
        }
      }
    }
    this.counters.deletedAcked += deleted;
    return deleted;
  }

  /** Final rotation, deletion of acked files, and release of the dir (idempotent). Later writes are dropped. */
  close(): void {
    if (this.closed) return;
    this.rotate();
    this.deleteAcked();
    this.stop();
    releasePidLock(this.lockPath);
    if (open.get(this.dir) === this) open.delete(this.dir);
  }

  private tick(): void {
    if (this.closed) return;
    this.counters.ticks++;
    if (this.rotateIntervalMs > 0 && this.sizeBytes > 0 && Date.now() - this.lastRotationMs >= this.rotateIntervalMs / 2) {
      this.rotate();
    } else {
      this.deleteAcked();
    }
  }

  /** A non-empty current.ndjson left by a previous (crashed) run becomes rotated file 0 of this run. */
  private recoverLeftover(): void {
    let size: number;
    try {
      size = statSync(this.currentPath).size;
    } catch {
      return;
    }
    if (size === 0) return;
    // A line cut by a crash of the machine may end the file without a newline; the collector still delivers it.
    renameSync(this.currentPath, join(this.rotatedDir, rotatedFileName({ startMs: this.startMs, pid: process.pid, seq: 0 })));
    this.counters.rotations++;
    if (this.durable) {
      fsyncDir(this.rotatedDir);
      fsyncDir(this.dir);
    }
  }

  private openCurrent(): void {
    this.fd = openSync(this.currentPath, 'a');
    this.sizeBytes = fstatSync(this.fd).size;
    this.endsWithNewline = true;
  }

  /** Marks the destination closed, stops its timer and closes current.ndjson. */
  private stop(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
    this.fd = undefined;
  }

  /** The dir is gone or unwritable: if it was deleted, stop for good; otherwise keep trying on later calls. */
  private failed(err: unknown): void {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      this.stop();
      if (open.get(this.dir) === this) open.delete(this.dir);
    }
  }
}
