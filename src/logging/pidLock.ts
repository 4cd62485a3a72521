import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import { LogError } from './logError.js';

/** Who holds a pid lock: process id, worker thread id (0 = main thread), start time, and Linux's process start tick. */
export interface PidLockOwner {
  readonly pid: number;
  /** What the holder does with the dir (`producer`, `collector`). */
  readonly role: string;
  readonly threadId: number;
  /** When the owner took the lock, ms since the epoch. */
  readonly sinceMs: number;
  /** Field 22 (starttime) of /proc/<pid>/stat when readable: tells a live owner from a recycled pid. */
  readonly procStart?: string;
}

/** Field 22 of /proc/<pid>/stat and the process state (field 3), or undefined off Linux or when pid is gone. */
function procStat(pid: number): { state: string; start: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) may hold spaces and parentheses: the fields after the last ')' are plain, field 3 first.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = rest[0];
    const start = rest[19];
    return state !== undefined && start !== undefined ? { state, start } : undefined;
  } catch {
    return undefined;
  }
}

/** True when the lock's owner process still runs (not a zombie, and not another process that reused its pid). */
export function isLockOwnerAlive(owner: PidLockOwner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = procStat(owner.pid);
  if (stat === undefined) return true;
  if (stat.state === 'Z' || stat.state === 'X') return false;
  return owner.procStart === undefined || owner.procStart === stat.start;
}

/** The owner recorded in a lock file, or undefined when there is none or it is unreadable (a torn write). */
export function readPidLock(path: string): PidLockOwner | undefined {
  try {
    const owner = JSON.parse(readFileSync(path, 'utf8')) as Partial<PidLockOwner>;
    if (typeof owner.pid !== 'number') return undefined;
    return {
      pid: owner.pid,
      role: typeof owner.role === 'string' ? owner.role : 'producer',
      threadId: typeof owner.threadId === 'number' ? owner.threadId : 0,
      sinceMs: typeof owner.sinceMs === 'number' ? owner.sinceMs : 0,
      ...(typeof owner.procStart === 'string' ? { procStart: owner.procStart } : {}),
    };
  } catch {
    return undefined;
  }
}

/** How acquirePidLock behaves. */
export interface AcquirePidLockOptions {
  /** Role recorded in the lock. */
  readonly role: string;
  /** A live holder with this role holds the lock only briefly: wait for it (up to waitMs) instead of failing. */
  readonly waitForRole?: string;
  /** Longest wait for a holder with waitForRole (default 5000 ms). */
  readonly waitMs?: number;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function sameOwner(a: PidLockOwner | undefined, b: PidLockOwner): boolean {
  return a !== undefined && a.pid === b.pid && a.threadId === b.threadId && a.sinceMs === b.sinceMs && a.role === b.role;
}

/**
 * Takes the lock file `path` for this process and thread. The lock is written to a temp file and hard-linked into
 * place, so it is never seen half-written, and read back to check that no one replaced it. A lock left by a dead
 * process, or by this same thread, is taken over.
 * Caveat: two processes taking over the same stale lock at the same instant can, with unlucky scheduling, both succeed.
 * @throws LogError dir-busy when a live process or another thread of this one holds it (`what` names the dir's role)
 */
export function acquirePidLock(path: string, what: string, options: AcquirePidLockOptions): PidLockOwner {
  const stat = procStat(process.pid);
  const me: PidLockOwner = {
    pid: process.pid,
    role: options.role,
    threadId,
    sinceMs: Date.now(),
    ...(stat ? { procStart: stat.start } : {}),
  };
  const tmp = `${path}.${process.pid}.${threadId}.tmp`;
  const waitUntil = Date.now() + (options.waitMs ?? 5000);
  for (let attempt = 0; attempt < 1000; attempt++) {
    writeFileSync(tmp, JSON.stringify(me) + '\n');
    let linked = false;
    try {
      linkSync(tmp, path);
      linked = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      unlinkSync(tmp);
    }
    if (linked) {
      if (sameOwner(readPidLock(path), me)) return me;
      continue; // a racer replaced it between our link and our read: look again
    }
    const owner = readPidLock(path);
    const mine = owner !== undefined && owner.pid === process.pid && owner.threadId === threadId;
    if (owner !== undefined && !mine && isLockOwnerAlive(owner)) {
      if (options.waitForRole !== undefined && owner.role === options.waitForRole && Date.now() < waitUntil) {
        sleepSync(10);
        continue;
      }
      throw new LogError('dir-busy', `${what} is in use by process ${owner.pid}${owner.threadId ? ` (thread ${owner.threadId})` : ''}, a ${owner.role} (lock ${path})`);
    }
    try {
      unlinkSync(path);
    } catch (unlinkErr) {
      if ((unlinkErr as NodeJS.ErrnoException).code !== 'ENOENT') throw unlinkErr;
    }
  }
  throw new LogError('dir-busy', `${what}: could not take the lock ${path} (other processes keep taking it)`);
}

/** Removes the lock file if this process and thread still hold it. */
export function releasePidLock(path: string): void {
  const owner = readPidLock(path);
  if (owner === undefined || owner.pid !== process.pid || owner.threadId !== threadId) return;
  try {
    unlinkSync(path);
  } catch {
    // already gone (the folder was deleted): nothing to release
  }
}
