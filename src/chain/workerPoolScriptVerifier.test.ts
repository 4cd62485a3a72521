import type { ScriptError } from '../consensus/rejectReason.js';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { verifyInput } from '../consensus/verifyInput.js';
import { VerifyError } from '../consensus/verifyError.js';
import { sha256 } from '../crypto/hash.js';
import { computeTxid, computeWtxid, encodeTx } from '../primitives/tx.js';
import { hashBlockTxsInline, scanTxSpans } from './blockTxHashes.js';
import { createSharedTxHashBatch, finishTxHashes } from './txHashBatch.js';
import type { Tx, Wtxid } from '../primitives/types.js';
import { buildSignedTx, makeTestKey, type SpendableCoin, type TestKey } from '../testing/txFactory.js';
import { ScriptCache } from './scriptCache.js';
import {
  allocateSharedScriptCheckBatch,
  cancelSharedScriptCheckBatch,
  ChunkState,
  claimScriptChecks,
  publishScriptCheckChunk,
  readSharedScriptCheckResults,
  RESULT_FIELDS,
  sharedChunkBytes,
  cutScriptCheckChunks,
  decodeScriptCheckChunk,
  encodeScriptCheckChunk,
  taperedChunkSizes,
} from './scriptCheckChunk.js';
import type { ScriptCheckJob, ScriptCheckResult } from '../interfaces/scriptVerifier.js';
import { InlineScriptVerifier, WorkerPoolScriptVerifier } from './workerPoolScriptVerifier.js';
import { decodeTxid, decodeWtxid } from '../primitives/identity.js';

// ---------------------------------------------------------------------------------------------------------------
// Signed batches built with the shared test tx factory.
// ---------------------------------------------------------------------------------------------------------------

const KEYS: TestKey[] = [0, 1, 2, 3, 4, 5].map((k) => makeTestKey(`script-verifier/${k}`, k % 2 === 0 ? 'p2wpkh' : 'p2tr'));
let coinSerial = 0;

function freshCoin(key: TestKey): SpendableCoin {
  const n = coinSerial++;
  const txid = decodeTxid(sha256(new TextEncoder().encode(`script-verifier-coin/${n}`)));
  return { outpoint: { txid, index: n % 3 }, output: { value: 10_000n + BigInt(n), scriptPubKey: key.scriptPubKey }, key };
}

function toJob(tx: Tx, coins: readonly SpendableCoin[]): ScriptCheckJob {
  return { tx, prevouts: coins.map((c) => c.output), wtxid: computeWtxid(tx) };
}

/** A tx spending `inputs` fresh coins whose key kinds alternate (starting at `first`), to one output. */
function signedJob(inputs: number, first = 0): ScriptCheckJob {
  const coins = Array.from({ length: inputs }, (_, i) => freshCoin(KEYS[(first + i) % KEYS.length]!));
  const tx = buildSignedTx(coins, [{ value: 1_000n, scriptPubKey: KEYS[0]!.scriptPubKey }]);
  return toJob(tx, coins);
}

/** 300 one-input txs (P2WPKH and P2TR alternating) with multi-input txs of 40, 25 and 7 inputs among them. */
function buildBatch(): ScriptCheckJob[] {
  const jobs: ScriptCheckJob[] = [];
  for (let i = 0; i < 300; i++) {
    if (i === 50) jobs.push(signedJob(40, 1));
    if (i === 150) jobs.push(signedJob(25));
    jobs.push(signedJob(1, i));
  }
  jobs.push(signedJob(7, 1));
  return jobs;
}

/** The job list with input `inputIndex` of tx `txIndex` carrying a signature with one bit flipped (a new wtxid). */
function corrupt(jobs: readonly ScriptCheckJob[], txIndex: number, inputIndex: number): ScriptCheckJob[] {
  const job = jobs[txIndex]!;
  const inputs = job.tx.inputs.map((input, i) => {
    if (i !== inputIndex) return input;
    const sig = input.witness[0]!.slice();
    // Byte 5 lies inside r of a DER signature (still strict DER) and inside R of a Schnorr signature.
    sig[5]! ^= 0x01;
    return { ...input, witness: [sig, ...input.witness.slice(1)] };
  });
  const tx: Tx = { ...job.tx, inputs };
  const out = jobs.slice();
  out[txIndex] = { tx, prevouts: job.prevouts, wtxid: computeWtxid(tx) };
  return out;
}

/** verifyInput's reason for a signature that does not verify, per spent script type (its docstring's list). */
function badSigReason(job: ScriptCheckJob, inputIndex: number): ScriptError {
  return job.prevouts[inputIndex]!.scriptPubKey[0] === 0x00 ? 'sig-nullfail' : 'schnorr-sig';
}

/** Small deterministic PRNG (mulberry32) so the "random" positions are the same in every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BATCH = buildBatch();
const TOTAL_INPUTS = BATCH.reduce((n, j) => n + j.tx.inputs.length, 0);

// One pool per layout, shared by the tests below and closed at the end: worker start-up under tsx takes a while.
const pools: WorkerPoolScriptVerifier[] = [];
function pool(options: ConstructorParameters<typeof WorkerPoolScriptVerifier>[0] = {}): WorkerPoolScriptVerifier {
  const p = WorkerPoolScriptVerifier.create({ cacheSize: 0, ...options });
  pools.push(p);
  return p;
}
const LAYOUTS = [
  { name: 'main thread + workers (default threads)', options: {} },
  { name: '2 workers, main thread waits', options: { threads: 2, mainThreadVerifies: false } },
  { name: 'main thread + 3 workers', options: { threads: 4, parallelThresholdInputs: 1 } },
];
const POOLS = LAYOUTS.map((l) => ({ name: l.name, pool: pool(l.options) }));
after(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

async function inlineResult(jobs: readonly ScriptCheckJob[]): Promise<ScriptCheckResult> {
  return new InlineScriptVerifier({ cacheSize: 0 }).verify(jobs);
}

// ---------------------------------------------------------------------------------------------------------------
// Chunk planning and wire format.
// ---------------------------------------------------------------------------------------------------------------

test('taperedChunkSizes: sums to the total, uniform chunks first, then non-increasing down to the minimum', () => {
  assert.deepEqual(taperedChunkSizes(0, 26, 2, 4), []);
  assert.deepEqual(taperedChunkSizes(3, 26, 2, 4), [3]);
  const sizes = taperedChunkSizes(1_250, 26, 2, 4);
  assert.equal(sizes.reduce((a, b) => a + b, 0), 1_250);
  assert.equal(sizes[0], 26);
  for (let k = 1; k < sizes.length; k++) assert.ok(sizes[k]! <= sizes[k - 1]!, `sizes ${sizes}`);
  // The tail: the last chunks hold the minimum (the very last one what is left), so threads end within ~4 inputs.
  assert.deepEqual(sizes.slice(-3, -1), [4, 4]);
  assert.ok(sizes.at(-1)! <= 4);
  assert.ok(sizes.length < 48 + 16, `${sizes.length} chunks`);
  assert.throws(() => taperedChunkSizes(10, 0, 2, 4), RangeError);
  assert.throws(() => taperedChunkSizes(-1, 4, 2, 4), RangeError);
});

test('cutScriptCheckChunks: chunks of the given input counts, covering every input once, in order', () => {
  const rnd = prng(11);
  for (let trial = 0; trial < 200; trial++) {
    const counts = Array.from({ length: 1 + Math.floor(rnd() * 30) }, () => Math.floor(rnd() * (rnd() < 0.2 ? 200 : 3)));
    const pending = counts.map((_, j) => j).filter(() => rnd() < 0.8);
    const total = pending.reduce((n, j) => n + counts[j]!, 0);
    const sizes = taperedChunkSizes(total, 1 + Math.floor(rnd() * 40), 1 + Math.floor(rnd() * 4), 1 + Math.floor(rnd() * 4));
    const chunks = cutScriptCheckChunks(counts, pending, sizes);
    assert.deepEqual(chunks.map((c) => c.reduce((n, s) => n + s.inputEnd - s.inputStart, 0)), sizes);
    const flat = chunks.flat();
    let pos = 0;
    for (const j of pending.filter((j) => counts[j]! > 0)) {
      let next = 0;
      while (next < counts[j]!) {
        const s = flat[pos++]!;
        assert.equal(s.jobIndex, j);
        assert.equal(s.inputStart, next);
        assert.ok(s.inputEnd > s.inputStart);
        next = s.inputEnd;
      }
    }
    assert.equal(pos, flat.length);
  }
});

test('a batch posted before its chunks are written: chunks publish in order and then verify; a cancelled batch skips the unwritten ones', () => {
  const jobs = BATCH.slice(0, 8);
  const slices = [[{ jobIndex: 0, inputStart: 0, inputEnd: 1 }], [{ jobIndex: 1, inputStart: 0, inputEnd: 1 }]];
  const bytes = slices.map((c) => encodeScriptCheckChunk(c, (j) => jobs[j]!.prevouts, (j) => encodeTx(jobs[j]!.tx)));
  const batch = allocateSharedScriptCheckBatch(bytes.map((b) => b.length));
  assert.throws(() => publishScriptCheckChunk(batch, 1, bytes[1]!), RangeError, 'chunk 1 before chunk 0');
  assert.throws(() => publishScriptCheckChunk(batch, 0, bytes[1]!.subarray(1)), RangeError, 'wrong size');
  publishScriptCheckChunk(batch, 0, bytes[0]!);
  publishScriptCheckChunk(batch, 1, bytes[1]!);
  const work = (k: number) => decodeScriptCheckChunk(sharedChunkBytes(batch, k));
  assert.equal(claimScriptChecks(batch, work), 2);
  assert.equal(readSharedScriptCheckResults(batch).unsettled, 0);

  // Cancelled with chunk 1 never written: a claiming thread skips it instead of waiting forever.
  const cancelled = allocateSharedScriptCheckBatch(bytes.map((b) => b.length));
  publishScriptCheckChunk(cancelled, 0, bytes[0]!);
  cancelSharedScriptCheckBatch(cancelled);
  assert.equal(claimScriptChecks(cancelled, (k) => decodeScriptCheckChunk(sharedChunkBytes(cancelled, k))), 0);
  assert.deepEqual([cancelled.results[0], cancelled.results[RESULT_FIELDS]], [ChunkState.SKIPPED, ChunkState.SKIPPED]);
});

test('encodeScriptCheckChunk/decodeScriptCheckChunk round-trip a chunk with a split multi-input tx', () => {
  const jobs = BATCH.slice(49, 53);
  const slices = [
    { jobIndex: 0, inputStart: 0, inputEnd: 1 },
    { jobIndex: 1, inputStart: 3, inputEnd: 17 },
  ];
  const bytes = encodeScriptCheckChunk(slices, (j) => jobs[j]!.prevouts, (j) => encodeTx(jobs[j]!.tx));
  const work = decodeScriptCheckChunk(bytes);
  assert.equal(work.length, 2);
  for (const [k, item] of work.entries()) {
    const job = jobs[slices[k]!.jobIndex]!;
    assert.equal(item.jobIndex, slices[k]!.jobIndex);
    assert.equal(item.inputStart, slices[k]!.inputStart);
    assert.equal(item.inputEnd, slices[k]!.inputEnd);
    assert.deepEqual(computeWtxid(item.tx), job.wtxid);
    assert.deepEqual(item.prevouts, job.prevouts);
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Results: pool against the inline reference.
// ---------------------------------------------------------------------------------------------------------------

test(`a valid batch (${BATCH.length} txs) is ok on every pool layout, as inline, with every input verified`, async () => {
  assert.deepEqual(await inlineResult(BATCH), { ok: true });
  for (const { name, pool: p } of POOLS) {
    const before = p.stats;
    assert.deepEqual(await p.verify(BATCH), { ok: true }, name);
    const stats = p.stats;
    assert.equal(stats.inputsVerified - before.inputsVerified, TOTAL_INPUTS, name);
    assert.equal(stats.parallelBatches - before.parallelBatches, 1, name);
  }
});

test('one bad signature at random positions is found with its txIndex, inputIndex and reason', async () => {
  const rnd = prng(2024);
  const positions: [number, number][] = [
    [0, 0],
    [BATCH.length - 1, 6],
    [50, 39],
    [151, 12],
  ];
  for (let k = 0; k < 4; k++) {
    const t = Math.floor(rnd() * BATCH.length);
    positions.push([t, Math.floor(rnd() * BATCH[t]!.tx.inputs.length)]);
  }
  for (const [txIndex, inputIndex] of positions) {
    const jobs = corrupt(BATCH, txIndex, inputIndex);
    const job = jobs[txIndex]!;
    const reason = badSigReason(job, inputIndex);
    // The consensus function itself agrees that this input, and only it, fails.
    assert.equal(verifyInput(job.tx, inputIndex, job.prevouts).reason, reason);
    const want: ScriptCheckResult = { ok: false, txIndex, inputIndex, reason };
    assert.deepEqual(await inlineResult(jobs), want, `inline at ${txIndex}:${inputIndex}`);
    for (const { name, pool: p } of POOLS) {
      assert.deepEqual(await p.verify(jobs), want, `${name} at ${txIndex}:${inputIndex}`);
    }
  }
});

test('with several bad signatures the first one in (tx, input) order is reported, whichever chunk holds it', async () => {
  const cases: [number, number][][] = [
    [[BATCH.length - 1, 3], [10, 0]], // a worker chunk fails before the main thread's (last) chunk
    [[300, 0], [200, 0], [250, 0]],
    [[50, 30], [50, 2], [51, 0]], // two failures inside one split 40-input tx
    [[5, 0], [6, 0]],
  ];
  for (const bad of cases) {
    let jobs: ScriptCheckJob[] = BATCH.slice();
    for (const [t, i] of bad) jobs = corrupt(jobs, t, i);
    const [txIndex, inputIndex] = bad.slice().sort((a, b) => a[0] - b[0] || a[1] - b[1])[0]!;
    const want: ScriptCheckResult = { ok: false, txIndex, inputIndex, reason: badSigReason(jobs[txIndex]!, inputIndex) };
    assert.deepEqual(await inlineResult(jobs), want);
    for (const { name, pool: p } of POOLS) assert.deepEqual(await p.verify(jobs), want, `${name} ${JSON.stringify(bad)}`);
  }
});

test('a failure in an early chunk stops later chunks (fewer inputs verified than the batch holds)', async () => {
  const p = POOLS[1]!.pool; // 2 workers
  const jobs = corrupt(BATCH, 0, 0);
  const before = p.stats.inputsVerified;
  const result = await p.verify(jobs);
  assert.equal(result.ok, false);
  // Chunk 0 fails on its first input; chunk 1 sees the shared abort slot long before its ~186 inputs are done.
  assert.ok(p.stats.inputsVerified - before < TOTAL_INPUTS, `${p.stats.inputsVerified - before} of ${TOTAL_INPUTS}`);
});

test('small batches (below parallelThresholdInputs) are verified inline, with the same results', async () => {
  const p = POOLS[0]!.pool;
  const small = BATCH.slice(0, 10);
  const before = p.stats;
  assert.deepEqual(await p.verify(small), { ok: true });
  const bad = corrupt(small, 7, 0);
  assert.deepEqual(await p.verify(bad), await inlineResult(bad));
  assert.equal(p.stats.inlineBatches - before.inlineBatches, 2);
  assert.equal(p.stats.parallelBatches - before.parallelBatches, 0);
  assert.equal(p.stats.inputsVerified - before.inputsVerified, 10 + 8);
});

test('a single tx with 120 inputs is split across the threads and its failure found', async () => {
  const big = [signedJob(120, 1)];
  assert.deepEqual(await inlineResult(big), { ok: true });
  for (const inputIndex of [0, 59, 60, 119]) {
    const bad = corrupt(big, 0, inputIndex);
    for (const { name, pool: p } of POOLS) {
      const want = { ok: false, txIndex: 0, inputIndex, reason: badSigReason(bad[0]!, inputIndex) };
      assert.deepEqual(await p.verify(bad), want, name);
    }
  }
});

test('concurrent verify calls on one pool each get their own result', async () => {
  const p = POOLS[0]!.pool;
  const bad = corrupt(BATCH, 100, 0);
  const results = await Promise.all([p.verify(BATCH), p.verify(bad), p.verify(BATCH.slice(1))]);
  assert.deepEqual(results, [{ ok: true }, await inlineResult(bad), { ok: true }]);
});

test('every verifier keeps the session contract: begin + finishSync and begin + finish give what verify gives; a finished or cancelled session cannot finish again', async () => {
  const batches = [BATCH, corrupt(BATCH, 150, 0), corrupt(corrupt(BATCH, 50, 33), 200, 0), BATCH.slice(0, 3)];
  const verifiers = [...POOLS, { name: 'inline', pool: new InlineScriptVerifier({ cacheSize: 0 }) }];
  for (const { name, pool: p } of verifiers) {
    for (const jobs of batches) {
      const want = await inlineResult(jobs);
      const sync = p.begin(jobs);
      assert.deepEqual(sync.finishSync(), want, `${name} finishSync`);
      await sync.cancel(); // no-op once finished
      assert.throws(() => sync.finishSync(), /twice/);
      const async = p.begin(jobs);
      assert.deepEqual(await async.finish(), want, `${name} finish`);
      await assert.rejects(async.finish(), /twice/);
      const dropped = p.begin(jobs);
      await dropped.cancel();
      assert.throws(() => dropped.finishSync(), /twice/, `${name} finishSync after cancel`);
    }
  }
});

test('cancel: nothing of the batch is cached, and the pool goes on with the next batch', async () => {
  const p = pool({ threads: 2, cacheSize: 1000 });
  const session = p.begin(BATCH);
  await session.cancel();
  assert.ok(BATCH.every((j) => !p.isCached(j.wtxid)));
  await assert.rejects(session.finish(), /twice/);
  assert.deepEqual(await p.verify(BATCH.slice(0, 60)), { ok: true });
  assert.ok(p.isCached(BATCH[0]!.wtxid));
});

// ---------------------------------------------------------------------------------------------------------------
// Script cache.
// ---------------------------------------------------------------------------------------------------------------

test('ScriptCache: FIFO eviction at maxEntries, re-add refreshes, 0 disables, bad sizes throw', () => {
  const wtxid = (n: number): Wtxid => decodeWtxid(new Uint8Array(32).fill(n));
  const [a, b, cc, d] = [wtxid(1), wtxid(2), wtxid(3), wtxid(4)];
  const c = new ScriptCache(3);
  for (const k of [a, b, cc]) c.add(k);
  c.add(decodeWtxid(a)); // the same wtxid (another array) refreshed: b is now the oldest
  c.add(d);
  assert.deepEqual([a, b, cc, d].map((k) => c.has(k)), [true, false, true, true]);
  assert.equal(c.size, 3);
  assert.equal(c.delete(cc), true);
  assert.equal(c.size, 2);
  c.clear();
  assert.equal(c.size, 0);
  const off = new ScriptCache(0);
  off.add(a);
  assert.equal(off.has(a), false);
  assert.throws(() => new ScriptCache(-1), RangeError);
  assert.throws(() => new ScriptCache(1.5), RangeError);
});

test('cache: a second verify of the same jobs does no work; a batch with one new tx verifies only that tx', async () => {
  for (const make of [
    () => pool({ cacheSize: 1000 }),
    () => new InlineScriptVerifier({ cacheSize: 1000 }),
  ]) {
    const v = make();
    assert.deepEqual(await v.verify(BATCH), { ok: true });
    assert.deepEqual(v.stats, { ...v.stats, inputsVerified: TOTAL_INPUTS, cacheHits: 0 });
    assert.ok(BATCH.every((j) => v.isCached(j.wtxid)));
    assert.deepEqual(await v.verify(BATCH), { ok: true });
    assert.equal(v.stats.inputsVerified, TOTAL_INPUTS, 'no input verified again');
    assert.equal(v.stats.cacheHits, BATCH.length);
    const extra = signedJob(3);
    assert.equal(v.isCached(extra.wtxid), false);
    assert.deepEqual(await v.verify([...BATCH, extra]), { ok: true });
    assert.equal(v.stats.inputsVerified, TOTAL_INPUTS + 3);
    assert.equal(v.isCached(extra.wtxid), true);
    await v.close();
  }
});

test('cache: nothing is cached from a failing batch, and a cached tx is not re-checked in a failing one', async () => {
  for (const v of [pool({ cacheSize: 1000 }), new InlineScriptVerifier({ cacheSize: 1000 })]) {
    const bad = corrupt(BATCH, 200, 0);
    const result = await v.verify(bad);
    assert.equal(result.ok, false);
    assert.ok(bad.every((j) => !v.isCached(j.wtxid)), 'no wtxid of a failing batch is cached');
    assert.deepEqual(await v.verify(BATCH.slice(0, 150)), { ok: true });
    const before = v.stats;
    assert.deepEqual(await v.verify(bad), result);
    assert.equal(v.stats.cacheHits - before.cacheHits, 150);
    await v.close();
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Caller errors, crashed workers, close.
// ---------------------------------------------------------------------------------------------------------------

test('a job whose prevouts do not match its inputs rejects with VerifyError sighash-missing-prevouts (score 0)', async () => {
  const broken = [...BATCH.slice(0, 40), { ...BATCH[40]!, prevouts: [] }];
  for (const v of [POOLS[0]!.pool, new InlineScriptVerifier()]) {
    await assert.rejects(v.verify(broken), (e: unknown) => {
      assert.ok(e instanceof VerifyError);
      assert.equal(e.code, 'sighash-missing-prevouts');
      assert.equal(e.score, 0);
      return true;
    });
  }
});

test('a worker that crashes or exits rejects verify with an Error instead of hanging', { timeout: 60_000 }, async () => {
  const scripts = [
    // Throws on the first request: an uncaught exception in the worker ('error' event).
    "require('node:worker_threads').parentPort.on('message', () => { throw new Error('boom'); });",
    // Exits on the first request without answering.
    "require('node:worker_threads').parentPort.on('message', () => process.exit(3));",
    // Answers with an error response (what scriptVerifierWorker does when decoding fails).
    "const p = require('node:worker_threads').parentPort; p.on('message', (m) => p.postMessage({ id: m.id, inputsVerified: 0, error: 'DecodeError: x' }));",
  ];
  for (const src of scripts) {
    const workerUrl = new URL(`data:text/javascript,${encodeURIComponent(`import { createRequire } from 'node:module'; const require = createRequire('file:///'); ${src}`)}`);
    const p = pool({ threads: 2, workerUrl });
    const isWorkerError = (e: unknown): boolean => e instanceof Error && /script verifier worker/.test(e.message);
    await assert.rejects(p.verify(BATCH), isWorkerError);
    // The pool stays usable for inline batches, and the next parallel batch goes to a new worker (which fails the
    // same way here), so it rejects too rather than waiting on the dead one.
    assert.deepEqual(await p.verify(BATCH.slice(0, 10)), { ok: true });
    await assert.rejects(p.verify(BATCH), isWorkerError);
    await p.close();
  }
});

test('beginHashBlockTxs: the workers and the main thread together give every tx its wtxid and txid, as hashed on one thread', async () => {
  // A raw block's layout (80-byte header, compact-size count, the txs) over BATCH's txs, with a legacy tx (no witness) too.
  const legacy: Tx = { ...BATCH[0]!.tx, inputs: BATCH[0]!.tx.inputs.map((input) => ({ ...input, witness: [] })) };
  const txs = [legacy, ...BATCH.map((job) => job.tx)];
  const parts = [new Uint8Array(80), new Uint8Array([0xfd, txs.length & 0xff, txs.length >> 8]), ...txs.map((tx) => encodeTx(tx))];
  const raw = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  parts.reduce((at, part) => (raw.set(part, at), at + part.length), 0);
  const spans = scanTxSpans(raw, txs.length)!;
  assert.ok(spans !== undefined);
  const expected = hashBlockTxsInline(raw, spans)();
  txs.forEach((tx, t) => {
    assert.deepEqual(expected.slice(64 * t, 64 * t + 32), computeWtxid(tx), `wtxid ${t}`);
    assert.deepEqual(expected.slice(64 * t + 32, 64 * t + 64), computeTxid(tx), `txid ${t}`);
  });
  const p = pool({ threads: 2 });
  // The first call starts the worker; later ones find it ready. Every one must give the same bytes.
  for (let round = 0; round < 5; round++) {
    const join = p.beginHashBlockTxs(raw, spans);
    // The join may come late (the chain reads the block's coins first) or at once. Late: after a verify whose answer
    // each worker sends only once it has handled the hash request posted before it (a worker takes messages in order).
    if (round % 2 === 1) assert.deepEqual(await p.verify(BATCH.slice(0, 40)), { ok: true });
    assert.deepEqual(new Uint8Array(join()), expected, `round ${round}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
  // A range claimed by a thread that never finishes it (descheduled, or dead) is hashed again by the join, not waited for.
  const held = createSharedTxHashBatch(raw, spans);
  Atomics.add(held.control, 0, 1);
  finishTxHashes(held);
  assert.deepEqual(new Uint8Array(held.out), expected);
  // A block below the hand-off size is hashed on this thread, with the same result.
  assert.deepEqual(new Uint8Array(p.beginHashBlockTxs(raw, spans.subarray(0, 3 * 10))()), expected.subarray(0, 64 * 10));
});

test('close() resolves, is idempotent, and later verify calls reject', async () => {
  const p = pool({ threads: 2 });
  assert.deepEqual(await p.verify(BATCH.slice(0, 40)), { ok: true });
  assert.equal(p.stats.parallelBatches, 1);
  await p.close();
  await p.close();
  await assert.rejects(p.verify(BATCH), /closed/);
});

const REPO = fileURLToPath(new URL('../../', import.meta.url));

test('an idle pool does not keep the process alive, and a closed one leaves no handles', () => {
  for (const closeIt of [false, true]) {
    const script = `
      import { WorkerPoolScriptVerifier } from './src/chain/workerPoolScriptVerifier.ts';
      import { buildSignedTx, makeTestKey } from './src/testing/txFactory.ts';
      const key = makeTestKey('exit', 'p2tr');
      const jobs = Array.from({ length: 40 }, (_, n) => {
        const coin = { outpoint: { txid: new Uint8Array(32).fill(n), index: 0 }, output: { value: 5000n, scriptPubKey: key.scriptPubKey }, key };
        return { tx: buildSignedTx([coin], [{ value: 1000n, scriptPubKey: key.scriptPubKey }]), prevouts: [coin.output], wtxid: new Uint8Array(32).fill(n) };
      });
      const pool = WorkerPoolScriptVerifier.create({ threads: 2 });
      const r = await pool.verify(jobs);
      console.log(JSON.stringify({ r, parallel: pool.stats.parallelBatches }));
      ${closeIt ? 'await pool.close();' : ''}
    `;
    const out = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(out.error, undefined, `child did not exit (close: ${closeIt}): ${String(out.error)}`);
    assert.equal(out.status, 0, out.stderr);
    assert.deepEqual(JSON.parse(out.stdout.trim()), { r: { ok: true }, parallel: 1 });
  }
});

test('compiled dist: scripts/checkWorkerDist.mjs passes (runs only when dist/ is newer than the sources)', (t) => {
  const dist = `${REPO}dist/chain/workerPoolScriptVerifier.js`;
  const sources = ['workerPoolScriptVerifier.ts', 'scriptVerifierWorker.ts', 'scriptCheckChunk.ts'].map(
    (f) => `${REPO}src/chain/${f}`,
  );
  if (!existsSync(dist) || sources.some((s) => statSync(s).mtimeMs > statSync(dist).mtimeMs)) {
    t.skip('dist/ missing or older than the sources: run `npm run build && node scripts/checkWorkerDist.mjs`');
    return;
  }
  const out = spawnSync(process.execPath, ['scripts/checkWorkerDist.mjs'], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
  assert.equal(out.status, 0, `${out.stdout}\n${out.stderr}`);
});
