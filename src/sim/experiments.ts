/**
 * The five experiments of issue 14, each on real nodes in fast mode, each returning rows of simulated figures with
 * their Monte Carlo confidence intervals beside the published reference:
 * 1. stale: stale-block rate vs propagation delay (1 − e^(−τ/T); Andresen's bitcoin_miningsim figures);
 * 2. doubleSpend: attacker success vs confirmations (Nakamoto 2008 §11 and Rosenfeld 2014);
 * 3. selfish: selfish pool's relative revenue vs α for γ (Eyal & Sirer 2014, closed form and threshold);
 * 4. fairness: main-chain share vs hash share with one large, badly connected miner;
 * 5. partition: two halves mine apart, heal; reorg depth of the lighter side and time to one tip.
 */
import { COIN } from '../primitives/types.js';
import { computeTxid } from '../primitives/tx.js';
import { hashKey } from '../primitives/hashKey.js';
import type { Block } from '../primitives/types.js';
import { regtest } from '../params/networks.js';
import type { LatencySpec, TopologySpec } from './network.js';
import { meanLatencyMs } from './network.js';
import { Simulation } from './simulation.js';
import { SimUser } from './simUser.js';
import { SimRng } from './simRng.js';
import { SimError } from './simError.js';
import type { ChartSpec } from './svgChart.js';
import {
  ANDRESEN_ORPHAN_RATE,
  clopperPearson,
  meanInterval,
  nakamotoAttackSuccess,
  rosenfeldAttackSuccess,
  round6,
  selfishRevenue,
  selfishThreshold,
  staleRateApprox,
} from './references.js';

/** One row of a results table: column name → number or text. */
export type ResultRow = Record<string, number | string>;

/** What an experiment returns: the table, text lines for the terminal, and a chart. */
export interface ExperimentResult {
  readonly experiment: string;
  readonly seed: string;
  readonly columns: readonly string[];
  readonly rows: readonly ResultRow[];
  readonly notes: readonly string[];
  readonly chart: ChartSpec;
}

/** Called now and then with a line of progress (the CLI prints it on stderr). */
export type ProgressFn = (line: string) => void;

// --- 1. stale rate -------------------------------------------------------------------------------------------------

/** Scenario of the stale-rate experiment. */
export interface StaleScenario {
  readonly experiment: 'stale';
  readonly seed: string;
  /** Equal miners (default 20). */
  readonly users?: number;
  readonly topology?: TopologySpec;
  /**
   * Delays to try, seconds: the fixed one-hop link latency (delayKind 'link', default), or the finder's announce
   * delay before its block leaves (delayKind 'announce', bitcoin_miningsim's --latency) with links of linkLatencyMs.
   */
  readonly delaysSec: readonly number[];
  readonly delayKind?: 'link' | 'announce';
  /** Link latency when delayKind is 'announce', ms (default 10, as bitcoin_miningsim's mining.cfg). */
  readonly linkLatencyMs?: number;
  /** Blocks per latency. */
  readonly blocks: number;
  /** Default 600. */
  readonly blockIntervalSec?: number;
  readonly bandwidthBitsPerSec?: number;
  /**
   * Independent runs per delay (default 1), each of `blocks` blocks on its own seed; their stale and found counts are
   * pooled (stale events of different blocks are close to independent, so the binomial interval of the pooled counts is
   * the interval of the stale rate).
   */
  readonly replications?: number;
  /** Default 0.95. */
  readonly confidence?: number;
}

/** Mean shortest-path hop count between distinct nodes of the simulation's topology (BFS). */
function meanHops(sim: Simulation): number {
  const n = sim.users.length;
  let total = 0;
  let pairs = 0;
  for (let s = 0; s < n; s++) {
    const dist = new Array<number>(n).fill(-1);
    dist[s] = 0;
    const q = [s];
    for (let i = 0; i < q.length; i++) {
      for (const p of sim.network.peers(q[i]!)) {
        if (dist[p] === -1) {
          dist[p] = dist[q[i]!]! + 1;
          q.push(p);
        }
      }
    }
    for (let t = 0; t < n; t++) if (t !== s && dist[t]! > 0) (total += dist[t]!), pairs++;
  }
  return pairs === 0 ? 0 : total / pairs;
}

/** Experiment 1: stale rate = (blocks found − main-chain length) / blocks found, per latency. */
export async function runStale(sc: StaleScenario, progress: ProgressFn = () => {}): Promise<ExperimentResult> {
  const users = sc.users ?? 20;
  const T = sc.blockIntervalSec ?? 600;
  const topology = sc.topology ?? { kind: 'mesh' };
  const rows: ResultRow[] = [];
  const sim: ChartSpec['series'][number]['points'][number][] = [];
  const approx: { x: number; y: number }[] = [];
  const andresen: { x: number; y: number }[] = [];
  const announce = sc.delayKind === 'announce';
  const linkMs = sc.linkLatencyMs ?? 10;
  const R = sc.replications ?? 1;
  for (const latSec of sc.delaysSec) {
    let mined = 0;
    let stale = 0;
    let hops = 0;
    let maxReorgDepth = 0;
    const perRun: string[] = [];
    for (let r = 0; r < R; r++) {
      // Replication 0 keeps the seed of a single run, so adding replications keeps the first run's blocks.
      const s = new Simulation({
        seed: `${sc.seed}/stale/${latSec}${r === 0 ? '' : `/${r}`}`,
        blockIntervalSec: T,
        network: { latency: { kind: 'fixed', ms: announce ? linkMs : latSec * 1000 }, topology, bandwidthBitsPerSec: sc.bandwidthBitsPerSec },
        announceDelayMs: announce ? latSec * 1000 : 0,
      });
      try {
        for (let i = 0; i < users; i++) await s.addUser({ name: `miner${i}`, hashShare: 1 });
        s.startMining(sc.blocks);
        await s.runToEnd();
        const runStale = s.stats.mined - s.users[0]!.chain.height;
        mined += s.stats.mined;
        stale += runStale;
        perRun.push(`${runStale}/${s.stats.mined}`);
        hops += meanHops(s) / R;
        maxReorgDepth = Math.max(maxReorgDepth, ...s.users.map((u) => u.maxReorgDepth));
      } finally {
        await s.close();
      }
    }
    const est = clopperPearson(stale, mined, sc.confidence ?? 0.95);
    const tauSec = announce ? latSec + (hops * linkMs) / 1000 : hops * latSec;
    const ref = staleRateApprox(tauSec, T);
    // The finder mines on its own block at once, so only the other miners' share can fork it during τ.
    const refOthers = ((users - 1) / users) * ref;
    const andr = users === 10 && topology.kind === 'ring' && announce ? ANDRESEN_ORPHAN_RATE[latSec] : undefined;
    const inCi = (x: number): string => (x >= est.lo && x <= est.hi ? 'yes' : 'no');
    rows.push({
      delaySec: latSec,
      meanHops: round6(hops),
      runs: R,
      blocks: mined,
      stale,
      staleRate: round6(est.value),
      ciLo: round6(est.lo),
      ciHi: round6(est.hi),
      approx: round6(ref),
      approxInCi: inCi(ref),
      approxOthers: round6(refOthers),
      approxOthersInCi: inCi(refOthers),
      andresen: andr ?? '',
      andresenInCi: andr === undefined ? '' : inCi(andr),
      maxReorgDepth,
      staleByRun: perRun.join(' '),
    });
    sim.push({ x: latSec, y: est.value * 100, lo: est.lo * 100, hi: est.hi * 100 });
    approx.push({ x: latSec, y: ref * 100 });
    if (andr !== undefined) andresen.push({ x: latSec, y: andr * 100 });
    progress(
      `stale: delay ${latSec} s, ${R} run(s) → ${(est.value * 100).toFixed(3)} % [${(est.lo * 100).toFixed(3)}, ${(est.hi * 100).toFixed(3)}] ` +
        `vs 1−e^(−τ/T) ${(ref * 100).toFixed(3)} %, ×(n−1)/n ${(refOthers * 100).toFixed(3)} %`,
    );
  }
  const maxDelay = Math.max(...sc.delaysSec);
  const dense = Array.from({ length: 41 }, (_x, i) => (maxDelay * i) / 40);
  const hopsAll = Number(rows[0]?.['meanHops'] ?? 1);
  approx.splice(0, approx.length, ...dense.map((x) => ({ x, y: staleRateApprox(announce ? x + (hopsAll * linkMs) / 1000 : hopsAll * x, T) * 100 })));
  const approxOthers = approx.map((p) => ({ x: p.x, y: (p.y * (users - 1)) / users }));
  return {
    experiment: 'stale',
    seed: sc.seed,
    columns: [
      'delaySec', 'meanHops', 'runs', 'blocks', 'stale', 'staleRate', 'ciLo', 'ciHi', 'approx', 'approxInCi', 'approxOthers', 'approxOthersInCi',
      'andresen', 'andresenInCi', 'maxReorgDepth', 'staleByRun',
    ],
    rows,
    notes: [
      announce
        ? `${users} equal miners, ${topology.kind} topology, ${linkMs} ms links, T = ${T} s; delay = finder's announce delay; τ = delay + mean hops × link latency`
        : `${users} equal miners, ${topology.kind} topology, T = ${T} s; delay = one-hop latency; τ = mean hop count × delay`,
      `staleRate = (blocks found − main-chain length) / blocks found, pooled over ${R} run(s) of ${sc.blocks} blocks; Clopper–Pearson interval`,
      'approxOthers = (n−1)/n · (1 − e^(−τ/T)): the finder builds on its own block at once, so only the other n−1 miners can fork it',
      ...(andresen.length > 0
        ? ["Andresen's bitcoin_miningsim (10 miners, ring of 10 ms links, --latency = announce delay; one run of 2016 blocks): 0.1984 % at 1 s, 3.224 % at 20 s"]
        : []),
    ],
    chart: {
      title: `Stale rate vs latency (${users} miners, ${topology.kind})`,
      xLabel: announce ? 'announce delay (s)' : 'one-hop latency (s)',
      yLabel: 'stale rate (%)',
      series: [
        { name: 'simulated (95% CI)', points: sim, style: 'markers' },
        { name: '1 − e^(−τ/T)', points: approx, style: 'line' },
        { name: '(n−1)/n · (1 − e^(−τ/T))', points: approxOthers, style: 'line' },
        ...(andresen.length > 0 ? [{ name: 'Andresen miningsim', points: andresen, style: 'markers' as const }] : []),
      ],
    },
  };
}

// --- 2. double spend -----------------------------------------------------------------------------------------------

/** Scenario of the double-spend experiment. */
export interface DoubleSpendScenario {
  readonly experiment: 'doubleSpend';
  readonly seed: string;
  /** Attacker hash shares (default [0.1, 0.3]). */
  readonly q?: readonly number[];
  /** Confirmations the merchant waits for. */
  readonly z: readonly number[];
  /** Races per (q, z). */
  readonly trials: number;
  /** The attacker gives up when this many blocks behind… default: when (q/p)^deficit < 1e-4. */
  readonly giveUpDeficit?: number;
  readonly confidence?: number;
}

/**
 * The double-spend race of Rosenfeld's model without nodes, on the same random draws doubleSpendRace takes from `rng`
 * (one inter-block time for the pre-mined block, then per block a time and the finder): true when the attacker's
 * branch (one pre-mined block plus its finds) gets longer than the honest one once the honest one has z blocks. The
 * node race must give the same outcome on the same stream (the experiments test replays it).
 */
export function doubleSpendRaceModel(q: number, z: number, giveUp: number, rng: SimRng): boolean {
  rng.exponential(600);
  let attacker = 1;
  let honest = 0;
  for (;;) {
    if (honest >= z && attacker > honest) return true;
    if (honest - attacker >= giveUp) return false;
    rng.exponential(600);
    if (!rng.chance(q)) honest++;
    else attacker++;
  }
}

/**
 * One double-spend race on two real nodes: the merchant's (the honest network, share p) and the attacker's (share q).
 * The attacker signs two spends of one coin: tx1 pays the merchant (given to the merchant's mempool, mined by the honest
 * network), tx2 pays itself (in the attacker's pre-mined private block — Rosenfeld's assumption). Blocks come from the
 * honest side with probability p. Once the merchant's tx1 block has z confirmations and the attacker's branch is longer,
 * the attacker publishes: the merchant's node reorgs by most work, and success is read from the merchant's UTXO set
 * (tx2's output present). The loser's node then takes the winner's branch.
 */
async function doubleSpendRace(
  merchant: SimUser,
  attacker: SimUser,
  q: number,
  z: number,
  giveUp: number,
  rng: SimRng,
  clock: { now: number },
): Promise<boolean> {
  const fee = 1_000n;
  // A small payment (the race does not depend on the amount): each lost race costs the attacker the payment, and
  // thousands of races at 1 COIN each used up its coins (the run died on insufficient funds at q = 0.1, z = 10).
  const payment = COIN / 1_000n;
  const coin = attacker.spendableCoins().find((c) => c.output.value >= payment + fee);
  if (coin === undefined) throw new SimError('insufficient-funds', 'attacker has no coin to pay the merchant');
  const tx1 = attacker.sign([coin], [
    { value: payment, scriptPubKey: merchant.scriptPubKey },
    { value: coin.output.value - payment - fee, scriptPubKey: attacker.scriptPubKey },
  ]);
  const tx2 = attacker.sign([coin], [{ value: coin.output.value - fee, scriptPubKey: attacker.scriptPubKey }]);
  const step = (): number => (clock.now += Math.max(1, Math.round(rng.exponential(600))));
  await attacker.submit(tx2);
  step();
  const attackerBlocks: Block[] = [attacker.buildBlock(clock.now, '/attacker/')];
  await attacker.processBlock(attackerBlocks[0]!);
  await merchant.submit(tx1);
  const honestBlocks: Block[] = [];
  for (;;) {
    if (honestBlocks.length >= z && attackerBlocks.length > honestBlocks.length) break;
    if (honestBlocks.length - attackerBlocks.length >= giveUp) break;
    step();
    if (!rng.chance(q)) {
      const b = merchant.buildBlock(clock.now, '/honest/');
      await merchant.processBlock(b);
      honestBlocks.push(b);
    } else {
      const b = attacker.buildBlock(clock.now, '/attacker/');
      await attacker.processBlock(b);
      attackerBlocks.push(b);
    }
  }
  const attackerWon = attackerBlocks.length > honestBlocks.length;
  const [winner, loser, branch] = attackerWon ? [attacker, merchant, attackerBlocks] : [merchant, attacker, honestBlocks];
  for (const b of branch) await loser.processBlock(b);
  await merchant.settle();
  await attacker.settle();
  if (winner.chain.tip.hashHex !== loser.chain.tip.hashHex) throw new Error('double spend: nodes did not converge');
  // Read the outcome from the merchant's own UTXO set, not from the counters.
  const paid = merchant.chain.getCoin({ txid: computeTxid(tx1), index: 0 }) !== undefined;
  const reversed = merchant.chain.getCoin({ txid: computeTxid(tx2), index: 0 }) !== undefined;
  if (paid === reversed) throw new Error('double spend: exactly one of the two spends must be confirmed');
  return reversed;
}

/** Experiment 2: double-spend success rate by (q, z), with Rosenfeld's and the whitepaper's figures. */
export async function runDoubleSpend(sc: DoubleSpendScenario, progress: ProgressFn = () => {}): Promise<ExperimentResult> {
  const rows: ResultRow[] = [];
  const series: ChartSpec['series'][number][] = [];
  const qs = sc.q ?? [0.1, 0.3];
  for (const q of qs) {
    if (!(q > 0 && q < 0.5)) throw new SimError('bad-scenario', `q must be in (0, 0.5), got ${q}`);
    const giveUp = sc.giveUpDeficit ?? Math.max(2, Math.ceil(Math.log(1e-4) / Math.log(q / (1 - q))));
    const clock = { now: regtest.genesis.header.time + 1 };
    const nowSec = (): number => clock.now;
    const merchant = await SimUser.create(regtest, { name: 'merchant', index: 0, hashShare: 1 - q, seed: sc.seed }, nowSec);
    const attacker = await SimUser.create(regtest, { name: 'attacker', index: 1, hashShare: q, seed: sc.seed }, nowSec);
    const simPts: { x: number; y: number; lo: number; hi: number }[] = [];
    const rosPts: { x: number; y: number }[] = [];
    const nakPts: { x: number; y: number }[] = [];
    try {
      // Fund the attacker: mined coinbases mature after 100 blocks (both nodes see the same history).
      for (let i = 0; i < 101 + 4; i++) {
        clock.now += 600;
        const b = attacker.buildBlock(clock.now, `/setup${i}/`);
        await attacker.processBlock(b);
        await merchant.processBlock(b);
      }
      for (const z of sc.z) {
        const rng = new SimRng(`${sc.seed}/doubleSpend/${q}/${z}`);
        let wins = 0;
        for (let t = 0; t < sc.trials; t++) if (await doubleSpendRace(merchant, attacker, q, z, giveUp, rng, clock)) wins++;
        const est = clopperPearson(wins, sc.trials, sc.confidence ?? 0.95);
        const ros = rosenfeldAttackSuccess(q, z);
        const nak = nakamotoAttackSuccess(q, z);
        rows.push({
          q, z, trials: sc.trials, successes: wins,
          simulated: round6(est.value), ciLo: round6(est.lo), ciHi: round6(est.hi),
          rosenfeld: round6(ros), nakamoto: round6(nak),
          rosenfeldInCi: ros >= est.lo && ros <= est.hi ? 'yes' : 'no',
          nakamotoInCi: nak >= est.lo && nak <= est.hi ? 'yes' : 'no',
        });
        simPts.push({ x: z, y: est.value, lo: est.lo, hi: est.hi });
        progress(`doubleSpend: q=${q} z=${z} → ${est.value.toFixed(4)} [${est.lo.toFixed(4)}, ${est.hi.toFixed(4)}] Rosenfeld ${ros.toFixed(4)} whitepaper ${nak.toFixed(4)}`);
      }
    } finally {
      await merchant.close();
      await attacker.close();
    }
    for (let z = 0; z <= Math.max(...sc.z); z++) {
      rosPts.push({ x: z, y: rosenfeldAttackSuccess(q, z) });
      nakPts.push({ x: z, y: nakamotoAttackSuccess(q, z) });
    }
    series.push({ name: `simulated q=${q}`, points: simPts, style: 'markers' });
    series.push({ name: `Rosenfeld q=${q}`, points: rosPts, style: 'line' });
    series.push({ name: `whitepaper q=${q}`, points: nakPts, style: 'line' });
  }
  return {
    experiment: 'doubleSpend',
    seed: sc.seed,
    columns: ['q', 'z', 'trials', 'successes', 'simulated', 'ciLo', 'ciHi', 'rosenfeld', 'nakamoto', 'rosenfeldInCi', 'nakamotoInCi'],
    rows,
    notes: [
      "The simulation follows Rosenfeld's model: block arrivals are a real race (each next block is the attacker's with",
      "probability q, so its progress while the merchant waits is negative binomial), and the attacker has pre-mined one",
      'block; success = the merchant node reorgs to the attacker branch (strictly more work). The whitepaper approximates',
      `the attacker's progress by a Poisson law, so its figures are lower (e.g. q=0.1, z=5: 0.0009137 vs 0.0017818).`,
      'The attacker gives up when (q/p)^deficit < 1e-4 (bias below 1e-4).',
      `${sc.trials} races a point; Clopper–Pearson (exact binomial) interval, which keeps its coverage for rare successes.`,
    ],
    chart: { title: 'Double-spend success vs confirmations', xLabel: 'confirmations z', yLabel: 'attacker success probability', series },
  };
}

// --- 3. selfish mining ---------------------------------------------------------------------------------------------

/** Scenario of the selfish-mining experiment. */
export interface SelfishScenario {
  readonly experiment: 'selfish';
  readonly seed: string;
  readonly alphas: readonly number[];
  /** Default [0, 0.5]. */
  readonly gammas?: readonly number[];
  /** Honest miners (equal shares of 1 − α); default 20. */
  readonly honestMiners?: number;
  /** Blocks per (α, γ). */
  readonly blocks: number;
  /** Latency between honest miners, ms (default 100); the pool's links have 0. */
  readonly honestLatencyMs?: number;
  /** Batches for the batch-means interval of a single run (default 10). */
  readonly batches?: number;
  /** Independent runs per (α, γ) (default 1); with 2 or more the interval is that of their revenues. */
  readonly replications?: number;
  readonly confidence?: number;
}

/** Share of a main-chain slice's blocks found by `who`, per batch (batch means of a correlated series). */
function batchShares(finders: readonly number[], who: (f: number) => boolean, batches: number): number[] {
  const size = Math.floor(finders.length / batches);
  const out: number[] = [];
  for (let b = 0; b < batches && size > 0; b++) {
    const slice = finders.slice(b * size, (b + 1) * size);
    out.push(slice.filter(who).length / slice.length);
  }
  return out;
}

/** Finder index of each main-chain block of a user's chain, heights 1..tip. */
function mainChainFinders(sim: Simulation, user: SimUser): number[] {
  const out: number[] = [];
  for (let h = 1; h <= user.chain.height; h++) out.push(sim.finder.get(hashKey(user.chain.getEntryByHeight(h)!.hash)) ?? -1);
  return out;
}

/**
 * Eyal & Sirer's state machine without nodes, at γ = 0: given who found each block in order (true = the pool), the
 * settled main-chain blocks of the pool and of the honest miners (a private lead still withheld at the end counts
 * for neither). The node simulation must settle the same chain on the same finder order (the experiments test
 * replays it); the closed form is this machine's long-run average.
 * @see Eyal & Sirer 2014, Algorithm 1 and the state machine of its Figure 1
 */
export function selfishMiningModel(finderIsPool: readonly boolean[]): { pool: number; honest: number } {
  let lead = 0;
  let tie = false;
  let pool = 0;
  let honest = 0;
  for (const isPool of finderIsPool) {
    if (isPool) {
      if (tie) (pool += 2), (tie = false);
      else lead++;
    } else if (tie) {
      // γ = 0: every honest miner mines on the honest block of the tie; it wins with the new block.
      (honest += 2), (tie = false);
    } else if (lead === 0) honest++;
    else if (lead === 1) (tie = true), (lead = 0);
    else if (lead === 2) (pool += 2), (lead = 0);
    else (pool += 1), lead--;
  }
  return { pool, honest };
}

/**
 * Experiment 3: a selfish pool (SelfishMiner on a real node) of share α among equal honest miners. γ is made by the
 * network, not by a coin flip: the pool hears every block at once (0 ms links) and its published blocks reach
 * round(γ·H) of the H honest miners at once and the others 2× the honest latency later, so in a tie race those
 * miners have seen the pool's block first and mine on it (first-seen rule of the real Chain). The finder of the
 * honest block always mines on its own, so the effective γ is γ·(H−1)/H (shown, with the closed form at it).
 */
export async function runSelfish(sc: SelfishScenario, progress: ProgressFn = () => {}): Promise<ExperimentResult> {
  const H = sc.honestMiners ?? 20;
  const d = sc.honestLatencyMs ?? 100;
  const rows: ResultRow[] = [];
  const series: ChartSpec['series'][number][] = [];
  for (const gamma of sc.gammas ?? [0, 0.5]) {
    const g = Math.round(gamma * H);
    const gammaEff = H > 0 ? (g * (H - 1)) / (H * H) : 0;
    const simPts: { x: number; y: number; lo: number; hi: number }[] = [];
    const refPts: { x: number; y: number }[] = [];
    for (const alpha of sc.alphas) {
      if (!(alpha > 0 && alpha < 0.5)) throw new SimError('bad-scenario', `alpha must be in (0, 0.5), got ${alpha}`);
      const R = sc.replications ?? 1;
      const revenues: number[] = [];
      let finders: number[] = [];
      let mined = 0;
      let mainChain = 0;
      let poolIndex = 0;
      for (let r = 0; r < R; r++) {
        // Replication 0 keeps the seed of a single run, so adding replications keeps the first run's blocks.
        const seed = `${sc.seed}/selfish/${gamma}/${alpha}${r === 0 ? '' : `/${r}`}`;
        const s = new Simulation({ seed, network: { latency: { kind: 'fixed', ms: d }, topology: { kind: 'mesh' } } });
        try {
          const pool = await s.addUser({ name: 'pool', hashShare: alpha, behaviour: 'selfish' });
          poolIndex = pool.index;
          for (let i = 0; i < H; i++) {
            const u = await s.addUser({ name: `honest${i}`, hashShare: (1 - alpha) / H });
            s.network.setLinkLatency(pool.index, u.index, { kind: 'fixed', ms: 0 });
          }
          const gammaGroup = new Set(s.users.slice(1, 1 + g).map((u) => u.index));
          s.setPublishDelay(pool.index, (peer) => (gammaGroup.has(peer) ? 0 : 2 * d));
          s.startMining(sc.blocks);
          await s.runToEnd();
          finders = mainChainFinders(s, s.users[1]!);
          mined += s.stats.mined;
          mainChain += finders.length;
          revenues.push(finders.filter((f) => f === pool.index).length / finders.length);
        } finally {
          await s.close();
        }
      }
      const conf = sc.confidence ?? 0.95;
      // One run: batch means of its main chain (understates the spread near α = 0.5, where the pool's leads are long);
      // several: the interval of the independent replications' revenues.
      const est = R > 1 ? meanInterval(revenues, conf) : meanInterval(batchShares(finders, (f) => f === poolIndex, sc.batches ?? 10), conf);
      const whole = revenues.reduce((a, b) => a + b, 0) / R;
      const ref = selfishRevenue(alpha, gamma);
      const refEff = selfishRevenue(alpha, gammaEff);
      rows.push({
        gamma, gammaEff: round6(gammaEff), alpha, blocks: mined, mainChain,
        revenue: round6(whole), ciLo: round6(est.lo), ciHi: round6(est.hi),
        eyalSirer: round6(ref), eyalSirerAtGammaEff: round6(refEff), honest: alpha,
        referenceInCi: (ref >= est.lo && ref <= est.hi) || (refEff >= est.lo && refEff <= est.hi) ? 'yes' : 'no',
        profitable: whole > alpha ? 'yes' : 'no',
        threshold: round6(selfishThreshold(gamma)),
      });
      simPts.push({ x: alpha, y: whole, lo: est.lo, hi: est.hi });
      progress(`selfish: γ=${gamma} α=${alpha} → revenue ${whole.toFixed(4)} [${est.lo.toFixed(4)}, ${est.hi.toFixed(4)}] vs Eyal–Sirer ${ref.toFixed(4)}`);
    }
    for (let i = 1; i < 50; i++) refPts.push({ x: i / 100, y: Math.max(0, selfishRevenue(i / 100, gamma)) });
    series.push({ name: `simulated γ=${gamma}`, points: simPts, style: 'markers' });
    series.push({ name: `Eyal–Sirer γ=${gamma}`, points: refPts, style: 'line' });
  }
  series.push({ name: 'honest (revenue = α)', points: [{ x: 0.01, y: 0.01 }, { x: 0.49, y: 0.49 }], style: 'line' });
  return {
    experiment: 'selfish',
    seed: sc.seed,
    columns: ['gamma', 'gammaEff', 'alpha', 'blocks', 'mainChain', 'revenue', 'ciLo', 'ciHi', 'eyalSirer', 'eyalSirerAtGammaEff', 'honest', 'referenceInCi', 'profitable', 'threshold'],
    rows,
    notes: [
      `pool + ${H} honest miners, honest latency ${d} ms, pool links 0 ms; revenue = pool's share of the main chain`,
      (sc.replications ?? 1) > 1
        ? `interval: Student t over ${sc.replications} independent runs of ${sc.blocks} blocks`
        : 'interval: batch means of one run (narrower than the true spread near α = 0.5; use replications)',
      'threshold (1−γ)/(3−2γ): 1/3 at γ = 0, 1/4 at γ = 0.5 — selfish mining pays where revenue > α',
    ],
    chart: { title: 'Selfish pool relative revenue vs hash share', xLabel: 'pool hash share α', yLabel: 'share of main-chain blocks', series },
  };
}

// --- 4. fairness ---------------------------------------------------------------------------------------------------

/** Scenario of the fairness experiment. */
export interface FairnessScenario {
  readonly experiment: 'fairness';
  readonly seed: string;
  /** Miners in all (default 10): one large, the rest equal. */
  readonly users?: number;
  /** Hash share of the large miner (default 0.3). */
  readonly largeShare?: number;
  /** Latency of the large miner's links, s (default 10). */
  readonly largeLatencySec?: number;
  /** Latency of the other links, s (default 1). */
  readonly latencySec?: number;
  readonly blocks: number;
  readonly blockIntervalSec?: number;
  readonly batches?: number;
  readonly confidence?: number;
}

/** Experiment 4: each miner's share of the main chain against its hash share. */
export async function runFairness(sc: FairnessScenario, progress: ProgressFn = () => {}): Promise<ExperimentResult> {
  const n = sc.users ?? 10;
  const large = sc.largeShare ?? 0.3;
  const s = new Simulation({
    seed: `${sc.seed}/fairness`,
    blockIntervalSec: sc.blockIntervalSec ?? 600,
    network: { latency: { kind: 'fixed', ms: (sc.latencySec ?? 1) * 1000 }, topology: { kind: 'mesh' } },
  });
  const rows: ResultRow[] = [];
  const simPts: { x: number; y: number; lo: number; hi: number }[] = [];
  try {
    const big = await s.addUser({ name: 'large', hashShare: large });
    for (let i = 1; i < n; i++) {
      const u = await s.addUser({ name: `small${i}`, hashShare: (1 - large) / (n - 1) });
      s.network.setLinkLatency(big.index, u.index, { kind: 'fixed', ms: (sc.largeLatencySec ?? 10) * 1000 });
    }
    s.startMining(sc.blocks);
    await s.runToEnd();
    const finders = mainChainFinders(s, s.users[1]!);
    for (const u of s.users) {
      const est = meanInterval(batchShares(finders, (f) => f === u.index, sc.batches ?? 10), sc.confidence ?? 0.95);
      const share = finders.filter((f) => f === u.index).length / finders.length;
      const found = s.stats.minedBy[u.index]!;
      const inMain = finders.filter((f) => f === u.index).length;
      rows.push({
        miner: u.name, hashShare: round6(u.hashShare), found, inMainChain: inMain,
        mainShare: round6(share), ciLo: round6(est.lo), ciHi: round6(est.hi),
        staleRate: round6(found === 0 ? 0 : (found - inMain) / found),
        fair: u.hashShare >= est.lo && u.hashShare <= est.hi ? 'yes' : 'no',
      });
      simPts.push({ x: u.hashShare, y: share, lo: est.lo, hi: est.hi });
    }
    progress(`fairness: large miner ${large} → main-chain share ${rows[0]!['mainShare']}`);
  } finally {
    await s.close();
  }
  return {
    experiment: 'fairness',
    seed: sc.seed,
    columns: ['miner', 'hashShare', 'found', 'inMainChain', 'mainShare', 'ciLo', 'ciHi', 'staleRate', 'fair'],
    rows,
    notes: [
      `${n} miners; the large one (${large}) has ${sc.largeLatencySec ?? 10} s links, the others ${sc.latencySec ?? 1} s`,
      'reference: a fair chain gives each miner its hash share (the diagonal)',
    ],
    chart: {
      title: 'Main-chain share vs hash share',
      xLabel: 'hash share',
      yLabel: 'share of main-chain blocks',
      series: [
        { name: 'simulated (95% CI)', points: simPts, style: 'markers' },
        { name: 'fair (= hash share)', points: [{ x: 0, y: 0 }, { x: Math.max(large, 0.01), y: Math.max(large, 0.01) }], style: 'line' },
      ],
    },
  };
}

// --- 5. partition and heal -----------------------------------------------------------------------------------------

/** Scenario of the partition experiment. */
export interface PartitionScenario {
  readonly experiment: 'partition';
  readonly seed: string;
  /** Users (default 10), split in two halves. */
  readonly users?: number;
  /** Total hash share of the first half (default 0.4): the lighter side. */
  readonly lightShare?: number;
  /** How long the halves mine apart, s (default 6000 = 10 blocks). */
  readonly partitionSec?: number;
  readonly latency?: LatencySpec;
  /** Independent runs (default 20). */
  readonly runs?: number;
  readonly blockIntervalSec?: number;
  readonly confidence?: number;
}

/** E[min(X, Y)] for independent Poisson X, Y (the expected reorg depth of the side with fewer blocks). */
function expectedMinPoisson(a: number, b: number): number {
  const K = Math.ceil(Math.max(a, b) + 12 * Math.sqrt(Math.max(a, b, 1)) + 20);
  const pmf = (l: number): number[] => {
    const out = [Math.exp(-l)];
    for (let k = 1; k <= K; k++) out.push((out[k - 1]! * l) / k);
    return out;
  };
  const pa = pmf(a);
  const pb = pmf(b);
  // E[min] = Σ_{k≥1} P(X ≥ k) P(Y ≥ k)
  let tailA = 1;
  let tailB = 1;
  let e = 0;
  for (let k = 1; k <= K; k++) {
    tailA -= pa[k - 1]!;
    tailB -= pb[k - 1]!;
    e += Math.max(0, tailA) * Math.max(0, tailB);
  }
  return e;
}

/** Experiment 5: partition, mine apart, heal; depth of the reorg and time until every node has one tip. */
export async function runPartition(sc: PartitionScenario, progress: ProgressFn = () => {}): Promise<ExperimentResult> {
  const n = sc.users ?? 10;
  const half = Math.floor(n / 2);
  const light = sc.lightShare ?? 0.4;
  const T = sc.blockIntervalSec ?? 600;
  const D = sc.partitionSec ?? 6000;
  const latency = sc.latency ?? { kind: 'fixed', ms: 1000 };
  const rows: ResultRow[] = [];
  const depths: number[] = [];
  const times: number[] = [];
  for (let r = 0; r < (sc.runs ?? 20); r++) {
    const s = new Simulation({ seed: `${sc.seed}/partition/${r}`, blockIntervalSec: T, network: { latency, topology: { kind: 'mesh' } } });
    try {
      for (let i = 0; i < n; i++) await s.addUser({ name: `user${i}`, hashShare: i < half ? light / half : (1 - light) / (n - half) });
      s.partition(s.users.map((u) => (u.index < half ? 0 : 1)));
      const t0 = s.queue.nowMs;
      s.startMining();
      await s.runUntil(t0 + D * 1000);
      const minedA = s.users.slice(0, half).reduce((acc, u) => acc + s.stats.minedBy[u.index]!, 0);
      const minedB = s.stats.mined - minedA;
      for (const u of s.users) u.maxReorgDepth = 0;
      s.heal();
      const healMs = s.queue.nowMs;
      await s.queue.runUntil(healMs + 100 * T * 1000, () => s.oneTip());
      const toOneTipSec = (s.queue.nowMs - healMs) / 1000;
      s.stopMining();
      await s.runToEnd();
      const depth = Math.max(...s.users.map((u) => u.maxReorgDepth));
      depths.push(depth);
      times.push(toOneTipSec);
      rows.push({ run: r, minedLight: minedA, minedHeavy: minedB, reorgDepth: depth, toOneTipSec: round6(toOneTipSec), oneTip: s.oneTip() ? 'yes' : 'no' });
    } finally {
      await s.close();
    }
  }
  const conf = sc.confidence ?? 0.95;
  const dEst = meanInterval(depths, conf);
  const tEst = meanInterval(times, conf);
  const ref = expectedMinPoisson((light * D) / T, ((1 - light) * D) / T);
  progress(`partition: mean reorg depth ${dEst.value.toFixed(3)} [${dEst.lo.toFixed(3)}, ${dEst.hi.toFixed(3)}] vs E[min(X,Y)] ${ref.toFixed(3)}; time to one tip ${tEst.value.toFixed(1)} s`);
  rows.push({ run: 'mean', minedLight: '', minedHeavy: '', reorgDepth: round6(dEst.value), toOneTipSec: round6(tEst.value), oneTip: '' });
  rows.push({ run: 'ciLo', minedLight: '', minedHeavy: '', reorgDepth: round6(dEst.lo), toOneTipSec: round6(tEst.lo), oneTip: '' });
  rows.push({ run: 'ciHi', minedLight: '', minedHeavy: '', reorgDepth: round6(dEst.hi), toOneTipSec: round6(tEst.hi), oneTip: '' });
  rows.push({ run: 'reference', minedLight: '', minedHeavy: '', reorgDepth: round6(ref), toOneTipSec: round6((3 * meanLatencyMs(latency)) / 1000), oneTip: '' });
  return {
    experiment: 'partition',
    seed: sc.seed,
    columns: ['run', 'minedLight', 'minedHeavy', 'reorgDepth', 'toOneTipSec', 'oneTip'],
    rows,
    notes: [
      `${n} users in two halves (hash ${light} / ${1 - light}), apart for ${D} s (T = ${T} s), then healed`,
      'reorg depth reference: E[min(X, Y)], X, Y Poisson of the blocks each side finds (the side with fewer blocks reorgs)',
      'time to one tip reference: three latencies (tip announcement, getblocks with the locator, the branch in reply);',
      'when both sides found the same number of blocks the tips tie (equal work, first seen kept) until the next block',
    ],
    chart: {
      title: 'Partition and heal: reorg depth per run',
      xLabel: 'run',
      yLabel: 'reorg depth (blocks)',
      series: [
        { name: 'simulated', points: depths.map((y, x) => ({ x, y })), style: 'markers' },
        { name: 'E[min(X,Y)]', points: [{ x: 0, y: ref }, { x: Math.max(1, depths.length - 1), y: ref }], style: 'line' },
      ],
    },
  };
}
