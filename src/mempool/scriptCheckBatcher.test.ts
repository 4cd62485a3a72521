import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InlineScriptVerifier } from '../chain/inlineScriptVerifier.js';
import type { ScriptCheckJob, ScriptCheckResult, ScriptCheckSession, ScriptVerifier } from '../interfaces/scriptVerifier.js';
import { decodeTxid } from '../primitives/identity.js';
import { computeWtxid } from '../primitives/tx.js';
import type { Wtxid } from '../primitives/types.js';
import { buildSpend, makeTestKey, type SpendableCoin } from '../testing/txFactory.js';
import { ScriptCheckBatcher } from './scriptCheckBatcher.js';

/** The real inline verifier, counting how many verify() calls (batches) reach it. */
class CountingVerifier implements ScriptVerifier {
  readonly inner = new InlineScriptVerifier({ cacheSize: 0 });
  batches: number[] = [];
  begin(jobs: readonly ScriptCheckJob[]): ScriptCheckSession {
    return this.inner.begin(jobs);
  }
  verify(jobs: readonly ScriptCheckJob[]): Promise<ScriptCheckResult> {
    this.batches.push(jobs.length);
    return this.inner.verify(jobs);
  }
  isCached(wtxid: Wtxid): boolean {
    return this.inner.isCached(wtxid);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

function signedJob(seed: number, kind: 'p2wpkh' | 'p2tr', corrupt = false): ScriptCheckJob {
  const key = makeTestKey(seed, kind);
  const coin: SpendableCoin = {
    outpoint: { txid: decodeTxid(new Uint8Array(32).fill(seed)), index: 0 },
    output: { value: 100_000n, scriptPubKey: key.scriptPubKey },
    key,
  };
  const built = buildSpend([coin], { key: makeTestKey(seed + 1000), valueSats: 50_000n }, 1_000n).tx;
  let tx = built;
  if (corrupt) {
    const [input] = built.inputs;
    const sig = Uint8Array.from(input!.witness[0]!);
    sig[10] = sig[10]! ^ 1;
    tx = { ...built, inputs: [{ ...input!, witness: [sig, ...input!.witness.slice(1)] }] };
  }
  return { tx, prevouts: [coin.output], wtxid: computeWtxid(tx) };
}

test('checks asked for in one event-loop turn reach the verifier as one batch', async () => {
  const verifier = new CountingVerifier();
  const batcher = new ScriptCheckBatcher(verifier);
  const results = await Promise.all([signedJob(1, 'p2wpkh'), signedJob(2, 'p2tr'), signedJob(3, 'p2wpkh')].map((j) => batcher.verify(j)));
  assert.deepEqual(results, [{ ok: true }, { ok: true }, { ok: true }]);
  assert.deepEqual(verifier.batches, [3]);
  // A lone check goes through alone.
  assert.deepEqual(await batcher.verify(signedJob(4, 'p2tr')), { ok: true });
  assert.deepEqual(verifier.batches, [3, 1]);
});

test('a bad signature in a batch fails only its own caller, with the reason a lone check gives', async () => {
  const verifier = new CountingVerifier();
  const batcher = new ScriptCheckBatcher(verifier);
  const bad = signedJob(6, 'p2tr', true);
  const alone = await new InlineScriptVerifier({ cacheSize: 0 }).verify([bad]);
  assert.equal(alone.ok, false);
  const results = await Promise.all([signedJob(5, 'p2wpkh'), bad, signedJob(7, 'p2wpkh')].map((j) => batcher.verify(j)));
  assert.deepEqual(results[0], { ok: true });
  assert.deepEqual(results[1], alone);
  assert.deepEqual(results[2], { ok: true });
  assert.deepEqual(verifier.batches, [3, 1, 1, 1], 'one batch, then each job alone to attribute the failure');
});

test('a job the verifier refuses (prevouts that do not match) rejects only its caller', async () => {
  const batcher = new ScriptCheckBatcher(new InlineScriptVerifier({ cacheSize: 0 }));
  const good = signedJob(8, 'p2wpkh');
  const broken: ScriptCheckJob = { ...signedJob(9, 'p2tr'), prevouts: [] };
  const [a, b] = await Promise.allSettled([batcher.verify(good), batcher.verify(broken)]);
  assert.deepEqual(a, { status: 'fulfilled', value: { ok: true } });
  assert.equal(b.status, 'rejected');
});
