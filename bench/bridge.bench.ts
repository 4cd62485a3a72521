/**
 * The chain bridge's watcher: how fast it catches up, and what a round costs against the usual alternative.
 * Setup: an in-process regtest node (its Esplora REST on port 0) and an exchange engine on a temp data dir; 100
 * accounts with deposit addresses; B blocks (B = 100 × seconds, 100..400) each holding one deposit to one of them.
 * Figures: (1) catch-up: one bridge round from B blocks behind: walk the raw blocks, record and credit the B deposits
 * (N = 1), blocks/s; (2) a steady round with nothing new (tip check, block-height check, mempool list).
 * Comparator, same run: polling every deposit address's history (Esplora GET /address/:a/txs, the wallet service's
 * way of finding payments), one round over the 100 addresses; the ratio poll round / steady watcher round says how
 * many times cheaper the block walk is per round at this address count (it grows with the number of addresses).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addressToScriptPubKey } from '../src/crypto/address.js';
import { ExchangeBridge } from '../src/exchange/bridge/exchangeBridge.js';
import { defaultExchangeConfig } from '../src/exchange/exchangeConfig.js';
import { ExchangeService } from '../src/exchange/exchangeService.js';
import { silentLogger } from '../src/logging/logger.js';
import { regtest } from '../src/params/networks.js';
import { computeTxid } from '../src/primitives/tx.js';
import { spendableCoinbases } from '../src/testing/chainFactory.js';
import { buildSignedTx, makeTestKey, type SpendableCoin } from '../src/testing/txFactory.js';
import { EsploraClient } from '../src/wallet/nodeClient.js';
import { openRestTestNode } from '../test/fixtures/restTestNode.js';
import type { BenchResult } from './harness.js';

const ACCOUNTS = 100;
const MINER = makeTestKey('bench/bridge-miner');

/** Runs the bridge bench and prints its figures. */
export async function runBridgeBench(seconds: number): Promise<Record<string, BenchResult>> {
  const blocks = Math.max(100, Math.min(400, Math.round(seconds * 100)));
  const env = await openRestTestNode({ rest: { rateLimit: false } });
  const datadir = mkdtempSync(join(tmpdir(), 'cairn-bench-bridge-'));
  const logger = silentLogger();
  const service = await ExchangeService.open({ datadir, config: defaultExchangeConfig('regtest'), history: false }, { logger });
  try {
    await env.mine(101, MINER);
    const bridge = ExchangeBridge.open(
      { params: regtest, datadir, nodeUrl: `${env.url}/api`, confirmations: 1, pollIntervalMs: 0, startHeight: env.node.chain.height + 1 },
      { submit: (c) => service.submit(c), logger },
    );
    const addresses = Array.from({ length: ACCOUNTS }, (_, i) => bridge.getDepositAddress(i + 1).address);
    // A chain of payments: each spends the previous one's change, one per block.
    let coin: SpendableCoin = spendableCoinbases(env.node.chain, MINER)[0]!;
    for (let b = 0; b < blocks; b++) {
      const change = coin.output.value - 100_000n - 1_000n;
      const tx = buildSignedTx([coin], [
        { value: 100_000n, scriptPubKey: addressToScriptPubKey(addresses[b % ACCOUNTS]!, regtest.bech32Hrp) },
        { value: change, scriptPubKey: MINER.scriptPubKey },
      ]);
      await env.node.submitTransaction(tx);
      await env.mine(1, MINER);
      coin = { outpoint: { txid: computeTxid(tx), index: 1 }, output: tx.outputs[1]!, key: MINER };
    }

    const t0 = performance.now();
    const report = await bridge.tick();
    const catchUpSec = (performance.now() - t0) / 1000;
    if (report.connected !== blocks || report.credited !== blocks) throw new Error(`catch-up walked ${report.connected} blocks, credited ${report.credited}`);

    const rounds = 20;
    const t1 = performance.now();
    for (let i = 0; i < rounds; i++) await bridge.tick();
    const steadyMs = (performance.now() - t1) / rounds;

    const esplora = new EsploraClient({ baseUrl: `${env.url}/api` });
    const t2 = performance.now();
    let txs = 0;
    for (const a of addresses) txs += (await esplora.getAddressTxs(a)).length;
    const pollMs = performance.now() - t2;
    if (txs !== blocks) throw new Error(`polling found ${txs} payments, expected ${blocks}`);
    await bridge.close();

    console.log(`bridge: catch-up ${blocks} blocks with ${blocks} deposits credited in ${(catchUpSec * 1000).toFixed(0)} ms = ${Math.round(blocks / catchUpSec)} blocks/s`);
    console.log(`bridge: steady round (nothing new) ${steadyMs.toFixed(2)} ms; comparator: polling ${ACCOUNTS} addresses' histories ${pollMs.toFixed(1)} ms per round; ratio poll/steady ${(pollMs / steadyMs).toFixed(1)}×`);
    return {
      catchUp: { name: 'bridge catch-up', ops: blocks, seconds: catchUpSec, opsPerSec: blocks / catchUpSec },
      steadyRound: { name: 'bridge steady round', ops: rounds, seconds: (steadyMs * rounds) / 1000, opsPerSec: 1000 / steadyMs },
      addressPoll: { name: `poll ${ACCOUNTS} addresses`, ops: 1, seconds: pollMs / 1000, opsPerSec: 1000 / pollMs },
    };
  } finally {
    await service.close();
    await env.close();
    rmSync(datadir, { recursive: true, force: true });
  }
}
