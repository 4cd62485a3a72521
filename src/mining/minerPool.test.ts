import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { bitsToTarget } from '../consensus/pow.js';
import { bytesToHex } from '../primitives/hex.js';
import { MinerPool, type FoundBlock } from './minerPool.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
/** Bitcoin Core's regtest bits (powLimit 0x7fffff << 232): about every other nonce meets it. */
const REGTEST_BITS = 0x207fffff;

function sha256d(bytes: Uint8Array): Uint8Array {
  const once = createHash('sha256').update(bytes).digest();
  return new Uint8Array(createHash('sha256').update(once).digest());
}

function hashValue(hash: Uint8Array): bigint {
  return BigInt(`0x${bytesToHex(hash.slice().reverse())}`);
}

function header(label: string): Uint8Array {
  const bytes = new Uint8Array(80);
  bytes.set(createHash('sha256').update(`${label}/a`).digest(), 0);
  bytes.set(createHash('sha256').update(`${label}/b`).digest(), 32);
  bytes.set(createHash('sha256').update(`${label}/c`).digest().subarray(0, 16), 64);
  return bytes;
}

function nextFound(pool: MinerPool, timeoutMs = 20_000): Promise<FoundBlock> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no block found in time')), timeoutMs);
    const off = pool.onFound((found) => {
      clearTimeout(timer);
      off();
      resolve(found);
    });
  });
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}


test('finds a block at regtest bits and at a 1-in-2^20 target; the header it returns meets the target', async () => {
  const pool = new MinerPool({ threads: 2, chunkNonces: 1 << 14 });
  try {
    const easy = bitsToTarget(REGTEST_BITS).target;
    const first = nextFound(pool);
    pool.startJob({ jobId: 'regtest', header80: header('pool/regtest'), target: easy });
    const found = await first;
    assert.equal(found.jobId, 'regtest');
    assert.ok(hashValue(sha256d(found.header80)) <= easy);
    assert.equal(new DataView(found.header80.buffer).getUint32(76, true), found.nonce);
    assert.deepEqual(found.header80.subarray(0, 76), header('pool/regtest').subarray(0, 76));
    assert.equal(pool.currentJobId, undefined, 'a found block ends the job');

    const target = (1n << 236n) - 1n;
    const second = nextFound(pool);
    pool.startJob({ jobId: 'harder', header80: header('pool/harder'), target });
    const hard = await second;
    assert.equal(hard.jobId, 'harder');
    assert.ok(hashValue(sha256d(hard.header80)) <= target);
    assert.ok(pool.stats.hashes > 0);
    assert.equal(pool.stats.blocksFound, 2);
  } finally {
    await pool.close();
  }
});

test('stopJob stops the workers within a chunk; hashRate reports the work while mining', async () => {
  const pool = new MinerPool({ threads: 2, chunkNonces: 1 << 14 });
  try {
    let founds = 0;
    pool.onFound(() => founds++);
    pool.startJob({ jobId: 'never', header80: header('pool/stop'), target: 0n });
    await waitFor('progress', () => pool.stats.hashes >= 4 * (1 << 14));
    assert.ok(pool.hashRate() > 0);
    assert.equal(pool.currentJobId, 'never');
    pool.stopJob();
    assert.equal(pool.currentJobId, undefined);
    // A round trip through every worker: a job with an empty nonce range is answered "exhausted" at once, after the
    // stop before it (each worker handles its messages in order, and its progress reports arrive in order too).
    const roundTrip = async (jobId: string): Promise<void> => {
      const exhausted = new Promise<void>((resolve) => {
        const off = pool.onExhausted((id) => {
          if (id !== jobId) return;
          off();
          resolve();
        });
      });
      pool.startJob({ jobId, header80: header('pool/stop'), target: 0n, startNonce: 0, endNonce: 0 });
      await exhausted;
    };
    await roundTrip('probe-1');
    const after = pool.stats.hashes;
    await roundTrip('probe-2');
    assert.equal(pool.stats.hashes, after, 'workers kept hashing after stopJob');
    assert.equal(founds, 0);
  } finally {
    await pool.close();
  }
});

test('a new job replaces the old one: the workers switch and the new job finds its block', async () => {
  const pool = new MinerPool({ threads: 2, chunkNonces: 1 << 14 });
  try {
    const seen: string[] = [];
    pool.onFound((f) => seen.push(f.jobId));
    pool.startJob({ jobId: 'old', header80: header('pool/old'), target: 0n });
    await waitFor('progress', () => pool.stats.hashes > 0);
    const target = (1n << 240n) - 1n;
    const found = nextFound(pool);
    pool.startJob({ jobId: 'new', header80: header('pool/new'), target });
    const block = await found;
    assert.equal(block.jobId, 'new');
    assert.ok(hashValue(sha256d(block.header80)) <= target);
    assert.deepEqual(seen, ['new']);
  } finally {
    await pool.close();
  }
});

test('a job whose nonce range holds no block is reported exhausted; the range is split among the workers', async () => {
  const pool = new MinerPool({ threads: 2, chunkNonces: 1 << 12 });
  try {
    const exhausted = new Promise<string>((resolve) => pool.onExhausted(resolve));
    pool.startJob({ jobId: 'small', header80: header('pool/small'), target: 0n, startNonce: 1000, endNonce: 1000 + 50_001 });
    assert.equal(await exhausted, 'small');
    assert.equal(pool.stats.hashes, 50_001);
    assert.equal(pool.currentJobId, undefined);
    // The nonce a 1-in-2 target first meets in a range is the one the pool returns when one worker owns the range.
    const single = new MinerPool({ threads: 1, chunkNonces: 7 });
    try {
      const h = header('pool/first');
      const easy = bitsToTarget(REGTEST_BITS).target;
      let expected = 5000;
      for (;;) {
        const candidate = h.slice();
        new DataView(candidate.buffer).setUint32(76, expected, true);
        if (hashValue(sha256d(candidate)) <= easy) break;
        expected++;
      }
      const found = nextFound(single);
      single.startJob({ jobId: 'first', header80: h, target: easy, startNonce: 5000, endNonce: 6000 });
      assert.equal((await found).nonce, expected);
    } finally {
      await single.close();
    }
  } finally {
    await pool.close();
  }
});

test('malformed jobs and options are RangeErrors; a closed pool refuses jobs', async () => {
  assert.throws(() => new MinerPool({ threads: 0 }), RangeError);
  assert.throws(() => new MinerPool({ chunkNonces: 0 }), RangeError);
  const pool = new MinerPool({ threads: 1 });
  assert.throws(() => pool.startJob({ jobId: 'x', header80: new Uint8Array(79), target: 1n }), RangeError);
  assert.throws(() => pool.startJob({ jobId: 'x', header80: new Uint8Array(80), target: -1n }), RangeError);
  assert.throws(
    () => pool.startJob({ jobId: 'x', header80: new Uint8Array(80), target: 1n, startNonce: 5, endNonce: 2 ** 32 + 1 }),
    RangeError,
  );
  await pool.close();
  assert.throws(() => pool.startJob({ jobId: 'x', header80: new Uint8Array(80), target: 1n }), /closed/);
});

/** A child process that mines, closes the pool and must then exit by itself (no handle left behind). */
function childScript(importPath: string): string {
  return `
    import { MinerPool } from ${JSON.stringify(importPath)};
    const pool = new MinerPool({ threads: 2, chunkNonces: 1 << 14 });
    const header80 = new Uint8Array(80).fill(7);
    const found = new Promise((resolve) => pool.onFound(resolve));
    pool.startJob({ jobId: 'a', header80, target: (1n << 244n) - 1n });
    const block = await found;
    pool.startJob({ jobId: 'b', header80, target: 0n });
    await new Promise((r) => setTimeout(r, 100));
    await pool.close();
    console.log(JSON.stringify({ jobId: block.jobId, nonce: block.nonce, hashes: pool.stats.hashes }));
  `;
}

function runChild(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const out = spawnSync(process.execPath, args, { cwd: REPO, encoding: 'utf8', timeout: 30_000 });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

test('close() leaves no handle: a process that mined and closed its pool exits by itself (tsx sources)', () => {
  const url = new URL('./minerPool.ts', import.meta.url).href;
  const out = runChild(['--import', 'tsx', '--input-type=module', '-e', childScript(url)]);
  assert.equal(out.status, 0, `child did not exit cleanly (timeout means a handle was left): ${out.stderr}`);
  const result = JSON.parse(out.stdout.trim()) as { jobId: string; hashes: number };
  assert.equal(result.jobId, 'a');
  assert.ok(result.hashes > 0);
});

test('compiled dist: the pool starts its workers from dist/mining (runs only when dist/ is newer than the sources)', (t) => {
  const dist = `${REPO}dist/mining/minerPool.js`;
  const sources = ['mining/minerPool.ts', 'mining/minerWorker.ts', 'mining/minerMessages.ts', 'mining/sha256dKernel.ts',
    'workers/spawnWorker.ts'].map((f) => `${REPO}src/${f}`);
  if (!existsSync(dist) || sources.some((s) => statSync(s).mtimeMs > statSync(dist).mtimeMs)) {
    t.skip('dist/ missing or older than the sources: run `npm run build`');
    return;
  }
  const out = runChild(['--input-type=module', '-e', childScript(new URL(`file://${dist}`).href)]);
  assert.equal(out.status, 0, `dist child failed: ${out.stderr}`);
  assert.equal((JSON.parse(out.stdout.trim()) as { jobId: string }).jobId, 'a');
});
