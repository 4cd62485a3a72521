/**
 * End-to-end: a real `cairn node --network devnet` process (no --mine) and a real `cairn miner --stratum` process.
 * The external miner must mine devnet block 1 with real proof of work (genesis difficulty ~2^23 hashes) through the
 * node's Stratum server, the node must accept it, and its coinbase must pay the miner's --user address. Then
 * `generatetoaddress` on the same devnet node solves blocks on the node's own WebAssembly miner pool. Both processes
 * stop cleanly on SIGINT.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { devnet } from '../src/params/networks.js';
import { makeTestKey, testKeyAddress } from '../src/testing/txFactory.js';

const CLI = ['--import', 'tsx', 'src/cli/run.ts'];
const POOL_MINER = makeTestKey('e2e/stratum/miner', 'p2tr');
const RPC_MINER = makeTestKey('e2e/stratum/rpc-miner', 'p2wpkh');

interface Proc {
  readonly child: ChildProcess;
  output(): string;
  readonly exited: Promise<number | null>;
}

function start(args: string[]): Proc {
  const child = spawn(process.execPath, [...CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number, proc?: Proc): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${proc ? `:\n${proc.output()}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('an external cairn miner mines a real-PoW devnet block through the node\'s Stratum server', { timeout: 240_000 }, async (t) => {
  const datadir = mkdtempSync(join(tmpdir(), 'cairn-stratum-e2e-'));
  const procs: Proc[] = [];
  t.after(() => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    rmSync(datadir, { recursive: true, force: true });
  });
  const node = start(['node', '--network', 'devnet', '--datadir', datadir, '--rpcport', '0', '--api-port', '0', '--stratum-port', '0', '--p2p-port', '0', '--status-interval', '2']);
  procs.push(node);
  const banner = await waitFor('the node banner', () => /Stratum\s+stratum\+tcp:\/\/127\.0\.0\.1:(\d+)/.exec(node.output()) ?? undefined, 60_000, node);
  const stratumPort = Number(banner[1]);
  const apiPort = Number(/REST\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(node.output())![1]);
  const rpcPort = Number(/JSON-RPC\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(node.output())![1]);
  const rest = async (path: string): Promise<string> => (await fetch(`http://127.0.0.1:${apiPort}/api${path}`)).text();
  assert.equal(await rest('/blocks/tip/height'), '0');

  const address = testKeyAddress(POOL_MINER, devnet.bech32Hrp);
  const miner = start(['miner', '--stratum', `127.0.0.1:${stratumPort}`, '--threads', '1', '--user', address, '--status-interval', '2']);
  procs.push(miner);
  await waitFor('block 1 from the Stratum miner', async () => (Number(await rest('/blocks/tip/height')) >= 1 ? true : undefined), 120_000, miner);
  await waitFor('a hash-rate line', () => (/hashrate [\d.]+ [kM]?H\/s/.test(miner.output()) ? true : undefined), 30_000, miner);
  miner.child.kill('SIGINT');
  assert.equal(await miner.exited, 0, miner.output());
  const minerOut = miner.output();
  assert.match(minerOut, /authorized as dcrn1/);
  assert.match(minerOut, /share accepted: .*BLOCK/);
  assert.match(minerOut, /stopped: shares accepted [1-9]/);

  // Block 1 has devnet's genesis difficulty (real PoW) and pays the miner's address.
  const hash1 = await rest('/block-height/1');
  const block1 = JSON.parse(await rest(`/block/${hash1}`)) as { bits: number; height: number };
  assert.equal(block1.bits, devnet.genesis.header.bits);
  const txs = JSON.parse(await rest(`/block/${hash1}/txs`)) as { vin: { is_coinbase: boolean }[]; vout: { scriptpubkey_address?: string }[] }[];
  assert.equal(txs[0]!.vin[0]!.is_coinbase, true);
  assert.equal(txs[0]!.vout[0]!.scriptpubkey_address, address);

  // generatetoaddress on devnet solves on the node's miner pool (the target after block 1 is above the CPU path's).
  const rpcAddress = testKeyAddress(RPC_MINER, devnet.bech32Hrp);
  const heightBefore = Number(await rest('/blocks/tip/height'));
  const generated = spawnSync(
    process.execPath,
    [...CLI, 'rpc', '--network', 'devnet', '--rpcport', String(rpcPort), '--datadir', datadir, 'generatetoaddress', '2', rpcAddress],
    { encoding: 'utf8', timeout: 120_000 },
  );
  assert.equal(generated.status, 0, generated.stderr);
  assert.equal((JSON.parse(generated.stdout) as string[]).length, 2);
  assert.equal(Number(await rest('/blocks/tip/height')), heightBefore + 2);
  const tipTxs = JSON.parse(await rest(`/block/${await rest('/blocks/tip/hash')}/txs`)) as { vout: { scriptpubkey_address?: string }[] }[];
  assert.equal(tipTxs[0]!.vout[0]!.scriptpubkey_address, rpcAddress);

  // Prometheus counters of the Stratum server and of the node's miners.
  const metrics = await (await fetch(`http://127.0.0.1:${apiPort}/metrics`)).text();
  assert.match(metrics, /^cairn_stratum_shares_total\{result="accepted"\} [1-9]/m);
  assert.match(metrics, /^cairn_stratum_blocks_total\{result="accepted"\} [1-9]/m);
  assert.match(metrics, /^cairn_mining_jobs_total 0$/m, 'generatetoaddress solves are not background jobs');

  node.child.kill('SIGINT');
  assert.equal(await node.exited, 0, node.output());
  assert.match(node.output(), /stopped; data in /);
});
