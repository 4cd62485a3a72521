/**
 * Fast mode's speed: simulated blocks per second at 20 users (every user a real node that validates and connects
 * every block: Chain on in-memory SQLite, Mempool, BlockAssembler; 1 s links, full mesh, 600 s blocks), against the
 * same run's single-user rate (the cost of one node's mining + validation, the floor of the per-block cost). The
 * figures are per second of this process's CPU time (the machine is shared; wall time is printed beside), and the
 * time 10,000 blocks among 20 users would take at the measured rate (the "in minutes" goal).
 */
import { Simulation } from '../src/sim/simulation.js';

/** Figures of the sim bench. */
export interface SimBenchResult {
  readonly blocks: number;
  readonly users20BlocksPerCpuSec: number;
  readonly users20BlocksPerWallSec: number;
  readonly user1BlocksPerCpuSec: number;
  readonly ratio: number;
  readonly nodeBlocksPerCpuSec: number;
  readonly tenThousandBlocksMin: number;
}

async function run(users: number, blocks: number): Promise<{ cpuSec: number; wallSec: number; mined: number }> {
  const sim = new Simulation({ seed: `bench/${users}`, network: { latency: { kind: 'fixed', ms: 1000 }, topology: { kind: 'mesh' } } });
  try {
    for (let i = 0; i < users; i++) await sim.addUser({ name: `u${i}`, hashShare: 1 });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    sim.startMining(blocks);
    await sim.runToEnd();
    const cpu = process.cpuUsage(cpu0);
    return { cpuSec: (cpu.user + cpu.system) / 1e6, wallSec: (performance.now() - t0) / 1000, mined: sim.stats.mined };
  } finally {
    await sim.close();
  }
}

/** Runs the bench: about `seconds` × 150 blocks at 20 users, then the same count with one user. */
export async function runSimBench(seconds: number): Promise<SimBenchResult> {
  const blocks = Math.max(100, Math.round(seconds * 150));
  const many = await run(20, blocks);
  const one = await run(1, blocks);
  const r20 = many.mined / many.cpuSec;
  const r1 = one.mined / one.cpuSec;
  const result: SimBenchResult = {
    blocks,
    users20BlocksPerCpuSec: r20,
    users20BlocksPerWallSec: many.mined / many.wallSec,
    user1BlocksPerCpuSec: r1,
    ratio: r20 / r1,
    nodeBlocksPerCpuSec: (many.mined * 20) / many.cpuSec,
    tenThousandBlocksMin: 10_000 / r20 / 60,
  };
  console.log(
    `sim: fast mode, ${blocks} blocks: 20 users ${r20.toFixed(0)} blocks/CPU-s (${result.users20BlocksPerWallSec.toFixed(0)} blocks/wall-s), ` +
      `1 user ${r1.toFixed(0)} blocks/CPU-s; ratio 20-user/1-user ${result.ratio.toFixed(3)} ` +
      `(${result.nodeBlocksPerCpuSec.toFixed(0)} node-block validations/CPU-s); 10,000 blocks × 20 users ≈ ${result.tenThousandBlocksMin.toFixed(1)} min`,
  );
  return result;
}
