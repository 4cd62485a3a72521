import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkBlock } from '../consensus/checkBlock.js';
import { decodeBip34Height } from '../testing/bip34.js';
import { regtest } from '../params/networks.js';
import { computeBlockSubsidy } from '../consensus/subsidy.js';
import { hashToHex } from '../primitives/hex.js';
import { getTxWeight } from '../primitives/tx.js';
import { makeHarness, pay, START_HEIGHT, START_MTP, START_NOW, txidOf, type Harness } from '../testing/mempoolHarness.js';
import { makeTestKey } from '../testing/txFactory.js';
import { BlockAssembler, COINBASE_RESERVED_WEIGHT } from './blockAssembler.js';
import { solveBlockCpu } from './cpuSolver.js';
import { decodeBlockHash } from '../primitives/identity.js';

const REWARD = makeTestKey('assembler/reward', 'p2tr');

function assemblerFor(h: Harness, maxBlockWeight?: number): BlockAssembler {
  return new BlockAssembler(maxBlockWeight === undefined ? {} : { maxBlockWeight }, {
    params: regtest,
    tip: () => ({ hash: decodeBlockHash(new Uint8Array(32).fill(7)), height: h.state.tipHeight }),
    nextBits: () => regtest.powLimitBits,
    tipMedianTimePast: () => h.state.mtp,
    nowSec: () => h.state.now,
    mempool: h.mempool,
  });
}

test('template: packages by ancestor fee rate (CPFP), parents first; coinbase claims subsidy + fees', async () => {
  const h = makeHarness();
  const low = pay([h.fund(1_000_000n)], 200n); // a low-fee parent…
  const child = pay([low.coin], 50_000n); // …whose child pays for both
  const mid = pay([h.fund(1_000_000n)], 5_000n);
  for (const tx of [low.tx, child.tx, mid.tx]) await h.mempool.acceptTransaction(tx);

  const assembler = assemblerFor(h);
  const template = assembler.createTemplate();
  assert.deepEqual(template.txs.map((t) => hashToHex(t.txid)), [txidOf(low.tx), txidOf(child.tx), txidOf(mid.tx)]);
  assert.equal(template.totalFees, 55_200n);
  assert.equal(template.height, START_HEIGHT + 1);
  assert.equal(template.coinbaseValue, computeBlockSubsidy(START_HEIGHT + 1, regtest) + 55_200n);
  assert.equal(template.minTimeSec, START_MTP + 1);
  assert.equal(template.curTimeSec, START_NOW);
  assert.ok(template.witnessCommitment, 'segwit txs need a witness commitment');

  const block = solveBlockCpu(assembler.buildBlock(template, { rewardScript: REWARD.scriptPubKey, extraNonce: Uint8Array.of(1, 2, 3, 4), tag: '/cairn/' }), regtest.powLimit);
  assert.ok(block);
  assert.doesNotThrow(() => checkBlock(block, regtest), 'the assembled block passes the context-free checks');
  const coinbase = block.txs[0]!;
  assert.equal(decodeBip34Height(coinbase.inputs[0]!.scriptSig), START_HEIGHT + 1);
  assert.equal(coinbase.outputs[0]!.value, template.coinbaseValue);
  assert.deepEqual(coinbase.outputs[0]!.scriptPubKey, REWARD.scriptPubKey);
});

test('template: a package that does not fit the weight limit is skipped, smaller later ones still go in', async () => {
  const h = makeHarness();
  const big = pay([h.fund(1_000_000n), h.fund(1_000_000n), h.fund(1_000_000n)], 90_000n); // 3 inputs, best fee rate
  const small = pay([h.fund(1_000_000n)], 2_000n);
  await h.mempool.acceptTransaction(big.tx);
  await h.mempool.acceptTransaction(small.tx);
  const limit = getTxWeight(small.tx) + 10; // room for the small tx only
  const template = assemblerFor(h, limit).createTemplate();
  assert.deepEqual(template.txs.map((t) => hashToHex(t.txid)), [txidOf(small.tx)]);
  assert.ok(template.txWeight <= limit);
  assert.equal(assemblerFor(h).createTemplate().txs.length, 2, 'the default limit fits both');
  assert.equal(COINBASE_RESERVED_WEIGHT, 4_000);
});

test('template of an empty mempool: coinbase only, no witness commitment', () => {
  const h = makeHarness();
  const assembler = assemblerFor(h);
  const template = assembler.createTemplate();
  assert.equal(template.txs.length, 0);
  assert.equal(template.witnessCommitment, null);
  const block = solveBlockCpu(assembler.buildBlock(template, { rewardScript: REWARD.scriptPubKey }), regtest.powLimit)!;
  assert.doesNotThrow(() => checkBlock(block, regtest));
  assert.equal(block.txs.length, 1);
  assert.equal(block.txs[0]!.outputs.length, 1);
});
