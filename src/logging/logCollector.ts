import {
  type Dirent,
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import type { Logger } from 'pino';
import {
  ACK_SUFFIX,
  CURRENT_LOG_FILE,
  PRODUCER_LOCK_FILE,
  ROTATED_DIR,
  compareRotatedFileIds,
  fsyncDir,
  parseRotatedFileName,
  rotatedFileName,
  writeFileAtomic,
} from './logDirLayout.js';
import { acquirePidLock, isLockOwnerAlive, readPidLock, releasePidLock } from './pidLock.js';

/** Folder of the collector's own state inside its output dir (lock and journal). */
export const COLLECTOR_STATE_DIR = '.collector';
/** Module name given to lines without a usable `module` field (and to lines that are not JSON). */
export const UNKNOWN_MODULE = 'unknown';

/** Options of a LogCollector. */
export interface LogCollectorOptions {
  /** Output dir: lines go to `<outDir>/YYYY-MM-DD/<module>.ndjson` (UTC date of the line's `time`). */
  readonly outDir: string;
  /** Producer log dirs (each with current.ndjson and rotated/) to collect from. */
  readonly sources?: readonly string[];
  /**
   * Folders searched (to `scanDepth` levels) for producer log dirs, again every `rescanMs`: a dir with a `rotated/`
   * folder and a producer.json or current.ndjson. For a devnet, its dir.
   */
  readonly scanRoots?: readonly string[];
  /** Depth of the search under each scan root (default 4). */
  readonly scanDepth?: number;
  /** Milliseconds between two searches of the scan roots (default 2000). */
  readonly rescanMs?: number;
  /** Milliseconds between two passes in run() (default 500). */
  readonly pollMs?: number;
  /** A batch (one journal entry) holds rotated files of one source up to this many bytes (default 16 MiB). */
  readonly maxBatchBytes?: number;
  /** fsync outputs, journal and markers (default true; false only for tests that do not care about power loss). */
  readonly fsync?: boolean;
}

/** Optional collaborators. */
export interface LogCollectorDeps {
  /** The collector's own logger (module 'log-collector'); default: none. */
  readonly logger?: Logger;
  /** Clock for lines without a `time` field, ms since the epoch. */
  readonly nowMs?: () => number;
}

/** What a pass (or the collector's whole life) did. */
export interface LogCollectorTotals {
  /** Rotated files delivered and acknowledged. */
  files: number;
  /** Lines appended to the output. */
  lines: number;
  /** Bytes read from rotated files. */
  bytes: number;
  /** Batches written (one journal entry each). */
  batches: number;
  /** Interrupted batches found at startup whose partial output was cut off (re-delivered afterwards). */
  rolledBack: number;
  /** Interrupted batches found at startup whose output was complete (only the ack markers were missing). */
  rolledForward: number;
  /** Leftover current.ndjson files of dead producers rotated by the collector. */
  adopted: number;
}

/** The collector's write-ahead record of the batch in progress (`<outDir>/.collector/journal.json`). */
interface Journal {
  /** pending: appending to the outputs; committed: outputs complete and fsynced, markers being written. */
  readonly state: 'pending' | 'committed';
  /** Absolute path of the source's rotated/ dir. */
  readonly rotatedDir: string;
  /** Names of the rotated files in the batch. */
  readonly files: readonly string[];
  /** Size of each output file (path relative to outDir) before the batch; 0 for files the batch creates. */
  readonly sizes: Readonly<Record<string, number>>;
}

const MODULE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A file-name-safe module name: the `module` field if it is one, else it with other characters replaced by '_'. */
export function moduleFileName(module: unknown): string {
  if (typeof module !== 'string' || module.length === 0) return UNKNOWN_MODULE;
  if (MODULE_NAME.test(module)) return module;
  const cleaned = module.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[._-]+/, '').slice(0, 64);
  return cleaned.length > 0 ? cleaned : UNKNOWN_MODULE;
}

/** `YYYY-MM-DD` (UTC) of a line's `time` (ms since the epoch, or an ISO string); undefined if unusable. */
export function utcDateOf(time: unknown): string | undefined {
  const ms = typeof time === 'number' ? time : typeof time === 'string' ? Date.parse(time) : NaN;
  if (!Number.isFinite(ms)) return undefined;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString().slice(0, 10);
}

/**
 * Where one log line goes (`YYYY-MM-DD/<module>.ndjson`) and the text written there: the line itself, with a
 * `source` field (the producer's name) added in front when the line is a JSON object without one. Lines that are
 * not JSON go to the `unknown` module, dated `nowMs`.
 */
export function routeLogLine(line: string, sourceLabel: string, nowMs: number): { relPath: string; text: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    parsed = undefined;
  }
  const record = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  const date = utcDateOf(record?.['time']) ?? utcDateOf(nowMs)!;
  const module = moduleFileName(record?.['module']);
  let text = line;
  if (record !== undefined && !('source' in record) && sourceLabel.length > 0) {
    const body = line.trimStart().slice(1).trimStart();
    text = `{"source":${JSON.stringify(sourceLabel)}${body.startsWith('}') ? '' : ','}${body}`;
  }
  return { relPath: `${date}/${module}.ndjson`, text };
}

/** Name of a producer in the `source` field: the log dir's parent folder when the log dir is called `logs`. */
export function sourceLabelOf(logDir: string): string {
  const abs = resolve(logDir);
  return basename(abs) === 'logs' ? basename(dirname(abs)) : basename(abs);
}

/**
 * Producer log dirs under `root`, to `depth` levels: folders holding `rotated/` and producer.json or current.ndjson.
 * Skips `exclude` (the collector's own output), dot folders and node_modules.
 */
export function findProducerDirs(root: string, depth: number, exclude?: string): string[] {
  const found: string[] = [];
  const walk = (dir: string, level: number): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    const names = new Set(entries.map((e) => e.name));
    if (names.has(ROTATED_DIR) && (names.has(PRODUCER_LOCK_FILE) || names.has(CURRENT_LOG_FILE))) found.push(dir);
    if (level >= depth) return;
    for (const e of entries) {
      if (!e.isDirectory() || e.name.startsWith('.') || e.name === 'node_modules' || e.name === ROTATED_DIR) continue;
      const child = join(dir, e.name);
      if (exclude !== undefined && child === exclude) continue;
      walk(child, level + 1);
    }
  };
  walk(resolve(root), 0);
  return found;
}

/**
 * The LogCollector: consolidates the rotated NDJSON files of many producers (see logDirLayout.ts) into
 * `<outDir>/YYYY-MM-DD/<module>.ndjson` with at-least-once delivery. Per batch of a source's rotated files:
 *   1. journal `pending` with each output file's size before the batch (atomic, fsynced);
 *   2. append the lines, fsync every output file (and new folders);
 *   3. journal `committed`;
 *   4. write `<file>.ack` next to each rotated file (atomic rename), fsync rotated/;
 *   5. remove the journal.
 * The producer deletes a rotated file only once its marker exists, so nothing is deleted before it is durable here.
 * A dead producer's leftover current.ndjson is rotated by the collector (see adoptLeftover), so its last lines arrive
 * even if it never runs again.
 * If the collector dies, the next start reads the journal: `pending` → the outputs are cut back to the recorded
 * sizes and the files are delivered again from scratch; `committed` → the missing markers are written. So a kill of
 * the collector neither loses nor (with one collector per output dir, enforced by a lock) duplicates lines; a lost
 * marker only causes a re-delivery (duplicates), never a loss.
 * @throws LogError dir-busy (from open) when another live collector holds the output dir
 */
export class LogCollector {
  readonly outDir: string;
  private readonly stateDir: string;
  private readonly journalPath: string;
  private readonly lockPath: string;
  private readonly explicitSources: string[];
  private readonly scanRoots: string[];
  private scanned: string[] = [];
  private lastScanMs = -Infinity;
  private closed = false;
  private readonly totalsSoFar: LogCollectorTotals = { files: 0, lines: 0, bytes: 0, batches: 0, rolledBack: 0, rolledForward: 0, adopted: 0 };
  private readonly durable: boolean;
  private readonly maxBatchBytes: number;
  private readonly nowMs: () => number;

  private constructor(
    private readonly options: LogCollectorOptions,
    private readonly deps: LogCollectorDeps,
  ) {
    this.outDir = resolve(options.outDir);
    this.stateDir = join(this.outDir, COLLECTOR_STATE_DIR);
    this.journalPath = join(this.stateDir, 'journal.json');
    this.lockPath = join(this.stateDir, 'collector.json');
    this.explicitSources = (options.sources ?? []).map((s) => resolve(s));
    this.scanRoots = (options.scanRoots ?? []).map((s) => resolve(s));
    this.durable = options.fsync ?? true;
    this.maxBatchBytes = options.maxBatchBytes ?? 16 * 1024 * 1024;
    this.nowMs = deps.nowMs ?? Date.now;
  }

  /**
   * Takes the output dir (lock `<outDir>/.collector/collector.json`) and finishes a batch a previous collector left
   * (see the class comment).
   * @throws LogError dir-busy
   */
  static open(options: LogCollectorOptions, deps: LogCollectorDeps = {}): LogCollector {
    const collector = new LogCollector(options, deps);
    mkdirSync(collector.stateDir, { recursive: true });
    acquirePidLock(collector.lockPath, `log collector output dir ${collector.outDir}`, { role: 'collector' });
    try {
      collector.recover();
    } catch (err) {
      releasePidLock(collector.lockPath);
      throw err;
    }
    return collector;
  }

  /** Totals since open (including recovery). */
  get totals(): LogCollectorTotals {
    return { ...this.totalsSoFar };
  }

  /** The producer log dirs collected from: the explicit ones plus those found under the scan roots. */
  sources(): string[] {
    if (this.scanRoots.length > 0 && this.nowMs() - this.lastScanMs >= (this.options.rescanMs ?? 2000)) {
      this.lastScanMs = this.nowMs();
      this.scanned = this.scanRoots.flatMap((root) => findProducerDirs(root, this.options.scanDepth ?? 4, this.outDir));
    }
    return [...new Set([...this.explicitSources, ...this.scanned])];
  }

  /**
   * Delivers every rotated file not yet acknowledged, from every source, in the order they were written. A source
   * that fails (unreadable, vanished) is logged and skipped until the next pass. Returns what this pass did.
   */
  runPass(): LogCollectorTotals {
    const pass: LogCollectorTotals = { files: 0, lines: 0, bytes: 0, batches: 0, rolledBack: 0, rolledForward: 0, adopted: 0 };
    if (this.closed) return pass;
    if (existsSync(this.journalPath)) {
      // A batch of an earlier pass failed midway (disk full, I/O error): roll it back before anything else.
      try {
        this.recover();
      } catch (err) {
        this.deps.logger?.error({ err }, 'cannot roll back the interrupted batch; pass skipped');
        return pass;
      }
    }
    for (const source of this.sources()) {
      try {
        this.collectSource(source, pass);
      } catch (err) {
        this.deps.logger?.warn({ source, err }, 'cannot collect from source');
      }
    }
    for (const key of ['files', 'lines', 'bytes', 'batches', 'adopted'] as const) this.totalsSoFar[key] += pass[key];
    return pass;
  }

  /**
   * Runs passes every `pollMs` until `signal` aborts, then a final pass (lines rotated by producers that stopped at
   * the same time are still delivered). Resolves with the totals.
   */
  async run(signal: AbortSignal): Promise<LogCollectorTotals> {
    const pollMs = this.options.pollMs ?? 500;
    while (!signal.aborted) {
      this.runPass();
      await new Promise<void>((resolveWait) => {
        const timer = setTimeout(done, pollMs);
        function done(): void {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          resolveWait();
        }
        signal.addEventListener('abort', done, { once: true });
      });
    }
    this.runPass();
    return this.totals;
  }

  /** Releases the output dir (idempotent). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    releasePidLock(this.lockPath);
  }

  /**
   * A producer that died (kill -9, crash) and was not restarted leaves its last lines in current.ndjson. If its lock
   * names a dead process, the collector takes the lock (role `collector`; a producer starting meanwhile waits for
   * it), rotates the file as `<nowMs>-<collector pid>-000000.ndjson`, and releases the lock.
   */
  private adoptLeftover(source: string, pass: LogCollectorTotals): void {
    const current = join(source, CURRENT_LOG_FILE);
    const lockPath = join(source, PRODUCER_LOCK_FILE);
    const nonEmpty = (): boolean => {
      try {
        return statSync(current).size > 0;
      } catch {
        return false;
      }
    };
    if (!nonEmpty()) return;
    const owner = readPidLock(lockPath);
    if (owner !== undefined && isLockOwnerAlive(owner)) return;
    try {
      acquirePidLock(lockPath, `log dir ${source}`, { role: 'collector' });
    } catch {
      return; // a producer just started: it rotates the leftover itself
    }
    try {
      if (!nonEmpty()) return;
      const rotatedDir = join(source, ROTATED_DIR);
      mkdirSync(rotatedDir, { recursive: true });
      renameSync(current, join(rotatedDir, rotatedFileName({ startMs: this.nowMs(), pid: process.pid, seq: 0 })));
      if (this.durable) {
        fsyncDir(rotatedDir);
        fsyncDir(source);
      }
      pass.adopted++;
      this.deps.logger?.info({ source, deadPid: owner?.pid }, "rotated a dead producer's current.ndjson");
    } finally {
      releasePidLock(lockPath);
    }
  }

  private collectSource(source: string, pass: LogCollectorTotals): void {
    this.adoptLeftover(source, pass);
    const rotatedDir = join(source, ROTATED_DIR);
    let names: string[];
    try {
      names = readdirSync(rotatedDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const present = new Set(names);
    const pending = names
      .map((name) => ({ name, id: parseRotatedFileName(name) }))
      .filter((f): f is { name: string; id: NonNullable<typeof f.id> } => f.id !== undefined && !present.has(f.name + ACK_SUFFIX))
      .sort((a, b) => compareRotatedFileIds(a.id, b.id));
    const label = sourceLabelOf(source);
    let batch: { name: string; data: Buffer }[] = [];
    let batchBytes = 0;
    for (const { name } of pending) {
      let data: Buffer;
      try {
        data = readFileSync(join(rotatedDir, name));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      batch.push({ name, data });
      batchBytes += data.length;
      if (batchBytes >= this.maxBatchBytes) {
        this.deliverBatch(rotatedDir, label, batch, pass);
        batch = [];
        batchBytes = 0;
      }
    }
    if (batch.length > 0) this.deliverBatch(rotatedDir, label, batch, pass);
  }

  /** Steps 1–5 of the class comment for one batch. */
  private deliverBatch(rotatedDir: string, label: string, batch: readonly { name: string; data: Buffer }[], pass: LogCollectorTotals): void {
    const nowMs = this.nowMs();
    const outputs = new Map<string, string[]>();
    let lines = 0;
    let bytes = 0;
    for (const { data } of batch) {
      bytes += data.length;
      for (const raw of data.toString('utf8').split('\n')) {
        const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
        if (line.trim().length === 0) continue;
        const { relPath, text } = routeLogLine(line, label, nowMs);
        let list = outputs.get(relPath);
        if (!list) outputs.set(relPath, (list = []));
        list.push(text);
        lines++;
      }
    }
    const sizes: Record<string, number> = {};
    for (const relPath of outputs.keys()) {
      try {
        sizes[relPath] = statSync(join(this.outDir, relPath)).size;
      } catch {
        sizes[relPath] = 0;
      }
    }
    const files = batch.map((f) => f.name);
    this.writeJournal({ state: 'pending', rotatedDir, files, sizes });
    for (const [relPath, texts] of outputs) this.appendOutput(relPath, texts.join('\n') + '\n');
    this.writeJournal({ state: 'committed', rotatedDir, files, sizes });
    this.writeAcks(rotatedDir, files);
    unlinkSync(this.journalPath);
    pass.files += batch.length;
    pass.lines += lines;
    pass.bytes += bytes;
    pass.batches++;
    this.deps.logger?.debug({ source: dirname(rotatedDir), files: batch.length, lines }, 'batch delivered');
  }

  private appendOutput(relPath: string, text: string): void {
    const path = join(this.outDir, relPath);
    const folder = dirname(path);
    let newFolder = false;
    if (!existsSync(folder)) {
      mkdirSync(folder, { recursive: true });
      newFolder = true;
    }
    const fd = openSync(path, 'a');
    try {
      const isNew = fstatSync(fd).size === 0;
      const bytes = Buffer.from(text, 'utf8');
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      if (this.durable) fsyncSync(fd);
      if (this.durable && isNew) fsyncDir(folder);
      if (this.durable && newFolder) fsyncDir(this.outDir);
    } finally {
      closeSync(fd);
    }
  }

  private writeAcks(rotatedDir: string, files: readonly string[]): void {
    const ackedAtMs = this.nowMs();
    for (const name of files) {
      // Not fsynced one by one: the folder's fsync below makes the renames durable together.
      writeFileAtomic(join(rotatedDir, name + ACK_SUFFIX), JSON.stringify({ ackedAtMs, outDir: this.outDir }) + '\n', false);
    }
    if (this.durable) fsyncDir(rotatedDir);
  }

  private writeJournal(journal: Journal): void {
    writeFileAtomic(this.journalPath, JSON.stringify(journal) + '\n', this.durable);
  }

  /** Finishes or rolls back the batch recorded in the journal (see the class comment). */
  private recover(): void {
    let journal: Journal;
    try {
      journal = JSON.parse(readFileSync(this.journalPath, 'utf8')) as Journal;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      // A torn journal cannot exist (it is renamed into place); an unreadable one is treated as no batch: the files
      // it named are not acked, so they are delivered again (duplicates at worst).
      this.deps.logger?.warn({ err }, 'unreadable collector journal ignored');
      unlinkSync(this.journalPath);
      return;
    }
    if (journal.state === 'committed') {
      const remaining = journal.files.filter((name) => existsSync(join(journal.rotatedDir, name)));
      this.writeAcks(journal.rotatedDir, remaining);
      this.totalsSoFar.rolledForward++;
    } else {
      for (const [relPath, size] of Object.entries(journal.sizes)) {
        const path = join(this.outDir, relPath);
        // Only paths inside the output dir (the journal is ours, but a hand-edited one must not truncate elsewhere).
        if (relative(this.outDir, path).startsWith('..')) continue;
        let fd: number;
        try {
          fd = openSync(path, 'r+');
        } catch {
          continue;
        }
        try {
          if (fstatSync(fd).size > size) {
            ftruncateSync(fd, size);
            if (this.durable) fsyncSync(fd);
          }
        } finally {
          closeSync(fd);
        }
      }
      this.totalsSoFar.rolledBack++;
    }
    unlinkSync(this.journalPath);
    if (this.durable) fsyncDir(this.stateDir);
    this.deps.logger?.info({ state: journal.state, files: journal.files.length }, 'interrupted batch recovered');
  }
}
