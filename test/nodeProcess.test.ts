/**
 * End-to-end: a real `cairn node` process on regtest, driven through its two interfaces as a user would — `cairn rpc`
 * (real processes, cookie auth) and curl-like HTTP calls to the Esplora REST API: mine 110 blocks, spend a coinbase,
 * read the spend back unconfirmed and confirmed through both, then stop the node with the `stop` RPC and restart it on
 * the same data dir (same tip), and finally stop it with SIGINT.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { regtest } from '../src/params/networks.js';
import { bytesToHex, txidFromHex } from '../src/primitives/hex.js';
import { encodeTx } from '../src/primitives/tx.js';
import { buildSpend, makeTestKey, testKeyAddress } from '../src/testing/txFactory.js';

const MINER = makeTestKey('e2e/node/miner', 'p2wpkh');
const PAYEE = makeTestKey('e2e/node/payee', 'p2tr');
const CLI = ['--import', 'tsx', 'src/cli/run.ts'];

interface RunningProcess {
  readonly child: ChildProcess;
  readonly rpcPort: number;
  readonly apiPort: number;
  output(): string;
  exited: Promise<number | null>;
}

async function startNodeProcess(datadir: string): Promise<RunningProcess> {
  const child = spawn(process.execPath, [...CLI, 'node', '--network', 'regtest', '--datadir', datadir, '--rpcport', '0', '--api-port', '0', '--stratum-port', '0', '--p2p-port', '0', '--status-interval', '1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  while (!/REST\s+http:\/\/127\.0\.0\.1:(\d+)/.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`node did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const rpcPort = Number(/JSON-RPC\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(out)![1]);
  const apiPort = Number(/REST\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(out)![1]);
  return { child, rpcPort, apiPort, output: () => out, exited };
}

function rpc(node: RunningProcess, datadir: string, ...args: string[]): string {
  const r = spawnSync(process.execPath, [...CLI, 'rpc', '--network', 'regtest', '--rpcport', String(node.rpcPort), '--datadir', datadir, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, `cairn rpc ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}

async function rest(node: RunningProcess, path: string, init?: RequestInit): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${node.apiPort}/api${path}`, init);
  return { status: res.status, text: await res.text() };
}

test('a real cairn node process: mine, spend, read back through cairn rpc and the REST API, stop and restart', async (t) => {
  const datadir = mkdtempSync(join(tmpdir(), 'cairn-node-e2e-'));
  let node: RunningProcess | undefined;
  t.after(() => {
    if (node && node.child.exitCode === null) node.child.kill('SIGKILL');
    rmSync(datadir, { recursive: true, force: true });
  });
  node = await startNodeProcess(datadir);
  const minerAddress = testKeyAddress(MINER, regtest.bech32Hrp);

  const hashes = JSON.parse(rpc(node, datadir, 'generatetoaddress', '110', minerAddress)) as string[];
  assert.equal(hashes.length, 110);
  assert.equal(rpc(node, datadir, 'getblockcount'), '110');
  assert.equal((await rest(node, '/blocks/tip/height')).text, '110');
  assert.equal((await rest(node, '/blocks/tip/hash')).text, hashes[109]);

  // The miner's mature coinbase, found through the REST address index.
  const utxos = JSON.parse((await rest(node, `/address/${minerAddress}/utxo`)).text) as { txid: string; vout: number; value: number; status: { block_height: number } }[];
  assert.equal(utxos.length, 110);
  const oldest = utxos.sort((a, b) => a.status.block_height - b.status.block_height)[0]!;
  const { tx } = buildSpend(
    [{ outpoint: { txid: txidFromHex(oldest.txid), index: oldest.vout }, output: { value: BigInt(oldest.value), scriptPubKey: MINER.scriptPubKey }, key: MINER }],
    { key: PAYEE, valueSats: 1_000_000_000n },
    10_000n,
  );
  const posted = await rest(node, '/tx', { method: 'POST', body: bytesToHex(encodeTx(tx)) });
  assert.equal(posted.status, 200, posted.text);
  const txid = posted.text;
  assert.deepEqual(JSON.parse(rpc(node, datadir, 'getrawmempool')), [txid]);
  const unconfirmed = JSON.parse((await rest(node, `/tx/${txid}`)).text) as { fee: number; status: { confirmed: boolean } };
  assert.equal(unconfirmed.fee, 10_000);
  assert.equal(unconfirmed.status.confirmed, false);

  const [blockHash] = JSON.parse(rpc(node, datadir, 'generatetoaddress', '1', minerAddress)) as string[];
  const confirmed = JSON.parse(rpc(node, datadir, 'getrawtransaction', txid, 'true')) as { confirmations: number; blockhash: string };
  assert.equal(confirmed.confirmations, 1);
  assert.equal(confirmed.blockhash, blockHash);
  const status = JSON.parse((await rest(node, `/tx/${txid}/status`)).text) as { confirmed: boolean; block_height: number };
  assert.deepEqual([status.confirmed, status.block_height], [true, 111]);
  const payee = JSON.parse((await rest(node, `/address/${testKeyAddress(PAYEE, regtest.bech32Hrp)}`)).text) as { chain_stats: { funded_txo_sum: number } };
  assert.equal(payee.chain_stats.funded_txo_sum, 1_000_000_000);
  assert.equal((await rest(node, '/tx/00')).status, 400);
  assert.equal((await rest(node, `/block/${'00'.repeat(32)}`)).status, 404);

  // Auth: without the cookie the RPC port refuses.
  const noAuth = await fetch(`http://127.0.0.1:${node.rpcPort}/`, { method: 'POST', body: '{"method":"getblockcount","params":[],"id":1}' });
  assert.equal(noAuth.status, 401);

  // `stop` over RPC ends the process cleanly; a restart on the same data dir resumes the same tip.
  assert.match(rpc(node, datadir, 'stop'), /stopping/);
  assert.equal(await node.exited, 0, node.output());
  node = await startNodeProcess(datadir);
  assert.equal(rpc(node, datadir, 'getbestblockhash'), blockHash);
  node.child.kill('SIGINT');
  assert.equal(await node.exited, 0);
  assert.match(node.output(), /stopped; data in /);
});
