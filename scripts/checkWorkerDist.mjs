#!/usr/bin/env node
// Checks that WorkerPoolScriptVerifier works from the compiled dist/ (plain node, no tsx): its worker threads start
// from dist/chain/scriptVerifierWorker.js, verify real signed P2WPKH and P2TR spends, find a bad signature at the right
// place, and the process exits by itself after close(). Run after `npm run build`:
//   node scripts/checkWorkerDist.mjs [distDir]     (distDir defaults to ./dist)
// The unit tests cover the TypeScript (tsx) path; src/chain/workerPoolScriptVerifier.test.ts also runs this script
// when dist/ is newer than the sources.
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const dist = process.argv[2] ? pathToFileURL(`${process.argv[2].replace(/\/$/, '')}/`) : new URL('../dist/', import.meta.url);
if (!existsSync(new URL('chain/workerPoolScriptVerifier.js', dist))) {
  console.error('checkWorkerDist: dist/chain/workerPoolScriptVerifier.js is missing; run `npm run build` first');
  process.exit(2);
}
const load = (path) => import(new URL(path, dist).href);
const { WorkerPoolScriptVerifier, InlineScriptVerifier } = await load('chain/workerPoolScriptVerifier.js');
const { ecdsaSign, encodeDerSignature, publicKeyFromPrivate } = await load('crypto/ecdsa.js');
const { schnorrSign } = await load('crypto/schnorr.js');
const { tweakPrivateKey, tweakPublicKey } = await load('crypto/taproot.js');
const { hash160, sha256 } = await load('crypto/hash.js');
const { computeSegwitV0Sighash, computeTaprootKeyPathSighash, p2wpkhScriptCode } = await load('consensus/sighash.js');
const { computeWtxid } = await load('primitives/tx.js');

const enc = (s) => new TextEncoder().encode(s);
const priv = sha256(enc('checkWorkerDist/key'));
const pub = publicKeyFromPrivate(priv);
const wpkhScript = Uint8Array.of(0x00, 0x14, ...hash160(pub));
const trScript = Uint8Array.of(0x51, 0x20, ...tweakPublicKey(pub.subarray(1)).outputKey);

/** One-input tx n spending a P2WPKH (even n) or P2TR (odd n) coin, signed. */
function job(n) {
  const prevout = { value: 10_000n + BigInt(n), scriptPubKey: n % 2 === 0 ? wpkhScript : trScript };
  const unsigned = {
    version: 2,
    inputs: [{ prevout: { txid: sha256(enc(`coin/${n}`)), index: 0 }, scriptSig: new Uint8Array(0), sequence: 0xfffffffd, witness: [] }],
    outputs: [{ value: 5_000n, scriptPubKey: wpkhScript }],
    locktime: 0,
  };
  let witness;
  if (n % 2 === 0) {
    const msg = computeSegwitV0Sighash(unsigned, 0, p2wpkhScriptCode(hash160(pub)), prevout.value, 0x01);
    witness = [Uint8Array.of(...encodeDerSignature(ecdsaSign(msg, priv)), 0x01), pub];
  } else {
    witness = [schnorrSign(computeTaprootKeyPathSighash(unsigned, 0, [prevout], 0x00), tweakPrivateKey(priv))];
  }
  const tx = { ...unsigned, inputs: [{ ...unsigned.inputs[0], witness }] };
  return { tx, prevouts: [prevout], wtxid: computeWtxid(tx) };
}

function fail(message) {
  console.error(`checkWorkerDist: FAILED: ${message}`);
  process.exitCode = 1;
}

const jobs = Array.from({ length: 48 }, (_, n) => job(n));
const bad = jobs.slice();
for (const k of [37, 30]) {
  const sig = bad[k].tx.inputs[0].witness[0].slice();
  sig[5] ^= 1;
  const tx = { ...bad[k].tx, inputs: [{ ...bad[k].tx.inputs[0], witness: [sig, ...bad[k].tx.inputs[0].witness.slice(1)] }] };
  bad[k] = { ...bad[k], tx, wtxid: computeWtxid(tx) };
}

const pool = WorkerPoolScriptVerifier.create({ threads: 2, parallelThresholdInputs: 1, cacheSize: 0 });
const inline = new InlineScriptVerifier({ cacheSize: 0 });
const started = performance.now();
const good = await pool.verify(jobs);
const broken = await pool.verify(bad);
const reference = await inline.verify(bad);
await pool.close();
const ms = (performance.now() - started).toFixed(0);

if (JSON.stringify(good) !== JSON.stringify({ ok: true })) fail(`valid batch gave ${JSON.stringify(good)}`);
const want = { ok: false, txIndex: 30, inputIndex: 0, reason: 'sig-nullfail' };
if (JSON.stringify(broken) !== JSON.stringify(want)) fail(`bad batch gave ${JSON.stringify(broken)}, want ${JSON.stringify(want)}`);
if (JSON.stringify(reference) !== JSON.stringify(want)) fail(`inline gave ${JSON.stringify(reference)}`);
if (pool.stats.parallelBatches !== 2 || pool.workerCount < 1) fail(`no worker was used: ${JSON.stringify(pool.stats)}`);
if (process.exitCode !== 1) {
  console.log(`checkWorkerDist: ok (dist worker threads: ${pool.workerCount}; ${JSON.stringify(pool.stats)}; ${ms} ms)`);
}
