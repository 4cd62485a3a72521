/**
 * Script verification throughput: WorkerPoolScriptVerifier on a batch of 2,000 signed one-input txs (half P2WPKH,
 * half P2TR key path) against InlineScriptVerifier (one core) in the same run, stated as the ratio to
 * cores x the single-core rate (1.00 = perfect scaling). Both pool layouts are measured: the main thread verifying a
 * chunk beside threads - 1 workers (the default), and `threads` workers with the main thread only waiting.
 * The caches are off (cacheSize 0) so every round verifies every input. Beside the wall-clock rates: the process CPU per
 * input (what the pool's hand-off to workers costs over inline) and how busy the cores were (below 100% when a core
 * idles or another process takes it).
 */
import { availableParallelism } from 'node:os';
import { InlineScriptVerifier, WorkerPoolScriptVerifier } from '../src/chain/workerPoolScriptVerifier.js';
import type { ScriptCheckJob, ScriptVerifier } from '../src/interfaces/scriptVerifier.js';
import { sha256 } from '../src/crypto/hash.js';
import { decodeTxid } from '../src/primitives/identity.js';
import { computeWtxid } from '../src/primitives/tx.js';
import { buildSignedTx, makeTestKey, type SpendableCoin } from '../src/testing/txFactory.js';
import { formatRate, type BenchResult } from './harness.js';

const BATCH_TXS = 2_000;

/** 2,000 one-input txs, P2WPKH and P2TR alternating, each spending its own coin. */
function buildBatch(): ScriptCheckJob[] {
  const keys = [makeTestKey('bench/wpkh', 'p2wpkh'), makeTestKey('bench/tr', 'p2tr')];
  return Array.from({ length: BATCH_TXS }, (_, n) => {
    const key = keys[n % 2]!;
    const coin: SpendableCoin = {
      outpoint: { txid: decodeTxid(sha256(new TextEncoder().encode(`bench-coin/${n}`))), index: 0 },
      output: { value: 50_000n, scriptPubKey: key.scriptPubKey },
      key,
    };
    const tx = buildSignedTx([coin], [{ value: 40_000n, scriptPubKey: key.scriptPubKey }]);
    return { tx, prevouts: [coin.output], wtxid: computeWtxid(tx) };
  });
}

/**
 * Verifies the batch with each verifier in turn, round after round, until each has had about `seconds` (at least one
 * round), after one warm-up round on a tenth of the batch. Interleaving keeps the same-run ratios fair when the
 * machine's load changes during the run.
 */
async function measureInterleaved(
  verifiers: readonly { name: string; verifier: ScriptVerifier }[],
  jobs: readonly ScriptCheckJob[],
  seconds: number,
): Promise<(BenchResult & { readonly cpuMs: number })[]> {
  for (const { name, verifier } of verifiers) {
    const warmup = await verifier.verify(jobs.slice(0, jobs.length / 10));
    if (!warmup.ok) throw new Error(`${name}: warm-up batch failed: ${JSON.stringify(warmup)}`);
  }
  const elapsedMs = verifiers.map(() => 0);
  const cpuMs = verifiers.map(() => 0);
  const ops = verifiers.map(() => 0);
  const end = performance.now() + seconds * 1000 * verifiers.length;
  do {
    for (const [k, { name, verifier }] of verifiers.entries()) {
      const cpu = process.cpuUsage();
      const start = performance.now();
      const result = await verifier.verify(jobs);
      elapsedMs[k]! += performance.now() - start;
      const used = process.cpuUsage(cpu);
      cpuMs[k]! += (used.user + used.system) / 1000;
      if (!result.ok) throw new Error(`${name}: batch failed: ${JSON.stringify(result)}`);
      ops[k]! += jobs.length;
    }
  } while (performance.now() < end);
  return verifiers.map(({ name }, k) => ({
    name,
    ops: ops[k]!,
    seconds: elapsedMs[k]! / 1000,
    opsPerSec: (ops[k]! * 1000) / elapsedMs[k]!,
    cpuMs: cpuMs[k]!,
  }));
}

/** Runs the script verifier benchmark and returns its results (also printed). */
export async function runScriptVerifierBench(seconds: number): Promise<Record<string, BenchResult>> {
  const cores = availableParallelism();
  const jobs = buildBatch();
  const layouts = [
    { key: 'poolMainThreadVerifies', label: `main thread + ${cores - 1} worker(s)`, mainThreadVerifies: true },
    { key: 'poolWorkersOnly', label: `${cores} workers, main thread waits`, mainThreadVerifies: false },
  ];
  const pools = layouts.map((l) =>
    WorkerPoolScriptVerifier.create({ threads: cores, cacheSize: 0, mainThreadVerifies: l.mainThreadVerifies }),
  );
  let measured: (BenchResult & { readonly cpuMs: number })[];
  try {
    measured = await measureInterleaved(
      [
        { name: 'inline (one core)', verifier: new InlineScriptVerifier({ cacheSize: 0 }) },
        ...layouts.map((l, k) => ({ name: `pool, ${l.label}`, verifier: pools[k]! })),
      ],
      jobs,
      seconds,
    );
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
  const { cpuMs: inlineCpuMs, ...inline } = measured[0]!;
  const results: Record<string, BenchResult> = { inline };
  layouts.forEach((l, k) => {
    const { cpuMs: _cpuMs, ...result } = measured[k + 1]!;
    results[l.key] = result;
  });
  const cpuPerInputUs = (m: BenchResult & { readonly cpuMs: number }): number => (m.cpuMs * 1000) / m.ops;

  const ideal = cores * inline.opsPerSec;
  console.log(`\n## script verification (${BATCH_TXS.toLocaleString('en-US')} one-input txs, half P2WPKH, half P2TR; ${cores} cores)`);
  const inlineCpuUs = (inlineCpuMs * 1000) / inline.ops;
  console.log(
    `inline, one core:                       ${formatRate(inline.opsPerSec, 'verifies')} ` +
      `(${inlineCpuUs.toFixed(0)} us CPU per input; it had ${((inlineCpuMs / 1000 / inline.seconds) * 100).toFixed(0)}% of a core)`,
  );
  layouts.forEach((layout, k) => {
    const r = results[layout.key]!;
    const ratio = r.opsPerSec / ideal;
    const m = measured[k + 1]!;
    console.log(
      `pool, ${layout.label.padEnd(33)} ${formatRate(r.opsPerSec, 'verifies')} = ${ratio.toFixed(2)} x (${cores} cores x inline); ` +
        `${cpuPerInputUs(m).toFixed(0)} us CPU per input (${((cpuPerInputUs(m) / inlineCpuUs - 1) * 100).toFixed(1)}% over inline), ` +
        `cores busy ${((m.cpuMs / (cores * m.seconds * 1000)) * 100).toFixed(0)}%`,
    );
  });
  return results;
}
