import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * File names shared by the log producers (RotatingLogDestination) and the LogCollector. A producer's log dir holds:
 *
 *   current.ndjson                              the file being appended to (one process writes it)
 *   producer.json                               lock: pid (+ thread id and process start) of the writing process
 *   rotated/<startMs>-<pid>-<seq>.ndjson        closed files, whole lines only, waiting for the collector
 *   rotated/<startMs>-<pid>-<seq>.ndjson.ack    marker: the collector made that file's lines durable
 *
 * The producer deletes a rotated file (then its marker) only once the marker exists.
 */
export const CURRENT_LOG_FILE = 'current.ndjson';
/** Sub-folder of a producer's log dir that holds the rotated files and their ack markers. */
export const ROTATED_DIR = 'rotated';
/** Suffix of an ack marker, appended to the rotated file's name. */
export const ACK_SUFFIX = '.ack';
/** Lock file of the producer that owns a log dir. */
export const PRODUCER_LOCK_FILE = 'producer.json';

/** Identity of one rotated file: producer start time (ms since the epoch), producer pid, sequence number (>= 0). */
export interface RotatedFileId {
  readonly startMs: number;
  readonly pid: number;
  readonly seq: number;
}

const ROTATED_NAME = /^(\d+)-(\d+)-(\d+)\.ndjson$/;

/** `<startMs>-<pid>-<seq>.ndjson`, seq zero-padded to 6 digits (sequence 0 is a leftover recovered at startup). */
export function rotatedFileName(id: RotatedFileId): string {
  return `${id.startMs}-${id.pid}-${String(id.seq).padStart(6, '0')}.ndjson`;
}

/** The identity in a rotated file's name, or undefined when the name is not one (ack markers, temp files). */
export function parseRotatedFileName(name: string): RotatedFileId | undefined {
  const m = ROTATED_NAME.exec(name);
  if (!m) return undefined;
  return { startMs: Number(m[1]), pid: Number(m[2]), seq: Number(m[3]) };
}

/** Orders rotated files as they were written: by producer start, pid, then sequence. */
export function compareRotatedFileIds(a: RotatedFileId, b: RotatedFileId): number {
  return a.startMs - b.startMs || a.pid - b.pid || a.seq - b.seq;
}

/** fsync of a directory, so that renames and new entries in it survive a power loss (a no-op where unsupported). */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some platforms (Windows) cannot open or fsync a directory; the rename is still atomic there.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Writes `path` atomically: `<path>.tmp` is written (and fsynced when `durable`), then renamed over `path`, then the
 * folder is fsynced when `durable`. A reader sees the old content or the new, never a part.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, durable: boolean): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    if (durable) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  if (durable) fsyncDir(join(path, '..'));
}
