/**
 * Block connect throughput: Chain.processBlock on blocks of 1,250 one-input transactions (half P2WPKH spends checked
 * with ECDSA, half P2TR key-path spends checked with Schnorr; one or two outputs each), given with their serialization
 * as a block from the network (or submitblock) comes, on a regtest chain backed by a SQLite store, with WorkerPoolScriptVerifier on every core and an empty script cache (these txs never went through a
 * mempool). Reported, all from the same run:
 * - tx/s, signature verifications/s, and their ratio to cores x the single-core rate of consensus verifyInput over
 *   the same inputs (one SighashCache per tx, as a block connect needs), measured interleaved with the connects;
 * - the CPU accounting of those connects: process CPU per block (every thread), the share the verifications alone
 *   would cost at the single-core pass's CPU per input (efficiency), and how busy the cores were (utilization: below
 *   1 when a core idles, or another process takes it);
 * - where the time goes per phase (Chain.connectStats): the main thread's wall time and the process CPU with the
 *   pool, and the CPU of the same connects on one thread with InlineScriptVerifier, which splits the work exactly
 *   whatever else runs on the machine (the `scripts` phase is then the verification, the rest the overhead);
 * - on Linux, per verifying thread (main, workers): CPU, time waiting for a CPU held by another process or thread
 *   (schedstat run delay) and idle time, the CPU of the process's other threads (V8's compiler and GC helpers), and
 *   from them an estimate of the ratio with no other process running (the machine is shared: the ratio above falls
 *   with every other busy process, this estimate much less);
 * - tx/s when every tx is already in the script cache (as after mempool acceptance);
 * - the all-cores pass: verifyInput over the same inputs on `cores` worker threads at once, nothing else running, as
 *   a rate over cores x the single-core rate (what this machine gives that many threads of pure verification: on this
 *   2-vCPU KVM guest it is below 1 and varies with the host), and the connect's rate over it.
 *
 * Setup (not timed): block 1's coinbase pays 5,000 outputs to the two bench keys, 100 empty blocks mature it, the
 * spends are signed with src/testing/txFactory and packed into 4 blocks; the store is then closed and copied for
 * each timed round, so every round connects the same blocks onto the same state.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import type { Worker } from 'node:worker_threads';
import type { ChainConnectStats, ConnectPhase } from '../src/chain/chainConnectStats.js';
import type { ScriptVerifier } from '../src/interfaces/scriptVerifier.js';
import { silentLogger } from '../src/logging/logger.js';
import type { Block, Tx, TxOut, Wtxid } from '../src/primitives/types.js';
import { buildBranch, mineBlocks, openTestChain, parentOfEntry, TEST_NOW_SEC } from '../src/testing/chainFactory.js';
import { buildSignedTx, makeTestKey, type SpendableCoin } from '../src/testing/txFactory.js';
import { spawnWorker } from '../src/workers/spawnWorker.js';
import { formatRate, type BenchResult } from './harness.js';
import type { SerializedSpend } from './parallelVerify.worker.js';
import { importShipped } from './shipped.js';

// The compiled code a `cairn node` runs (see shipped.ts): the chain, the store, both verifiers (the pool's workers start
// from dist/chain/scriptVerifierWorker.js), verifyInput and the codecs; the fixture is built by the test helpers.
const { Chain } = await importShipped<typeof import('../src/chain/chain.js')>('chain/chain.js');
const { addChainConnectStats, CONNECT_PHASES, emptyChainConnectStats } = await importShipped<typeof import('../src/chain/chainConnectStats.js')>('chain/chainConnectStats.js');
const { InlineScriptVerifier } = await importShipped<typeof import('../src/chain/inlineScriptVerifier.js')>('chain/inlineScriptVerifier.js');
const { WorkerPoolScriptVerifier } = await importShipped<typeof import('../src/chain/workerPoolScriptVerifier.js')>('chain/workerPoolScriptVerifier.js');
const { SighashCache } = await importShipped<typeof import('../src/consensus/sighash.js')>('consensus/sighash.js');
const { verifyInput } = await importShipped<typeof import('../src/consensus/verifyInput.js')>('consensus/verifyInput.js');
const { regtest } = await importShipped<typeof import('../src/params/networks.js')>('params/networks.js');
const { encodeBlock } = await importShipped<typeof import('../src/primitives/block.js')>('primitives/block.js');
const { hashToHex } = await importShipped<typeof import('../src/primitives/hex.js')>('primitives/hex.js');
const { computeTxid, computeWtxid, encodeTx } = await importShipped<typeof import('../src/primitives/tx.js')>('primitives/tx.js');
const { SqliteChainStore } = await importShipped<typeof import('../src/storage/sqliteChainStore.js')>('storage/sqliteChainStore.js');

const BLOCKS = 4;
/**
 * Warm-up rounds of each kind (cold, cached, one thread) before the timed loop. Code that runs once per block or per
 * round (the chain's connect steps, chunk cutting, the store's per-block writes) becomes hot only after tens of blocks:
 * with one cold round of warm-up, V8 still compiled 99 functions (588 ms of TurboFan time on its helper threads,
 * --trace-opt) inside the timed loop, and the threads other than the verifying ones used 17-19 ms CPU per block; with
 * three rounds of each kind, 39-64 (132-181 ms) and 10-11 ms per block. A node compiles them once, early in its life.
 */
const WARMUP_ROUNDS = 3;
const TXS_PER_BLOCK = 1_250;
const FUNDING_VALUE = 990_000n;
const FEE = 10_000n;

/** The signed spends, their prevouts, and the blocks that carry them, on a stored chain at height 101. */
export interface Fixture {
  readonly dir: string;
  readonly basePath: string;
  readonly blocks: readonly Block[];
  /** Each block's serialization, handed to processBlock as a block from the network comes. */
  readonly rawBlocks: readonly Uint8Array[];
  readonly spends: readonly { readonly tx: Tx; readonly prevouts: readonly TxOut[]; readonly wtxid: Wtxid }[];
}

export async function buildFixture(): Promise<Fixture> {
  const keys = [makeTestKey('bench/block-connect/wpkh', 'p2wpkh'), makeTestKey('bench/block-connect/tr', 'p2tr')];
  const dir = mkdtempSync(join(tmpdir(), 'cairn-bench-connect-'));
  const base = await openTestChain({ dir: join(dir, 'base') });
  try {
    const n = BLOCKS * TXS_PER_BLOCK;
    const funding: TxOut[] = Array.from({ length: n }, (_, i) => ({ value: FUNDING_VALUE, scriptPubKey: keys[i % 2]!.scriptPubKey }));
    const [fund] = await mineBlocks(base.chain, 1, { coinbaseOutputs: funding });
    await mineBlocks(base.chain, regtest.coinbaseMaturity);
    const fundTxid = computeTxid(fund!.block.txs[0]!);
    const spends = funding.map((output, i) => {
      const coin: SpendableCoin = { outpoint: { txid: fundTxid, index: i }, output, key: keys[i % 2]! };
      const to = keys[(i + 1) % 2]!.scriptPubKey;
      const outputs =
        i % 4 < 2
          ? [{ value: FUNDING_VALUE - FEE, scriptPubKey: to }]
          : [{ value: 300_000n, scriptPubKey: to }, { value: FUNDING_VALUE - FEE - 300_000n, scriptPubKey: coin.key.scriptPubKey }];
      const tx = buildSignedTx([coin], outputs);
      return { tx, prevouts: [output], wtxid: computeWtxid(tx) };
    });
    const blocks = buildBranch(regtest, parentOfEntry(base.chain.tip), BLOCKS, (b) => ({
      txs: spends.slice(b * TXS_PER_BLOCK, (b + 1) * TXS_PER_BLOCK).map((s) => s.tx),
      fees: FEE * BigInt(TXS_PER_BLOCK),
    }));
    return { dir, basePath: base.path, blocks, rawBlocks: blocks.map((b) => encodeBlock(b)), spends };
  } finally {
    await base.close();
  }
}

/** CPU time and run delay (time runnable but waiting for a CPU) of one thread over a timed stretch, ms. */
interface ThreadTime {
  readonly cpuMs: number;
  readonly delayMs: number;
}

/**
 * Wall time and CPU time (every thread of the process, user + system) of a timed stretch, ms; with, on Linux, each
 * thread's CPU and run delay (by thread id).
 */
interface Timing {
  readonly ms: number;
  readonly cpuMs: number;
  readonly threads?: ReadonlyMap<string, ThreadTime>;
}

/**
 * Each thread's CPU time and run delay so far, ms, from /proc/self/task/<tid>/schedstat (the kernel's
 * sum_exec_runtime and run_delay, ns); undefined where there is no such file (not Linux, or no schedstat).
 */
function threadTimes(): Map<string, ThreadTime> | undefined {
  const times = new Map<string, ThreadTime>();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      try {
        const [cpuNs, delayNs] = readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').trim().split(' ');
        times.set(tid, { cpuMs: Number(cpuNs) / 1e6, delayMs: Number(delayNs) / 1e6 });
      } catch {
        // The thread ended meanwhile.
      }
    }
  } catch {
    return undefined;
  }
  return times.size > 0 ? times : undefined;
}

/** Runs `body` and returns its wall and process CPU time, and each thread's CPU and run delay where known. */
async function timed(body: () => Promise<void> | void): Promise<Timing> {
  const before = threadTimes();
  const cpu = process.cpuUsage();
  const start = performance.now();
  await body();
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  const after = threadTimes();
  let threads: Map<string, ThreadTime> | undefined;
  if (before !== undefined && after !== undefined) {
    threads = new Map();
    for (const [tid, t] of after) {
      const b = before.get(tid) ?? { cpuMs: 0, delayMs: 0 };
      threads.set(tid, { cpuMs: t.cpuMs - b.cpuMs, delayMs: t.delayMs - b.delayMs });
    }
  }
  return { ms, cpuMs: (used.user + used.system) / 1000, threads };
}

/**
 * One timed connect of every fixture block onto a fresh copy of the base store, with `verifier` (its cache emptied,
 * then filled with every spend when `cached`); returns its timing and the chain's split.
 */
export async function connectRound(
  fx: Fixture,
  round: number,
  verifier: ScriptVerifier & { readonly cache: { clear(): void; add(wtxid: Wtxid): void } },
  cached: boolean,
): Promise<Timing & { stats: ChainConnectStats }> {
  const dir = join(fx.dir, `round-${round}`);
  mkdirSync(dir);
  copyFileSync(fx.basePath, join(dir, 'chain.sqlite'));
  const store = SqliteChainStore.open(join(dir, 'chain.sqlite'), regtest);
  try {
    const chain = await Chain.open({}, { params: regtest, store, scriptVerifier: verifier, logger: silentLogger(), nowSec: () => TEST_NOW_SEC });
    verifier.cache.clear();
    if (cached) for (const s of fx.spends) verifier.cache.add(s.wtxid);
    chain.resetConnectStats();
    const timing = await timed(async () => {
      for (const [i, block] of fx.blocks.entries()) {
        const r = await chain.processBlock(block, fx.rawBlocks[i]);
        if (r.status !== 'connected') throw new Error(`block connect bench: block ${hashToHex(r.hash)} was ${r.status} ${r.reason ?? ''}`);
      }
    });
    await chain.close();
    return { ...timing, stats: chain.connectStats };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** verifyInput over every spend on this thread (one SighashCache per tx). */
function singleCoreRound(fx: Fixture): Promise<Timing> {
  return timed(() => {
    for (const s of fx.spends) {
      const cache = new SighashCache(s.tx, s.prevouts);
      for (let i = 0; i < s.tx.inputs.length; i++) {
        if (!verifyInput(s.tx, i, s.prevouts, cache).valid) throw new Error('block connect bench: a spend does not verify');
      }
    }
  });
}

/**
 * The all-cores pass: `cores` worker threads, each holding an equal share of the spends, verify them at once with
 * nothing else running (no chain, no store, no pool). Its rate over cores x the single-core rate is what this machine
 * gives two threads doing only verification (shared caches, the host's other guests, frequency), the ceiling the
 * connect's ratio is measured under.
 */
class AllCoresPass {
  private constructor(private readonly workers: readonly Worker[]) {}

  /** Starts the workers with their shares of the fixture's spends. */
  static async start(fx: Fixture, cores: number): Promise<AllCoresPass> {
    const serialized: SerializedSpend[] = fx.spends.map((s) => ({
      tx: encodeTx(s.tx),
      prevouts: s.prevouts.map((p) => ({ value: p.value.toString(), scriptPubKey: p.scriptPubKey })),
    }));
    const workers = Array.from({ length: cores }, (_, w) =>
      spawnWorker(new URL('./parallelVerify.worker.ts', import.meta.url), { workerData: serialized.filter((_, i) => i % cores === w) }),
    );
    await Promise.all(workers.map((w) => once(w, 'online')));
    return new AllCoresPass(workers);
  }

  /** One pass: every worker verifies its share; the pass lasts until the last one answers. */
  round(): Promise<Timing> {
    return timed(async () => {
      await Promise.all(
        this.workers.map((w) => {
          const done = once(w, 'message');
          w.postMessage('run');
          return done;
        }),
      );
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Sums of timed rounds. */
class Rounds {
  ms = 0;
  cpuMs = 0;
  count = 0;
  readonly stats = emptyChainConnectStats();

  /**
   * Sums over the rounds of the verifying threads' CPU, run delay and idle time (wall - CPU - run delay: blocked,
   * with nothing to do), for the main thread and the busiest `workers` other threads (the pool's workers); and the run
   * delay of every thread. Undefined when the rounds had no per-thread times.
   */
  threads: { main: ThreadTime & { idleMs: number }; workers: ThreadTime & { idleMs: number }; allDelayMs: number } | undefined = {
    main: { cpuMs: 0, delayMs: 0, idleMs: 0 },
    workers: { cpuMs: 0, delayMs: 0, idleMs: 0 },
    allDelayMs: 0,
  };

  add(t: Timing & { stats?: ChainConnectStats }, workers = 0): void {
    this.ms += t.ms;
    this.cpuMs += t.cpuMs;
    this.count++;
    if (t.stats !== undefined) addChainConnectStats(this.stats, t.stats);
    if (t.threads === undefined || this.threads === undefined) {
      this.threads = undefined;
      return;
    }
    const main = String(process.pid);
    const others = [...t.threads].filter(([tid]) => tid !== main).sort((a, b) => b[1].cpuMs - a[1].cpuMs);
    const sum = (acc: ThreadTime & { idleMs: number }, x: ThreadTime): ThreadTime & { idleMs: number } => ({
      cpuMs: acc.cpuMs + x.cpuMs,
      delayMs: acc.delayMs + x.delayMs,
      idleMs: acc.idleMs + Math.max(0, t.ms - x.cpuMs - x.delayMs),
    });
    this.threads.main = sum(this.threads.main, t.threads.get(main) ?? { cpuMs: 0, delayMs: 0 });
    for (const [, x] of others.slice(0, workers)) this.threads.workers = sum(this.threads.workers, x);
    for (const x of t.threads.values()) this.threads.allDelayMs += x.delayMs;
  }
}

/** What each phase does, for the table. */
const PHASE_LABELS: Record<ConnectPhase, string> = {
  hash: 'tx hashes (and serializing a decoded block)',
  coins: 'reading the coins',
  begin: 'listing the script checks, handing them over',
  rules: 'connect rules (while the workers verify)',
  accept: 'checkBlock, contextual checks, storing the block',
  write: 'WAL checkpoint, SQLite writes of the connect',
  scripts: 'own share of the checks, then waiting',
  commit: 'SQLite commit',
  other: 'events',
};

/** The phases in the order a block on the tip goes through them (its connect starts before checkBlock). */
const PHASE_ORDER: readonly ConnectPhase[] = ['hash', 'coins', 'begin', 'rules', 'accept', 'write', 'scripts', 'commit', 'other'];

/** Runs the block connect benchmark and returns its results (also printed). */
export async function runBlockConnectBench(seconds: number): Promise<Record<string, BenchResult | number>> {
  const cores = availableParallelism();
  const fx = await buildFixture();
  const pool = WorkerPoolScriptVerifier.create({ threads: cores });
  const inline = new InlineScriptVerifier({ cacheSize: 0 });
  const allCores = await AllCoresPass.start(fx, cores);
  try {
    const inputs = fx.spends.reduce((n, s) => n + s.tx.inputs.length, 0);
    const txs = fx.spends.length;
    // Warm-up (not counted): starts the workers and lets the JIT settle, with every kind of round the loop below runs.
    await singleCoreRound(fx);
    await allCores.round();
    await allCores.round();
    let round = 0;
    for (let w = 0; w < WARMUP_ROUNDS; w++) {
      await connectRound(fx, round++, pool, false);
      await connectRound(fx, round++, pool, true);
      await connectRound(fx, round++, inline, false);
    }

    const single = new Rounds();
    const parallel = new Rounds();
    const cold = new Rounds();
    const cached = new Rounds();
    const oneThread = new Rounds();
    // Each round: single-core pass, cold connect, cached connect, and every other round the connect on one thread;
    // interleaved so load changes hit them alike.
    const end = performance.now() + seconds * 3000;
    do {
      single.add(await singleCoreRound(fx));
      parallel.add(await allCores.round());
      cold.add(await connectRound(fx, round++, pool, false), pool.workerCount);
      cached.add(await connectRound(fx, round++, pool, true));
      if (cold.count % 2 === 1) oneThread.add(await connectRound(fx, round++, inline, false));
    } while (performance.now() < end);

    const rate = (ops: number, ms: number): number => (ops * 1000) / ms;
    const singleResult: BenchResult = { name: 'verifyInput, one core', ops: inputs * single.count, seconds: single.ms / 1000, opsPerSec: rate(inputs * single.count, single.ms) };
    const coldTx: BenchResult = { name: 'block connect, tx/s', ops: txs * cold.count, seconds: cold.ms / 1000, opsPerSec: rate(txs * cold.count, cold.ms) };
    const coldSigs: BenchResult = { ...coldTx, name: 'block connect, sig verifications/s', ops: inputs * cold.count, opsPerSec: rate(inputs * cold.count, cold.ms) };
    const cachedTx: BenchResult = { name: 'block connect with cached scripts, tx/s', ops: txs * cached.count, seconds: cached.ms / 1000, opsPerSec: rate(txs * cached.count, cached.ms) };
    const ratio = coldSigs.opsPerSec / (cores * singleResult.opsPerSec);
    const allCoresResult: BenchResult = { name: `verifyInput, ${cores} threads at once`, ops: inputs * parallel.count, seconds: parallel.ms / 1000, opsPerSec: rate(inputs * parallel.count, parallel.ms) };
    const machineScaling = allCoresResult.opsPerSec / (cores * singleResult.opsPerSec);

    // CPU accounting, per block: the CPU the verifications alone cost (at the single-core pass's CPU per input), and
    // what the connects used on all threads.
    const blocks = BLOCKS * cold.count;
    const verifyCpuMs = (single.cpuMs / single.count) * cold.count;
    const efficiency = verifyCpuMs / cold.cpuMs;
    const utilization = cold.cpuMs / (cores * cold.ms);
    const singleCpuShare = single.cpuMs / single.ms;
    // On one thread: the verification is the `scripts` phase, everything else is overhead.
    const inlineBlocks = BLOCKS * oneThread.count;
    const inlineCpu = oneThread.stats.cpuMs;
    const inlineTotal = CONNECT_PHASES.reduce((sum, p) => sum + inlineCpu[p], 0);
    const inlineOverhead = inlineTotal - inlineCpu.scripts;

    const fmt = (ms: number, n: number): string => (ms / n).toFixed(1).padStart(7);
    console.log(
      `\n## block connect (${BLOCKS} blocks x ${TXS_PER_BLOCK.toLocaleString('en-US')} one-input txs, half P2WPKH, half P2TR; ` +
        `SQLite store; ${cores} cores; ${cold.count} round(s))`,
    );
    console.log(`blocks ${blocks}, txs ${(txs * cold.count).toLocaleString('en-US')}, inputs ${(inputs * cold.count).toLocaleString('en-US')}, ${(cold.ms / 1000).toFixed(2)} s`);
    console.log(`tx/s:                                   ${formatRate(coldTx.opsPerSec, 'txs')}`);
    console.log(`signature verifications/s:              ${formatRate(coldSigs.opsPerSec, 'verifies')}`);
    console.log(`verifyInput, one core (same inputs):    ${formatRate(singleResult.opsPerSec, 'verifies')} (it had ${(singleCpuShare * 100).toFixed(0)}% of a core)`);
    console.log(`ratio: ${ratio.toFixed(2)} x (${cores} cores x single-core verifyInput rate)`);
    console.log(
      `verifyInput on ${cores} threads at once, nothing else: ${formatRate(allCoresResult.opsPerSec, 'verifies')} = ${machineScaling.toFixed(2)} x (${cores} x single-core) ` +
        `(what this machine gives ${cores} threads of pure verification); block connect / that = ${(coldSigs.opsPerSec / allCoresResult.opsPerSec).toFixed(2)}`,
    );
    console.log(
      `CPU per block: ${fmt(cold.cpuMs, blocks).trim()} ms on all threads, of which the verifications ${fmt(verifyCpuMs, blocks).trim()} ms: ` +
        `efficiency ${efficiency.toFixed(2)}; the cores were busy ${(utilization * 100).toFixed(0)}% of the wall time`,
    );
    console.log(
      `on one thread (InlineScriptVerifier, ${oneThread.count} round(s)): ${fmt(inlineTotal, inlineBlocks).trim()} ms CPU per block, ` +
        `verification ${fmt(inlineCpu.scripts, inlineBlocks).trim()} ms, overhead ${fmt(inlineOverhead, inlineBlocks).trim()} ms ` +
        `(${((inlineOverhead / inlineCpu.scripts) * 100).toFixed(1)}% of the verification; 0.9 needs <= 11.1%)`,
    );
    console.log(`${'per block, ms:'.padEnd(62)}main wall   process CPU   one thread CPU`);
    console.log(`${''.padEnd(62)}(pool)      (pool)        (inline)`);
    for (const phase of PHASE_ORDER) {
      console.log(
        `  ${`${phase}: ${PHASE_LABELS[phase]}`.padEnd(60)}${fmt(cold.stats.wallMs[phase], blocks)}     ${fmt(cold.stats.cpuMs[phase], blocks)}       ${fmt(inlineCpu[phase], inlineBlocks)}`,
      );
    }
    // Per-thread accounting (Linux schedstat): where the verifying threads' wall time went, and what the connects
    // would take with no other process on the machine (an estimate, not the ratio above).
    let quietEstimate: number | undefined;
    const th = cold.threads;
    const workerCount = pool.workerCount;
    if (th !== undefined && workerCount > 0) {
      const perWorker = (ms: number): number => ms / (blocks * workerCount);
      console.log(
        `verifying threads per block, ms (CPU / waiting for a CPU / idle): main ${fmt(th.main.cpuMs, blocks).trim()} / ` +
          `${fmt(th.main.delayMs, blocks).trim()} / ${fmt(th.main.idleMs, blocks).trim()}, worker ${perWorker(th.workers.cpuMs).toFixed(1)} / ` +
          `${perWorker(th.workers.delayMs).toFixed(1)} / ${perWorker(th.workers.idleMs).toFixed(1)}; all threads waited ${fmt(th.allDelayMs, blocks).trim()} ms for a CPU; ` +
          // The rest of the process CPU: V8's compiler and GC helper threads, libuv's pool.
          `the other threads used ${fmt(cold.cpuMs - th.main.cpuMs - th.workers.cpuMs, blocks).trim()} ms CPU`,
      );
      // Without other processes a thread would not wait for a CPU: a block would take the verifying threads' CPU plus
      // idle time, shared over them (they claim the same chunks, so they end a block together). Conservative: the
      // idle time includes waiting for a thread that was itself kept waiting, and CPU times rise under load (the
      // single-core pass ran under the same load).
      const quietMs = (th.main.cpuMs + th.main.idleMs + th.workers.cpuMs + th.workers.idleMs) / (blocks * (workerCount + 1));
      quietEstimate = verifyCpuMs / blocks / (cores * quietMs);
      console.log(
        `quiet-machine estimate: ${quietMs.toFixed(1)} ms per block (the verifying threads' CPU + idle, per thread) -> ratio ~${quietEstimate.toFixed(2)} ` +
          `(single-core verification ${fmt(verifyCpuMs, blocks).trim()} ms CPU per block / (${cores} x ${quietMs.toFixed(1)}))`,
      );
    }
    console.log(`with every tx in the script cache:      ${formatRate(cachedTx.opsPerSec, 'txs')}`);
    const perBlock = (record: Record<ConnectPhase, number>, n: number, prefix: string): Record<string, number> =>
      Object.fromEntries(CONNECT_PHASES.map((p) => [`${prefix}.${p}`, record[p] / n]));
    return {
      single: singleResult,
      coldTx,
      coldSigs,
      cachedTx,
      allCores: allCoresResult,
      ratio,
      machineScaling,
      efficiency,
      utilization,
      inlineOverheadShare: inlineOverhead / inlineCpu.scripts,
      ...(quietEstimate === undefined ? {} : { quietEstimate }),
      ...perBlock(cold.stats.wallMs, blocks, 'wallMsPerBlock'),
      ...perBlock(cold.stats.cpuMs, blocks, 'cpuMsPerBlock'),
      ...perBlock(inlineCpu, inlineBlocks, 'inlineCpuMsPerBlock'),
    };
  } finally {
    await allCores.close();
    await pool.close();
    rmSync(fx.dir, { recursive: true, force: true });
  }
}
