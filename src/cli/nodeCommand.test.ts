/**
 * `cairn node` flags as Bitcoin Core names them: --port is -port, another name of --p2p-port. Checked on the flag
 * resolver and on a real node process, whose libp2p listener must be on the port given as --port.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../testing/waitFor.js';
import { CliError } from './input.js';
import { parseUtxosLimit, resolveP2pPortFlag } from './nodeCommand.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** A TCP port nothing listens on (bound once, then released). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as { port: number };
  await new Promise((r) => probe.close(r));
  return port;
}

test('resolveP2pPortFlag: --port and --p2p-port are one flag; they may repeat each other but not disagree', () => {
  assert.equal(resolveP2pPortFlag({}), undefined);
  assert.equal(resolveP2pPortFlag({ port: '18444' }), 18444);
  assert.equal(resolveP2pPortFlag({ p2pPort: '0' }), 0);
  assert.equal(resolveP2pPortFlag({ port: '18444', p2pPort: '18444' }), 18444);
  assert.throws(() => resolveP2pPortFlag({ port: '1', p2pPort: '2' }), (e) => e instanceof CliError && /--port 1 and --p2p-port 2 disagree/.test(e.message));
  assert.throws(() => resolveP2pPortFlag({ port: '70000' }), (e) => e instanceof CliError && /--port must be a port number 0\.\.65535, got '70000'/.test(e.message));
});

test('cairn node --port <n> listens for peers on n; a conflict with --p2p-port is a usage error', async (t) => {
  const datadir = mkdtempSync(join(tmpdir(), 'cairn-node-port-'));
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/run.ts', 'node', '--network', 'regtest', '--datadir', datadir, '--port', String(port), '--rpcport', '0', '--api-port', '0', '--stratum-port', '0', '--status-interval', '0'],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.after(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
    rmSync(datadir, { recursive: true, force: true });
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  // Ends at the banner or at an early exit, whichever comes first.
  const banner = await waitFor('the node banner', () => (child.exitCode !== null ? { exited: child.exitCode } : /P2P\s+(\S+)/.exec(out)?.[1]), 60_000);
  assert.equal(typeof banner, 'string', `the node exited before its banner:\n${out}`);
  const p2pLine = banner as string;
  assert.match(p2pLine, new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/${port}/p2p/`));
  child.kill('SIGTERM');
  assert.equal(await exited, 0, out);

  const conflict = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/run.ts', 'node', '--network', 'regtest', '--datadir', datadir, '--port', '1', '--p2p-port', '2'], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(conflict.status, 1);
  assert.match(conflict.stderr, /--port 1 and --p2p-port 2 disagree/);
});

test('--utxos-limit takes a positive integer', () => {
  assert.equal(parseUtxosLimit('500'), 500);
  assert.equal(parseUtxosLimit('100000'), 100_000);
  for (const bad of ['0', '-1', '1.5', 'abc', '', '1e3']) {
    assert.throws(() => parseUtxosLimit(bad), (err: unknown) => err instanceof CliError && /--utxos-limit/.test(err.message), bad);
  }
});
