/**
 * SimBlock comparator (dsg-titech/simblock, Aoki et al. 2019): SimBlock's Bitcoin scenario and cairn's fast mode on the
 * same parameters — node count, 600 s blocks, 535,000-byte blocks, SimBlock's six regions with their 2019 shares,
 * latency and upload/download tables, 8 outbound links a node — printing both simulators' block propagation time
 * (ms until 50 % and 90 % of the nodes have a block, median over blocks), stale rate and wall/CPU time.
 *
 * SimBlock is not part of cairn: the bench compiles it from the git mirror that `fetch github:dsg-titech/simblock`
 * leaves under /work/.mirror (or $SIMBLOCK_MIRROR) with plain javac (it needs only the JDK) into a temp folder, with
 * its compile-time settings NUM_OF_NODES and END_BLOCK_HEIGHT rewritten there; it skips with a message when the mirror
 * or javac is missing. Two SimBlock runs: its default (compact block relay for 96.4 % of nodes) and legacy relay
 * (CBR_USAGE_RATE = 0: every hop sends the full block), the one cairn's relay matches (cairn has no compact blocks).
 *
 * Model differences, printed with the figures: SimBlock relays inv → getdata → block (three latencies a hop) and a node
 * uploads one block at a time to all its peers in turn; cairn pushes the block (one message) and each directed link
 * has its own queue. cairn's links here get 3 × the region latency to count SimBlock's three messages; the upload
 * difference remains (cairn's node sends to its peers in parallel, so it propagates faster at 535 KB).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Simulation } from '../src/sim/simulation.js';
import { SimRng } from '../src/sim/simRng.js';

/**
 * SimBlock's published network model (simulator/src/main/java/simblock/settings/NetworkConfiguration.java, the 2019
 * tables): regions North America, Europe, South America, Asia-Pacific, Japan, Australia; mean latency ms between them;
 * download and upload bandwidth bits/s; the share of Bitcoin nodes in each.
 */
const REGIONS = ['NORTH_AMERICA', 'EUROPE', 'SOUTH_AMERICA', 'ASIA_PACIFIC', 'JAPAN', 'AUSTRALIA'];
const LATENCY_MS = [
  [32, 124, 184, 198, 151, 189],
  [124, 11, 227, 237, 252, 294],
  [184, 227, 88, 325, 301, 322],
  [198, 237, 325, 85, 58, 198],
  [151, 252, 301, 58, 12, 126],
  [189, 294, 322, 198, 126, 16],
];
const DOWNLOAD_BPS = [52_000_000, 40_000_000, 18_000_000, 22_800_000, 22_800_000, 29_900_000];
const UPLOAD_BPS = [19_200_000, 20_700_000, 5_800_000, 15_700_000, 10_200_000, 11_300_000];
const REGION_SHARE = [0.3316, 0.4998, 0.009, 0.1177, 0.0224, 0.0195];
const BLOCK_BYTES = 535_000;
const INTERVAL_SEC = 600;
const OUTBOUND = 8;

/** One simulator's figures. */
export interface PropagationFigures {
  readonly name: string;
  readonly nodes: number;
  readonly blocks: number;
  readonly stale: number;
  /** Median over blocks of the ms until 50 % / 90 % of the nodes had the block. */
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly wallSec: number;
  readonly cpuSec?: number;
}

/** Figures of the SimBlock bench, or why it was skipped. */
export type SimBlockBenchResult = { readonly skipped: string } | { readonly runs: readonly PropagationFigures[] };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)]!;
}

/** Ms until `share` of `nodes` nodes had the block, from its arrival delays (missing nodes never had it). */
function reachMs(delays: number[], nodes: number, share: number): number {
  const s = [...delays].sort((a, b) => a - b);
  const k = Math.ceil(share * nodes);
  return k <= s.length ? s[k - 1]! : Infinity;
}

function listJava(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...listJava(p));
    else if (p.endsWith('.java')) out.push(p);
  }
  return out;
}

/** Compiles SimBlock from the mirror into `work` with the given settings; returns the classpath. */
function buildSimBlock(mirror: string, work: string, nodes: number, blocks: number, cbr: boolean): string {
  const src = join(work, 'src');
  mkdirSync(src, { recursive: true });
  const tar = execFileSync('git', ['--git-dir', mirror, 'archive', 'HEAD', 'simulator/src'], { maxBuffer: 64 << 20 });
  execFileSync('tar', ['-x', '-C', src], { input: tar });
  const cfg = join(src, 'simulator/src/main/java/simblock/settings/SimulationConfiguration.java');
  let text = readFileSync(cfg, 'utf8');
  const set = (name: string, value: string): void => {
    // Line-anchored: the file also holds commented-out settings of the same name (`//public static final int …`).
    const re = new RegExp(`^(\\s*public static final \\w+ ${name} = )[^;]+;`, 'm');
    if (!re.test(text)) throw new Error(`SimBlock setting ${name} not found in ${cfg}`);
    text = text.replace(re, `$1${value};`);
  };
  set('NUM_OF_NODES', String(nodes));
  set('END_BLOCK_HEIGHT', String(blocks));
  if (!cbr) set('CBR_USAGE_RATE', '0f');
  writeFileSync(cfg, text);
  const classes = join(work, 'classes');
  mkdirSync(classes, { recursive: true });
  execFileSync('javac', ['-nowarn', '-encoding', 'UTF-8', '-d', classes, ...listJava(join(src, 'simulator/src/main/java'))], { stdio: 'pipe' });
  mkdirSync(join(src, 'simulator/src/dist/output/graph'), { recursive: true });
  return `${classes}:${join(src, 'simulator/src/dist/conf')}`;
}

/** Runs SimBlock and reads its stdout: per block "block:height" then "node,ms" lines; then orphans; then wall ms. */
function runSimBlock(name: string, classpath: string, nodes: number): PropagationFigures {
  const t0 = performance.now();
  const r = spawnSync('java', ['-cp', classpath, 'simblock.simulator.Main'], { encoding: 'utf8', maxBuffer: 256 << 20 });
  const wallSec = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`SimBlock exited ${r.status}: ${r.stderr.slice(0, 500)}`);
  const perBlock = new Map<string, number[]>();
  const orphans = new Set<string>();
  let current: number[] | undefined;
  const lines = r.stdout.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    const head = /^(simblock\.block\.\S+@[0-9a-f]+):(\d+)$/.exec(line);
    if (head) {
      // A block followed by "node,ms" lines is a propagation record; one followed by anything else is in the orphan list.
      const next = lines[i + 1]?.trim() ?? '';
      if (/^\d+,\d+$/.test(next)) {
        current = [];
        // Genesis (height 0) is not mined during the run: its record is not a propagation.
        if (head[2] !== '0') perBlock.set(head[1]!, current);
      } else {
        orphans.add(head[1]!);
        current = undefined;
      }
      continue;
    }
    const m = /^(\d+),(\d+)$/.exec(line);
    if (m && current) current.push(Number(m[2]));
    else if (line === '') current = undefined;
  }
  const delays = [...perBlock.values()].filter((d) => d.length > 1);
  return {
    name,
    nodes,
    blocks: perBlock.size,
    stale: orphans.size,
    p50Ms: median(delays.map((d) => reachMs(d, nodes, 0.5))),
    p90Ms: median(delays.map((d) => reachMs(d, nodes, 0.9))),
    wallSec,
  };
}

/** cairn's fast mode on SimBlock's parameters: regions, 3 × region latency a hop, min(up, down) bandwidth per link. */
async function runCairn(nodes: number, blocks: number, seed: string): Promise<PropagationFigures> {
  const rng = new SimRng(`${seed}/regions`);
  const sim = new Simulation({
    seed,
    blockIntervalSec: INTERVAL_SEC,
    network: { latency: { kind: 'fixed', ms: 0 }, topology: { kind: 'random', degree: OUTBOUND } },
    blockWireBytes: BLOCK_BYTES,
    recordArrivals: true,
  });
  const region: number[] = [];
  try {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < nodes; i++) {
      let u = rng.next();
      let r = 0;
      while (r < REGION_SHARE.length - 1 && u >= REGION_SHARE[r]!) u -= REGION_SHARE[r++]!;
      region.push(r);
      await sim.addUser({ name: `n${i}`, hashShare: 1 });
    }
    for (let a = 0; a < nodes; a++) {
      for (const b of sim.network.peers(a)) {
        const mean = LATENCY_MS[region[a]!]![region[b]!]!;
        sim.network.setLinkLatency(a, b, { kind: 'fixed', ms: 3 * mean });
        sim.network.setLinkBandwidth(a, b, Math.min(UPLOAD_BPS[region[a]!]!, DOWNLOAD_BPS[region[b]!]!));
      }
    }
    sim.startMining(blocks);
    await sim.runToEnd();
    const cpu = process.cpuUsage(cpu0);
    const delays: number[][] = [];
    for (const [key, found] of sim.foundAtMs) {
      const arr = sim.arrivalMs.get(key);
      if (arr) delays.push([...arr.values()].map((t) => t - found));
    }
    return {
      name: 'cairn sim (fast mode, legacy relay)',
      nodes,
      blocks: sim.stats.mined,
      stale: sim.stats.mined - sim.users[0]!.chain.height,
      p50Ms: median(delays.map((d) => reachMs(d, nodes, 0.5))),
      p90Ms: median(delays.map((d) => reachMs(d, nodes, 0.9))),
      wallSec: (performance.now() - t0) / 1000,
      cpuSec: (cpu.user + cpu.system) / 1e6,
    };
  } finally {
    await sim.close();
  }
}

/**
 * Runs SimBlock (default and legacy relay) and cairn on `nodes` nodes for `blocks` blocks and prints the figures.
 * Skips (returns the reason) when the SimBlock mirror or javac is missing.
 */
export async function runSimBlockBench(nodes = 300, blocks = 20): Promise<SimBlockBenchResult> {
  const mirror = process.env['SIMBLOCK_MIRROR'] ?? '/work/.mirror/dsg-titech+simblock/repo';
  const skip = (why: string): SimBlockBenchResult => {
    console.log(`simblock: skipped — ${why}`);
    return { skipped: why };
  };
  if (!existsSync(mirror)) return skip(`no SimBlock mirror at ${mirror} (fetch github:dsg-titech/simblock, or set SIMBLOCK_MIRROR)`);
  if (spawnSync('javac', ['-version']).status !== 0 || spawnSync('java', ['-version']).status !== 0) return skip('javac/java not found (a JDK 11+ is needed)');
  const runs: PropagationFigures[] = [];
  for (const cbr of [true, false]) {
    const work = mkdtempSync(join(tmpdir(), 'cairn-simblock-'));
    try {
      const cp = buildSimBlock(mirror, work, nodes, blocks, cbr);
      runs.push(runSimBlock(cbr ? 'SimBlock (default: compact blocks)' : 'SimBlock (legacy relay, CBR off)', cp, nodes));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  runs.push(await runCairn(nodes, blocks, 'bench/simblock'));
  console.log(`simblock: ${nodes} nodes, ${blocks} blocks of ${BLOCK_BYTES} B every ${INTERVAL_SEC} s, SimBlock's 2019 regions, ${OUTBOUND} outbound links`);
  for (const r of runs) {
    console.log(
      `  ${r.name.padEnd(38)} propagation to 50 % ${r.p50Ms.toFixed(0).padStart(6)} ms, to 90 % ${r.p90Ms.toFixed(0).padStart(6)} ms ` +
        `(median of ${r.blocks} blocks); stale ${r.stale}; wall ${r.wallSec.toFixed(1)} s${r.cpuSec === undefined ? '' : `, CPU ${r.cpuSec.toFixed(1)} s`}`,
    );
  }
  const legacy = runs[1]!;
  const cairn = runs[2]!;
  console.log(
    `  ratio cairn / SimBlock legacy: to 50 % ${(cairn.p50Ms / legacy.p50Ms).toFixed(2)}, to 90 % ${(cairn.p90Ms / legacy.p90Ms).toFixed(2)} ` +
      `(cairn's links upload in parallel, SimBlock's node one block at a time)`,
  );
  return { runs };
}
