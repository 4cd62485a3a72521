/**
 * State snapshots in the data dir: `snapshots/snapshot-<seq>.json`, each a header line (format, seq, state hash,
 * byte length) and the engine's canonical state text. Written atomically: a temp file is written and fsynced, renamed
 * into place, and the directory fsynced, so a crash leaves either the old set or the new file whole. A snapshot is
 * valid when its header parses, its length and sha256 match, and its state decodes at the header's seq; start-up
 * takes the newest valid one and replays the log after it. Old snapshots beyond `keep` are deleted.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { open as openAsync, rename as renameAsync, unlink as unlinkAsync } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExchangeEngine } from './engine.js';
import { decodeEngineState, hashStateText } from './engineState.js';

/** Header line of a snapshot file. */
export interface SnapshotHeader {
  readonly format: 'cairn-exchange-snapshot';
  readonly version: 1;
  readonly seq: number;
  /** sha256 hex of the state text (= the engine's state hash at seq). */
  readonly stateHash: string;
  /** UTF-8 length of the state text. */
  readonly bytes: number;
}

/** A snapshot found in the store. */
export interface SnapshotFile {
  readonly seq: number;
  readonly path: string;
}

/** A snapshot that passed every check, with its restored engine. */
export interface LoadedSnapshot {
  readonly seq: number;
  readonly stateHash: string;
  readonly engine: ExchangeEngine;
  readonly path: string;
}

const NAME_RE = /^snapshot-(\d{12})\.json$/;

/** Snapshot files of one data dir. */
export class SnapshotStore {
  readonly dir: string;

  constructor(
    dir: string,
    /** How many snapshots to keep (newest first; default 3). */
    readonly keep = 3,
  ) {
    this.dir = dir;
  }

  /** The snapshot files, newest first. */
  list(): SnapshotFile[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const out: SnapshotFile[] = [];
    for (const name of names) {
      const m = NAME_RE.exec(name);
      if (m !== null) out.push({ seq: Number(m[1]), path: join(this.dir, name) });
    }
    return out.sort((a, b) => b.seq - a.seq);
  }

  /**
   * Writes a snapshot of state text `text` taken at `seq` atomically (temp, fsync, rename, fsync dir), then prunes.
   * The text must be encodeEngineState of the engine at seq (taken synchronously by the caller at a consistent point).
   */
  async write(seq: number, text: string): Promise<SnapshotFile> {
    mkdirSync(this.dir, { recursive: true });
    const header: SnapshotHeader = { format: 'cairn-exchange-snapshot', version: 1, seq, stateHash: hashStateText(text), bytes: Buffer.byteLength(text) };
    const name = `snapshot-${String(seq).padStart(12, '0')}.json`;
    const tmp = join(this.dir, `.${name}.${process.pid}.tmp`);
    const path = join(this.dir, name);
    const fh = await openAsync(tmp, 'w', 0o600);
    try {
      await fh.writeFile(`${JSON.stringify(header)}\n${text}`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await renameAsync(tmp, path);
    syncDir(this.dir);
    await this.prune();
    return { seq, path };
  }

  /** The same as write, synchronously (for a clean stop, when the event loop is about to end). */
  writeSync(seq: number, text: string): SnapshotFile {
    mkdirSync(this.dir, { recursive: true });
    const header: SnapshotHeader = { format: 'cairn-exchange-snapshot', version: 1, seq, stateHash: hashStateText(text), bytes: Buffer.byteLength(text) };
    const name = `snapshot-${String(seq).padStart(12, '0')}.json`;
    const tmp = join(this.dir, `.${name}.${process.pid}.tmp`);
    const path = join(this.dir, name);
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(header)}\n${text}`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    syncDir(this.dir);
    for (const old of this.list().slice(this.keep)) safeUnlink(old.path);
    return { seq, path };
  }

  private async prune(): Promise<void> {
    for (const old of this.list().slice(this.keep)) {
      await unlinkAsync(old.path).catch(() => undefined);
    }
  }

  /**
   * Loads one snapshot file and checks it whole.
   * @returns the restored engine, or a reason why the file is not a valid snapshot
   */
  load(file: SnapshotFile): LoadedSnapshot | { invalid: string } {
    let data: Buffer;
    try {
      data = readFileSync(file.path);
    } catch (err) {
      return { invalid: `unreadable: ${(err as Error).message}` };
    }
    const nl = data.indexOf(0x0a);
    if (nl < 0) return { invalid: 'no header line' };
    let header: SnapshotHeader;
    try {
      header = JSON.parse(data.subarray(0, nl).toString('utf8')) as SnapshotHeader;
    } catch {
      return { invalid: 'header is not JSON' };
    }
    if (header.format !== 'cairn-exchange-snapshot' || header.version !== 1 || header.seq !== file.seq) return { invalid: 'header does not match the file' };
    const body = data.subarray(nl + 1);
    if (body.length !== header.bytes) return { invalid: `length ${body.length}, header says ${header.bytes} (truncated?)` };
    const text = body.toString('utf8');
    if (hashStateText(text) !== header.stateHash) return { invalid: 'sha256 does not match the header' };
    let engine: ExchangeEngine;
    try {
      engine = decodeEngineState(text);
    } catch (err) {
      return { invalid: (err as Error).message };
    }
    if (engine.seq !== header.seq) return { invalid: `state is at seq ${engine.seq}, header says ${header.seq}` };
    return { seq: header.seq, stateHash: header.stateHash, engine, path: file.path };
  }

  /** Removes temp files a crash left behind. */
  removeLeftovers(): void {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return;
    }
    for (const name of names) if (name.startsWith('.snapshot-') && name.endsWith('.tmp')) safeUnlink(join(this.dir, name));
  }
}

function syncDir(dir: string): void {
  // The rename is durable only once the directory entry is: fsync the directory (Linux allows it on a read-only fd).
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function safeUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
