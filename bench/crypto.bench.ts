/**
 * Baseline crypto throughput on one core: sha256d of 80-byte headers (node:crypto, and @noble/hashes for comparison),
 * ECDSA verification (tiny-secp256k1, strict low-S) and BIP-340 Schnorr verification. Later benchmarks (block connect,
 * miners) state their results as ratios to these figures.
 */
import { randomBytes } from 'node:crypto';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { ecdsaSign, ecdsaVerify, publicKeyFromPrivate } from '../src/crypto/ecdsa.js';
import { sha256d } from '../src/crypto/hash.js';
import { schnorrSign, schnorrVerify, xOnlyPublicKey } from '../src/crypto/schnorr.js';
import { formatRate, measure, type BenchResult } from './harness.js';

/** Runs the crypto baseline and returns its results (also printed). */
export function runCryptoBench(seconds: number): Record<string, BenchResult> {
  const header = new Uint8Array(randomBytes(80));
  const view = new DataView(header.buffer);
  let nonce = 0;
  const sha = measure('sha256d (node:crypto, 80-byte header)', (n) => {
    for (let i = 0; i < n; i++) {
      view.setUint32(76, nonce++, true);
      sha256d(header);
    }
  }, seconds);
  const noble = measure('sha256d (@noble/hashes, 80-byte header)', (n) => {
    for (let i = 0; i < n; i++) {
      view.setUint32(76, nonce++, true);
      nobleSha256(nobleSha256(header));
    }
  }, seconds);

  const KEYS = 64;
  const items = Array.from({ length: KEYS }, () => {
    const priv = new Uint8Array(randomBytes(32));
    const msg = new Uint8Array(randomBytes(32));
    return {
      msg,
      pub: publicKeyFromPrivate(priv),
      ecdsaSig: ecdsaSign(msg, priv),
      xonly: xOnlyPublicKey(priv),
      schnorrSig: schnorrSign(msg, priv, new Uint8Array(randomBytes(32))),
    };
  });
  let k = 0;
  const ecdsa = measure('ECDSA verify (tiny-secp256k1)', (n) => {
    for (let i = 0; i < n; i++) {
      const it = items[k++ % KEYS]!;
      if (!ecdsaVerify(it.msg, it.pub, it.ecdsaSig)) throw new Error('ECDSA verify failed');
    }
  }, seconds, 100);
  const schnorr = measure('Schnorr verify (tiny-secp256k1, BIP-340)', (n) => {
    for (let i = 0; i < n; i++) {
      const it = items[k++ % KEYS]!;
      if (!schnorrVerify(it.msg, it.xonly, it.schnorrSig)) throw new Error('Schnorr verify failed');
    }
  }, seconds, 100);

  console.log('\n## crypto baseline (one core)');
  console.log(`sha256d hashes/s per core (node:crypto):   ${formatRate(sha.opsPerSec, 'hashes')}`);
  console.log(`sha256d hashes/s per core (@noble/hashes): ${formatRate(noble.opsPerSec, 'hashes')}`);
  console.log(`ECDSA verifications/s per core:            ${formatRate(ecdsa.opsPerSec, 'verifies')}`);
  console.log(`Schnorr verifications/s per core:          ${formatRate(schnorr.opsPerSec, 'verifies')}`);
  console.log(`ratios: node:crypto / noble sha256d = ${(sha.opsPerSec / noble.opsPerSec).toFixed(2)}x; ` +
    `Schnorr / ECDSA verify = ${(schnorr.opsPerSec / ecdsa.opsPerSec).toFixed(2)}x`);
  return { sha256d: sha, sha256dNoble: noble, ecdsaVerify: ecdsa, schnorrVerify: schnorr };
}
