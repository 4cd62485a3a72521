import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

function cairn(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const out = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/run.ts', ...args], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

test('cairn miner --benchmark prints {threads, seconds, hashes, hashesPerSecond} and exits', () => {
  const out = cairn('miner', '--benchmark', '--threads', '2', '--seconds', '0.5');
  assert.equal(out.status, 0, out.stderr);
  const result = JSON.parse(out.stdout) as Record<string, number>;
  assert.deepEqual(Object.keys(result), ['threads', 'seconds', 'hashes', 'hashesPerSecond']);
  assert.equal(result['threads'], 2);
  assert.ok(result['seconds']! > 0, 'a measured window');
  assert.ok(result['hashes']! > 0);
  assert.ok(Math.abs(result['hashesPerSecond']! - result['hashes']! / result['seconds']!) < result['hashesPerSecond']! * 0.01);
});

test('cairn miner: --stratum without --user, a bad --stratum, bad numbers and no mode are usage errors', () => {
  const stratum = cairn('miner', '--stratum', 'stratum+tcp://127.0.0.1:3333');
  assert.equal(stratum.status, 1);
  assert.match(stratum.stderr, /--stratum needs --user/);
  assert.match(cairn('miner', '--stratum', '127.0.0.1', '--user', 'x').stderr, /--stratum must be host:port/);
  assert.equal(cairn('miner').status, 1);
  const threads = cairn('miner', '--benchmark', '--threads', '0');
  assert.equal(threads.status, 1);
  assert.match(threads.stderr, /--threads must be a positive integer/);
  assert.match(cairn('miner', '--benchmark', '--seconds', 'x').stderr, /--seconds must be a positive number/);
});
