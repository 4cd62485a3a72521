/**
 * `cairn elect` figures (issue 15), from real peers (ElectPeer with its SQLite store and a 1-thread WASM miner pool
 * each) in this process on the embedded aedes broker, and, for the split-vote rate, the real Election state machine
 * on a simulated network (the only way to run hundreds of elections in a second):
 * - leader loss → new leader (p50/p95): the leader crashes (no DISCONNECT: the broker publishes its last will);
 *   comparator: the genesis election timeout window (the detection time of Raft without a last will is ≥ its minimum);
 * - commit latency after a solution (p50/p95): the leader's proposal of the first valid solution → its commit;
 *   comparator: one MQTT round trip through the same broker (publish → own subscription);
 * - rounds per minute at a fixed difficulty; comparator: the solve-time bound 2^zeroBits / (N × one miner's hash rate);
 * - consensus messages per round against N (status lines excluded); comparator: the minimum N + 4 (challenge, ≥1
 *   solution, proposal, N votes, commit);
 * - split-vote rate against the width of the election timeout window; comparator: width 1 ms.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { Election, type ElectionOutgoing } from '../src/elect/election.js';
import { ElectPeer } from '../src/elect/electPeer.js';
import { ElectStore } from '../src/elect/electStore.js';
import { EmbeddedBroker } from '../src/elect/embeddedBroker.js';
import { createGenesis, type CreateGenesisOptions, type ElectGenesis } from '../src/elect/genesis.js';
import type { MessageHeader } from '../src/elect/message.js';
import { silentLogger } from '../src/logging/logger.js';
import { MinerPool } from '../src/mining/minerPool.js';
import { SeededRng } from '../src/testing/seededRng.js';
import { ElectObserver } from '../src/testing/electCluster.js';
import { waitFor } from '../src/testing/waitFor.js';

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface Member {
  peer: ElectPeer;
  readonly store: ElectStore;
  readonly miner: MinerPool;
}

class Cluster {
  readonly members: Member[] = [];
  private readonly crashed = new Set<number>();
  private constructor(
    readonly genesis: ElectGenesis,
    private readonly keys: Uint8Array[],
    readonly broker: EmbeddedBroker,
    private readonly dir: string,
  ) {}

  static async start(options: CreateGenesisOptions): Promise<Cluster> {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-elect-bench-'));
    const broker = await EmbeddedBroker.start({ port: 0 }, silentLogger());
    const { genesis, privateKeys } = createGenesis(options);
    const c = new Cluster(genesis, privateKeys, broker, dir);
    for (let i = 0; i < options.peers; i++) {
      const store = ElectStore.open(join(dir, `peer${i}.sqlite`));
      const miner = new MinerPool({ threads: 1 });
      c.members.push({ peer: c.makePeer(i, store, miner), store, miner });
    }
    for (const m of c.members) m.peer.start();
    return c;
  }

  private makePeer(i: number, store: ElectStore, miner: MinerPool): ElectPeer {
    return new ElectPeer({ genesis: this.genesis, self: i, privateKey: this.keys[i]!, brokerUrl: this.broker.url }, { store, miner, logger: silentLogger() });
  }

  /** Crashes member i (no DISCONNECT: the broker sends its last will). */
  async crash(i: number): Promise<void> {
    this.crashed.add(i);
    await this.members[i]!.peer.crash();
  }

  /** Restarts member i from its store (after a crash). */
  restart(i: number): void {
    this.crashed.delete(i);
    const m = this.members[i]!;
    m.peer = this.makePeer(i, m.store, m.miner);
    m.peer.start();
  }

  leader(): { index: number; term: number } | undefined {
    for (const [index, m] of this.members.entries()) {
      if (this.crashed.has(index)) continue;
      const s = m.peer.status;
      if (s.role === 'leader') return { index, term: s.term };
    }
    return undefined;
  }

  height(): number {
    return Math.max(...this.members.map((m) => m.peer.status.tipHeight));
  }

  async close(): Promise<void> {
    for (const m of this.members) await m.peer.stop();
    for (const m of this.members) {
      await m.miner.close();
      m.store.close();
    }
    await this.broker.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const TIMINGS = { electionTimeoutMinMs: 300, electionTimeoutMaxMs: 600, heartbeatMs: 100 } as const;

async function failover(kills: number): Promise<{ p50: number; p95: number; samples: number[] }> {
  const c = await Cluster.start({ peers: 5, minZeroBits: 10, maxZeroBits: 12, initialZeroBits: 10, targetSolveMs: 200, minBlockIntervalMs: 100, ...TIMINGS });
  const samples: number[] = [];
  try {
    for (let k = 0; k < kills; k++) {
      const old = await waitFor('a leader', () => c.leader(), 10_000, 5);
      const t0 = performance.now();
      await c.crash(old.index);
      await waitFor('a new leader', () => {
        const l = c.leader();
        return l !== undefined && l.index !== old.index && l.term > old.term ? l : undefined;
      }, 10_000, 2);
      samples.push(performance.now() - t0);
      c.restart(old.index);
      await waitFor('a commit under the new leader', () => c.height() > 0, 10_000, 10);
    }
  } finally {
    await c.close();
  }
  return { p50: percentile(samples, 50), p95: percentile(samples, 95), samples };
}

async function brokerRoundTripMs(url: string, n: number): Promise<number> {
  const client = mqtt.connect(url, { clientId: `bench-rtt-${process.pid}` });
  await new Promise<void>((r) => client.once('connect', () => r()));
  await client.subscribeAsync('bench/rtt', { qos: 1 });
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const got = new Promise<void>((r) => client.once('message', () => r()));
    client.publish('bench/rtt', String(i), { qos: 1 });
    await got;
    samples.push(performance.now() - t0);
  }
  await client.endAsync();
  return percentile(samples, 50);
}

async function steadyRun(peers: number, zeroBits: number, seconds: number) {
  const c = await Cluster.start({ peers, minZeroBits: zeroBits, maxZeroBits: zeroBits, initialZeroBits: zeroBits, targetSolveMs: 1_000, minBlockIntervalMs: 0, ...TIMINGS });
  const observer = new ElectObserver(c.genesis, c.broker.url);
  const latencies: number[] = [];
  const proposedAt = new Map<number, number>();
  try {
    await waitFor('the first commit', () => c.height() >= 1, 15_000, 10);
    for (const m of c.members) {
      m.peer.onProposed((h, at) => proposedAt.set(h, at));
      m.peer.onCommit((b) => {
        const at = proposedAt.get(b.height);
        if (at !== undefined && m.peer.status.role === 'leader') latencies.push(b.committedAtMs - at);
      });
    }
    observer.counts.clear();
    const h0 = c.height();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const rounds = c.height() - h0;
    const elapsedMin = (performance.now() - t0) / 60_000;
    let messages = 0;
    for (const [type, n] of observer.counts) if (type !== 'status' && type !== 'hello') messages += n;
    const hashRate = c.members.reduce((s, m) => s + m.miner.hashRate(), 0);
    const rtt = await brokerRoundTripMs(c.broker.url, 50);
    return { rounds, roundsPerMin: rounds / elapsedMin, messagesPerRound: rounds > 0 ? messages / rounds : Number.NaN, latencies, hashRate, rtt };
  } finally {
    await observer.close();
    await c.close();
  }
}

/** Runs `trials` elections of N fresh peers (simulated message delay 2–10 ms) and returns the share whose first term elected nobody. */
function splitVoteRate(widthMs: number, peers: number, trials: number, seed: string): number {
  const rng = new SeededRng(seed);
  const random = () => rng.nextUint32() / 2 ** 32;
  let splits = 0;
  for (let t = 0; t < trials; t++) {
    const es = Array.from({ length: peers }, (_, self) => new Election({ self, quorum: Math.floor(peers / 2) + 1, electionTimeoutMinMs: 300, electionTimeoutMaxMs: 300 + widthMs, heartbeatMs: 100, random }, { term: 0, votedFor: null }, 0));
    const queue: { at: number; to: number; msg: MessageHeader }[] = [];
    const post = (from: number, now: number, outs: ElectionOutgoing[]) => {
      for (const o of outs) {
        const msg = { chainId: 'sim', height: 0, from, ...o, body: 'body' in o ? o.body : { session: '', tipHeight: 0, tipHash: '' } } as MessageHeader;
        for (let to = 0; to < peers; to++) if (to !== from) queue.push({ at: now + 2 + Math.floor(random() * 9), to, msg });
      }
    };
    const log = { lastTerm: 0, lastHeight: 0 };
    let leaderTerm = 0;
    for (let now = 0; now < 5_000 && leaderTerm === 0; now++) {
      es.forEach((e, i) => post(i, now, e.tick(now, log)));
      for (let i = queue.length - 1; i >= 0; i--) {
        const q = queue[i]!;
        if (q.at > now) continue;
        queue.splice(i, 1);
        post(q.to, now, es[q.to]!.onMessage(now, q.msg, log));
      }
      const leader = es.find((e) => e.role === 'leader');
      if (leader !== undefined) leaderTerm = leader.term;
    }
    if (leaderTerm !== 1) splits++;
  }
  return splits / trials;
}

/** Runs the elect figures and returns them (also printed). */
export async function runElectBench(seconds: number): Promise<Record<string, unknown>> {
  console.log('\n== elect: MQTT election consensus (in-process peers on the embedded aedes broker, 1 miner thread each) ==');
  const kills = Math.max(5, Math.round(seconds * 4));
  const f = await failover(kills);
  console.log(`leader loss → new leader (5 peers, crash + last will, ${kills} kills): p50 ${f.p50.toFixed(0)} ms, p95 ${f.p95.toFixed(0)} ms` +
    ` | comparator: election timeout window ${TIMINGS.electionTimeoutMinMs}–${TIMINGS.electionTimeoutMaxMs} ms → p50 is ${(f.p50 / TIMINGS.electionTimeoutMinMs).toFixed(2)}× the minimum timeout`);
  const zeroBits = 14;
  const steady = await steadyRun(5, zeroBits, Math.max(4, seconds * 2));
  const boundPerMin = 60_000 / ((2 ** zeroBits / Math.max(1, steady.hashRate)) * 1000);
  console.log(`commit latency after a solution (5 peers): p50 ${percentile(steady.latencies, 50).toFixed(1)} ms, p95 ${percentile(steady.latencies, 95).toFixed(1)} ms (${steady.latencies.length} rounds)` +
    ` | comparator: one MQTT round trip ${steady.rtt.toFixed(2)} ms → ${(percentile(steady.latencies, 50) / steady.rtt).toFixed(1)}×`);
  console.log(`rounds per minute at ${zeroBits} zero bits (5 peers, ${(steady.hashRate / 1e6).toFixed(2)} MH/s together): ${steady.roundsPerMin.toFixed(0)}` +
    ` | comparator: solve-time bound ${boundPerMin.toFixed(0)}/min → ${(steady.roundsPerMin / boundPerMin).toFixed(2)}×`);
  const perN: Record<string, number> = {};
  for (const n of [3, 5, 7]) {
    const r = n === 5 ? steady : await steadyRun(n, 12, Math.max(3, seconds * 1.5));
    perN[n] = r.messagesPerRound;
    console.log(`messages per round, N = ${n}: ${r.messagesPerRound.toFixed(1)} (${r.rounds} rounds) | comparator: minimum N + 4 = ${n + 4} → ${(r.messagesPerRound / (n + 4)).toFixed(2)}×`);
  }
  const split: Record<string, number> = {};
  const trials = 300;
  const base = splitVoteRate(1, 5, trials, 'elect-split/1');
  for (const width of [1, 10, 50, 150, 300]) {
    split[width] = width === 1 ? base : splitVoteRate(width, 5, trials, `elect-split/${width}`);
    console.log(`split-vote rate, timeout window 300–${300 + width} ms (5 peers, ${trials} simulated elections, 2–10 ms delay): ${(split[width]! * 100).toFixed(1)}%` +
      ` | comparator: width 1 ms ${(base * 100).toFixed(1)}%`);
  }
  return { failover: f, commitLatency: { p50: percentile(steady.latencies, 50), p95: percentile(steady.latencies, 95) }, roundsPerMin: steady.roundsPerMin, messagesPerRound: perN, splitVoteRate: split };
}
