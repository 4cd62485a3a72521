/**
 * The address_stats index (Esplora's chain_stats, read by GET /api/address/:a) against a brute-force recount from the
 * main chain's blocks, on a real Chain: after the steps of the crash test's workload (blocks of real signed spends,
 * including outputs spent in the block that created them, and reorgs that disconnect through undo data), after a
 * reopen, and after the schema 1 → 3 upgrade rebuilt the table from the same store's other rows. The workload's seed,
 * reorg chance and block sizes are drawn by fast-check.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { isUnspendable } from '../consensus/scriptType.js';
import type { Chain } from '../chain/chain.js';
import { bytesToHex, hexToBytes } from '../primitives/hex.js';
import { computeTxid, isCoinbase } from '../primitives/tx.js';
import type { TxOut } from '../primitives/types.js';
import type { AddressStats } from '../interfaces/chainTypes.js';
import { mainChainBlocks, openTestChain, type TestChain } from '../testing/chainFactory.js';
import { planWorkloadStep } from '../testing/chainWorkload.js';
import { rewriteAsSchemaV1 } from '../testing/oldChainStoreSchema.js';

/** Script hex → stats, recounted from the main chain's blocks alone (no index, no undo data). */
function recountStats(chain: Chain): Map<string, AddressStats> {
  const outputs = new Map<string, TxOut>();
  const stats = new Map<string, { fundedTxoCount: number; fundedTxoSum: bigint; spentTxoCount: number; spentTxoSum: bigint; txCount: number }>();
  const statsOf = (scriptHex: string) => {
    let s = stats.get(scriptHex);
    if (s === undefined) stats.set(scriptHex, (s = { fundedTxoCount: 0, fundedTxoSum: 0n, spentTxoCount: 0, spentTxoSum: 0n, txCount: 0 }));
    return s;
  };
  // The genesis coinbase is not a coin (as in Bitcoin): the chain starts counting at height 1.
  for (const block of mainChainBlocks(chain).slice(1)) {
    for (const tx of block.txs) {
      const txidHex = bytesToHex(computeTxid(tx));
      const touched = new Set<string>();
      if (!isCoinbase(tx)) {
        for (const input of tx.inputs) {
          const key = `${bytesToHex(input.prevout.txid)}:${input.prevout.index}`;
          const spent = outputs.get(key);
          assert.ok(spent !== undefined, `input spends unknown ${key}`);
          const s = statsOf(bytesToHex(spent.scriptPubKey));
          s.spentTxoCount++;
          s.spentTxoSum += spent.value;
          touched.add(bytesToHex(spent.scriptPubKey));
        }
      }
      tx.outputs.forEach((output, index) => {
        if (isUnspendable(output.scriptPubKey)) return;
        outputs.set(`${txidHex}:${index}`, output);
        const s = statsOf(bytesToHex(output.scriptPubKey));
        s.fundedTxoCount++;
        s.fundedTxoSum += output.value;
        touched.add(bytesToHex(output.scriptPubKey));
      });
      for (const script of touched) statsOf(script).txCount++;
    }
  }
  return stats;
}

/** Asserts that the index holds exactly the recount: every script's stats, and no other row. */
function assertStatsMatchRecount(tc: TestChain, when: string): void {
  const expected = recountStats(tc.chain);
  for (const [scriptHex, s] of expected) {
    assert.deepEqual(tc.store.chainIndex.getAddressStats(hexToBytes(scriptHex)), s, `${when}: script ${scriptHex}`);
  }
  const db = new Database(tc.path, { readonly: true });
  try {
    assert.equal(db.prepare('SELECT count(*) FROM address_stats').pluck().get(), expected.size, `${when}: address_stats rows`);
  } finally {
    db.close();
  }
}

test('address_stats equals a recount from the blocks after connects, reorgs, a reopen and a schema upgrade', async () => {
  let reorgsSeen = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        seed: fc.string({ minLength: 1, maxLength: 8 }),
        reorgChance: fc.double({ min: 0.2, max: 0.6, noNaN: true }),
        maxTxsPerBlock: fc.integer({ min: 2, max: 6 }),
      }),
      async ({ seed, reorgChance, maxTxsPerBlock }) => {
        let tc = await openTestChain();
        try {
          const options = { seed, reorgChance, maxTxsPerBlock, maxReorgDepth: 4 };
          let steps = 0;
          while (tc.chain.height < 135) {
            const step = planWorkloadStep({ chain: tc.chain, chainIndex: tc.store.chainIndex }, options);
            for (const block of step.blocks) {
              const result = await tc.chain.processBlock(block);
              assert.ok(result.status === 'connected' || result.status === 'side-chain', `${result.status} ${result.reason ?? ''}`);
            }
            steps++;
            if (step.kind === 'reorg') reorgsSeen++;
            // A recount costs the whole chain: check after every reorg and every 10th step.
            if (step.kind === 'reorg' || steps % 10 === 0) assertStatsMatchRecount(tc, `${step.kind} to ${tc.chain.height}`);
          }
          assertStatsMatchRecount(tc, 'end');

          tc = await tc.reopen();
          assertStatsMatchRecount(tc, 'reopened');

          // The same store as schema version 1 left it: the upgrade on open rebuilds the same table.
          await tc.close();
          rewriteAsSchemaV1(tc.path);
          tc = await openTestChain({ dir: tc.dir });
          assertStatsMatchRecount(tc, 'upgraded from schema 1');
        } finally {
          await tc.destroy();
        }
      },
    ),
    { numRuns: 3 },
  );
  assert.ok(reorgsSeen >= 3, `the workloads made only ${reorgsSeen} reorgs`);
});
