/**
 * The block connect pipeline (connectPipeline.ts) on the worker pool, against the same pipeline on
 * InlineScriptVerifier: with the pool, a block on the tip has its scripts verified on worker threads while checkBlock,
 * the contextual checks, the storing of the block and the SQLite writes of its connect run, and the join happens
 * inside the open write transaction. These tests check that the outcome is the one the inline verifier gives: the
 * same reject reason when a block breaks several rules, nothing written when scripts fail; and the fallback when the
 * workers stall.
 */
import assert from 'node:assert/strict';
import { after, describe, it, type TestContext } from 'node:test';
import { regtest } from '../params/networks.js';
import { computeBlockHash } from '../primitives/blockHeader.js';
import type { Block, Tx } from '../primitives/types.js';
import { BlockStatus } from '../interfaces/chainTypes.js';
import {
  buildChildBlock,
  mineBlocks,
  openTestChain,
  parentOfEntry,
  spendableCoinbases,
  type TestChain,
} from '../testing/chainFactory.js';
import { buildSignedTx, makeTestKey, type SpendableCoin } from '../testing/txFactory.js';
import { solveHeader } from '../testing/blockBuilder.js';
import { waitFor } from '../testing/waitFor.js';
import { ChainError } from './chainError.js';
import { InlineScriptVerifier } from './inlineScriptVerifier.js';
import { CONTROL_NEXT, type SharedScriptCheckBatch } from './scriptCheckChunk.js';
import type { ScriptCheckSession, ScriptVerifier } from '../interfaces/scriptVerifier.js';
import { WorkerPoolScriptVerifier } from './workerPoolScriptVerifier.js';
import { decodeTxid } from '../primitives/identity.js';
import { computeWtxid } from '../primitives/tx.js';

const KEYS = [makeTestKey('pipeline/a', 'p2wpkh'), makeTestKey('pipeline/b', 'p2tr')];
const FUNDING = 40;

const pool = new WorkerPoolScriptVerifier({ threads: 2, parallelThresholdInputs: 0, cacheSize: 0 });
after(() => pool.close());

/** A chain at height 101 whose block-1 coinbase pays FUNDING coins alternating between the two keys. */
async function fundedChain(t: TestContext, scriptVerifier: ScriptVerifier): Promise<{ tc: TestChain; coins: SpendableCoin[] }> {
  const tc = await openTestChain({ scriptVerifier });
  t.after(() => tc.destroy());
  const outputs = Array.from({ length: FUNDING }, (_, i) => ({ value: 100_000_000n, scriptPubKey: KEYS[i % 2]!.scriptPubKey }));
  await mineBlocks(tc.chain, 1, { coinbaseOutputs: outputs });
  await mineBlocks(tc.chain, 100);
  const coins = spendableCoinbases(tc.chain, KEYS[0]!).concat(spendableCoinbases(tc.chain, KEYS[1]!));
  assert.equal(coins.length, FUNDING);
  return { tc, coins };
}

function spend(coin: SpendableCoin, valueSats = 99_990_000n): Tx {
  return buildSignedTx([coin], [{ value: valueSats, scriptPubKey: KEYS[0]!.scriptPubKey }]);
}

/** True once some thread claimed a chunk of the session's batch (reads the shared control array through a test hook). */
function claimedByWorker(session: ScriptCheckSession): boolean {
  const batch = (session as { batch?: SharedScriptCheckBatch }).batch;
  return batch !== undefined && Atomics.load(batch.control, CONTROL_NEXT) > 0;
}

/** The tx with its first witness item's byte 5 flipped: still well-formed, the signature no longer verifies. */
function forge(tx: Tx): Tx {
  const input = tx.inputs[0]!;
  const sig = input.witness[0]!.slice();
  sig[5]! ^= 1;
  return { ...tx, inputs: [{ ...input, witness: [sig, ...input.witness.slice(1)] }] };
}

/** Every case: a block built from the funded coins, and what the chain must answer. */
const CASES: { name: string; block: (tip: TestChain, coins: SpendableCoin[]) => Block; refusedAfterEarlyStart?: true; noScriptChecks?: true }[] = [
  {
    name: 'a bad signature among 30 good spends',
    block: (tc, coins) => {
      const txs = coins.slice(0, 30).map((c) => spend(c));
      txs[17] = forge(txs[17]!);
      return buildChildBlock(regtest, parentOfEntry(tc.chain.tip), { txs });
    },
  },
  {
    name: 'a bad signature in tx 1 and a missing input in tx 20 (the inputs rule wins)',
    block: (tc, coins) => {
      const txs = coins.slice(0, 30).map((c) => spend(c));
      txs[0] = forge(txs[0]!);
      const ghost: SpendableCoin = { ...coins[30]!, outpoint: { txid: decodeTxid(new Uint8Array(32).fill(7)), index: 0 } };
      txs[19] = spend(ghost);
      return buildChildBlock(regtest, parentOfEntry(tc.chain.tip), { txs });
    },
    noScriptChecks: true,
  },
  {
    name: 'a bad signature and a coinbase claiming one sat too many (the coinbase rule wins)',
    block: (tc, coins) => {
      const txs = coins.slice(0, 30).map((c) => spend(c));
      txs[3] = forge(txs[3]!);
      return buildChildBlock(regtest, parentOfEntry(tc.chain.tip), { txs, fees: 30n * 10_000n + 1n });
    },
  },
  {
    name: 'a double spend in the block (tx 2 and tx 25)',
    block: (tc, coins) => {
      const txs = coins.slice(0, 30).map((c) => spend(c));
      txs[24] = spend(coins[1]!, 99_980_000n);
      return buildChildBlock(regtest, parentOfEntry(tc.chain.tip), { txs });
    },
  },
  {
    name: 'a header committing to other txs (bad-txnmrklroot, found after the early start; proof of work re-solved)',
    block: (tc, coins) => {
      const good = buildChildBlock(regtest, parentOfEntry(tc.chain.tip), { txs: coins.slice(0, 30).map((c) => spend(c)) });
      const header = solveHeader({ ...good.header, merkleRoot: new Uint8Array(32).fill(9) }, regtest);
      return { ...good, header };
    },
    refusedAfterEarlyStart: true,
  },
  {
    name: 'a time at the median-time-past (time-too-old, found after the early start)',
    block: (tc, coins) =>
      buildChildBlock(regtest, parentOfEntry(tc.chain.tip), {
        txs: coins.slice(0, 30).map((c) => spend(c)),
        time: tc.chain.getMedianTimePast(tc.chain.tip),
      }),
    refusedAfterEarlyStart: true,
  },
  {
    name: 'a valid block of 30 spends',
    block: (tc, coins) => buildChildBlock(regtest, parentOfEntry(tc.chain.tip), { txs: coins.slice(0, 30).map((c) => spend(c)), fees: 30n * 10_000n }),
  },
];

describe('block connect through the worker-pool pipeline agrees with the plain order', () => {
  for (const c of CASES) {
    it(c.name, async (t) => {
      const plain = await fundedChain(t, new InlineScriptVerifier({ cacheSize: 0 }));
      const piped = await fundedChain(t, pool);
      const block = c.block(plain.tc, plain.coins);
      const digestBefore = piped.tc.chain.computeUtxoDigest();
      piped.tc.chain.resetConnectStats();
      const want = await plain.tc.chain.processBlock(block);
      const batchesBefore = pool.stats.parallelBatches;
      const got = await piped.tc.chain.processBlock(block);
      // Every block extends the tip with valid proof of work: its scripts went to the workers before checkBlock and the
      // connect rules, unless an input spends nothing the block can see (the rules refuse it for sure).
      assert.equal(pool.stats.parallelBatches - batchesBefore, c.noScriptChecks ? 0 : 1);
      if (c.refusedAfterEarlyStart) assert.equal(got.status, 'invalid');
      assert.deepEqual(got, want);
      assert.equal(piped.tc.chain.height, plain.tc.chain.height);
      assert.deepEqual(piped.tc.chain.computeUtxoDigest(), plain.tc.chain.computeUtxoDigest());
      if (want.status === 'invalid') {
        assert.deepEqual(piped.tc.chain.computeUtxoDigest(), digestBefore, 'nothing of an invalid block was written');
        const next = buildChildBlock(regtest, parentOfEntry(piped.tc.chain.tip), {
          txs: piped.coins.slice(0, 30).map((coin) => spend(coin)),
          extraNonce: 'next',
        });
        assert.equal((await piped.tc.chain.processBlock(next)).status, 'connected', 'the chain goes on after the refusal');
      } else {
        const stats = piped.tc.chain.connectStats;
        assert.deepEqual([stats.blocks, stats.txs, stats.inputs], [1, 31, 30]);
        assert.ok(stats.wallMs.scripts > 0 && stats.wallMs.commit > 0);
      }
    });
  }
});

describe('a worker that stalls holding a chunk', () => {
  it('finishSync gives up after syncJoinStallMs (undefined); finish() then rejects when the worker exits', { timeout: 60_000 }, async (t) => {
    // Claims one chunk and never settles it, then exits a little later.
    const src = `
      import { parentPort } from 'node:worker_threads';
      parentPort.on('message', (m) => { Atomics.add(m.batch.control, 0, 1); setTimeout(() => process.exit(4), 1000); });`;
    const stalling = new WorkerPoolScriptVerifier({
      threads: 2,
      parallelThresholdInputs: 0,
      cacheSize: 0,
      syncJoinStallMs: 300,
      workerUrl: new URL(`data:text/javascript,${encodeURIComponent(src)}`),
    });
    t.after(() => stalling.close());
    const key = KEYS[1]!;
    const jobs = Array.from({ length: 12 }, (_, n) => {
      const coin: SpendableCoin = { outpoint: { txid: decodeTxid(new Uint8Array(32).fill(n)), index: 0 }, output: { value: 9_000n, scriptPubKey: key.scriptPubKey }, key };
      const tx = spend(coin, 1_000n);
      return { tx, prevouts: [coin.output], wtxid: computeWtxid(tx) };
    });
    const session = stalling.begin(jobs);
    // Wait until the worker has claimed its chunk, so the main thread cannot finish the batch alone.
    await waitFor('the worker to claim a chunk', () => claimedByWorker(session), 20_000);
    assert.equal(session.finishSync(), undefined, 'the chunk the worker holds never settles');
    await assert.rejects(session.finish(), /script verifier worker/);
  });

  it('the chain then waits with finish(): the block connects when the verdict is ok, and an error leaves nothing written', async (t) => {
    for (const verdict of ['ok', 'error'] as const) {
      const inner = new InlineScriptVerifier({ cacheSize: 0 });
      let stalling = false;
      let joins = 0;
      const stalls: ScriptVerifier = {
        verify: (jobs) => inner.verify(jobs),
        begin: (jobs) =>
          !stalling
            ? inner.begin(jobs)
            : {
                finishSync: () => {
                  joins++;
                  return undefined;
                },
                finish: () => (verdict === 'ok' ? inner.verify(jobs) : Promise.reject(new Error('worker exited'))),
                cancel: () => Promise.resolve(),
              },
        isCached: () => false,
        close: () => Promise.resolve(),
      };
      const { tc, coins } = await fundedChain(t, stalls);
      const digest = tc.chain.computeUtxoDigest();
      const block = buildChildBlock(regtest, parentOfEntry(tc.chain.tip), { txs: coins.slice(0, 5).map((c) => spend(c)) });
      stalling = true;
      if (verdict === 'ok') {
        assert.equal((await tc.chain.processBlock(block)).status, 'connected');
        assert.equal(tc.chain.height, 102);
        assert.equal(tc.chain.computeUtxoDigest().txouts, digest.txouts + 1, 'five coins spent, five created, and the coinbase');
      } else {
        await assert.rejects(tc.chain.processBlock(block), (e: unknown) => e instanceof ChainError && e.code === 'script-verifier-failed');
        assert.equal(tc.chain.height, 101);
        assert.deepEqual(tc.chain.computeUtxoDigest(), digest);
        const entry = tc.chain.getEntry(computeBlockHash(block.header))!;
        assert.equal(entry.status & (BlockStatus.FAILED | BlockStatus.FAILED_CHILD | BlockStatus.VALID_SCRIPTS), 0);
      }
      assert.equal(joins, 1);
    }
  });
});
