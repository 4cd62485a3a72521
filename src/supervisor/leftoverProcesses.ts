/**
 * Processes a supervisor recorded (e.g. in devnet.json) that still run after that supervisor is gone: found by pid
 * and recognised by an argument of their command line (their data dir), so a pid the system has since given to an
 * unrelated process is never taken for one; then stopped as the supervisor would have: SIGINT, SIGKILL after a
 * timeout. Children of a current cairn supervisor stop by themselves when it goes (supervisorLink.ts); leftovers are
 * what remains when that could not work: a child frozen or hung, or one started by an older cairn.
 *
 * Process state is read from /proc (Linux). Where there is none, a pid is taken as running while signal 0 reaches it,
 * and no process is recognised as a leftover (nothing is stopped on a guess).
 */
import { readFileSync } from 'node:fs';

/** A process as a supervisor recorded it. */
export interface RecordedProcess {
  /** Display name, e.g. `node1`. */
  readonly name: string;
  /** Last recorded process id; null when it was never started. */
  readonly pid: number | null;
  /** An argument its command line has (e.g. its `--datadir` value), which tells it from an unrelated process. */
  readonly marker: string;
}

/** A recorded process that still runs. */
export interface Leftover {
  readonly name: string;
  readonly pid: number;
}

/** What stopLeftovers did to one leftover. */
export interface LeftoverOutcome extends Leftover {
  /** `stopped`: it ended on SIGINT within the timeout; `killed`: it needed SIGKILL. */
  readonly outcome: 'stopped' | 'killed';
}

/** Polling period while waiting for leftovers to end, ms. */
const POLL_MS = 100;
/** How long a SIGKILLed process is waited for, ms (the kernel ends it at once; this bounds a process stuck in I/O). */
const KILL_WAIT_MS = 5_000;

/** The state letter of /proc/<pid>/stat (R, S, D, Z, T, …); undefined when unknown (no /proc, or no such process). */
function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) S …": comm may hold spaces and parentheses, so the state follows the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * True when a process with this pid runs: signal 0 reaches it and it is not a zombie (an ended process its parent has
 * not reaped — orphans stay zombies where the init process does not reap them).
 */
export function isProcessRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return procState(pid) !== 'Z';
}

/** The arguments of process `pid` (argv, the executable first); undefined when unknown (no /proc, gone, a zombie). */
export function commandLineOf(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return text.length === 0 ? undefined : text.replace(/\0$/, '').split('\0');
  } catch {
    return undefined;
  }
}

/** The recorded processes that still run with their marker in their command line, in the order given. */
export function findLeftovers(records: readonly RecordedProcess[]): Leftover[] {
  const found: Leftover[] = [];
  for (const r of records) {
    if (r.pid === null || !Number.isInteger(r.pid) || r.pid <= 0 || !isProcessRunning(r.pid)) continue;
    if (commandLineOf(r.pid)?.includes(r.marker) === true) found.push({ name: r.name, pid: r.pid });
  }
  return found;
}

/** Sends a signal, ignoring a process that has ended meanwhile. */
function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Gone already.
  }
}

async function waitGone(pids: readonly number[], deadlineMs: number): Promise<void> {
  while (pids.some(isProcessRunning) && Date.now() < deadlineMs) await new Promise((r) => setTimeout(r, POLL_MS));
}

/**
 * Stops leftovers together: SIGINT (with SIGCONT, for one that was stopped with SIGSTOP or Ctrl-Z), then SIGKILL to
 * those still running after `timeoutMs`. Resolves when they have ended (bounded: a process stuck in the kernel after
 * SIGKILL is reported as killed and not waited for longer than a few seconds).
 */
export async function stopLeftovers(leftovers: readonly Leftover[], timeoutMs: number): Promise<LeftoverOutcome[]> {
  for (const l of leftovers) {
    signal(l.pid, 'SIGINT');
    signal(l.pid, 'SIGCONT');
  }
  await waitGone(
    leftovers.map((l) => l.pid),
    Date.now() + timeoutMs,
  );
  const outcomes = leftovers.map((l): LeftoverOutcome => ({ ...l, outcome: isProcessRunning(l.pid) ? 'killed' : 'stopped' }));
  const toKill = outcomes.filter((o) => o.outcome === 'killed').map((o) => o.pid);
  for (const pid of toKill) signal(pid, 'SIGKILL');
  await waitGone(toKill, Date.now() + KILL_WAIT_MS);
  return outcomes;
}
