/**
 * REST: signed transactions accepted per second via POST /api/tx. Goal: >= 2,500 tx/s.
 * Setup: an in-process regtest FullNode (all cores for scripts) with its REST server (rate limit off); a block whose
 * coinbase pays 2 × N outputs to two test keys (P2WPKH and P2TR alternating), matured by 100 blocks; 2 × N
 * independent one-input, one-output transactions signed in advance. N follows the time budget (2,500 per second
 * asked, 2,000..10,000).
 * Phase 1 (the figure): a load generator on a worker thread (its own core) POSTs N of them, hex text/plain, over 32
 * keep-alive connections (http.Agent), and counts 200s and errors. Before it, the same client GETs a route that does
 * no work N times: the HTTP ceiling of this server on this machine.
 * Phase 2 (to locate the bottleneck): the other N go straight to node.submitTransaction, 32 in flight, no HTTP.
 * Same-run reference: the single-core signature-verify rate of the same transactions (InlineScriptVerifier, cache
 * off), each tx carrying one signature, so one core's accept rate is bounded by it and all cores' by cores × it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { startRestServer } from '../src/api/restServer.js';
import { InlineScriptVerifier } from '../src/chain/workerPoolScriptVerifier.js';
import type { ScriptCheckJob } from '../src/interfaces/scriptVerifier.js';
import { silentLogger } from '../src/logging/logger.js';
import { createNodeContext, FullNode } from '../src/node/fullNode.js';
import { regtest } from '../src/params/networks.js';
import { bytesToHex } from '../src/primitives/hex.js';
import { computeTxid, computeWtxid, encodeTx } from '../src/primitives/tx.js';
import type { Tx, TxOut } from '../src/primitives/types.js';
import { buildBranch, buildChildBlock, parentOf, parentOfEntry, TEST_NOW_SEC } from '../src/testing/chainFactory.js';
import { buildSignedTx, makeTestKey, type SpendableCoin } from '../src/testing/txFactory.js';
import { formatRate, type BenchResult } from './harness.js';

const CONCURRENCY = 32;
const FEE = 2_000n;
const GOAL_TX_PER_SEC = 2_500;

/** The load generator: plain JS on a worker thread, so it neither needs tsx nor shares the server's event loop. */
const LOAD_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { port, method, path, bodies, count, concurrency } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
let next = 0, accepted = 0, rejected = 0;
const errors = {};
function send(body) {
  const headers = body === undefined ? {} : { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) };
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, agent, headers }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { data += c; });
      res.on('end', () => resolve({ status: res.statusCode, data }));
    });
    req.on('error', (e) => resolve({ status: 0, data: String(e) }));
    req.end(body);
  });
}
async function lane() {
  for (;;) {
    const i = next++;
    if (i >= count) return;
    const r = await send(bodies === undefined ? undefined : bodies[i]);
    if (r.status === 200) accepted++;
    else { rejected++; const k = r.status + ' ' + r.data.slice(0, 160); errors[k] = (errors[k] || 0) + 1; }
  }
}
const t0 = performance.now();
Promise.all(Array.from({ length: concurrency }, lane)).then(() => {
  const seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  parentPort.postMessage({ accepted, rejected, errors, seconds });
});
`;

interface LoadResult {
  accepted: number;
  rejected: number;
  errors: Record<string, number>;
  seconds: number;
}

/** Sends `count` requests (POST `bodies[i]` as text/plain, or GET without bodies) from the load worker. */
function runLoad(port: number, request: { method: 'GET' | 'POST'; path: string; count: number; bodies?: string[] }): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(LOAD_WORKER, { eval: true, workerData: { port, ...request, concurrency: CONCURRENCY } });
    worker.once('message', (m: LoadResult) => {
      resolve(m);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

/** Submits txs straight to the node, CONCURRENCY in flight; counts accepted per second. */
async function runDirect(node: FullNode, txs: readonly Tx[]): Promise<LoadResult> {
  let next = 0;
  let accepted = 0;
  let rejected = 0;
  const errors: Record<string, number> = {};
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (;;) {
        const i = next++;
        if (i >= txs.length) return;
        try {
          await node.submitTransaction(txs[i]!);
          accepted++;
        } catch (err) {
          rejected++;
          const k = String(err instanceof Error ? err.message : err).slice(0, 160);
          errors[k] = (errors[k] ?? 0) + 1;
        }
      }
    }),
  );
  return { accepted, rejected, errors, seconds: (performance.now() - t0) / 1000 };
}

/** Single-core verify rate of the txs' signatures (one per tx), verifies per second, over about `seconds`. */
async function measureVerifyRate(jobs: readonly ScriptCheckJob[], seconds: number): Promise<number> {
  const verifier = new InlineScriptVerifier({ cacheSize: 0 });
  const batch = jobs.slice(0, 500);
  await verifier.verify(batch.slice(0, 50));
  let ops = 0;
  const t0 = performance.now();
  do {
    const r = await verifier.verify(batch);
    if (!r.ok) throw new Error(`verify failed: ${JSON.stringify(r)}`);
    ops += batch.length;
  } while (performance.now() - t0 < seconds * 1000);
  return (ops * 1000) / (performance.now() - t0);
}

/** Runs the REST transaction benchmark and returns its results (also printed). */
export async function runRestTxBench(seconds: number): Promise<Record<string, BenchResult>> {
  const n = Math.min(10_000, Math.max(2_000, Math.round(seconds * GOAL_TX_PER_SEC)));
  const cores = availableParallelism();
  const params = regtest;
  const datadir = mkdtempSync(join(tmpdir(), 'cairn-bench-rest-'));
  const logger = silentLogger();
  const node = await FullNode.open({ params, datadir }, { nowSec: () => TEST_NOW_SEC, logger });
  const server = await startRestServer({ port: 0, rateLimit: false }, { node: createNodeContext(node), logger });
  try {
    // Fund 2n coins from one coinbase, then mature it.
    const keys = [makeTestKey('bench/rest/wpkh', 'p2wpkh'), makeTestKey('bench/rest/tr', 'p2tr')];
    const perCoin = params.initialSubsidy / BigInt(2 * n);
    const outputs: TxOut[] = Array.from({ length: 2 * n }, (_, i) => ({ value: perCoin, scriptPubKey: keys[i % 2]!.scriptPubKey }));
    const funding = buildChildBlock(params, parentOfEntry(node.chain.tip), { coinbaseOutputs: outputs });
    const fundingResult = await node.submitBlock(funding);
    if (fundingResult.status !== 'connected') throw new Error(`funding block ${fundingResult.status}: ${fundingResult.reason}`);
    for (const block of buildBranch(params, parentOf(funding, 1), params.coinbaseMaturity)) await node.submitBlock(block);

    const coinbaseTxid = computeTxid(funding.txs[0]!);
    const signStart = performance.now();
    const txs = outputs.map((output, index) => {
      const coin: SpendableCoin = { outpoint: { txid: coinbaseTxid, index }, output, key: keys[index % 2]! };
      return buildSignedTx([coin], [{ value: perCoin - FEE, scriptPubKey: coin.key.scriptPubKey }]);
    });
    const signSeconds = (performance.now() - signStart) / 1000;
    const jobs: ScriptCheckJob[] = txs.slice(0, 500).map((tx, i) => ({ tx, prevouts: [outputs[i]!], wtxid: computeWtxid(tx) }));
    const verifyRate = await measureVerifyRate(jobs, Math.min(2, seconds));

    const restTxs = txs.slice(0, n);
    const bodies = restTxs.map((tx) => bytesToHex(encodeTx(tx)));
    const ceiling = await runLoad(server.port, { method: 'GET', path: '/api/blocks/tip/height', count: n });
    const rest = await runLoad(server.port, { method: 'POST', path: '/api/tx', count: n, bodies });
    const inPool = restTxs.filter((tx) => node.mempool.has(computeTxid(tx))).length;
    const direct = await runDirect(node, txs.slice(n));

    const restRate = rest.accepted / rest.seconds;
    const directRate = direct.accepted / direct.seconds;
    const ceilingRate = ceiling.accepted / ceiling.seconds;
    console.log(`\n## REST: signed transactions accepted per second via POST /api/tx (goal >= ${GOAL_TX_PER_SEC.toLocaleString('en-US')} tx/s)`);
    console.log(`setup: ${(2 * n).toLocaleString('en-US')} one-input txs (half P2WPKH, half P2TR) signed in ${signSeconds.toFixed(1)} s; ` +
      `${CONCURRENCY} keep-alive connections from a worker thread; ${cores} cores`);
    console.log(`POST /api/tx:                     ${formatRate(restRate, 'tx')} (${rest.accepted.toLocaleString('en-US')} accepted, ` +
      `${rest.rejected} rejected, ${rest.seconds.toFixed(2)} s; ${inPool.toLocaleString('en-US')} in the mempool after)`);
    for (const [reason, count] of Object.entries(rest.errors)) console.log(`  error x${count}: ${reason}`);
    console.log(`GET /api/blocks/tip/height:       ${formatRate(ceilingRate, 'req')} (the HTTP ceiling: same client, a route doing no work)`);
    console.log(`node.submitTransaction (no HTTP): ${formatRate(directRate, 'tx')} (${direct.accepted.toLocaleString('en-US')} accepted, ${direct.rejected} rejected)`);
    for (const [reason, count] of Object.entries(direct.errors)) console.log(`  error x${count}: ${reason}`);
    console.log(`signature verify, one core:       ${formatRate(verifyRate, 'verifies')} (one signature per tx)`);
    console.log(`ratios: REST / one-core verify = ${(restRate / verifyRate).toFixed(2)} (bound ~${cores}.00 = cores x 1 when ` +
      `verification is spread over the cores); REST / direct submit = ${(restRate / directRate).toFixed(2)}; ` +
      `REST / HTTP ceiling = ${(restRate / ceilingRate).toFixed(2)}; ` +
      `goal ${restRate >= GOAL_TX_PER_SEC ? 'met' : 'NOT met'}`);
    return {
      restTx: { name: 'POST /api/tx accepted', ops: rest.accepted, seconds: rest.seconds, opsPerSec: restRate },
      directSubmit: { name: 'node.submitTransaction accepted', ops: direct.accepted, seconds: direct.seconds, opsPerSec: directRate },
      httpCeiling: { name: 'GET /api/blocks/tip/height', ops: ceiling.accepted, seconds: ceiling.seconds, opsPerSec: ceilingRate },
      verifyOneCore: { name: 'signature verify (one core)', ops: 0, seconds: 0, opsPerSec: verifyRate },
    };
  } finally {
    await server.close();
    await node.close();
    rmSync(datadir, { recursive: true, force: true });
  }
}
