/**
 * Crash safety at the goal (the long mode of test/crashSafety.test.ts): runs that test as its own process with
 * CRASH_CYCLES kills (default 50; `--crash-cycles N`), so every check of the test applies to every cycle, and prints
 * its figures: cycles, kills that left an activation for Chain.open to finish, reorgs, spends, committed blocks, the
 * final height, and the time per cycle (driver start to verified restart) with the share spent verifying (opening the
 * killed store, replaying the main chain, Chain.open, replaying again). Run with `npm run bench -- --only crash`.
 * A failing cycle fails the bench with the test's message; the seed is printed to reproduce it (CRASH_SEED).
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Kills of the long mode: the goal is at least 50. */
export const DEFAULT_CRASH_CYCLES = 50;

/** The `[crash] summary` line the crash test prints. */
export interface CrashSummary {
  readonly seed: string;
  readonly cycles: number;
  readonly finalHeight: number;
  readonly reorgs: number;
  readonly deepestReorg: number;
  readonly branches: number;
  readonly spends: number;
  readonly digestChecks: number;
  readonly interruptedActivations: number;
  readonly committedBlocks: number;
  readonly seconds: number;
  /** Per cycle: driver start to the verified restart point, ms. */
  readonly cycleMs: readonly number[];
  /** Per cycle: opening, replaying and Chain.open of the killed store, ms. */
  readonly verifyMs: readonly number[];
}

/** What the bench reports: the summary plus the load around it. */
export interface CrashBenchResult extends CrashSummary {
  readonly loadBefore: number;
  readonly loadAfter: number;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/**
 * Runs the crash test with `cycles` kills in a child process and returns its summary.
 * @throws Error with the test's output when a cycle fails or no summary is printed
 */
export async function runCrashSafetyBench(cycles = DEFAULT_CRASH_CYCLES, seed?: string): Promise<CrashBenchResult> {
  const loadBefore = loadavg()[0]!;
  console.log(`\n== crash safety: ${cycles} SIGKILL cycles (test/crashSafety.test.ts, CRASH_CYCLES=${cycles}); load ${loadBefore.toFixed(2)}`);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-reporter=tap', `--test-timeout=${Math.max(600_000, cycles * 15_000)}`, 'test/crashSafety.test.ts'],
    { cwd: ROOT, env: { ...process.env, CRASH_CYCLES: String(cycles), ...(seed !== undefined ? { CRASH_SEED: seed } : {}) }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    for (const line of chunk.split('\n')) if (/\[crash\] cycle \d+:/.test(line)) process.stdout.write(`  ${line.replace(/^#\s*/, '')}\n`);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const line = /\[crash\] summary (\{.*\})/.exec(out);
  if (code !== 0 || line === null) throw new Error(`the crash test failed (exit ${code}):\n${out.slice(-6000)}`);
  const summary = JSON.parse(line[1]!) as CrashSummary;
  const loadAfter = loadavg()[0]!;
  const meanCycle = summary.cycleMs.reduce((a, b) => a + b, 0) / summary.cycleMs.length;
  const meanVerify = summary.verifyMs.reduce((a, b) => a + b, 0) / summary.verifyMs.length;
  console.log(
    `  ${summary.cycles} SIGKILL cycles, seed ${summary.seed}: nothing lost, every restart resumed (${summary.digestChecks} UTXO digest checks ` +
      `against an independent replay passed)`,
  );
  console.log(
    `  final height ${summary.finalHeight}; ${summary.committedBlocks} committed blocks all kept; ${summary.spends} spends; ${summary.reorgs} reorgs ` +
      `(deepest ${summary.deepestReorg}, ${summary.branches} branches); ${summary.interruptedActivations} kills left an activation for Chain.open to finish`,
  );
  console.log(
    `  per cycle: mean ${meanCycle.toFixed(0)} ms (median ${percentile(summary.cycleMs, 50)}, p90 ${percentile(summary.cycleMs, 90)}, ` +
      `max ${Math.max(...summary.cycleMs)}); verification ${meanVerify.toFixed(0)} ms of it (${((meanVerify / meanCycle) * 100).toFixed(0)}%, ` +
      `grows with the chain: the replay re-reads every stored block); total ${summary.seconds} s; load ${loadBefore.toFixed(2)} -> ${loadAfter.toFixed(2)}`,
  );
  return { ...summary, loadBefore, loadAfter };
}
