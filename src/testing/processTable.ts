/**
 * Test helpers that read the process table from /proc (Linux), written apart from the supervisor's own checks so
 * tests do not verify that code with itself: whether a pid runs (a zombie — ended, not reaped, as orphans stay where
 * the init process does not reap — does not), and which processes mention a path in their command line.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** True when `pid` is a live process: it has a /proc entry whose state is not Z (zombie) or X (dead). */
export function isLiveProcess(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  return state !== 'Z' && state !== 'X';
}

/** The live processes whose command line has an argument containing `text` (e.g. a temp dir), as pid → arguments. */
export function liveProcessesMentioning(text: string): Map<number, string[]> {
  const found = new Map<number, string[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    let args: string[];
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (args.some((a) => a.includes(text)) && isLiveProcess(pid)) found.set(pid, args.filter((a) => a.length > 0));
  }
  return found;
}
