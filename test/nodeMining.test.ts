/**
 * End-to-end: `cairn node --network regtest --mine --miners 1 --mining-address A` as a real process. Regtest PoW is
 * trivial, so the node's miners are paced (at most one block per --mine-interval, default 1 s) instead of flooding
 * the chain; the height rises, the blocks pay A, the status line shows the hash rate and the blocks mined, and SIGINT
 * stops the node cleanly. Bad mining flags are usage errors.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodeSegwitAddress } from '../src/crypto/address.js';
import { main, regtest } from '../src/params/networks.js';
import { makeTestKey, testKeyAddress } from '../src/testing/txFactory.js';
import { waitFor } from '../src/testing/waitFor.js';

const CLI = ['--import', 'tsx', 'src/cli/run.ts'];
const MINER = makeTestKey('e2e/node-mining/miner', 'p2tr');

test('cairn node --mine on regtest mines paced blocks to the mining address and stops on SIGINT', { timeout: 120_000 }, async (t) => {
  const datadir = mkdtempSync(join(tmpdir(), 'cairn-node-mining-'));
  const address = testKeyAddress(MINER, regtest.bech32Hrp);
  const child = spawn(
    process.execPath,
    [...CLI, 'node', '--network', 'regtest', '--datadir', datadir, '--rpcport', '0', '--api-port', '0', '--stratum-port', '0', '--p2p-port', '0',
      '--status-interval', '1', '--mine', '--miners', '1', '--mining-address', address],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(datadir, { recursive: true, force: true });
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

  // Ends at the mining banner or at an early exit, whichever comes first.
  const started = await waitFor('the node to start mining', () => (child.exitCode !== null ? 'exited' : /mining\s+1 thread\(s\) paying rcrn1/.test(out) && 'mining'), 60_000);
  assert.equal(started, 'mining', `the node exited:\n${out}`);
  const apiPort = Number(/REST\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(out)![1]);
  const rest = async (path: string): Promise<string> => (await fetch(`http://127.0.0.1:${apiPort}/api${path}`)).text();

  const height = await waitFor('three mined blocks', async () => {
      const h = Number(await rest('/blocks/tip/height'));
      return h >= 3 ? h : undefined;
    }, 60_000, 250);
  // Paced: at most one block per second, not thousands. A job starts at least --mine-interval (1 s) after the last
  // find and stamps its block with the time it was built, so the mined blocks' timestamps strictly increase.
  const times: number[] = [];
  for (let h = 1; h <= height; h++) {
    const block = JSON.parse(await rest(`/block/${await rest(`/block-height/${h}`)}`)) as { timestamp: number };
    times.push(block.timestamp);
  }
  for (let i = 1; i < times.length; i++) assert.ok(times[i]! > times[i - 1]!, `block ${i + 1} has the second of block ${i}: ${times.join(', ')}`);

  const tipTxs = JSON.parse(await rest(`/block/${await rest('/blocks/tip/hash')}/txs`)) as { vout: { scriptpubkey_address?: string }[] }[];
  assert.equal(tipTxs[0]!.vout[0]!.scriptpubkey_address, address);

  // The status line carries the miners' hash rate and the blocks they mined.
  await waitFor('a status line with mining', () => /height [1-9]\d* \|.*\| hashrate [\d.]+ [kMG]?H\/s \| mined [1-9]/.test(out), 60_000);

  child.kill('SIGINT');
  assert.equal(await exited, 0, out);
  assert.match(out, /stopped; data in /);
});

test('cairn node: --mine without --mining-address, a foreign or non-P2WPKH/P2TR address, bad --miners are usage errors', () => {
  const run = (...args: string[]): { status: number | null; stderr: string } => {
    const r = spawnSync(process.execPath, [...CLI, 'node', '--network', 'regtest', '--datadir', join(tmpdir(), 'cairn-never-created'), ...args], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { status: r.status, stderr: r.stderr };
  };
  const noAddress = run('--mine');
  assert.equal(noAddress.status, 1);
  assert.match(noAddress.stderr, /--mine needs --mining-address/);
  const foreign = run('--mine', '--mining-address', testKeyAddress(MINER, main.bech32Hrp));
  assert.equal(foreign.status, 1);
  assert.match(foreign.stderr, /--mining-address must be a P2WPKH or P2TR address of regtest \(rcrn1…\).*wrong-hrp/);
  // A 32-byte v0 program (P2WSH) is a valid address but not a cairn payout.
  const p2wsh = run('--mine', '--mining-address', encodeSegwitAddress(regtest.bech32Hrp, 0, new Uint8Array(32).fill(7)));
  assert.equal(p2wsh.status, 1);
  assert.match(p2wsh.stderr, /unsupported-payout/);
  const miners = run('--mine', '--miners', '0', '--mining-address', testKeyAddress(MINER, regtest.bech32Hrp));
  assert.equal(miners.status, 1);
  assert.match(miners.stderr, /--miners must be a positive integer/);
});
