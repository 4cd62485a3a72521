import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../src/logging/logger.js';
import { solveBlockCpu } from '../src/mining/cpuSolver.js';
import { FullNode } from '../src/node/fullNode.js';
import { regtest } from '../src/params/networks.js';
import { computeBlockHash } from '../src/primitives/blockHeader.js';
import { hashToHex } from '../src/primitives/hex.js';
import { computeTxid } from '../src/primitives/tx.js';
import { buildBranch, mainChainBlocks, parentOfEntry, spendableCoinbases } from '../src/testing/chainFactory.js';
import { buildSpend, makeTestKey } from '../src/testing/txFactory.js';
import { replayUtxoDigest } from '../src/testing/utxoReplay.js';

const MINER = makeTestKey('fullnode/miner', 'p2wpkh');
const ALICE = makeTestKey('fullnode/alice', 'p2tr');
const NOW = 2_000_000_000;

/** Mines one block from the node's own template (mempool txs by ancestor fee rate) and submits it. */
async function mineFromTemplate(node: FullNode, n = 1): Promise<void> {
  for (let i = 0; i < n; i++) {
    const template = node.blockTemplates.createTemplate();
    const block = solveBlockCpu(node.blockTemplates.buildBlock(template, { rewardScript: MINER.scriptPubKey, tag: '/cairn-test/' }), regtest.powLimit);
    assert.ok(block, 'regtest PoW is trivial');
    const result = await node.submitBlock(block);
    assert.equal(result.status, 'connected', `${result.reason ?? ''} ${result.detail ?? ''}`);
  }
}

test('full node: templates from the mempool confirm txs; reorg returns them to the mempool; state survives restart', async (t) => {
  const datadir = mkdtempSync(join(tmpdir(), 'cairn-fullnode-'));
  t.after(() => rmSync(datadir, { recursive: true, force: true }));
  const open = (): Promise<FullNode> =>
    FullNode.open({ params: regtest, datadir, scriptThreads: 2 }, { nowSec: () => NOW, logger: silentLogger() });
  let node = await open();
  try {
    await mineFromTemplate(node, regtest.coinbaseMaturity + 1);
    assert.equal(node.chain.height, regtest.coinbaseMaturity + 1);

    // Spend the first mature coinbase through the mempool.
    const [coin] = spendableCoinbases(node.chain, MINER);
    assert.ok(coin, 'a mature coinbase pays the miner');
    const { tx } = buildSpend([coin], { key: ALICE, valueSats: 10_000_000n }, 5_000n);
    const txid = hashToHex(computeTxid(tx));
    const accepted = await node.submitTransaction(tx);
    assert.equal(hashToHex(accepted.txid), txid);
    assert.equal(node.mempool.size, 1);

    // The next template carries it; once mined it leaves the mempool and its scripts come from the cache.
    const hitsBefore = node.scriptVerifier.stats.cacheHits;
    const template = node.blockTemplates.createTemplate();
    assert.deepEqual(template.txs.map((x) => hashToHex(x.txid)), [txid]);
    assert.equal(template.totalFees, 5_000n);
    const forkParent = node.chain.tip;
    await mineFromTemplate(node);
    assert.equal(node.mempool.size, 0);
    assert.ok(node.chainIndex.getTxLocation(computeTxid(tx)), 'tx index has the confirmed tx');
    assert.ok(node.scriptVerifier.stats.cacheHits > hitsBefore, 'block validation reused the mempool script check');

    // A longer competing branch without the tx: the tx comes back to the mempool.
    const branch = buildBranch(regtest, parentOfEntry(forkParent), 2, (i) => ({ extraNonce: `fork-${i}`, coinbaseKey: MINER }));
    for (const block of branch) await node.submitBlock(block);
    assert.equal(node.chain.tip.hashHex, hashToHex(computeBlockHash(branch[1]!.header)));
    assert.equal(node.chain.height, forkParent.height + 2);
    // The node re-adds the disconnected txs from its tipChanged handler: wait for that update to finish.
    await node.mempool.whenReorgUpdatesDone();
    assert.ok(node.mempool.has(computeTxid(tx)), 'tx of the disconnected block is back in the mempool');
    assert.equal(node.chainIndex.getTxLocation(computeTxid(tx)), undefined, 'tx index forgot the disconnected tx');

    // The stored state equals an independent replay of the stored main chain, before and after a restart.
    const digest = node.chain.computeUtxoDigest();
    const replay = replayUtxoDigest(mainChainBlocks(node.chain));
    assert.equal(digest.hashSerialized, replay.hashSerialized);
    assert.equal(digest.txouts, replay.txouts);
    await node.close();
    node = await open();
    assert.equal(node.chain.computeUtxoDigest().hashSerialized, digest.hashSerialized);
    assert.equal(node.chain.height, forkParent.height + 2);
  } finally {
    await node.close();
  }
});
