/**
 * P2P: initial block download rate and block propagation latency between real `cairn node` processes on loopback
 * (regtest, spawned from the sources through tsx; src/testing/nodeCluster).
 *
 * (a) Initial sync. Setup (not timed): a regtest chain of 2,000 blocks is built in this process on a SQLite store in
 * the source node's data dir: block 1's coinbase fans out to 400 outputs, and from height 101 on every block carries 4
 * signed one-input, two-output spends (P2WPKH and P2TR alternating, each spending an output of an earlier block), so
 * 7,600 txs in all; blocks are 1 s apart (their times stay in the past of the real clock). Then the source node
 * process starts on that data dir (one script thread) and a fresh sink node process (script checks on every core);
 * timed: from `addnode <source> add` on the sink until the sink's tip (polled every 50 ms over REST) is the source's.
 * Figures: blocks/s and tx/s of the sink over that span.
 *
 * (b) Propagation latency. 5 fresh node processes (one script thread each) linked in a LINE with addnode
 * (n0 – n1 – n2 – n3 – n4, so the last node is 4 gossip hops from the miner); the bench follows every node's websocket
 * /api/v1/ws (`blocks`) and, for each of 20 blocks mined on n0 with generatetoaddress (one at a time, the next once
 * every node has the last), takes the time from n0's push to each other node's push of the same block. Figures: p50
 * and p95 over the 20 blocks for the first hop (n1) and the last of the 5 nodes (n4). Blocks carry only a coinbase.
 * Goal: p50 to the last node < 150 ms.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { regtest } from '../src/params/networks.js';
import { computeTxid } from '../src/primitives/tx.js';
import type { Tx, TxOut } from '../src/primitives/types.js';
import { buildChildBlock, MINER_KEY, openTestChain, parentOf, parentOfEntry } from '../src/testing/chainFactory.js';
import { NodeCluster, waitFor, type NodeProcess } from '../src/testing/nodeCluster.js';
import { buildSignedTx, makeTestKey, testKeyAddress, type SpendableCoin } from '../src/testing/txFactory.js';
import type { BenchResult } from './harness.js';

const SYNC_BLOCKS = 2_000;
const FANOUT = 400;
const TXS_PER_BLOCK = 4;
const FEE = 1_000n;
const LINE_NODES = 5;
const PROPAGATION_BLOCKS = 20;
const GOAL_P50_MS = 150;

/** Percentile (nearest rank) of a list of numbers. */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Builds the 2,000-block chain with spends into `<datadir>/chain.sqlite`; returns the tip hash and the tx count. */
async function buildSourceChain(datadir: string): Promise<{ tipHash: string; txs: number; seconds: number }> {
  const t0 = performance.now();
  const params = regtest;
  const nowSec = (): number => Math.floor(Date.now() / 1000);
  const tc = await openTestChain({ dir: datadir, nowSec });
  try {
    const keys = [makeTestKey('bench/p2p/wpkh', 'p2wpkh'), makeTestKey('bench/p2p/tr', 'p2tr')];
    let parent = parentOfEntry(tc.chain.tip);
    let pool: SpendableCoin[] = [];
    let fanout: SpendableCoin[] = [];
    let txCount = 0;
    for (let height = 1; height <= SYNC_BLOCKS; height++) {
      const txs: Tx[] = [];
      const created: SpendableCoin[] = [];
      let coinbaseOutputs: TxOut[] | undefined;
      if (height === 1) {
        const value = params.initialSubsidy / BigInt(FANOUT);
        coinbaseOutputs = Array.from({ length: FANOUT }, (_, i) => ({ value, scriptPubKey: keys[i % 2]!.scriptPubKey }));
      }
      if (height === 1 + params.coinbaseMaturity) pool = [...fanout, ...pool];
      for (let k = 0; k < TXS_PER_BLOCK && height > params.coinbaseMaturity && pool.length > 0; k++) {
        const coin = pool.shift()!;
        const half = (coin.output.value - FEE) / 2n;
        const outputs: TxOut[] = [0, 1].map((o) => ({ value: half, scriptPubKey: keys[(height + k + o) % 2]!.scriptPubKey }));
        const tx = buildSignedTx([coin], outputs);
        const txid = computeTxid(tx);
        txs.push(tx);
        outputs.forEach((output, index) => created.push({ outpoint: { txid, index }, output, key: keys[(height + k + index) % 2]! }));
      }
      const block = buildChildBlock(params, parent, {
        txs,
        fees: FEE * BigInt(txs.length),
        timeStepSec: 1,
        ...(coinbaseOutputs ? { coinbaseOutputs } : {}),
      });
      const result = await tc.chain.processBlock(block);
      if (result.status !== 'connected') throw new Error(`bench block ${height}: ${result.status} ${result.reason ?? ''}`);
      if (height === 1) {
        const txid = computeTxid(block.txs[0]!);
        fanout = coinbaseOutputs!.map((output, index) => ({ outpoint: { txid, index }, output, key: keys[index % 2]! }));
      }
      pool.push(...created);
      txCount += txs.length;
      parent = parentOf(block, height);
    }
    return { tipHash: tc.chain.tip.hashHex, txs: txCount, seconds: (performance.now() - t0) / 1000 };
  } finally {
    await tc.close();
  }
}

/** Follows a node's websocket `blocks` feed: calls `onBlock(hash, atMs)` for every block connected. */
async function followBlocks(node: NodeProcess, onBlock: (hash: string, atMs: number) => void): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${node.info.apiPort}/api/v1/ws`);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.on('message', (data) => {
    const at = performance.now();
    const msg = JSON.parse(data.toString()) as { block?: { id: string }; subscribed?: string[] };
    if (msg.block !== undefined) onBlock(msg.block.id, at);
  });
  const subscribed = new Promise<void>((resolve) => {
    const onMessage = (data: WebSocket.RawData): void => {
      if ((JSON.parse(data.toString()) as { subscribed?: unknown }).subscribed !== undefined) {
        ws.off('message', onMessage);
        resolve();
      }
    };
    ws.on('message', onMessage);
  });
  ws.send(JSON.stringify({ action: 'subscribe', topics: ['blocks'] }));
  await subscribed;
  return ws;
}

/** (a): a fresh node syncs the 2,000-block chain from one peer. */
async function measureSync(cluster: NodeCluster): Promise<{ blocksPerSec: number; txPerSec: number; seconds: number; blocks: number; txs: number }> {
  const sourceDir = join(cluster.root, 'source');
  const built = await buildSourceChain(sourceDir);
  const [source, sink] = await Promise.all([
    cluster.start('source', { datadir: sourceDir }),
    cluster.start('sink', { scriptThreads: null }),
  ]);
  if ((await source.tipHash()) !== built.tipHash) throw new Error('the source node did not load the built chain');
  const t0 = performance.now();
  await sink.rpc('addnode', [source.p2pAddr, 'add']);
  await waitFor('the sink to sync', async () => (await sink.tipHash()) === built.tipHash, 300_000, 50);
  const seconds = (performance.now() - t0) / 1000;
  console.log(
    `setup: ${SYNC_BLOCKS.toLocaleString('en-US')} blocks with ${built.txs.toLocaleString('en-US')} one-input spends built in ` +
      `${built.seconds.toFixed(1)} s; source: 1 script thread, sink: ${availableParallelism()} (all cores)`,
  );
  await Promise.all([source.stop(), sink.stop()]);
  return { blocksPerSec: SYNC_BLOCKS / seconds, txPerSec: built.txs / seconds, seconds, blocks: SYNC_BLOCKS, txs: built.txs };
}

/** (b): latency from the miner n0 to every node of a line of 5, over PROPAGATION_BLOCKS blocks. */
async function measurePropagation(cluster: NodeCluster): Promise<{ hop1: number[]; last: number[] }> {
  const nodes = await Promise.all(Array.from({ length: LINE_NODES }, (_, i) => cluster.start(`n${i}`)));
  for (let i = 0; i + 1 < nodes.length; i++) await nodes[i]!.rpc('addnode', [nodes[i + 1]!.p2pAddr, 'add']);
  for (let i = 0; i < nodes.length; i++) {
    const want = [nodes[i - 1], nodes[i + 1]].filter((n) => n !== undefined).map((n) => n.peerId).sort();
    await waitFor(`n${i} to be linked`, async () => JSON.stringify((await nodes[i]!.peerIds()).sort()) === JSON.stringify(want), 60_000, 100);
  }
  const seen = new Map<string, number[]>();
  const sockets = await Promise.all(
    nodes.map((node, i) =>
      followBlocks(node, (hash, at) => {
        const times = seen.get(hash) ?? new Array<number>(nodes.length).fill(NaN);
        times[i] = at;
        seen.set(hash, times);
      }),
    ),
  );
  try {
    const address = testKeyAddress(MINER_KEY, regtest.bech32Hrp);
    const hop1: number[] = [];
    const last: number[] = [];
    for (let i = -2; i < PROPAGATION_BLOCKS; i++) {
      const [hash] = await nodes[0]!.generate(1, address);
      const times = await waitFor(`block ${i} on every node`, () => {
        const t = seen.get(hash!);
        return t !== undefined && t.every((x) => !Number.isNaN(x)) ? t : undefined;
      }, 30_000, 2);
      if (i < 0) continue; // warm-up: gossip meshes form, code paths get compiled
      hop1.push(times[1]! - times[0]!);
      last.push(times[nodes.length - 1]! - times[0]!);
    }
    return { hop1, last };
  } finally {
    for (const ws of sockets) ws.close();
    await Promise.all(nodes.map((n) => n.stop()));
  }
}

/** Runs the p2p benchmarks and returns their results (also printed). `seconds` is not used: both are fixed-size runs. */
export async function runP2pBench(_seconds: number): Promise<Record<string, BenchResult>> {
  const cluster = new NodeCluster('cairn-bench-p2p-');
  try {
    console.log(`\n## P2P (a): initial sync, ${SYNC_BLOCKS.toLocaleString('en-US')} blocks with transactions, two node processes on loopback`);
    const sync = await measureSync(cluster);
    console.log(
      `sync: ${sync.blocksPerSec.toFixed(0)} blocks/s, ${sync.txPerSec.toFixed(0)} tx/s ` +
        `(${sync.blocks.toLocaleString('en-US')} blocks, ${sync.txs.toLocaleString('en-US')} txs in ${sync.seconds.toFixed(2)} s, from addnode to the same tip)`,
    );

    console.log(`\n## P2P (b): block propagation, ${LINE_NODES} node processes in a line (4 hops), ${PROPAGATION_BLOCKS} blocks mined on the first (goal p50 < ${GOAL_P50_MS} ms)`);
    const prop = await measurePropagation(cluster);
    const p50 = percentile(prop.last, 50);
    const p95 = percentile(prop.last, 95);
    const fmt = (ms: number): string => `${ms.toFixed(1)} ms`;
    console.log(`miner -> n1 (1 hop):          p50 ${fmt(percentile(prop.hop1, 50))}, p95 ${fmt(percentile(prop.hop1, 95))}`);
    console.log(`miner -> n4 (last, 4 hops):   p50 ${fmt(p50)}, p95 ${fmt(p95)}, max ${fmt(Math.max(...prop.last))}`);
    console.log(`per-hop p50 ~ ${fmt(p50 / (LINE_NODES - 1))}; goal ${p50 < GOAL_P50_MS ? 'met' : 'NOT met'}`);
    return {
      syncBlocks: { name: 'initial sync blocks', ops: sync.blocks, seconds: sync.seconds, opsPerSec: sync.blocksPerSec },
      syncTxs: { name: 'initial sync txs', ops: sync.txs, seconds: sync.seconds, opsPerSec: sync.txPerSec },
      propagationP50Ms: { name: 'propagation p50 to the last of 5 (ms)', ops: prop.last.length, seconds: 0, opsPerSec: p50 },
      propagationP95Ms: { name: 'propagation p95 to the last of 5 (ms)', ops: prop.last.length, seconds: 0, opsPerSec: p95 },
    };
  } finally {
    await cluster.close();
  }
}
