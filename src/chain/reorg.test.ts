/**
 * Reorganisations on real SQLite stores with real signed spends: the chain follows the valid branch with the most
 * work (not the longest), undoes and redoes UTXO changes exactly (the digest equals that of a fresh node fed only the
 * winning chain, and an independent replay), and ends on the best valid chain when a branch holds an invalid block.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { computeWork } from '../consensus/pow.js';
import type { ChainParams } from '../params/chainParams.js';
import { regtest } from '../params/networks.js';
import { computeBlockHash } from '../primitives/blockHeader.js';
import { hashToHex } from '../primitives/hex.js';
import { computeTxid } from '../primitives/tx.js';
import type { Block, BlockHash, Tx } from '../primitives/types.js';
import { BlockStatus, type UtxoSetDigest } from '../interfaces/chainTypes.js';
import {
  buildBranch,
  MINER_KEY,
  mainChainBlocks,
  openTestChain,
  parentOf,
  type BlockParent,
  type OpenTestChainOptions,
  type TestChain,
} from '../testing/chainFactory.js';
import { buildSpend, coinsOf, makeTestKey, type SpendableCoin } from '../testing/txFactory.js';
import { replayUtxoDigest } from '../testing/utxoReplay.js';
import type { TipChangedEvent } from '../interfaces/chainTypes.js';

const alice = makeTestKey('alice');
const bob = makeTestKey('bob', 'p2tr');
const carol = makeTestKey('carol');

async function open(t: TestContext, options: OpenTestChainOptions = {}): Promise<TestChain> {
  const tc = await openTestChain(options);
  t.after(() => tc.destroy());
  return tc;
}

const hex = (b: Block): string => hashToHex(computeBlockHash(b.header));
const hashOf = (b: Block): BlockHash => computeBlockHash(b.header);

/** Feeds blocks in order and returns the statuses. */
async function feed(tc: TestChain, blocks: readonly Block[]): Promise<string[]> {
  const out: string[] = [];
  for (const b of blocks) out.push((await tc.chain.processBlock(b)).status);
  return out;
}

/** The UTXO digest of a fresh node (new store) fed only `blocks` (genesis excluded), in order. */
async function freshDigest(t: TestContext, blocks: readonly Block[], params: ChainParams = regtest): Promise<UtxoSetDigest> {
  const fresh = await open(t, { params });
  const statuses = await feed(fresh, blocks);
  assert.ok(statuses.every((s) => s === 'connected'), `fresh node: ${statuses.join(',')}`);
  return fresh.chain.computeUtxoDigest();
}

/** Asserts the chain's digest equals a fresh node's and an independent replay of its main chain. */
async function assertDigestMatchesFresh(t: TestContext, tc: TestChain, winning: readonly Block[]): Promise<void> {
  const digest = tc.chain.computeUtxoDigest();
  assert.deepEqual(digest, await freshDigest(t, winning, tc.params));
  assert.equal(digest.hashSerialized, replayUtxoDigest(mainChainBlocks(tc.chain)).hashSerialized);
}

function recordEvents(tc: TestChain): { log: string[]; tips: TipChangedEvent[] } {
  const log: string[] = [];
  const tips: TipChangedEvent[] = [];
  tc.chain.on('blockConnected', (e) => log.push(`+${e.entry.height}:${e.entry.hashHex.slice(0, 8)}`));
  tc.chain.on('blockDisconnected', (e) => log.push(`-${e.entry.height}:${e.entry.hashHex.slice(0, 8)}`));
  tc.chain.on('blockInvalid', (e) => log.push(`!${e.reason}`));
  tc.chain.on('tipChanged', (e) => {
    log.push(`tip ${e.tip.height} depth ${e.reorgDepth}`);
    tips.push(e);
  });
  return { log, tips };
}

/** The miner's coinbase coin of a block. */
const cbCoin = (block: Block): SpendableCoin => coinsOf(block.txs[0]!, MINER_KEY)[0]!;

/** A common prefix of 101 regtest blocks (coinbases of heights 1 and 2 are mature at height 102). */
function buildPrefix(n = 101): Block[] {
  return buildBranch(regtest, { hash: computeBlockHash(regtest.genesis.header), height: 0, header: regtest.genesis.header }, n);
}

const tag = (label: string, i: number): string => `${label}${i}`;

describe('reorg: the valid branch with the most work wins', () => {
  const prefix = buildPrefix();
  const fork: BlockParent = parentOf(prefix[100]!, 101);

  it('a competing branch with more work wins; events in Core\'s order; digest equals a fresh node\'s', async (t) => {
    const tc = await open(t);
    assert.ok((await feed(tc, prefix)).every((s) => s === 'connected'));
    const c1 = cbCoin(prefix[0]!);
    const c2 = cbCoin(prefix[1]!);
    // Main branch: M1 pays c1 to alice, M2 spends alice's coin on to carol.
    const m1Spend = buildSpend([c1], { key: alice, valueSats: 20_00000000n }, 10_000n);
    const m2Spend = buildSpend([m1Spend.created[0]!], { key: carol, valueSats: 1_00000000n }, 10_000n);
    const main = buildBranch(regtest, fork, 2, (i) => ({ txs: i === 0 ? [m1Spend.tx] : [m2Spend.tx], extraNonce: tag('m', i) }));
    assert.deepEqual(await feed(tc, main), ['connected', 'connected']);
    assert.ok(tc.chain.getCoin(m2Spend.created[0]!.outpoint));

    // Competing branch: B1 pays the same c1 to bob (a conflict), B2 spends c2, B3 empty.
    const b1Spend = buildSpend([c1], { key: bob, valueSats: 30_00000000n }, 5_000n);
    const b2Spend = buildSpend([c2], { key: alice, valueSats: 1_000n }, 5_000n);
    const branch = buildBranch(regtest, fork, 3, (i) => ({ txs: [[b1Spend.tx], [b2Spend.tx], []][i], extraNonce: tag('b', i) }));
    const { log, tips } = recordEvents(tc);
    assert.deepEqual(await feed(tc, branch.slice(0, 2)), ['side-chain', 'side-chain'], 'equal work does not switch');
    assert.equal(tc.chain.tip.hashHex, hex(main[1]!));
    const r = await tc.chain.processBlock(branch[2]!);
    assert.deepEqual(r, { hash: hashOf(branch[2]!), status: 'connected', reorg: { depth: 2, forkHeight: 101 } });
    assert.equal(tc.chain.tip.hashHex, hex(branch[2]!));
    const s = (b: Block): string => hex(b).slice(0, 8);
    assert.deepEqual(log, [
      `-103:${s(main[1]!)}`,
      `-102:${s(main[0]!)}`,
      `+102:${s(branch[0]!)}`,
      `+103:${s(branch[1]!)}`,
      `+104:${s(branch[2]!)}`,
      'tip 104 depth 2',
    ]);
    const tip = tips[0]!;
    assert.equal(tip.previousTip.hashHex, hex(main[1]!));
    // The main branch's txs are back for the mempool, parents first.
    assert.deepEqual(tip.disconnectedTxs.map((x) => hashToHex(computeTxid(x))), [m1Spend.tx, m2Spend.tx].map((x) => hashToHex(computeTxid(x))));
    assert.equal(tc.chain.getCoin(m2Spend.created[0]!.outpoint), undefined);
    assert.ok(tc.chain.getCoin(b1Spend.created[0]!.outpoint));
    assert.ok(!tc.chain.isMainChain(tc.chain.getEntry(hashOf(main[0]!))!));
    await assertDigestMatchesFresh(t, tc, [...prefix, ...branch]);
  });

  it('reorg back and forth between two branches with conflicting spends', async (t) => {
    const tc = await open(t);
    await feed(tc, prefix);
    const c1 = cbCoin(prefix[0]!);
    const aSpend = buildSpend([c1], { key: alice, valueSats: 7_00000000n }, 1_000n);
    const bSpend = buildSpend([c1], { key: bob, valueSats: 8_00000000n }, 2_000n);
    const a = buildBranch(regtest, fork, 6, (i) => ({ txs: i === 0 ? [aSpend.tx] : [], extraNonce: tag('a', i) }));
    const b = buildBranch(regtest, fork, 7, (i) => ({ txs: i === 0 ? [bSpend.tx] : [], extraNonce: tag('b', i) }));
    const { tips } = recordEvents(tc);

    await feed(tc, a.slice(0, 2));
    assert.ok(tc.chain.getCoin(aSpend.created[0]!.outpoint));
    await feed(tc, b.slice(0, 3));
    assert.equal(tc.chain.tip.hashHex, hex(b[2]!));
    assert.equal(tc.chain.getCoin(aSpend.created[0]!.outpoint), undefined);
    assert.ok(tc.chain.getCoin(bSpend.created[0]!.outpoint));
    await assertDigestMatchesFresh(t, tc, [...prefix, ...b.slice(0, 3)]);

    await feed(tc, a.slice(2, 4));
    assert.equal(tc.chain.tip.hashHex, hex(a[3]!), 'a overtakes with 4 blocks');
    assert.ok(tc.chain.getCoin(aSpend.created[0]!.outpoint));
    await assertDigestMatchesFresh(t, tc, [...prefix, ...a.slice(0, 4)]);

    await feed(tc, b.slice(3, 5));
    assert.equal(tc.chain.tip.hashHex, hex(b[4]!));
    await feed(tc, a.slice(4, 6));
    assert.equal(tc.chain.tip.hashHex, hex(a[5]!));
    await feed(tc, b.slice(5, 7));
    assert.equal(tc.chain.tip.hashHex, hex(b[6]!));
    assert.deepEqual(
      tips.filter((e) => e.reorgDepth > 0).map((e) => [e.reorgDepth, e.tip.height]),
      [[2, 104], [3, 105], [4, 106], [5, 107], [6, 108]],
    );
    await assertDigestMatchesFresh(t, tc, [...prefix, ...b]);
  });

  it('a 100-block reorg with spends on both branches equals a fresh node fed the winning branch', async (t) => {
    const tc = await open(t);
    await feed(tc, prefix);
    // Branch heights 102..: the block at height 101 + k spends the prefix coinbase of height k (101 deep).
    const spendFor = (k: number, to: typeof alice, value: bigint): Tx =>
      buildSpend([cbCoin(prefix[k - 1]!)], { key: to, valueSats: value }, 1_000n).tx;
    const main = buildBranch(regtest, fork, 100, (i) => ({
      txs: i % 3 === 0 ? [spendFor(i + 1, alice, 1_00000000n)] : [],
      extraNonce: tag('m', i),
    }));
    const b1 = buildChildBlock0(fork, 'b0', [spendFor(1, bob, 2_00000000n)]);
    // The branch's own first coinbase matures at its last block (height 202 spends height 102).
    const rest = buildBranch(regtest, parentOf(b1, 102), 100, (i) => ({
      txs:
        i === 99
          ? [buildSpend([cbCoin(b1)], { key: carol, valueSats: 5_000n }, 1_000n).tx]
          : i % 2 === 0
            ? [spendFor(i + 2, bob, 3_00000000n)]
            : [],
      extraNonce: tag('b', i + 1),
    }));
    const branch = [b1, ...rest];
    assert.ok((await feed(tc, main)).every((s) => s === 'connected'));
    assert.equal(tc.chain.height, 201);
    const { log } = recordEvents(tc);
    const statuses = await feed(tc, branch);
    assert.ok(statuses.slice(0, 100).every((s) => s === 'side-chain'));
    assert.equal(statuses[100], 'connected');
    assert.equal(tc.chain.height, 202);
    assert.equal(log.filter((l) => l.startsWith('-')).length, 100);
    assert.equal(log.filter((l) => l.startsWith('+')).length, 101);
    assert.equal(log.at(-1), 'tip 202 depth 100');
    await assertDigestMatchesFresh(t, tc, [...prefix, ...branch]);
  });
});

/** A single block on `parent` with txs and an extra nonce (regtest). */
function buildChildBlock0(parent: BlockParent, extraNonce: string, txs: Tx[]): Block {
  return buildBranch(regtest, parent, 1, { txs, extraNonce })[0]!;
}

describe('reorg: an invalid block inside a branch', () => {
  const prefix = buildPrefix();
  const fork: BlockParent = parentOf(prefix[100]!, 101);
  /** A spend whose signature no longer matches (output changed after signing). */
  const forged = (): Tx => {
    const tx = buildSpend([cbCoin(prefix[1]!)], { key: alice, valueSats: 1_000n }, 1_000n).tx;
    return { ...tx, outputs: [{ ...tx.outputs[0]!, value: 2_000n }, ...tx.outputs.slice(1)] };
  };

  it('goes back to the old chain when the valid part of the branch has less work; failures persist', async (t) => {
    let tc = await open(t);
    await feed(tc, prefix);
    const main = buildBranch(regtest, fork, 3, (i) => ({
      txs: i === 0 ? [buildSpend([cbCoin(prefix[0]!)], { key: carol, valueSats: 1_000n }, 1_000n).tx] : [],
      extraNonce: tag('m', i),
    }));
    await feed(tc, main);
    const tipBefore = tc.chain.tip.hashHex;
    const digestBefore = tc.chain.computeUtxoDigest();
    const branch = buildBranch(regtest, fork, 5, (i) => ({ txs: i === 2 ? [forged()] : [], extraNonce: tag('b', i) }));
    const { log, tips } = recordEvents(tc);
    assert.deepEqual(await feed(tc, branch.slice(0, 3)), ['side-chain', 'side-chain', 'side-chain']);
    const r = await tc.chain.processBlock(branch[3]!);
    assert.equal(r.status, 'invalid');
    assert.equal(r.reason, 'bad-prevblk');
    assert.match(r.detail ?? '', new RegExp(hex(branch[2]!)));
    assert.equal(tc.chain.tip.hashHex, tipBefore);
    assert.deepEqual(tc.chain.computeUtxoDigest(), digestBefore);
    const s = (b: Block): string => hex(b).slice(0, 8);
    assert.deepEqual(log, [
      `-104:${s(main[2]!)}`,
      `-103:${s(main[1]!)}`,
      `-102:${s(main[0]!)}`,
      `+102:${s(branch[0]!)}`,
      `+103:${s(branch[1]!)}`,
      '!mandatory-script-verify-flag-failed (sig-nullfail)',
      `-103:${s(branch[1]!)}`,
      `-102:${s(branch[0]!)}`,
      `+102:${s(main[0]!)}`,
      `+103:${s(main[1]!)}`,
      `+104:${s(main[2]!)}`,
      'tip 104 depth 0',
    ]);
    assert.equal(tips[0]!.disconnectedTxs.length, 0, 'every disconnected tx was reconnected');
    const r5 = await tc.chain.processBlock(branch[4]!);
    assert.deepEqual([r5.status, r5.reason], ['invalid', 'bad-prevblk']);

    const status = (b: Block): number => tc.chain.getEntry(hashOf(b))!.status;
    const check = (): void => {
      assert.ok(status(branch[2]!) & BlockStatus.FAILED);
      assert.ok(status(branch[3]!) & BlockStatus.FAILED_CHILD);
      assert.ok(status(branch[4]!) & BlockStatus.FAILED_CHILD);
      assert.equal(status(branch[1]!) & (BlockStatus.FAILED | BlockStatus.FAILED_CHILD), 0);
      assert.ok(status(branch[1]!) & BlockStatus.VALID_SCRIPTS, 'connected once');
    };
    check();
    tc = await tc.reopen();
    t.after(() => tc.destroy());
    check();
    assert.equal(tc.chain.tip.hashHex, tipBefore);
    assert.deepEqual([(await tc.chain.processBlock(branch[3]!)).reason], ['duplicate-invalid']);
    await assertDigestMatchesFresh(t, tc, [...prefix, ...main]);
  });

  it('stops on the valid part of the branch when it has more work than the old chain', async (t) => {
    const tc = await open(t);
    await feed(tc, prefix);
    const main = buildBranch(regtest, fork, 1, { extraNonce: 'm' });
    await feed(tc, main);
    const branch = buildBranch(regtest, fork, 4, (i) => ({ txs: i === 2 ? [forged()] : [], extraNonce: tag('b', i) }));
    // Child-first: 2..4 wait as orphans, then block 1 brings them in and one activation meets the bad block.
    assert.deepEqual(await feed(tc, [branch[3]!, branch[2]!, branch[1]!]), ['orphan', 'orphan', 'orphan']);
    const r = await tc.chain.processBlock(branch[0]!);
    assert.deepEqual(r, { hash: hashOf(branch[0]!), status: 'connected', reorg: { depth: 1, forkHeight: 101 } });
    assert.equal(tc.chain.tip.hashHex, hex(branch[1]!));
    assert.ok(tc.chain.getEntry(hashOf(branch[2]!))!.status & BlockStatus.FAILED);
    assert.ok(tc.chain.getEntry(hashOf(branch[3]!))!.status & BlockStatus.FAILED_CHILD);
    await assertDigestMatchesFresh(t, tc, [...prefix, ...branch.slice(0, 2)]);
  });
});

describe('reorg: most work, not most blocks', () => {
  /**
   * regtest with ASERT instead of fixed bits, so that bits (and work) differ per block: anchor bits 0x2000ffff (about
   * 256 hashes per block, mined in milliseconds) and a 1-hour half-life. A branch whose blocks are 1 s apart gets
   * harder bits (more work per block); a branch whose blocks are 100,000 s apart reaches powLimit (work 2 per block),
   * so it can have many more blocks and still less work. Same genesis, so the SQLite store accepts the params.
   */
  const asertRegtest: ChainParams = Object.freeze({
    ...regtest,
    difficulty: {
      kind: 'asert',
      halfLifeSec: 3_600,
      anchorHeight: 0,
      anchorBits: 0x2000ffff,
      anchorParentTimeSec: regtest.genesis.header.time - regtest.targetSpacingSec,
    },
  } as const);
  const genesis: BlockParent = { hash: computeBlockHash(regtest.genesis.header), height: 0, header: regtest.genesis.header };
  const prefix = buildBranch(asertRegtest, genesis, 2);
  const fork = parentOf(prefix[1]!, 2);
  const heavy = buildBranch(asertRegtest, fork, 3, { timeStepSec: 1, extraNonce: 'heavy' });
  const light = buildBranch(asertRegtest, fork, 10, { timeStepSec: 100_000, extraNonce: 'light' });
  const work = (blocks: readonly Block[]): bigint => blocks.reduce((w, b) => w + computeWork(b.header.bits), 0n);

  it('the test branches really differ: the longer branch has less work', () => {
    assert.ok(light.length > heavy.length);
    assert.ok(work(light) < work(heavy), `light ${work(light)} vs heavy ${work(heavy)}`);
    assert.ok(light.slice(1).every((b) => b.header.bits === asertRegtest.powLimitBits), 'slow blocks hit powLimit');
    assert.ok(heavy[2]!.header.bits !== heavy[0]!.header.bits, 'fast blocks get harder');
  });

  it('a longer branch with less work does not replace the tip', async (t) => {
    const tc = await open(t, { params: asertRegtest });
    await feed(tc, [...prefix, ...heavy]);
    assert.equal(tc.chain.tip.hashHex, hex(heavy[2]!));
    const statuses = await feed(tc, light);
    assert.ok(statuses.every((s) => s === 'side-chain'), statuses.join(','));
    assert.equal(tc.chain.tip.hashHex, hex(heavy[2]!));
    const lightTip = tc.chain.getEntry(hashOf(light[9]!))!;
    assert.ok(lightTip.height > tc.chain.height);
    assert.ok(lightTip.chainWork < tc.chain.tip.chainWork);
    assert.equal(tc.chain.tip.chainWork, work([regtest.genesis, ...prefix, ...heavy]));
  });

  it('a shorter branch with more work replaces a longer tip', async (t) => {
    const tc = await open(t, { params: asertRegtest });
    await feed(tc, [...prefix, ...light]);
    assert.equal(tc.chain.height, 12);
    const statuses = await feed(tc, heavy);
    assert.equal(statuses.at(-1), 'connected');
    assert.equal(tc.chain.tip.hashHex, hex(heavy[2]!));
    assert.equal(tc.chain.height, 5);
    await assertDigestMatchesFresh(t, tc, [...prefix, ...heavy]);
  });
});

