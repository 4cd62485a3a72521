/**
 * Property test: after random sequences of accepts (chains, double spends/replacements), blocks (confirming a
 * package, confirming a conflict), reorgs, expiry and size-cap evictions, every entry's ancestor/descendant
 * statistics equal a recomputation from the txs alone, the totals add up, no two entries spend one outpoint, every
 * input resolves, and the selection order is a topological permutation of the pool.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { VerifyError } from '../consensus/verifyError.js';
import { hashToHex } from '../primitives/hex.js';
import { outpointKey } from '../primitives/outpoint.js';
import { computeTxid } from '../primitives/tx.js';
import type { Tx } from '../primitives/types.js';
import type { SpendableCoin } from '../testing/txFactory.js';
import { ALICE, BOB, makeHarness, spend, type ConnectedBlock, type Harness } from '../testing/mempoolHarness.js';

const CAP = 800;

type Op =
  | { kind: 'spend'; pick: number; recent: boolean; inputs: 1 | 2; outputs: 1 | 2; rate: number; replace: boolean }
  | { kind: 'block'; pick: number; conflict: boolean }
  | { kind: 'reorg'; connectFirst: boolean }
  | { kind: 'expire'; advanceSec: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('spend' as const),
      pick: fc.nat(),
      recent: fc.boolean(),
      inputs: fc.constantFrom(1 as const, 2 as const),
      outputs: fc.constantFrom(1 as const, 2 as const),
      rate: fc.integer({ min: 1, max: 60 }),
      replace: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('block' as const), pick: fc.nat(), conflict: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reorg' as const), connectFirst: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('expire' as const), advanceSec: fc.integer({ min: 0, max: 20 * 86_400 }) }) },
);

function closure(start: Iterable<string>, next: (t: string) => Iterable<string>): Set<string> {
  const seen = new Set<string>();
  const queue = [...start];
  while (queue.length > 0) {
    const t = queue.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    queue.push(...next(t));
  }
  return seen;
}

/** Recomputes everything from the entries' txs and compares with what the mempool reports. */
function checkInvariants(h: Harness): void {
  const entries = [...h.mempool.entries()];
  const byTxid = new Map(entries.map((e) => [e.txidHex, e]));
  const parents = new Map<string, Set<string>>();
  const children = new Map<string, Set<string>>(entries.map((e) => [e.txidHex, new Set<string>()]));
  const spent = new Set<string>();
  for (const e of entries) {
    const ps = new Set<string>();
    for (const input of e.tx.inputs) {
      const key = outpointKey(input.prevout);
      assert.equal(spent.has(key), false, 'no two entries spend one outpoint');
      spent.add(key);
      assert.equal(h.mempool.getSpender(input.prevout), e);
      const p = hashToHex(input.prevout.txid);
      if (byTxid.has(p)) {
        assert.ok(byTxid.get(p)!.tx.outputs[input.prevout.index], 'spends an existing output of its parent');
        ps.add(p);
        children.get(p)!.add(e.txidHex);
      } else {
        assert.ok(h.view.getCoin(input.prevout), 'a confirmed input is in the UTXO set');
      }
    }
    parents.set(e.txidHex, ps);
  }
  let vsize = 0;
  let fees = 0n;
  for (const e of entries) {
    vsize += e.vsize;
    fees += e.fee;
    const anc = closure(parents.get(e.txidHex)!, (t) => parents.get(t)!);
    const desc = closure(children.get(e.txidHex)!, (t) => children.get(t)!);
    const sum = (set: Set<string>) => {
      let s = 0;
      let f = 0n;
      for (const t of set) {
        s += byTxid.get(t)!.vsize;
        f += byTxid.get(t)!.fee;
      }
      return { s, f };
    };
    const a = sum(anc);
    const d = sum(desc);
    assert.deepEqual(
      [e.ancestorCount, e.ancestorSize, e.ancestorFees, e.descendantCount, e.descendantSize, e.descendantFees],
      [anc.size + 1, a.s + e.vsize, a.f + e.fee, desc.size + 1, d.s + e.vsize, d.f + e.fee],
      `statistics of ${e.txidHex}`,
    );
    assert.deepEqual(new Set(h.mempool.getAncestors(e.txid).map((x) => x.txidHex)), anc);
    assert.deepEqual(new Set(h.mempool.getDescendants(e.txid).map((x) => x.txidHex)), desc);
  }
  assert.equal(h.mempool.size, entries.length);
  assert.equal(h.mempool.totalVsize, vsize);
  assert.equal(h.mempool.totalFees, fees);
  assert.ok(h.mempool.totalVsize <= CAP, 'within the size cap');

  const order = h.mempool.txidsByAncestorFeeRate().map(hashToHex);
  assert.equal(order.length, entries.length);
  const position = new Map(order.map((t, i) => [t, i]));
  assert.equal(position.size, entries.length, 'each txid once');
  for (const [t, ps] of parents) for (const p of ps) assert.ok(position.get(p)! < position.get(t)!, 'parents first');
}

test('property: package statistics and indexes match a recomputation after random operations', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { minLength: 4, maxLength: 32 }), async (ops) => {
      const h = makeHarness({
        maxSizeVbytes: CAP,
        ancestorCountLimit: 5,
        descendantCountLimit: 5,
        maxReplacementEvictions: 6,
      });
      const known: SpendableCoin[] = [];
      for (let i = 0; i < 6; i++) known.push(h.fund(1_000_000n, { key: i % 2 === 0 ? ALICE : BOB }));
      const blocks: ConnectedBlock[] = [];
      let nonce = 0;

      for (const op of ops) {
        if (op.kind === 'spend') {
          const usable = known.filter((c) => {
            if (h.view.getCoin(c.outpoint) === undefined && h.mempool.getCoin(c.outpoint) === undefined) {
              // Spent in the mempool: only a replacement may spend it again.
              const spender = h.mempool.getSpender(c.outpoint);
              const parent = h.mempool.get(c.outpoint.txid);
              const exists = parent !== undefined || spender !== undefined;
              return op.replace && exists && spender !== undefined;
            }
            return op.replace || h.mempool.getSpender(c.outpoint) === undefined;
          });
          if (usable.length === 0) continue;
          // Half the time build on the newest coins, to grow chains deep enough to meet the package limits.
          const first = op.recent ? usable.length - 1 - (op.pick % Math.min(3, usable.length)) : op.pick % usable.length;
          const inputs = [usable[first]!];
          if (op.inputs === 2 && usable.length > 1) inputs.push(usable[(first + 1) % usable.length]!);
          const total = inputs.reduce((s, c) => s + c.output.value, 0n);
          const fee = BigInt(op.rate * (100 + 70 * inputs.length + 40 * op.outputs));
          if (total - fee < 2_000n) continue;
          const each = (total - fee) / BigInt(op.outputs);
          const outs = Array.from({ length: op.outputs }, (_, i) => ({ key: (nonce + i) % 2 === 0 ? ALICE : BOB, value: each }));
          nonce++;
          const { tx, coins } = spend(inputs, outs);
          try {
            await h.mempool.acceptTransaction(tx);
            known.push(...coins);
          } catch (e) {
            if (!(e instanceof VerifyError)) throw e;
          }
        } else if (op.kind === 'block') {
          const entries = [...h.mempool.entries()];
          const txs: Tx[] = [];
          if (entries.length > 0) {
            const target = entries[op.pick % entries.length]!;
            txs.push(...h.mempool.getAncestors(target.txid).map((e) => e.tx), target.tx);
          }
          const inBlock = new Set(txs.flatMap((t) => t.inputs.map((i) => outpointKey(i.prevout))));
          if (op.conflict) {
            // A block tx (unsigned: blocks are not validated here) double-spending a confirmed coin a mempool tx spends.
            const victim = known.find(
              (c) => h.view.getCoin(c.outpoint) !== undefined && h.mempool.getSpender(c.outpoint) !== undefined && !inBlock.has(outpointKey(c.outpoint)),
            );
            if (victim !== undefined) {
              const conflict: Tx = {
                version: 2,
                inputs: [{ prevout: victim.outpoint, scriptSig: new Uint8Array(0), sequence: 0xffffffff, witness: [] }],
                outputs: [{ value: victim.output.value - 1_000n, scriptPubKey: ALICE.scriptPubKey }],
                locktime: nonce++,
              };
              txs.push(conflict);
              known.push({ outpoint: { txid: computeTxid(conflict), index: 0 }, output: conflict.outputs[0]!, key: ALICE });
            }
          }
          blocks.push(h.connect(txs));
        } else if (op.kind === 'reorg') {
          const last = blocks.pop();
          if (last === undefined) continue;
          h.disconnect(last);
          // Either re-add before the new branch connects, or connect it (one empty block) first, as Core does.
          if (op.connectFirst) blocks.push(h.connect([]));
          await h.mempool.addDisconnectedTxs(last.block.txs.slice(1));
        } else {
          h.state.now += op.advanceSec;
          h.mempool.expire();
        }
        checkInvariants(h);
      }
    }),
    { numRuns: 60 },
  );
});
