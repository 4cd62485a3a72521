import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { computeBlockSubsidy } from '../consensus/subsidy.js';
import { regtest } from '../params/networks.js';
import { encodeBlock, getBlockWeight } from '../primitives/block.js';
import { computeBlockHash, NULL_BLOCK_HASH } from '../primitives/blockHeader.js';
import { blockHashFromHex, hashToHex } from '../primitives/hex.js';
import type { Block, BlockHash } from '../primitives/types.js';
import { BlockStatus } from '../interfaces/chainTypes.js';
import {
  buildBranch,
  buildChildBlock,
  mainChainBlocks,
  mineBlocks,
  openTestChain,
  parentOf,
  parentOfEntry,
  spendableCoinbases,
  type OpenTestChainOptions,
  type TestChain,
} from '../testing/chainFactory.js';
import { buildSpend, makeTestKey } from '../testing/txFactory.js';
import { replayUtxoDigest } from '../testing/utxoReplay.js';
import { ChainError } from './chainError.js';
import type { ChainEvents } from '../interfaces/chainTypes.js';
import { InlineScriptVerifier } from './inlineScriptVerifier.js';
import { WorkerPoolScriptVerifier } from './workerPoolScriptVerifier.js';
import type { ScriptCheckJob, ScriptCheckResult, ScriptCheckSession, ScriptVerifier } from '../interfaces/scriptVerifier.js';

async function open(t: TestContext, options: OpenTestChainOptions = {}): Promise<TestChain> {
  const tc = await openTestChain(options);
  t.after(() => tc.destroy());
  return tc;
}

/** Records every chain event in order as [name, summary]. */
function recordEvents(tc: TestChain): string[] {
  const log: string[] = [];
  tc.chain.on('blockConnected', (e) => log.push(`connected ${e.entry.height}`));
  tc.chain.on('blockDisconnected', (e) => log.push(`disconnected ${e.entry.height}`));
  tc.chain.on('tipChanged', (e) => log.push(`tip ${e.tip.height} depth ${e.reorgDepth}`));
  tc.chain.on('blockInvalid', (e) => log.push(`invalid ${e.reason}`));
  return log;
}

const alice = makeTestKey('alice');
const bob = makeTestKey('bob', 'p2tr');

describe('Chain: open, mine, accessors', () => {
  it('initialises an empty store with the genesis block and an empty UTXO set', async (t) => {
    const tc = await open(t);
    assert.equal(tc.chain.height, 0);
    assert.equal(tc.chain.tip.hashHex, regtest.genesisHashHex);
    assert.equal(tc.store.getTipHash() && hashToHex(tc.store.getTipHash()!), regtest.genesisHashHex);
    const digest = tc.chain.computeUtxoDigest();
    assert.equal(digest.txouts, 0, 'the genesis coinbase is not spendable');
    assert.equal(digest.height, 0);
    assert.deepEqual(tc.chain.getChainTips(), [{ height: 0, hash: computeBlockHash(regtest.genesis.header), branchlen: 0, status: 'active' }]);
  });

  it('connects blocks with real spends; the UTXO digest matches an independent replay', async (t) => {
    const tc = await open(t);
    const events = recordEvents(tc);
    await mineBlocks(tc.chain, 101);
    assert.equal(tc.chain.height, 101);
    assert.equal(events.filter((e) => e.startsWith('connected')).length, 101);
    assert.equal(events.filter((e) => e.startsWith('tip')).length, 101, 'one tipChanged per processBlock');

    const [c1, c2] = spendableCoinbases(tc.chain);
    assert.ok(c1 && c2, 'two coinbases are mature at height 102');
    const a = buildSpend([c1], { key: alice, valueSats: 1_000_000_000n }, 10_000n);
    // A chain of spends inside one block: b spends a's output.
    const b = buildSpend([a.created[0]!], { key: bob, valueSats: 400_000_000n }, 5_000n);
    const c = buildSpend([c2, b.created[0]!], { key: alice, valueSats: 100_000n }, 20_000n);
    const [mined] = await mineBlocks(tc.chain, 1, { txs: [a.tx, b.tx, c.tx] });
    assert.equal(mined!.result.status, 'connected');
    // The coinbase claimed subsidy + fees exactly.
    assert.equal(mined!.block.txs[0]!.outputs[0]!.value, computeBlockSubsidy(102, regtest) + 35_000n);
    assert.equal(tc.chain.getCoin(c1.outpoint), undefined, 'spent coinbase left the set');
    assert.equal(tc.chain.getCoin(a.created[0]!.outpoint), undefined, 'coin created and spent in the block is not in the set');
    assert.deepEqual(tc.chain.getCoin(b.created[1]!.outpoint)?.output, b.created[1]!.output, 'change of b is unspent');

    const digest = tc.chain.computeUtxoDigest();
    const replay = replayUtxoDigest(mainChainBlocks(tc.chain));
    assert.equal(digest.hashSerialized, replay.hashSerialized);
    assert.equal(digest.txouts, replay.txouts);
    assert.equal(digest.totalAmount, replay.totalAmount);
  });

  it('stores a block given with its serialization (as from the network) as those bytes, and connects it', async (t) => {
    const tc = await open(t);
    await mineBlocks(tc.chain, 101);
    const [coin] = spendableCoinbases(tc.chain);
    const spend = buildSpend([coin!], { key: bob, valueSats: 50_000n }, 1_000n).tx;
    const block = buildChildBlock(regtest, parentOfEntry(tc.chain.tip), { txs: [spend], fees: 1_000n });
    const raw = encodeBlock(block);
    const r = await tc.chain.processBlock(block, raw);
    assert.equal(r.status, 'connected', JSON.stringify(r));
    assert.deepEqual(tc.chain.getRawBlock(r.hash), raw);
    assert.deepEqual(tc.chain.getBlock(r.hash), block);
    assert.equal(tc.chain.getCoin(coin!.outpoint), undefined);
    // Sized from the tx spans of the raw block, the entry has the weight the block's own walk gives.
    const entry = tc.chain.getEntry(r.hash)!;
    assert.equal(entry.weight, getBlockWeight(block));
    assert.equal(entry.sizeBytes, raw.length);
    // And without the serialization (a block built here, as the miner gives it).
    const next = buildChildBlock(regtest, parentOfEntry(tc.chain.tip), { txs: [] });
    const r2 = await tc.chain.processBlock(next);
    assert.equal(r2.status, 'connected');
    assert.equal(tc.chain.getEntry(r2.hash)!.weight, getBlockWeight(next));
  });

  it('accessors: entries by hash and height, ancestors, median-time-past, next bits, locator, duplicates', async (t) => {
    const tc = await open(t);
    const mined = await mineBlocks(tc.chain, 120);
    const { chain } = tc;
    const tip = chain.tip;
    assert.equal(chain.getEntry(tip.hash), tip);
    assert.equal(chain.getEntry(blockHashFromHex(tip.hashHex)), tip, 'another array with the same bytes');
    assert.equal(chain.getEntry(NULL_BLOCK_HASH), undefined);
    assert.equal(chain.getEntryByHeight(50)!.hashHex, mined[49]!.hashHex);
    assert.equal(chain.getEntryByHeight(121), undefined);
    assert.equal(chain.getAncestor(tip, 7)!.hashHex, mined[6]!.hashHex);
    assert.equal(chain.isMainChain(chain.getEntryByHeight(60)!), true);
    assert.equal(chain.getNextBits(tip), regtest.powLimitBits, 'regtest: bits never change');
    assert.equal(chain.tip.chainWork, 121n * 2n, 'regtest: work per block = floor(2^256 / (0x7fffff * 2^232 + 1)) = 2, genesis included');

    // MTP of the tip = median of the last 11 block times (naively: sort and take the 6th).
    const times = mined.slice(-11).map((m) => m.block.header.time).sort((x, y) => x - y);
    assert.equal(chain.getMedianTimePast(tip), times[5]);

    // Core's LocatorEntries: step 1 until 11 hashes are in, then the step doubles after each further hash (the height
    // after the 11th hash is still computed with step 1), ending with the genesis.
    const locator = chain.getLocator().map((h) => chain.getEntry(h)!.height);
    assert.deepEqual(locator, [120, 119, 118, 117, 116, 115, 114, 113, 112, 111, 110, 109, 107, 103, 95, 79, 47, 0]);

    assert.deepEqual(await chain.processBlock(mined[100]!.block), { hash: mined[100]!.hash, status: 'duplicate' });
    assert.deepEqual(await chain.processBlock(regtest.genesis), { hash: computeBlockHash(regtest.genesis.header), status: 'duplicate' });
    assert.equal(chain.getBlock(tip.hash)!.txs.length, 1);
  });

  it('serialises concurrent processBlock calls (all connect in order)', async (t) => {
    const tc = await open(t);
    const blocks = buildBranch(regtest, parentOfEntry(tc.chain.tip), 20);
    const results = await Promise.all(blocks.map((b) => tc.chain.processBlock(b)));
    assert.deepEqual(results.map((r) => r.status), blocks.map(() => 'connected'));
    assert.equal(tc.chain.height, 20);
  });
});

describe('Chain: orphans', () => {
  it('connects blocks that arrive child-first once the parent arrives', async (t) => {
    const tc = await open(t);
    await mineBlocks(tc.chain, 3);
    const events = recordEvents(tc);
    const blocks = buildBranch(regtest, parentOfEntry(tc.chain.tip), 6);
    for (let i = blocks.length - 1; i >= 1; i--) {
      const r = await tc.chain.processBlock(blocks[i]!);
      assert.equal(r.status, 'orphan');
      // The oldest orphan of the run is blocks[i]: its parent is the block to ask for.
      assert.deepEqual(r.missing, computeBlockHash(blocks[i - 1]!.header));
    }
    assert.equal(tc.chain.orphanCount, 5);
    assert.equal(tc.chain.height, 3);
    assert.equal((await tc.chain.processBlock(blocks[3]!)).status, 'duplicate', 'an orphan sent again');
    const r = await tc.chain.processBlock(blocks[0]!);
    assert.equal(r.status, 'connected');
    assert.equal(tc.chain.height, 9);
    assert.equal(tc.chain.orphanCount, 0);
    assert.equal(tc.chain.tip.hashHex, hashToHex(computeBlockHash(blocks[5]!.header)));
    assert.deepEqual(events, ['connected 4', 'connected 5', 'connected 6', 'connected 7', 'connected 8', 'connected 9', 'tip 9 depth 0']);
  });

  it('bounds the orphan pool by count and bytes, evicting the oldest', async (t) => {
    const tc = await open(t, { chainOptions: { maxOrphanBlocks: 3 } });
    const blocks = buildBranch(regtest, parentOfEntry(tc.chain.tip), 6);
    for (let i = 1; i < 6; i++) assert.equal((await tc.chain.processBlock(blocks[i]!)).status, 'orphan');
    assert.equal(tc.chain.orphanCount, 3);
    const hash = (b: Block): BlockHash => computeBlockHash(b.header);
    assert.equal(tc.chain.hasOrphan(hash(blocks[1]!)), false, 'oldest evicted');
    assert.equal(tc.chain.hasOrphan(hash(blocks[2]!)), false);
    assert.equal(tc.chain.hasOrphan(hash(blocks[5]!)), true);
    // 1 and 2 were evicted: 3..5 stay orphans until 2 arrives again.
    assert.equal((await tc.chain.processBlock(blocks[0]!)).status, 'connected');
    assert.equal((await tc.chain.processBlock(blocks[1]!)).status, 'connected');
    assert.equal(tc.chain.height, 2);
    assert.equal(tc.chain.orphanCount, 3);
    assert.equal((await tc.chain.processBlock(blocks[2]!)).status, 'connected');
    assert.equal(tc.chain.height, 6);
    assert.equal(tc.chain.orphanCount, 0);

    const small = await open(t, { chainOptions: { maxOrphanBytes: 100 } });
    const r = await small.chain.processBlock(blocks[1]!);
    assert.equal(r.status, 'orphan');
    assert.equal(small.chain.orphanCount, 0, 'a block larger than the byte limit is not kept');
  });
});

describe('Chain: restart and recovery', () => {
  it('reopens on the same store with the same tip and digest, and continues', async (t) => {
    let tc = await open(t);
    await mineBlocks(tc.chain, 105);
    const coins = spendableCoinbases(tc.chain);
    await mineBlocks(tc.chain, 1, { txs: [buildSpend([coins[0]!], { key: alice, valueSats: 5_000n }, 1_000n).tx] });
    // A side branch, so the reloaded index has more than the main chain.
    const side = buildBranch(regtest, parentOfEntry(tc.chain.getEntryByHeight(100)!), 2, { extraNonce: 'side' });
    for (const b of side) assert.equal((await tc.chain.processBlock(b)).status, 'side-chain');
    const tip = tc.chain.tip;
    const digest = tc.chain.computeUtxoDigest();
    const tips = tc.chain.getChainTips();
    const at50 = tc.chain.getEntryByHeight(50)!.hashHex;

    tc = await tc.reopen();
    t.after(() => tc.destroy());
    assert.equal(tc.chain.tip.hashHex, tip.hashHex);
    assert.equal(tc.chain.tip.chainWork, tip.chainWork);
    assert.deepEqual(tc.chain.computeUtxoDigest(), digest);
    assert.deepEqual(tc.chain.getChainTips(), tips);
    assert.equal(tc.chain.getEntryByHeight(50)!.hashHex, at50);
    const more = await mineBlocks(tc.chain, 3);
    assert.equal(more[2]!.result.status, 'connected');
    assert.equal(tc.chain.height, 109);
    assert.equal(tc.chain.computeUtxoDigest().hashSerialized, replayUtxoDigest(mainChainBlocks(tc.chain)).hashSerialized);
  });

  it('connects on open a block that was stored but not connected (crash between store and connect)', async (t) => {
    let tc = await open(t);
    await mineBlocks(tc.chain, 2);
    const next = buildChildBlock(regtest, parentOfEntry(tc.chain.tip));
    const hash = computeBlockHash(next.header);
    const { encodeBlock } = await import('../primitives/block.js');
    // What acceptBlock writes before activation: the entry with HAVE_DATA and the raw block.
    tc.store.putBlock(
      {
        hash,
        hashHex: hashToHex(hash),
        header: next.header,
        height: 3,
        chainWork: tc.chain.tip.chainWork + 2n,
        status: BlockStatus.VALID_HEADER | BlockStatus.HAVE_DATA,
        txCount: 1,
        sizeBytes: encodeBlock(next).length,
        weight: 0,
      },
      encodeBlock(next),
    );
    tc = await tc.reopen();
    t.after(() => tc.destroy());
    assert.equal(tc.chain.height, 3);
    assert.equal(tc.chain.tip.hashHex, hashToHex(hash));
    assert.ok((tc.chain.tip.status & BlockStatus.VALID_SCRIPTS) !== 0);
  });

  it('a script verifier crash is an internal error: the block is not marked invalid, nothing uncommitted is seen, it connects on retry', async (t) => {
    const inner = new InlineScriptVerifier();
    let crash = false;
    /** What the chain showed of the spent coin while the crashed session was being cancelled (an await). */
    let seenWhileCancelling: unknown = 'not cancelled';
    const workerExited = (): never => {
      throw new Error('worker exited');
    };
    const flaky: ScriptVerifier = {
      begin: (jobs: readonly ScriptCheckJob[]): ScriptCheckSession =>
        crash
          ? {
              finishSync: workerExited,
              finish: async () => workerExited(),
              cancel: async () => {
                seenWhileCancelling = tc.chain.getCoin(coin!.outpoint)?.output.value;
              },
            }
          : inner.begin(jobs),
      verify: (jobs: readonly ScriptCheckJob[]): Promise<ScriptCheckResult> => flaky.begin(jobs).finish(),
      isCached: (w) => inner.isCached(w),
      close: () => inner.close(),
    };
    const tc = await open(t, { scriptVerifier: flaky });
    await mineBlocks(tc.chain, 101);
    const [coin] = spendableCoinbases(tc.chain);
    const spend = buildSpend([coin!], { key: alice, valueSats: 50_000n }, 1_000n).tx;
    const block = buildChildBlock(regtest, parentOfEntry(tc.chain.tip), { txs: [spend], fees: 1_000n });
    const before = tc.chain.tip.hashHex;
    crash = true;
    await assert.rejects(tc.chain.processBlock(block), (e: unknown) => e instanceof ChainError && e.code === 'script-verifier-failed');
    assert.equal(seenWhileCancelling, coin!.output.value, 'the block\'s writes were rolled back before the chain yielded');
    assert.equal(tc.chain.tip.hashHex, before);
    const entry = tc.chain.getEntry(computeBlockHash(block.header))!;
    assert.equal(entry.status & (BlockStatus.FAILED | BlockStatus.FAILED_CHILD), 0, 'not marked invalid');
    crash = false;
    assert.equal((await tc.chain.processBlock(block)).status, 'duplicate');
    assert.equal(tc.chain.tip.hashHex, entry.hashHex, 'the retry connected it');
  });

  it('runs with the worker-pool script verifier: valid spends connect, a forged signature is refused', async (t) => {
    const pool = new WorkerPoolScriptVerifier({ threads: 2, parallelThresholdInputs: 0 });
    t.after(() => pool.close());
    const tc = await open(t, { scriptVerifier: pool });
    await mineBlocks(tc.chain, 104);
    const coins = spendableCoinbases(tc.chain);
    assert.equal(coins.length, 5, 'coinbases of heights 1..5 are 100 deep at height 105');
    const txs = coins.slice(0, 3).map((c, i) => buildSpend([c], { key: i % 2 ? bob : alice, valueSats: 10_000n }, 1_000n).tx);
    const good = await mineBlocks(tc.chain, 1, { txs });
    assert.equal(good[0]!.result.status, 'connected');
    const spend = buildSpend([coins[3]!], { key: alice, valueSats: 10_000n }, 1_000n).tx;
    const forged = { ...spend, outputs: [{ ...spend.outputs[0]!, value: 10_001n }, ...spend.outputs.slice(1)] };
    const bad = buildChildBlock(regtest, parentOfEntry(tc.chain.tip), { txs: [forged] });
    const r = await tc.chain.processBlock(bad);
    assert.deepEqual([r.status, r.reason], ['invalid', 'mandatory-script-verify-flag-failed (sig-nullfail)']);
    assert.ok(pool.stats.parallelBatches >= 1, 'the batches went to the workers');
  });

  it('a listener that throws does not disturb block processing', async (t) => {
    const tc = await open(t);
    tc.chain.on('blockConnected', () => {
      throw new Error('listener bug');
    });
    const seen: ChainEvents['tipChanged'][] = [];
    tc.chain.on('tipChanged', (e) => seen.push(e));
    await mineBlocks(tc.chain, 2);
    assert.equal(tc.chain.height, 2);
    assert.equal(seen.length, 2);
  });

  it('refuses work after close', async (t) => {
    const tc = await open(t);
    await tc.chain.close();
    await assert.rejects(tc.chain.processBlock(regtest.genesis), (e: unknown) => e instanceof ChainError && e.code === 'closed');
  });
});

describe('Chain: headers-first (acceptHeaders) and chain tips', () => {
  it('accepts linked headers, reports them headers-only, then connects their blocks', async (t) => {
    const tc = await open(t);
    await mineBlocks(tc.chain, 2);
    const blocks = buildBranch(regtest, parentOfEntry(tc.chain.tip), 4);
    const headers = blocks.map((b) => b.header);
    const r = await tc.chain.acceptHeaders(headers);
    assert.equal(r.accepted, 4);
    assert.equal(r.invalid, undefined);
    assert.equal(r.last!.hashHex, hashToHex(computeBlockHash(headers[3]!)));
    assert.equal(tc.chain.bestHeader.height, 6);
    assert.equal(tc.chain.height, 2, 'headers alone do not move the tip');
    assert.deepEqual(
      tc.chain.getChainTips().map((x) => [x.height, x.branchlen, x.status]),
      [[6, 4, 'headers-only'], [2, 0, 'active']],
    );
    // Known headers are skipped, not counted.
    assert.equal((await tc.chain.acceptHeaders(headers)).accepted, 0);

    // Blocks arriving out of order: 4 and 5 wait (header known, parent without data), 3 links them all.
    assert.equal((await tc.chain.processBlock(blocks[1]!)).status, 'side-chain');
    assert.equal((await tc.chain.processBlock(blocks[2]!)).status, 'side-chain');
    assert.equal(tc.chain.height, 2);
    const r0 = await tc.chain.processBlock(blocks[0]!);
    assert.equal(r0.status, 'connected');
    assert.equal(tc.chain.height, 5);
    assert.equal((await tc.chain.processBlock(blocks[3]!)).status, 'connected');
    assert.equal(tc.chain.height, 6);
  });

  it('refuses headers that break a rule, with Core\'s reasons', async (t) => {
    const tc = await open(t);
    await mineBlocks(tc.chain, 12);
    const parent = parentOfEntry(tc.chain.tip);
    const good = buildChildBlock(regtest, parent);

    const badBits = buildChildBlock(regtest, parent, { bits: 0x2000ffff });
    let r = await tc.chain.acceptHeaders([badBits.header]);
    assert.equal(r.invalid?.reason, 'bad-diffbits');
    assert.equal(r.accepted, 0);

    const old = buildChildBlock(regtest, parent, { time: tc.chain.getMedianTimePast(tc.chain.tip) });
    r = await tc.chain.acceptHeaders([old.header]);
    assert.equal(r.invalid?.reason, 'time-too-old');

    const unlinked = buildChildBlock(regtest, parentOf(good, 13));
    r = await tc.chain.acceptHeaders([unlinked.header]);
    assert.equal(r.invalid?.reason, 'prev-blk-not-found');

    let header = good.header;
    const { checkProofOfWork } = await import('../consensus/pow.js');
    while (checkProofOfWork(computeBlockHash(header), header.bits, regtest.powLimit)) header = { ...header, nonce: header.nonce + 1 };
    r = await tc.chain.acceptHeaders([header]);
    assert.equal(r.invalid?.reason, 'high-hash');

    // The headers before a refused one are kept; those after it are not looked at.
    const after = buildChildBlock(regtest, parentOf(good, 13));
    r = await tc.chain.acceptHeaders([good.header, badBits.header, after.header]);
    assert.equal(r.accepted, 1);
    assert.equal(r.invalid?.reason, 'bad-diffbits');
    assert.equal(tc.chain.bestHeader.hashHex, hashToHex(computeBlockHash(good.header)));
    assert.equal(tc.chain.getEntry(computeBlockHash(after.header)), undefined);
  });

  it('getChainTips reports active, valid-fork, valid-headers and invalid tips with branch lengths', async (t) => {
    const tc = await open(t);
    await mineBlocks(tc.chain, 101);
    const fork = parentOfEntry(tc.chain.getEntryByHeight(99)!);
    // valid-headers: a stored side branch never connected.
    const side = buildBranch(regtest, fork, 1, { extraNonce: 'side' });
    assert.equal((await tc.chain.processBlock(side[0]!)).status, 'side-chain');
    // valid-fork: the old main tip after a reorg to a longer branch.
    const oldTip = tc.chain.tip;
    const longer = buildBranch(regtest, parentOfEntry(tc.chain.getEntryByHeight(100)!), 2, { extraNonce: 'long' });
    for (const b of longer) await tc.chain.processBlock(b);
    assert.equal(tc.chain.height, 102);
    // invalid: a block whose spend has a bad signature, on its own branch off the tip's parent.
    const [coin] = spendableCoinbases(tc.chain);
    const spend = buildSpend([coin!], { key: alice, valueSats: 50_000n }, 1_000n).tx;
    const forged = { ...spend, outputs: [{ ...spend.outputs[0]!, value: 60_000n }, ...spend.outputs.slice(1)] };
    const bad = buildBranch(regtest, parentOfEntry(tc.chain.tip), 1, { txs: [forged], extraNonce: 'bad' });
    const rb = await tc.chain.processBlock(bad[0]!);
    assert.equal(rb.status, 'invalid');

    const tips = tc.chain.getChainTips().map((x) => [x.height, x.branchlen, x.status]);
    assert.deepEqual(tips, [
      [103, 1, 'invalid'],
      [102, 0, 'active'],
      [101, 1, 'valid-fork'],
      [100, 1, 'valid-headers'],
    ]);
    assert.equal(tc.chain.getEntry(oldTip.hash)!.status & BlockStatus.VALID_SCRIPTS, BlockStatus.VALID_SCRIPTS);
  });
});
