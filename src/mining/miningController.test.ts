import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { silentLogger } from '../logging/logger.js';
import { FullNode } from '../node/fullNode.js';
import { regtest } from '../params/networks.js';
import { encodeBlockHeader } from '../primitives/blockHeader.js';
import { bytesToHex } from '../primitives/hex.js';
import { computeTxid } from '../primitives/tx.js';
import { spendableCoinbases } from '../testing/chainFactory.js';
import { buildSpend, makeTestKey } from '../testing/txFactory.js';
import { solveBlockCpu } from './cpuSolver.js';
import { MinerPool } from './minerPool.js';
import { MiningController } from './miningController.js';

const NOW = 2_000_000_000;
const MINER = makeTestKey('controller/miner', 'p2wpkh');
const ALICE = makeTestKey('controller/alice', 'p2tr');

/** sha256d of the header as the little-endian number Bitcoin compares with the target (computed here, not by cairn). */
function headerValue(header80: Uint8Array): bigint {
  const hash = createHash('sha256').update(createHash('sha256').update(header80).digest()).digest();
  return BigInt(`0x${Buffer.from(hash).reverse().toString('hex')}`);
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function openNode(t: { after: (fn: () => Promise<void>) => void }): Promise<FullNode> {
  const datadir = mkdtempSync(join(tmpdir(), 'cairn-mining-'));
  const node = await FullNode.open({ params: regtest, datadir, scriptThreads: 1 }, { nowSec: () => NOW, logger: silentLogger() });
  t.after(async () => {
    await node.close();
    rmSync(datadir, { recursive: true, force: true });
  });
  return node;
}

test('mining controller: mines paced regtest blocks paying the reward script, picks up mempool txs, stops', async (t) => {
  const node = await openNode(t);
  // Mature coinbases first (the CPU solver; regtest PoW is trivial), so a spend can enter the mempool later.
  for (let i = 0; i < regtest.coinbaseMaturity; i++) {
    const template = node.blockTemplates.createTemplate();
    const block = solveBlockCpu(node.blockTemplates.buildBlock(template, { rewardScript: MINER.scriptPubKey }), regtest.powLimit);
    assert.equal((await node.submitBlock(block!)).status, 'connected');
  }
  const startHeight = node.chain.height;
  let pool: MinerPool | undefined;
  const controller = new MiningController(
    { threads: 1, rewardScript: MINER.scriptPubKey, minBlockIntervalMs: 150, templateRefreshMs: 50 },
    { node, logger: silentLogger(), createPool: (threads) => (pool = new MinerPool({ threads })) },
  );
  t.after(() => controller.close());
  assert.throws(() => new MiningController({}, { node, logger: silentLogger() }).start(), /reward script/);
  assert.equal(controller.isMining(), false);

  controller.start();
  assert.equal(controller.isMining(), true);
  await waitFor('4 blocks', () => node.chain.height >= startHeight + 4);
  // Pacing on a trivial target: a block is found within microseconds of its job, so every job after a find waited
  // for the 150 ms interval (the first one did not).
  assert.ok(controller.stats.pacedWaits >= 3, `paced waits ${controller.stats.pacedWaits} for ${controller.stats.blocksFound} blocks`);
  const tipBlock = node.chain.getBlock(node.chain.tip.hash)!;
  assert.equal(bytesToHex(tipBlock.txs[0]!.outputs[0]!.scriptPubKey), bytesToHex(MINER.scriptPubKey));
  assert.ok(Buffer.from(tipBlock.txs[0]!.inputs[0]!.scriptSig).includes(Buffer.from('/cairn/')), 'coinbase tag');
  assert.ok(controller.stats.blocksAccepted >= 4);
  assert.ok(controller.stats.jobs >= controller.stats.blocksFound);

  // A spend submitted while mining ends up in a mined block.
  controller.stop();
  const [coin] = spendableCoinbases(node.chain, MINER);
  const { tx } = buildSpend([coin!], { key: ALICE, valueSats: 1_000_000n }, 5_000n);
  const txid = computeTxid(tx);
  controller.start();
  await node.submitTransaction(tx);
  await waitFor('the spend to be mined', () => node.chainIndex.getTxLocation(txid) !== undefined, 30_000);
  assert.equal(node.mempool.get(txid), undefined);

  controller.stop();
  assert.equal(controller.isMining(), false);
  const foundAtStop = controller.stats.blocksFound;
  // The positive signal that the stop reached the worker: a job with an empty nonce range, sent after it, is answered
  // "exhausted" (the worker handles messages in order, and its own reports arrive in order before that answer).
  const roundTrip = (jobId: string): Promise<void> => {
    const exhausted = new Promise<void>((resolve) => pool!.onExhausted((id) => id === jobId && resolve()));
    pool!.startJob({ jobId, header80: new Uint8Array(80), target: 0n, startNonce: 0, endNonce: 0 });
    return exhausted;
  };
  await roundTrip('after-stop-1');
  const hashesAfterStop = pool!.stats.hashes;
  await roundTrip('after-stop-2');
  assert.equal(pool!.stats.hashes, hashesAfterStop, 'the worker kept hashing after stop');
  assert.equal(controller.stats.blocksFound, foundAtStop, 'no block found after stop');
});

test('mining controller: solveBlock grinds a real-PoW target on the miner pool and a trivial one on the CPU', async (t) => {
  const node = await openNode(t);
  const controller = new MiningController({ threads: 2 }, { node, logger: silentLogger() });
  t.after(() => controller.close());
  const template = node.blockTemplates.createTemplate();
  const unsolved = node.blockTemplates.buildBlock(template, { rewardScript: MINER.scriptPubKey });

  // Bits 0x1f00ffff: target 0xffff · 2^224, about 2^16 hashes; the pool must find a nonce meeting it.
  const hard = { header: { ...unsolved.header, bits: 0x1f00ffff }, txs: unsolved.txs };
  const solved = await controller.solveBlock(hard);
  assert.ok(solved);
  assert.ok(headerValue(encodeBlockHeader(solved.header)) <= 0xffffn << 224n);
  assert.deepEqual({ ...solved.header, nonce: 0 }, { ...hard.header, nonce: 0 });
  assert.ok(controller.hashesPerSecond() >= 0);

  // An impossible target over a short nonce range: the pool reports exhaustion as null.
  const none = await controller.solveBlock({ header: { ...unsolved.header, bits: 0x03000001, nonce: 2 ** 32 - 5_000 }, txs: unsolved.txs });
  assert.equal(none, null);

  // Regtest's own bits: solved on the calling thread, and the node accepts it.
  const easy = await controller.solveBlock(unsolved);
  assert.ok(easy);
  assert.equal((await node.submitBlock(easy)).status, 'connected');
});
