/**
 * Crash test with real processes ("nothing lost on kill -9"): a driver process (test/fixtures/chainDriver.ts) connects
 * blocks with real signed spends and reorganises through undo data on a SQLite store; the test SIGKILLs it at a
 * random moment after it made progress, at least 20 times. After every kill, in this process, it checks:
 * - the store as the kill left it: its tip is the last main-chain row, every main-chain block links to the one below
 *   and has undo data matching its inputs, and the store's UTXO digest (and its coin counter) equals an independent
 *   replay of the stored main-chain blocks (src/testing/utxoReplay.ts, which shares no code with store or chain);
 * - the tip went back by at most the deepest reorg the driver makes (a kill mid-reorg);
 * - after Chain.open (start-up checks; it may finish an interrupted reorg or connect a stored block), the same digest
 *   check again, and nothing committed is lost: every block the driver reported connected is still stored, and the
 *   tip is at least as high as the highest of them (regtest blocks have equal work, so height orders chainWork).
 * Then the driver restarts on the same store and must continue. Reproduce with CRASH_SEED=<seed printed>;
 * CRASH_CYCLES sets the number of kills (default 24; the test requires at least 20). The long mode (50 kills and
 * more) runs from `npm run bench -- --only crash` (bench/crashSafety.bench.ts), which reads the `[crash] summary`
 * JSON line this test prints.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Chain } from '../src/chain/chain.js';
import { InlineScriptVerifier } from '../src/chain/inlineScriptVerifier.js';
import { silentLogger } from '../src/logging/logger.js';
import { regtest } from '../src/params/networks.js';
import { blockHashFromHex, bytesEqual, hashToHex } from '../src/primitives/hex.js';
import { isCoinbase } from '../src/primitives/tx.js';
import type { Block } from '../src/primitives/types.js';
import type { UtxoSetDigest } from '../src/interfaces/chainTypes.js';
import { SqliteChainStore } from '../src/storage/sqliteChainStore.js';
import { TEST_NOW_SEC } from '../src/testing/chainFactory.js';
import { DEFAULT_MAX_REORG_DEPTH } from '../src/testing/chainWorkload.js';
import { SeededRng } from '../src/testing/seededRng.js';
import { replayUtxoDigest } from '../src/testing/utxoReplay.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DRIVER = join(ROOT, 'test', 'fixtures', 'chainDriver.ts');
const CYCLES = Number(process.env.CRASH_CYCLES ?? 24);
const SEED = process.env.CRASH_SEED ?? String(Date.now() % 1_000_000);
/** Kill this long after the first progress line of a run: a uniform draw in [MIN, MAX] ms. */
const KILL_DELAY_MIN_MS = 20;
const KILL_DELAY_MAX_MS = 700;
/** A run must print its first progress line within this time (start-up plus one block). */
const PROGRESS_TIMEOUT_MS = 30_000;
/** A killed process must be reaped within this time. */
const EXIT_TIMEOUT_MS = 10_000;
/** The driver never plans a deeper reorg (it uses the workload's default). */
const MAX_REORG_DEPTH = DEFAULT_MAX_REORG_DEPTH;
/** Time budget of the whole test: 180 s for the default 24 cycles, 7.5 s a cycle for longer runs (a hang still fails). */
const TEST_TIMEOUT_MS = Math.max(180_000, CYCLES * 7_500);

/** A running driver with the lines it printed so far. */
interface DriverRun {
  readonly child: ChildProcess;
  readonly lines: string[];
  readonly stderr: string[];
  /** Resolves with the exit code or signal once the process exited and its pipes are drained. */
  readonly closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when a progress line (a block connected or disconnected) arrives; rejects if the process exits first. */
  readonly progress: Promise<void>;
}

function startDriver(datadir: string): DriverRun {
  const child = spawn(process.execPath, ['--import', 'tsx', DRIVER, '--datadir', datadir, '--seed', SEED], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const stderr: string[] = [];
  let partial = '';
  let onProgress!: () => void;
  let onEarlyExit!: (err: Error) => void;
  const progress = new Promise<void>((resolve, reject) => {
    onProgress = resolve;
    onEarlyExit = reject;
  });
  progress.catch(() => undefined); // observed by the caller; avoid an unhandled rejection when it is not awaited
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!; // a line without its newline (cut by the kill) is never counted
    for (const line of parts) {
      lines.push(line);
      if (line.startsWith('connected ') || line.startsWith('disconnected ')) onProgress();
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  child.on('error', (err) => onEarlyExit(err));
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      onEarlyExit(new Error(`driver exited (code ${code}, signal ${signal}) before making progress: ${stderr.join('')}`));
      resolve({ code, signal });
    });
  });
  return { child, lines, stderr, closed, progress };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** What the driver's output of one run tells: blocks it reported connected (committed), reorgs completed. */
interface RunReport {
  /** The `open` line: the tip the driver started from. */
  readonly open: { height: number; hashHex: string } | undefined;
  readonly connected: Map<string, number>;
  /** Non-coinbase transactions in the blocks it reported connected. */
  readonly spends: number;
  readonly reorgDepths: number[];
  readonly branchesStarted: number;
  readonly lastLine: string;
}

function parseRun(lines: readonly string[]): RunReport {
  const connected = new Map<string, number>();
  const reorgDepths: number[] = [];
  let branchesStarted = 0;
  let spends = 0;
  let open: RunReport['open'];
  for (const line of lines) {
    const f = line.split(' ');
    if (f[0] === 'open' && f.length === 3) open = { height: Number(f[1]), hashHex: f[2]! };
    // A line cut by the kill has fewer fields than its complete form: it says nothing.
    if (f[0] === 'connected' && f.length === 5) {
      connected.set(f[2]!, Number(f[1]));
      spends += Number(f[4]) - 1;
    }
    else if (f[0] === 'reorg' && f.length === 7) reorgDepths.push(Number(f[2]));
    else if (f[0] === 'branch' && f.length === 7) branchesStarted++;
  }
  return { open, connected, spends, reorgDepths, branchesStarted, lastLine: lines.at(-1) ?? '' };
}

/**
 * Checks the store's main chain and UTXO set against an independent replay; `digestOf` is the digest under test
 * (the store's, or the Chain's). Returns the tip height and hash.
 */
function checkAgainstReplay(store: SqliteChainStore, digestOf: () => UtxoSetDigest, label: string): { height: number; tipHex: string } {
  const tip = store.getTipHash();
  const height = store.getTipHeight();
  assert.ok(tip !== undefined && height !== undefined, `${label}: the store has no tip`);
  const top = store.getMainChainHash(height);
  assert.ok(top !== undefined && bytesEqual(top, tip), `${label}: the tip ${hashToHex(tip)} is not main_chain[${height}]`);
  assert.equal(store.getMainChainHash(height + 1), undefined, `${label}: main_chain has a row above the tip`);
  const blocks: Block[] = [];
  let prev: Uint8Array | undefined;
  for (let h = 0; h <= height; h++) {
    const hash = store.getMainChainHash(h);
    assert.ok(hash !== undefined, `${label}: no main_chain row at height ${h}`);
    const block = store.readBlock(hash);
    assert.ok(block !== undefined, `${label}: main-chain block ${hashToHex(hash)} at height ${h} has no data`);
    if (prev !== undefined) assert.ok(bytesEqual(block.header.prevBlock, prev), `${label}: block at height ${h} does not link to height ${h - 1}`);
    if (h > 0) {
      const undo = store.readUndo(hash);
      const inputs = block.txs.reduce((n, tx) => n + (isCoinbase(tx) ? 0 : tx.inputs.length), 0);
      assert.equal(undo?.length, inputs, `${label}: undo data of height ${h} does not cover its ${inputs} inputs`);
    }
    blocks.push(block);
    prev = hash;
  }
  let replay: ReturnType<typeof replayUtxoDigest>;
  try {
    replay = replayUtxoDigest(blocks);
  } catch (err) {
    assert.fail(`${label}: the stored main chain does not replay: ${(err as Error).message}`);
  }
  const digest = digestOf();
  assert.equal(digest.height, height, `${label}: digest height`);
  assert.equal(hashToHex(digest.bestBlock), hashToHex(tip), `${label}: digest best block`);
  assert.equal(digest.hashSerialized, replay.hashSerialized, `${label}: UTXO digest differs from the replay at height ${height}`);
  assert.equal(digest.txouts, replay.txouts, `${label}: txouts`);
  assert.equal(digest.totalAmount, replay.totalAmount, `${label}: totalAmount`);
  assert.equal(store.getUtxoCount(), replay.txouts, `${label}: the store's utxo_count counter`);
  return { height, tipHex: hashToHex(tip) };
}

test(`crash safety: a node killed with SIGKILL ${CYCLES} times loses nothing and resumes`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-crash-'));
  const dbPath = join(dir, 'chain.sqlite');
  let run: DriverRun | undefined;
  let stopped = false;
  t.after(async () => {
    stopped = true; // after a timeout the test body may still be running: it must not start another driver
    if (run !== undefined && run.child.exitCode === null && run.child.signalCode === null) {
      run.child.kill('SIGKILL');
      await run.closed;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const rng = new SeededRng(`crash-test/${SEED}`);
  t.diagnostic(`[crash] seed ${SEED} (reproduce with CRASH_SEED=${SEED}), ${CYCLES} cycles, data dir ${dir}`);
  const started = Date.now();
  let cycles = 0;
  let digestChecks = 0;
  let reorgs = 0;
  let deepestReorg = 0;
  let branches = 0;
  let interruptedActivations = 0;
  let maxCommittedHeight = 0;
  const committed = new Map<string, number>();
  let spends = 0;
  /** The tip this process verified after the last kill: the next driver must start from exactly it. */
  let verifiedTip: { height: number; hashHex: string } | undefined;
  let finalHeight = 0;
  const cycleMs: number[] = [];
  const verifyMs: number[] = [];

  for (let cycle = 1; cycle <= CYCLES && !stopped; cycle++) {
    const cycleStart = Date.now();
    const killDelayMs = rng.int(KILL_DELAY_MIN_MS, KILL_DELAY_MAX_MS);
    run = startDriver(dir);
    await withTimeout(run.progress, PROGRESS_TIMEOUT_MS, `cycle ${cycle}: the driver's first progress line`);
    await delay(killDelayMs);
    assert.equal(run.child.exitCode, null, `cycle ${cycle}: the driver exited by itself: ${run.stderr.join('')}`);
    run.child.kill('SIGKILL');
    const exit = await withTimeout(run.closed, EXIT_TIMEOUT_MS, `cycle ${cycle}: the killed driver to exit`);
    assert.equal(exit.signal, 'SIGKILL', `cycle ${cycle}: driver ended with code ${exit.code}: ${run.stderr.join('')}`);
    cycles++;

    const report = parseRun(run.lines);
    assert.ok(report.open !== undefined, `cycle ${cycle}: the driver printed no open line`);
    if (verifiedTip !== undefined) {
      assert.deepEqual(report.open, verifiedTip, `cycle ${cycle}: the driver did not restart from the verified tip`);
    }
    spends += report.spends;
    for (const [hashHex, height] of report.connected) {
      committed.set(hashHex, height);
      maxCommittedHeight = Math.max(maxCommittedHeight, height);
    }
    reorgs += report.reorgDepths.length;
    branches += report.branchesStarted;
    for (const d of report.reorgDepths) {
      assert.ok(d <= MAX_REORG_DEPTH, `cycle ${cycle}: the driver reported a reorg of depth ${d}`);
      deepestReorg = Math.max(deepestReorg, d);
    }

    const verifyStart = Date.now();
    const store = SqliteChainStore.open(dbPath, regtest);
    try {
      const raw = checkAgainstReplay(store, () => store.computeUtxoDigest(), `cycle ${cycle} (store after kill)`);
      digestChecks++;
      assert.ok(
        raw.height >= maxCommittedHeight - MAX_REORG_DEPTH,
        `cycle ${cycle}: the store's tip is at ${raw.height}, blocks up to ${maxCommittedHeight} were committed`,
      );
      const scriptVerifier = new InlineScriptVerifier();
      const chain = await Chain.open({}, { params: regtest, store, scriptVerifier, logger: silentLogger(), nowSec: () => TEST_NOW_SEC });
      try {
        if (chain.tip.hashHex !== raw.tipHex) interruptedActivations++;
        const opened = checkAgainstReplay(store, () => chain.computeUtxoDigest(), `cycle ${cycle} (after Chain.open)`);
        digestChecks++;
        assert.equal(chain.tip.hashHex, opened.tipHex, `cycle ${cycle}: the chain's tip is not the store's`);
        assert.ok(
          chain.height >= maxCommittedHeight,
          `cycle ${cycle}: after open the tip is at ${chain.height}, blocks up to ${maxCommittedHeight} were committed`,
        );
        for (const [hashHex, height] of committed) {
          const entry = chain.getEntry(blockHashFromHex(hashHex));
          assert.ok(entry !== undefined && entry.height === height, `cycle ${cycle}: committed block ${hashHex} (${height}) is not indexed`);
          assert.ok(store.readRawBlock(blockHashFromHex(hashHex)) !== undefined, `cycle ${cycle}: committed block ${hashHex} has no data`);
        }
        finalHeight = chain.height;
        verifiedTip = { height: chain.height, hashHex: chain.tip.hashHex };
        cycleMs.push(Date.now() - cycleStart);
        verifyMs.push(Date.now() - verifyStart);
        console.log(
          `[crash] cycle ${cycle}: killed ${killDelayMs} ms after progress (${run.lines.length} lines, last "${report.lastLine}"), ` +
            `store tip ${raw.height} -> ${chain.height} after open, ${report.reorgDepths.length} reorgs, ${Date.now() - cycleStart} ms`,
        );
      } finally {
        await chain.close();
        await scriptVerifier.close();
      }
    } finally {
      store.close();
    }
    run = undefined;
  }

  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  t.diagnostic(
    `[crash] ${cycles} SIGKILL cycles, final height ${finalHeight}, reorgs ${reorgs} (deepest ${deepestReorg}, ` +
      `${branches} branches started), ${spends} spends connected, digest checks ${digestChecks} passed, ${interruptedActivations} kills left an ` +
      `activation for Chain.open to finish, ${committed.size} committed blocks all kept, ${seconds} s`,
  );
  // One machine-readable line for bench/crashSafety.bench.ts (the long mode).
  t.diagnostic(
    `[crash] summary ${JSON.stringify({
      seed: SEED,
      cycles,
      finalHeight,
      reorgs,
      deepestReorg,
      branches,
      spends,
      digestChecks,
      interruptedActivations,
      committedBlocks: committed.size,
      seconds: Number(seconds),
      cycleMs,
      verifyMs,
    })}`,
  );
  assert.ok(cycles >= 20, `only ${cycles} cycles ran`);
  assert.equal(digestChecks, 2 * cycles);
  assert.ok(finalHeight > regtest.coinbaseMaturity, `the chain only grew to height ${finalHeight}`);
  assert.ok(spends > 0, 'no block with spends was connected');
  assert.ok(reorgs > 0, 'no reorg happened across the run');
});
