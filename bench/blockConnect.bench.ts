/**
 * Block connect throughput: Chain.processBlock on blocks of 1,250 one-input transactions (half P2WPKH spends checked
 * with ECDSA, half P2TR key-path spends checked with Schnorr; one or two outputs each) on a regtest chain backed by a
 * SQLite store, with WorkerPoolScriptVerifier on every core and an empty script cache (these txs never went through a
 * mempool). Reported: tx/s, signature verifications/s, and their ratio to cores x the single-core rate of
 * consensus verifyInput over the same inputs (one SighashCache per tx, as a block connect needs), measured in the same
 * run and interleaved with the connects; the main thread's time split (Chain.connectStats); and tx/s when every tx is
 * already in the script cache (as after mempool acceptance).
 *
 * Setup (not timed): block 1's coinbase pays 5,000 outputs to the two bench keys, 100 empty blocks mature it, the
 * spends are signed with src/testing/txFactory and packed into 4 blocks; the store is then closed and copied for
 * each timed round, so every round connects the same blocks onto the same state.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Chain } from '../src/chain/chain.js';
import { emptyChainConnectStats, type ChainConnectStats } from '../src/chain/chainConnectStats.js';
import { WorkerPoolScriptVerifier } from '../src/chain/workerPoolScriptVerifier.js';
import { SighashCache } from '../src/consensus/sighash.js';
import { verifyInput } from '../src/consensus/verifyInput.js';
import { silentLogger } from '../src/logging/logger.js';
import { regtest } from '../src/params/networks.js';
import { hashToHex } from '../src/primitives/hex.js';
import { computeTxid, computeWtxid } from '../src/primitives/tx.js';
import type { Block, Tx, TxOut } from '../src/primitives/types.js';
import { SqliteChainStore } from '../src/storage/sqliteChainStore.js';
import { buildBranch, mineBlocks, openTestChain, parentOfEntry, TEST_NOW_SEC } from '../src/testing/chainFactory.js';
import { buildSignedTx, makeTestKey, type SpendableCoin } from '../src/testing/txFactory.js';
import { formatRate, type BenchResult } from './harness.js';

const BLOCKS = 4;
const TXS_PER_BLOCK = 1_250;
const FUNDING_VALUE = 990_000n;
const FEE = 10_000n;

/** The signed spends, their prevouts, and the blocks that carry them, on a stored chain at height 101. */
export interface Fixture {
  readonly dir: string;
  readonly basePath: string;
  readonly blocks: readonly Block[];
  readonly spends: readonly { readonly tx: Tx; readonly prevouts: readonly TxOut[]; readonly wtxidHex: string }[];
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
      return { tx, prevouts: [output], wtxidHex: hashToHex(computeWtxid(tx)) };
    });
    const blocks = buildBranch(regtest, parentOfEntry(base.chain.tip), BLOCKS, (b) => ({
      txs: spends.slice(b * TXS_PER_BLOCK, (b + 1) * TXS_PER_BLOCK).map((s) => s.tx),
      fees: FEE * BigInt(TXS_PER_BLOCK),
    }));
    return { dir, basePath: base.path, blocks, spends };
  } finally {
    await base.close();
  }
}

/** Wall time and CPU time (every thread of the process, user + system) of a timed stretch, ms. */
interface Timing {
  readonly ms: number;
  readonly cpuMs: number;
}

/** Runs `body` and returns its wall and process CPU time. */
async function timed(body: () => Promise<void> | void): Promise<Timing> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await body();
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { ms, cpuMs: (used.user + used.system) / 1000 };
}

/** One timed connect of every fixture block onto a fresh copy of the base store; returns its timing and the chain's split. */
export async function connectRound(
  fx: Fixture,
  round: number,
  pool: WorkerPoolScriptVerifier,
  cached: boolean,
): Promise<Timing & { stats: ChainConnectStats }> {
  const dir = join(fx.dir, `round-${round}`);
  mkdirSync(dir);
  copyFileSync(fx.basePath, join(dir, 'chain.sqlite'));
  const store = SqliteChainStore.open(join(dir, 'chain.sqlite'), regtest);
  try {
    const chain = await Chain.open({}, { params: regtest, store, scriptVerifier: pool, logger: silentLogger(), nowSec: () => TEST_NOW_SEC });
    pool.cache.clear();
    if (cached) for (const s of fx.spends) pool.cache.add(s.wtxidHex);
    chain.resetConnectStats();
    const timing = await timed(async () => {
      for (const block of fx.blocks) {
        const r = await chain.processBlock(block);
        if (r.status !== 'connected') throw new Error(`block connect bench: block ${r.hashHex} was ${r.status} ${r.reason ?? ''}`);
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

function addStats(sum: ChainConnectStats, s: ChainConnectStats): void {
  for (const k of Object.keys(sum) as (keyof ChainConnectStats)[]) sum[k] += s[k];
}

/** Runs the block connect benchmark and returns its results (also printed). */
export async function runBlockConnectBench(seconds: number): Promise<Record<string, BenchResult | number>> {
  const cores = availableParallelism();
  const fx = await buildFixture();
  const pool = WorkerPoolScriptVerifier.create({ threads: cores });
  try {
    const inputs = fx.spends.reduce((n, s) => n + s.tx.inputs.length, 0);
    const txs = fx.spends.length;
    // Warm-up (not counted): starts the workers and lets the JIT settle.
    await singleCoreRound(fx);
    await connectRound(fx, 0, pool, false);

    let round = 1;
    const single = { ms: 0, cpuMs: 0, rounds: 0 };
    const cold = { ms: 0, cpuMs: 0, rounds: 0 };
    const cached = { ms: 0, cpuMs: 0, rounds: 0 };
    const add = (sum: typeof single, t: Timing): void => {
      sum.ms += t.ms;
      sum.cpuMs += t.cpuMs;
      sum.rounds++;
    };
    const split = emptyChainConnectStats();
    // Each round: single-core pass, cold connect, cached connect; interleaved so load changes hit all three alike.
    const end = performance.now() + seconds * 3000;
    do {
      add(single, await singleCoreRound(fx));
      const c = await connectRound(fx, round++, pool, false);
      add(cold, c);
      addStats(split, c.stats);
      add(cached, await connectRound(fx, round++, pool, true));
    } while (performance.now() < end);

    const rate = (ops: number, ms: number): number => (ops * 1000) / ms;
    const singleResult: BenchResult = { name: 'verifyInput, one core', ops: inputs * single.rounds, seconds: single.ms / 1000, opsPerSec: rate(inputs * single.rounds, single.ms) };
    const coldTx: BenchResult = { name: 'block connect, tx/s', ops: txs * cold.rounds, seconds: cold.ms / 1000, opsPerSec: rate(txs * cold.rounds, cold.ms) };
    const coldSigs: BenchResult = { ...coldTx, name: 'block connect, sig verifications/s', ops: inputs * cold.rounds, opsPerSec: rate(inputs * cold.rounds, cold.ms) };
    const cachedTx: BenchResult = { name: 'block connect with cached scripts, tx/s', ops: txs * cached.rounds, seconds: cached.ms / 1000, opsPerSec: rate(txs * cached.rounds, cached.ms) };
    const ratio = coldSigs.opsPerSec / (cores * singleResult.opsPerSec);

    // CPU accounting, per block: the CPU the verifications alone cost (at the single-core pass's CPU per input), and
    // what the connects used on all threads. efficiency = verify CPU / connect CPU (the rest is overhead on some
    // thread); utilization = connect CPU / (cores x wall) (below 1: a core idle or taken by another process).
    const blocks = BLOCKS * cold.rounds;
    const verifyCpuMs = (single.cpuMs / single.rounds) * cold.rounds;
    const efficiency = verifyCpuMs / cold.cpuMs;
    const utilization = cold.cpuMs / (cores * cold.ms);
    const singleCpuShare = single.cpuMs / single.ms;

    const perBlock = (ms: number): string => `${(ms / blocks).toFixed(1)} ms`;
    console.log(
      `\n## block connect (${BLOCKS} blocks x ${TXS_PER_BLOCK.toLocaleString('en-US')} one-input txs, half P2WPKH, half P2TR; ` +
        `SQLite store; ${cores} cores; ${cold.rounds} round(s))`,
    );
    console.log(`blocks ${blocks}, txs ${(txs * cold.rounds).toLocaleString('en-US')}, inputs ${(inputs * cold.rounds).toLocaleString('en-US')}, ${(cold.ms / 1000).toFixed(2)} s`);
    console.log(`tx/s:                                   ${formatRate(coldTx.opsPerSec, 'txs')}`);
    console.log(`signature verifications/s:              ${formatRate(coldSigs.opsPerSec, 'verifies')}`);
    console.log(`verifyInput, one core (same inputs):    ${formatRate(singleResult.opsPerSec, 'verifies')} (it had ${(singleCpuShare * 100).toFixed(0)}% of a core)`);
    console.log(`ratio: ${ratio.toFixed(2)} x (${cores} cores x single-core verifyInput rate)`);
    console.log(
      `CPU per block: ${perBlock(cold.cpuMs)} on all threads, of which verification ${perBlock(verifyCpuMs)} ` +
        `(efficiency ${efficiency.toFixed(2)}); cores busy ${(utilization * 100).toFixed(0)}% of the wall time`,
    );
    console.log(`main thread per block (wall), ${perBlock(split.acceptMs + split.hashMs + split.coinsMs + split.beginMs + split.rulesMs + split.writeMs + split.scriptsMs + split.commitMs + split.otherMs)}:`);
    console.log(`  serializing the block, tx hashes (workers idle):            ${perBlock(split.hashMs)}`);
    console.log(`  reading the coins (workers idle):                           ${perBlock(split.coinsMs)}`);
    console.log(`  listing the script checks, handing them over (workers idle): ${perBlock(split.beginMs)}`);
    console.log(`  connect rules (workers verify):                             ${perBlock(split.rulesMs)}`);
    console.log(`  checkBlock, contextual checks, storing the block:           ${perBlock(split.acceptMs)}`);
    console.log(`  WAL checkpoint, SQLite writes of the connect (workers verify): ${perBlock(split.writeMs)}`);
    console.log(`  scripts: the main thread's share, then waiting:             ${perBlock(split.scriptsMs)}`);
    console.log(`  SQLite commit (workers idle):                               ${perBlock(split.commitMs)}`);
    console.log(`  events:                                                     ${perBlock(split.otherMs)}`);
    console.log(`with every tx in the script cache:      ${formatRate(cachedTx.opsPerSec, 'txs')}`);
    return {
      single: singleResult,
      coldTx,
      coldSigs,
      cachedTx,
      ratio,
      efficiency,
      utilization,
      ...Object.fromEntries(Object.entries(split).map(([k, v]) => [`split.${k}`, v])),
    };
  } finally {
    await pool.close();
    rmSync(fx.dir, { recursive: true, force: true });
  }
}
