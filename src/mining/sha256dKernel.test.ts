import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { bitsToTarget } from '../consensus/pow.js';
import { bytesToHex, hexToBytes } from '../primitives/hex.js';
import { readVectorText, reportVectors } from '../testing/vectors.js';
import { NONCE_SPACE, Sha256dKernel } from './sha256dKernel.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** The reference: sha256d with node:crypto. */
function sha256d(bytes: Uint8Array): Uint8Array {
  const once = createHash('sha256').update(bytes).digest();
  return new Uint8Array(createHash('sha256').update(once).digest());
}

/** A hash read as Core's arith_uint256 reads it: little-endian. */
function hashValue(hash: Uint8Array): bigint {
  return BigInt(`0x${bytesToHex(hash.slice().reverse())}`);
}

function withNonce(header80: Uint8Array, nonce: number): Uint8Array {
  const h = header80.slice();
  new DataView(h.buffer).setUint32(76, nonce >>> 0, true);
  return h;
}

/** Deterministic pseudo-random bytes (sha256 of a label and counter), so failures reproduce. */
function detBytes(label: string, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i * 32 < length; i++) {
    out.set(createHash('sha256').update(`${label}/${i}`).digest().subarray(0, Math.min(32, length - 32 * i)), 32 * i);
  }
  return out;
}

function detU32(label: string): number {
  return new DataView(detBytes(label, 4).buffer).getUint32(0, true);
}

/** The first nonce in [start, start + count) that meets the target, by node:crypto. */
function referenceScan(header80: Uint8Array, target: bigint, start: number, count: number): number | null {
  for (let n = start; n < start + count; n++) if (hashValue(sha256d(withNonce(header80, n))) <= target) return n;
  return null;
}

const kernel = new Sha256dKernel();

test('every SIMD lane matches node:crypto sha256d on 2,000 random headers (8,000 hashes), and the scalar path too', () => {
  let compared = 0;
  for (let i = 0; i < 2_000; i++) {
    const header = detBytes(`lanes/header/${i}`, 80);
    // Every 100th start sits at the top of the nonce space, so lanes wrap past 2^32 - 1 to 0.
    const start = i % 100 === 0 ? NONCE_SPACE - 1 - (i % 4) : detU32(`lanes/start/${i}`);
    kernel.setJob(header, 0n);
    const lanes = kernel.hashLanes(start);
    for (let lane = 0; lane < 4; lane++) {
      const expected = sha256d(withNonce(header, (start + lane) % NONCE_SPACE));
      assert.equal(bytesToHex(lanes[lane]!), bytesToHex(expected), `header ${i} lane ${lane}`);
      compared++;
    }
    const [scalar] = kernel.hashHeaders([header]);
    assert.equal(bytesToHex(scalar!), bytesToHex(sha256d(header)), `header ${i} scalar`);
  }
  assert.equal(compared, 8_000);
});

test('scan returns the first nonce at or below the target, as a node:crypto loop does (600 random jobs)', () => {
  let found = 0;
  for (let i = 0; i < 600; i++) {
    const header = detBytes(`scan/header/${i}`, 80);
    // Targets from 2^255 down to 2^249 plus random low bits: each window holds zero, one or several passing nonces.
    const shift = 1n + BigInt(i % 7);
    const target = (1n << (256n - shift)) - 1n - (hashValue(detBytes(`scan/target/${i}`, 32)) >> (shift + 8n));
    const count = 1 + (detU32(`scan/count/${i}`) % 70);
    const start = i % 50 === 0 ? NONCE_SPACE - count : detU32(`scan/start/${i}`) % (NONCE_SPACE - count);
    kernel.setJob(header, target);
    const expected = referenceScan(header, target, start, count);
    assert.equal(kernel.scan(start, count), expected, `job ${i}: [${start}, +${count}) target ${target.toString(16)}`);
    if (expected !== null) found++;
  }
  assert.ok(found > 100, `too few jobs had a passing nonce (${found}): the test would not exercise the search`);
});

test('scan decides on the full 256-bit compare: target = hash passes, target = hash - 1 fails (200 random nonces)', () => {
  for (let i = 0; i < 200; i++) {
    const header = detBytes(`exact/header/${i}`, 80);
    const nonce = detU32(`exact/nonce/${i}`);
    const value = hashValue(sha256d(withNonce(header, nonce)));
    kernel.setJob(header, value);
    assert.equal(kernel.scan(nonce, 1), nonce, `job ${i}: target = hash`);
    kernel.setJob(header, value - 1n);
    assert.equal(kernel.scan(nonce, 1), null, `job ${i}: target = hash - 1`);
    // Same top 32 bits as the hash, lower bits just below: only the full compare can reject it.
    const sameTop = (value >> 224n) << 224n;
    kernel.setJob(header, sameTop === value ? value : sameTop);
    assert.equal(kernel.scan(nonce, 1), sameTop === value ? nonce : null, `job ${i}: same top word`);
  }
});

test('mainnet headers 0..255: the kernel finds each real nonce in a window around it, at the target from bits', (t) => {
  const file = 'mainnet/headers-0-255.hex';
  const lines = readVectorText(file).split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  let passed = 0;
  const failures: string[] = [];
  for (const [height, line] of lines.entries()) {
    const header = hexToBytes(line);
    const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
    const nonce = view.getUint32(76, true);
    const { target } = bitsToTarget(view.getUint32(72, true));
    const start = Math.max(0, nonce - 509);
    const end = Math.min(NONCE_SPACE, nonce + 515);
    // The job gets the header without its nonce: the kernel must find it.
    kernel.setJob(withNonce(header, 0), target);
    const found = kernel.scan(start, end - start);
    if (found === nonce) passed++;
    else failures.push(`height ${height}: nonce: expected ${nonce}, got ${found}`);
  }
  reportVectors(t, file, passed, lines.length, 256, failures);
});

test('a target every hash meets returns startNonce; a target never met returns null', () => {
  const header = detBytes('edges/header', 80);
  kernel.setJob(header, (1n << 256n) - 1n);
  for (const start of [0, 1, 2, 3, 12345, NONCE_SPACE - 5, NONCE_SPACE - 1]) {
    assert.equal(kernel.scan(start, Math.min(7, NONCE_SPACE - start)), start);
  }
  kernel.setJob(header, 0n);
  assert.equal(kernel.scan(0, 100_003), null);
  assert.equal(kernel.scan(NONCE_SPACE - 1_001, 1_001), null);
  assert.equal(kernel.scan(5, 0), null);
});

test('scan checks only the nonces in its range (counts that are not a multiple of 4)', () => {
  const header = detBytes('range/header', 80);
  // Find a nonce that meets a 1-in-16 target, then scan ranges that end just before it.
  const target = (1n << 252n) - 1n;
  kernel.setJob(header, target);
  const hit = referenceScan(header, target, 1000, 2000);
  assert.ok(hit !== null);
  for (let before = 1; before <= 6; before++) {
    const first = referenceScan(header, target, hit - before - 10, 10);
    assert.equal(kernel.scan(hit - before - 10, 10), first);
    assert.equal(kernel.scan(hit - before, before), null);
    assert.equal(kernel.scan(hit - before, before + 1), hit);
  }
});

test('malformed arguments are RangeErrors, not crashes', () => {
  const fresh = new Sha256dKernel();
  assert.throws(() => fresh.scan(0, 1), RangeError);
  assert.throws(() => fresh.setJob(new Uint8Array(79), 1n), RangeError);
  assert.throws(() => fresh.setJob(new Uint8Array(80), -1n), RangeError);
  assert.throws(() => fresh.setJob(new Uint8Array(80), 1n << 256n), RangeError);
  fresh.setJob(new Uint8Array(80), 1n);
  assert.throws(() => fresh.scan(NONCE_SPACE - 2, 3), RangeError);
  assert.throws(() => fresh.scan(-1, 3), RangeError);
  assert.throws(() => fresh.scan(1.5, 3), RangeError);
  assert.throws(() => fresh.hashLanes(NONCE_SPACE), RangeError);
  assert.throws(() => fresh.hashHeaders([new Uint8Array(81)]), RangeError);
});

test('assembly/sha256dRounds.ts is what assembly/generateRounds.mjs generates', () => {
  const out = spawnSync(process.execPath, ['assembly/generateRounds.mjs', '--check'], { cwd: REPO, encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
});
