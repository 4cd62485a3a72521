/**
 * Deposits and withdrawals over REST: a real regtest `cairn node` process (Esplora REST API and JSON-RPC on OS-chosen
 * ports, blocks by `generatetoaddress`) and a real `cairn exchange serve --node-url` process. A user gets a deposit
 * address over signed REST, coins are paid to it and mined to N confirmations, and GET /api/v3/account shows them; the
 * user withdraws to a node address with POST /v1/withdrawals (a repeat of the client id answers the same withdrawal),
 * a block confirms it and GET /v1/withdrawals shows it completed; another network's address is refused with -1102;
 * another user sees none of the first user's deposits or withdrawals; the user stream carried the deposit's
 * balanceUpdate and the paid withdrawal's (amount + fee, negative). After a SIGTERM stop, `cairn exchange audit
 * --node-url` holds (books and reserves), and `serve` without --node-url answers the capital routes with 503 -1001
 * (never a 500) and still shows the balance.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { cookiePathOf } from '../src/api/rpc/rpcCookie.js';
import { addressToScriptPubKey } from '../src/crypto/address.js';
import { COIN } from '../src/consensus/amount.js';
import { regtest } from '../src/params/networks.js';
import { bytesToHex, txidFromHex } from '../src/primitives/hex.js';
import { encodeTx } from '../src/primitives/tx.js';
import type { Tx } from '../src/primitives/types.js';
import { buildSignedTx, makeTestKey, testKeyAddress, type SpendableCoin } from '../src/testing/txFactory.js';
import { waitFor } from '../src/testing/waitFor.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const RUN = join(ROOT, 'src/cli/run.ts');
const MINER = makeTestKey('capital/miner', 'p2wpkh');
const PAYEE = makeTestKey('capital/payee', 'p2wpkh');
const CONFS = 2;

interface Answer {
  status: number;
  body: any;
}

/** A started `cairn exchange serve` process and its ready line. */
interface Served {
  proc: ChildProcess;
  url: string;
  wsUrl: string;
  ready: Record<string, any>;
  stderr: () => string;
  stop(): Promise<number | null>;
}

/** Starts `cairn exchange serve` (through tsx: no build needed) and waits for its JSON ready line. */
async function serve(args: string[]): Promise<Served> {
  const proc = spawn(process.execPath, ['--import', 'tsx', RUN, 'exchange', 'serve', '--network', 'regtest', '--port', '0', '--json', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const ready = await waitFor(
    'the exchange to print its ready line',
    () => {
      if (proc.exitCode !== null) throw new Error(`the exchange exited ${proc.exitCode}: ${err}`);
      const line = out.split('\n').find((l) => l.startsWith('{'));
      return line === undefined ? undefined : (JSON.parse(line) as Record<string, any>);
    },
    60_000,
  );
  return {
    proc,
    url: ready.url as string,
    wsUrl: ready.wsUrl as string,
    ready,
    stderr: () => err,
    stop: () => {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      return exited;
    },
  };
}

/** Runs the CLI (async: the node answering it runs in this process's event loop). */
function cli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, ['--import', 'tsx', RUN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    c.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => c.kill('SIGKILL'), 60_000);
    c.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

async function http(base: string, method: string, path: string, init: { body?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const r = await fetch(base + path, { method, headers: init.headers ?? {}, ...(init.body !== undefined ? { body: init.body } : {}) });
  const text = await r.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  assert.ok(r.status < 500 || r.status === 503, `${method} ${path} answered ${r.status}: ${text}`);
  return { status: r.status, body };
}

/** A Binance API client: HMAC-SHA256 over the query string (GET) or form body (POST), key in X-MBX-APIKEY. */
class Client {
  constructor(
    private base: string,
    readonly userId: number,
    readonly token: string,
    readonly apiKey: string,
    private readonly secret: string,
  ) {}

  at(base: string): this {
    this.base = base;
    return this;
  }

  async call(method: string, path: string, params: Record<string, string | number> = {}): Promise<Answer> {
    const q = new URLSearchParams(Object.entries({ ...params, timestamp: Date.now() }).map(([k, v]): [string, string] => [k, String(v)])).toString();
    const sig = createHmac('sha256', this.secret).update(q).digest('hex');
    const headers: Record<string, string> = { 'X-MBX-APIKEY': this.apiKey };
    if (method === 'POST') return http(this.base, method, path, { body: `${q}&signature=${sig}`, headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' } });
    return http(this.base, method, `${path}?${q}&signature=${sig}`, { headers });
  }

  async crn(): Promise<{ free: string; locked: string }> {
    const a = await this.call('GET', '/api/v3/account');
    assert.equal(a.status, 200, JSON.stringify(a.body));
    const b = (a.body.balances as Array<{ asset: string; free: string; locked: string }>).find((x) => x.asset === 'CRN');
    return { free: b?.free ?? '0', locked: b?.locked ?? '0' };
  }
}

async function newUser(base: string, username: string): Promise<Client> {
  const json = (body: unknown, extra: Record<string, string> = {}): { body: string; headers: Record<string, string> } => ({ body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...extra } });
  assert.equal((await http(base, 'POST', '/v1/register', json({ username, password: 'correct horse battery' }))).status, 201);
  const login = await http(base, 'POST', '/v1/login', json({ username, password: 'correct horse battery' }));
  const { token, userId } = login.body as { token: string; userId: number };
  const key = await http(base, 'POST', '/v1/api-keys', json({ label: 'capital' }, { authorization: `Bearer ${token}` }));
  assert.equal(key.status, 201, JSON.stringify(key.body));
  return new Client(base, userId, token, key.body.apiKey as string, key.body.secretKey as string);
}

/** A running `cairn node --network regtest` process: its Esplora base URL and JSON-RPC (cookie auth). */
interface NodeProcess {
  readonly url: string;
  rpc(method: string, params: unknown[]): Promise<unknown>;
  /** Mines `n` blocks (mempool txs included) paying `address`. */
  mine(n: number, address: string): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a real regtest node on OS-chosen ports and waits for its banner. */
async function startNode(datadir: string): Promise<NodeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', RUN, 'node', '--network', 'regtest', '--datadir', datadir, '--rpcport', '0', '--api-port', '0', '--stratum-port', '0', '--p2p-port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitFor('the node banner', () => {
    if (child.exitCode !== null) throw new Error(`the node exited: ${out}`);
    return /REST\s+http:\/\/127\.0\.0\.1:(\d+)/.test(out) && /JSON-RPC\s+http:\/\/127\.0\.0\.1:(\d+)/.test(out);
  }, 60_000).catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });
  const rpcPort = Number(/JSON-RPC\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(out)![1]);
  const apiPort = Number(/REST\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(out)![1]);
  const cookie = readFileSync(cookiePathOf(datadir), 'utf8').trim();
  const rpc = async (method: string, params: unknown[]): Promise<unknown> => {
    const res = await fetch(`http://127.0.0.1:${rpcPort}/`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(cookie).toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '1.0', id: 1, method, params }),
    });
    const reply = (await res.json()) as { result: unknown; error: unknown };
    assert.equal(reply.error, null, `${method}: ${JSON.stringify(reply.error)}`);
    return reply.result;
  };
  return {
    url: `http://127.0.0.1:${apiPort}`,
    rpc,
    mine: async (n, address) => {
      await rpc('generatetoaddress', [n, address]);
    },
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A mature coinbase output of `key` at `address`, as the node's Esplora API lists it. */
async function matureCoin(env: NodeProcess, address: string, tipHeight: number): Promise<SpendableCoin> {
  const utxos = (await (await fetch(`${env.url}/api/address/${address}/utxo`)).json()) as Array<{ txid: string; vout: number; value: number; status: { confirmed: boolean; block_height?: number } }>;
  const u = utxos.filter((x) => x.status.confirmed && (x.status.block_height ?? tipHeight) <= tipHeight - 100).sort((a, b) => a.status.block_height! - b.status.block_height!)[0];
  assert.ok(u !== undefined, `no mature coin at ${address}: ${JSON.stringify(utxos.slice(0, 3))}`);
  return { outpoint: { txid: txidFromHex(u.txid), index: u.vout }, output: { value: BigInt(u.value), scriptPubKey: MINER.scriptPubKey }, key: MINER };
}

function payTo(coin: SpendableCoin, address: string, amount: bigint): Tx {
  return buildSignedTx([coin], [
    { value: amount, scriptPubKey: addressToScriptPubKey(address, regtest.bech32Hrp) },
    { value: coin.output.value - amount - 10_000n, scriptPubKey: MINER.scriptPubKey },
  ]);
}

test('exchange serve --node-url: deposit address, deposit credited at N, withdrawal completed, over signed REST; audit holds', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'cairn-capital-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const datadir = join(root, 'exchange');
  const env = await startNode(join(root, 'node'));
  t.after(() => env.stop());
  const minerAddress = testKeyAddress(MINER, regtest.bech32Hrp);
  await env.mine(101, minerAddress);
  const coin = await matureCoin(env, minerAddress, 101);
  const nodeUrl = `${env.url}/api`;

  const ex = await serve(['--datadir', datadir, '--node-url', nodeUrl, '--confirmations', String(CONFS)]);
  t.after(async () => {
    if (ex.proc.exitCode === null) ex.proc.kill('SIGKILL');
  });
  assert.deepEqual([ex.ready.bridge.nodeUrl, ex.ready.bridge.confirmations, ex.ready.bridge.withdrawalFeeSats], [nodeUrl, CONFS, '10000']);
  const alice = await newUser(ex.url, 'alice');
  const bob = await newUser(ex.url, 'bob');

  // Unauthenticated: Binance's -2015, not someone's address.
  assert.equal((await http(ex.url, 'GET', '/v1/deposit/address')).body.code, -2015);

  // The deposit address: stable, the user's own, the same under Binance's path.
  const addr = await alice.call('GET', '/v1/deposit/address', { coin: 'CRN' });
  assert.equal(addr.status, 200, JSON.stringify(addr.body));
  assert.match(addr.body.address, /^rcrn1q/);
  assert.deepEqual([addr.body.coin, addr.body.tag], ['CRN', '']);
  assert.deepEqual((await alice.call('GET', '/sapi/v1/capital/deposit/address', { coin: 'CRN', network: 'regtest' })).body, addr.body);
  // A login token works as on the other private routes.
  assert.deepEqual((await http(ex.url, 'GET', '/v1/deposit/address', { headers: { authorization: `Bearer ${alice.token}` } })).body, addr.body);
  const bobAddr = await bob.call('GET', '/v1/deposit/address');
  assert.notEqual(bobAddr.body.address, addr.body.address);
  assert.equal((await alice.call('GET', '/v1/deposit/address', { coin: 'BTC' })).body.code, -1130);
  const config = await alice.call('GET', '/sapi/v1/capital/config/getall');
  assert.deepEqual([config.body[0].networkList[0].withdrawFee, config.body[0].networkList[0].minConfirm], ['0.00010000', CONFS]);

  // The user stream, to see the credit arrive as a balanceUpdate.
  const listenKey = (await http(ex.url, 'POST', '/api/v3/userDataStream', { headers: { 'X-MBX-APIKEY': alice.apiKey } })).body.listenKey as string;
  const ws = new WebSocket(`${ex.wsUrl}/ws/${listenKey}`);
  t.after(() => ws.terminate());
  const events: Array<Record<string, unknown>> = [];
  ws.on('message', (m) => events.push(JSON.parse(String(m)) as Record<string, unknown>));
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));

  // A deposit of 2 CRN: seen, then credited at N confirmations; GET /api/v3/account shows it.
  const depositTx = payTo(coin, addr.body.address as string, 2n * COIN);
  const posted = await fetch(`${env.url}/api/tx`, { method: 'POST', body: bytesToHex(encodeTx(depositTx)) });
  const depositTxid = (await posted.text()).trim();
  assert.equal(posted.status, 200, depositTxid);
  const seen = await waitFor('the deposit seen in the mempool', async () => {
    const d = (await alice.call('GET', '/v1/deposits')).body as Array<Record<string, unknown>>;
    return d.length === 1 ? d[0] : undefined;
  }, 20_000, 100);
  assert.deepEqual([seen!.txId, seen!.state, seen!.status, seen!.confirmTimes], [depositTxid, 'seen', 0, `0/${CONFS}`]);
  assert.deepEqual(await alice.crn(), { free: '0.00000000', locked: '0.00000000' });
  await env.mine(CONFS, minerAddress);
  const credited = await waitFor('the deposit credited', async () => {
    const d = (await alice.call('GET', '/sapi/v1/capital/deposit/hisrec')).body as Array<Record<string, unknown>>;
    return d[0]?.state === 'credited' ? d[0] : undefined;
  }, 20_000, 100);
  assert.deepEqual([credited!.amount, credited!.status, credited!.vout, credited!.confirmTimes], ['2.00000000', 1, 0, `${CONFS}/${CONFS}`]);
  assert.deepEqual(await alice.crn(), { free: '2.00000000', locked: '0.00000000' });
  const update = await waitFor('the balanceUpdate of the credit', () => events.find((e) => e.e === 'balanceUpdate'), 10_000, 20);
  assert.deepEqual([update!.a, update!.d], ['CRN', '2.00000000']);

  // Another user sees none of it.
  assert.deepEqual((await bob.call('GET', '/v1/deposits')).body, []);
  assert.deepEqual(await bob.crn(), { free: '0.00000000', locked: '0.00000000' });

  // Withdrawals: another network's address is refused with -1102; malformed input with Binance's codes.
  const mainnet = await alice.call('POST', '/v1/withdrawals', { coin: 'CRN', address: 'crn1qw508d6qejxtdg4y5r3zarvary0c5xw7k7k7l6', amount: '0.1', withdrawOrderId: 'w-main' });
  assert.equal(mainnet.status, 400);
  assert.equal(mainnet.body.code, -1102);
  assert.match(mainnet.body.msg, /not a regtest address/);
  assert.equal((await alice.call('POST', '/v1/withdrawals', { address: testKeyAddress(PAYEE, regtest.bech32Hrp), amount: '0.1' })).body.code, -1102);
  assert.equal((await alice.call('POST', '/v1/withdrawals', { address: testKeyAddress(PAYEE, regtest.bech32Hrp), amount: 'lots', withdrawOrderId: 'w-x' })).body.code, -1100);
  const tooMuch = await bob.call('POST', '/v1/withdrawals', { address: testKeyAddress(PAYEE, regtest.bech32Hrp), amount: '1', withdrawOrderId: 'w-bob' });
  assert.deepEqual([tooMuch.status, tooMuch.body.code], [400, -2010]);

  // A withdrawal of 0.5 CRN: locked with the fee; a repeat of the client id answers the same withdrawal.
  const payee = testKeyAddress(PAYEE, regtest.bech32Hrp);
  const w = await alice.call('POST', '/v1/withdrawals', { coin: 'CRN', address: payee, amount: '0.5', withdrawOrderId: 'w-1' });
  assert.equal(w.status, 200, JSON.stringify(w.body));
  assert.deepEqual([w.body.amount, w.body.transactionFee], ['0.50000000', '0.00010000']);
  const again = await alice.call('POST', '/sapi/v1/capital/withdraw/apply', { coin: 'CRN', network: 'regtest', address: payee, amount: '0.5', withdrawOrderId: 'w-1' });
  assert.equal(again.status, 200, JSON.stringify(again.body));
  assert.equal(again.body.id, w.body.id);
  assert.equal((await alice.call('POST', '/v1/withdrawals', { address: payee, amount: '0.6', withdrawOrderId: 'w-1' })).body.code, -1130);
  assert.deepEqual(await alice.crn(), { free: '1.49990000', locked: '0.50010000' });
  // Bob sees only his own refused request (recorded as failed, funds never locked), none of Alice's.
  assert.deepEqual(((await bob.call('GET', '/v1/withdrawals')).body as Array<Record<string, unknown>>).map((x) => [x.withdrawOrderId, x.state]), [['w-bob', 'failed']]);

  // The batch goes out; a block confirms it (N in all); GET /v1/withdrawals shows it completed.
  const broadcast = await waitFor('the withdrawal broadcast', async () => {
    const l = (await alice.call('GET', '/v1/withdrawals')).body as Array<Record<string, unknown>>;
    return l[0]?.state === 'broadcast' ? l[0] : undefined;
  }, 20_000, 100);
  assert.match(String(broadcast!.txId), /^[0-9a-f]{64}$/);
  await env.mine(CONFS, minerAddress);
  const done = await waitFor('the withdrawal completed', async () => {
    const l = (await alice.call('GET', '/sapi/v1/capital/withdraw/history')).body as Array<Record<string, unknown>>;
    return l[0]?.state === 'completed' ? l : undefined;
  }, 20_000, 100);
  assert.equal(done!.length, 1);
  assert.deepEqual([done![0]!.id, done![0]!.status, done![0]!.withdrawOrderId, done![0]!.address, done![0]!.txId, done![0]!.amount], [w.body.id, 6, 'w-1', payee, broadcast!.txId, '0.50000000']);
  const paid = (await (await fetch(`${env.url}/api/address/${payee}/txs`)).json()) as Array<{ txid: string; status: { confirmed: boolean } }>;
  assert.deepEqual(paid.map((p) => [p.txid, p.status.confirmed]), [[broadcast!.txId, true]]);
  assert.deepEqual(await alice.crn(), { free: '1.49990000', locked: '0.00000000' });
  const paidOut = await waitFor('the balanceUpdate of the withdrawal', () => events.filter((e) => e.e === 'balanceUpdate')[1], 10_000, 20);
  assert.deepEqual([paidOut!.a, paidOut!.d], ['CRN', '-0.50010000']);
  const proof = await alice.call('GET', '/v1/account/liabilities-proof');
  assert.deepEqual([proof.status, proof.body.balance, proof.body.userId], [200, String(149_990_000n), alice.userId]);
  assert.equal((await bob.call('GET', '/v1/account/liabilities-proof')).body.code, -2013);

  // A clean stop; then the audit holds: books balanced, reserves on chain cover the liabilities.
  assert.equal(await ex.stop(), 0, ex.stderr());
  const audit = await cli(['exchange', 'audit', '--datadir', datadir, '--node-url', nodeUrl]);
  assert.equal(audit.status, 0, audit.stdout + audit.stderr);
  assert.match(audit.stdout, /^audit at seq \d+: OK/);
  assert.match(audit.stdout, /reserves: OK {2}on chain \d+ sats in 1 outputs {2}liabilities 149990000 {2}difference \d+/);

  // Without --node-url: the capital routes answer 503 -1001 (the bridge is not configured); the balance is still there.
  const plain = await serve(['--datadir', datadir]);
  t.after(async () => {
    if (plain.proc.exitCode === null) plain.proc.kill('SIGKILL');
  });
  assert.equal(plain.ready.bridge, null);
  alice.at(plain.url);
  const off = await alice.call('GET', '/v1/deposit/address');
  assert.deepEqual([off.status, off.body.code], [503, -1001]);
  assert.match(off.body.msg, /without the chain bridge.*--node-url/);
  assert.equal((await alice.call('POST', '/v1/withdrawals', { address: payee, amount: '0.1', withdrawOrderId: 'w-2' })).status, 503);
  assert.deepEqual(await alice.crn(), { free: '1.49990000', locked: '0.00000000' });
  assert.equal(await plain.stop(), 0, plain.stderr());
});
