/**
 * The wallet service end to end against a real in-process regtest node (its Esplora REST API on an ephemeral port),
 * once on SQLite and once on the machine's PostgreSQL (database `test`, a schema of its own dropped afterwards):
 * accounts, tokens, 401/403, faucet, balances before and after a block, an idempotent send retried (one tx, one
 * debit), bad input, rate limits, a restart on the same data. Plus the faucet refused on a non-devnet/regtest network.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { entropyToMnemonic } from '../src/crypto/hd.js';
import { silentLogger } from '../src/logging/logger.js';
import { COIN } from '../src/consensus/amount.js';
import { main, regtest } from '../src/params/networks.js';
import { makeTestKey } from '../src/testing/txFactory.js';
import { waitFor } from '../src/testing/waitFor.js';
import { addressToScriptPubKey } from '../src/crypto/address.js';
import { HdAccount, mnemonicToWalletSeed } from '../src/wallet/hdAccount.js';
import { startWalletService, type WalletService, type WalletServiceOptions } from '../src/walletService/walletService.js';
import { openRestTestNode, type RestTestNode } from './fixtures/restTestNode.js';
import { txidFromHex } from '../src/primitives/hex.js';

const PG_URL = process.env['CAIRN_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const FAST_SCRYPT = { N: 1024, r: 8, p: 1 };
const FAUCET_SATS = 10n * COIN;

interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

/** A JSON client of one service. */
function client(base: string) {
  return async (method: string, path: string, init: { token?: string; body?: unknown; headers?: Record<string, string>; raw?: string } = {}): Promise<Answer> => {
    const headers: Record<string, string> = { ...init.headers };
    if (init.token !== undefined) headers['authorization'] = `Bearer ${init.token}`;
    let body: string | undefined;
    if (init.raw !== undefined) body = init.raw;
    else if (init.body !== undefined) body = JSON.stringify(init.body);
    if (body !== undefined && headers['content-type'] === undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body } : {}), signal: AbortSignal.timeout(30_000) });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  };
}

function assertError(a: Answer, status: number, reason: string): void {
  assert.equal(a.status, status, JSON.stringify(a.body));
  assert.equal(a.body.reason, reason, JSON.stringify(a.body));
  assert.equal(typeof a.body.error, 'string');
}

/** A shared regtest node whose first blocks pay the faucet mnemonic's first address (2 coinbases mature). */
async function openFundedNode(mnemonicFile: string, mnemonic: string): Promise<RestTestNode> {
  const env = await openRestTestNode({ rest: { rateLimit: false } });
  const faucetAddress = HdAccount.fromSeed(mnemonicToWalletSeed(mnemonic), regtest, 'p2wpkh', 0).deriveAddress(0, 0).address;
  writeFileSync(mnemonicFile, `${mnemonic}\n`, { mode: 0o600 });
  const key = { ...makeTestKey('wallet-service/faucet', 'p2wpkh'), scriptPubKey: addressToScriptPubKey(faucetAddress, regtest.bech32Hrp) };
  await env.mine(102, key);
  return env;
}

const OTHER_MINER = makeTestKey('wallet-service/other-miner', 'p2wpkh');

/** The whole account / wallet / faucet flow on one database. */
async function runServiceFlow(t: TestContext, env: RestTestNode, options: Pick<WalletServiceOptions, 'dbUrl' | 'pgSchema' | 'faucetMnemonicFile'>, label: string): Promise<void> {
  // Start from an empty mempool (an earlier run's faucet payments confirmed).
  await env.mine(1, OTHER_MINER);
  const datadir = mkdtempSync(join(tmpdir(), `cairn-ws-${label}-`));
  t.after(() => rmSync(datadir, { recursive: true, force: true }));
  const serviceOptions: WalletServiceOptions = {
    ...options,
    params: regtest,
    nodeUrl: `${env.url}/api`,
    datadir,
    port: 0,
    passwordScrypt: FAST_SCRYPT,
    rateLimits: {
      global: false,
      faucetPerAccount: { max: 2, timeWindowMs: 3_600_000 },
      faucetPerIp: { max: 10, timeWindowMs: 3_600_000 },
    },
  };
  let service: WalletService = await startWalletService(serviceOptions, { logger: silentLogger() });
  t.after(() => service.close());
  let api = client(service.url);
  for (const f of ['master.key', 'jwt.secret']) assert.equal(statSync(join(datadir, f)).mode & 0o777, 0o600, f);

  // Accounts.
  assert.deepEqual((await api('POST', '/v1/register', { body: { username: 'alice', password: 'alice-password' } })).body, { username: 'alice', network: 'regtest' });
  assertError(await api('POST', '/v1/register', { body: { username: 'alice', password: 'other-password' } }), 409, 'username-taken');
  assert.equal((await api('POST', '/v1/register', { body: { username: 'bob', password: 'bob-password' } })).status, 201);
  assertError(await api('POST', '/v1/register', { body: { username: 'Bad Name!', password: 'whatever123' } }), 400, 'bad-request');
  assertError(await api('POST', '/v1/register', { body: { username: 'carol', password: 'short' } }), 400, 'bad-request');
  assertError(await api('POST', '/v1/register', { body: { username: 'carol' } }), 400, 'bad-request');
  assertError(await api('POST', '/v1/register', { raw: '{not json' }), 400, 'bad-request');

  assertError(await api('POST', '/v1/login', { body: { username: 'alice', password: 'wrong-password' } }), 401, 'unauthorized');
  assertError(await api('POST', '/v1/login', { body: { username: 'nobody', password: 'alice-password' } }), 401, 'unauthorized');
  const login = await api('POST', '/v1/login', { body: { username: 'alice', password: 'alice-password' } });
  assert.equal(login.status, 200);
  assert.equal(login.body.tokenType, 'Bearer');
  assert.ok(Date.parse(login.body.expiresAt) > Date.now() + 3_500_000);
  const alice: string = login.body.token;
  const bob: string = (await api('POST', '/v1/login', { body: { username: 'bob', password: 'bob-password' } })).body.token;

  // 401 and 403.
  const noToken = await api('GET', '/v1/wallet/balance');
  assertError(noToken, 401, 'unauthorized');
  assert.equal(noToken.headers.get('www-authenticate'), 'Bearer');
  assertError(await api('GET', '/v1/wallet', { token: 'not-a-jwt' }), 401, 'unauthorized');
  assertError(await api('GET', '/v1/wallet', { token: `${alice.slice(0, -4)}AAAA` }), 401, 'unauthorized');
  assertError(await api('POST', '/v1/wallet/send', { body: { address: 'x', amountSats: 1 } }), 401, 'unauthorized');
  assertError(await api('GET', '/v1/wallets/bob/balance', { token: alice }), 403, 'forbidden');
  assertError(await api('POST', '/v1/wallets/bob/address', { token: alice }), 403, 'forbidden');
  assertError(await api('POST', '/v1/wallets/bob/send', { token: alice, headers: { 'idempotency-key': 'x' }, body: { address: 'x', amountSats: 1 } }), 403, 'forbidden');
  const info = await api('GET', '/v1/wallets/alice', { token: alice });
  assert.equal(info.status, 200);
  assert.equal(info.body.network, 'regtest');
  assert.match(info.body.accounts[0].extendedPublicKey, /^vpub/);
  assert.deepEqual(info.body.addresses, []);
  assertError(await api('GET', '/v1/nothing-here'), 404, 'not-found');

  // Faucet to a fresh address of alice's; unconfirmed, then confirmed.
  const faucetInfo = await api('GET', '/v1/faucet');
  assert.equal(faucetInfo.body.enabled, true);
  assert.equal(faucetInfo.body.address, service.faucetAddress);
  assert.ok(faucetInfo.body.balance.confirmedSats >= Number(FAUCET_SATS), JSON.stringify(faucetInfo.body));
  const drip = await api('POST', '/v1/faucet', { token: alice });
  assert.equal(drip.status, 200, JSON.stringify(drip.body));
  assert.equal(drip.body.amountSats, Number(FAUCET_SATS));
  assert.ok(env.node.mempool.has(txidFromHex(drip.body.txid)), 'faucet tx in the mempool');
  assert.deepEqual((await api('GET', '/v1/wallet', { token: alice })).body.addresses, [drip.body.address]);
  let balance = await api('GET', '/v1/wallet/balance', { token: alice });
  assert.deepEqual(balance.body, { confirmedSats: 0, unconfirmedSats: Number(FAUCET_SATS), immatureSats: 0, totalSats: Number(FAUCET_SATS), tipHeight: env.node.chain.tip.height });
  await env.mine(1, OTHER_MINER);
  balance = await api('GET', '/v1/wallet/balance', { token: alice });
  assert.equal(balance.body.confirmedSats, Number(FAUCET_SATS));
  assert.equal(balance.body.unconfirmedSats, 0);

  // Bad input: 400 with a reason, nothing reserved or sent.
  const bobAddress = (await api('POST', '/v1/wallet/address', { token: bob })).body.address as string;
  assert.match(bobAddress, /^rcrn1q/);
  const send = (body: unknown, key?: string, token = alice) => api('POST', '/v1/wallet/send', { token, body, ...(key !== undefined ? { headers: { 'idempotency-key': key } } : {}) });
  assertError(await send({ address: 'rcrn1qnotanaddress', amountSats: 1000 }, 'k-bad-1'), 400, 'bad-address');
  assertError(await send({ address: 'dcrn1qw508d6qejxtdg4y5r3zarvary0c5xw7kaxr5a4', amountSats: 1000 }, 'k-bad-2'), 400, 'bad-address');
  assertError(await send({ address: bobAddress, amountSats: 0 }, 'k-bad-3'), 400, 'bad-request');
  assertError(await send({ address: bobAddress, amountSats: -5 }, 'k-bad-4'), 400, 'bad-request');
  assertError(await send({ address: bobAddress, amountSats: 1.5 }, 'k-bad-5'), 400, 'bad-request');
  assertError(await send({ address: bobAddress, amountSats: '1000' }, 'k-bad-6'), 400, 'bad-request');
  assertError(await send({ address: bobAddress, amountSats: 1000, extra: 1 }, 'k-bad-7'), 400, 'bad-request');
  assertError(await send({ address: bobAddress, amountSats: 1000 }), 400, 'bad-request');
  assertError(await send({ address: bobAddress, amountSats: 100 }, 'k-dust'), 400, 'dust-output');
  assertError(await send({ address: bobAddress, amountSats: 1000, feeRateSatPerVb: 0.5 }, 'k-fee'), 400, 'bad-fee-rate');
  const poor = await send({ address: bobAddress, amountSats: Number(FAUCET_SATS) * 2 }, 'k-poor');
  assertError(poor, 422, 'insufficient-funds');
  assert.ok(poor.body.shortfallSats > Number(FAUCET_SATS));
  assert.equal(env.node.mempool.size, 0, 'nothing sent');
  // 100,000 sat/vB (a probe once paid a fee 141x its payment this way): refused unless the request allows it.
  const absurd = await send({ address: bobAddress, amountSats: 100_000, feeRateSatPerVb: 100_000 }, 'k-absurd');
  assertError(absurd, 422, 'fee-too-high');
  assert.match(absurd.body.error, /the fee of \d+ sats \(100000 sat\/vB\) is above the ceiling of 10000 sat\/vB.*send "allowHighFee": true to pay it/);
  assert.ok(absurd.body.feeSats > 100_000 * 100, `feeSats ${absurd.body.feeSats}`);
  assertError(await send({ address: bobAddress, amountSats: 100_000, allowHighFee: 'yes' }, 'k-absurd-2'), 400, 'bad-request');
  assert.equal(env.node.mempool.size, 0, 'nothing sent');

  // An idempotent payment, retried: one tx, debited once.
  const amount = 3n * COIN;
  const first = await send({ address: bobAddress, amountSats: Number(amount), feeRateSatPerVb: 2 }, 'pay-bob-1');
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.equal(first.headers.get('idempotent-replayed'), null);
  const retry = await send({ address: bobAddress, amountSats: Number(amount), feeRateSatPerVb: 2 }, 'pay-bob-1');
  assert.equal(retry.status, 200);
  assert.equal(retry.headers.get('idempotent-replayed'), 'true');
  assert.deepEqual(retry.body, first.body);
  assertError(await send({ address: bobAddress, amountSats: Number(amount) + 1, feeRateSatPerVb: 2 }, 'pay-bob-1'), 422, 'idempotency-key-reused');
  // The same key sent twice at once: one payment at most.
  const [c1, c2] = await Promise.all([0, 1].map(() => send({ address: bobAddress, amountSats: 10_000 }, 'pay-bob-2')));
  const statuses = [c1!.status, c2!.status].sort();
  assert.ok(statuses[0] === 200 && (statuses[1] === 200 || statuses[1] === 409), `statuses ${statuses}`);
  const okBodies = [c1!, c2!].filter((c) => c.status === 200).map((c) => c.body.txid as string);
  assert.equal(new Set(okBodies).size, 1);
  // The key of a refused request (insufficient funds) was released: it may be used again.
  const reused = await send({ address: bobAddress, amountSats: 20_000 }, 'k-poor');
  assert.equal(reused.status, 200, JSON.stringify(reused.body));
  const mempoolTxids = [...env.node.mempool.entries()].map((e) => e.txidHex).sort();
  assert.deepEqual(mempoolTxids, [first.body.txid, okBodies[0], reused.body.txid].sort(), 'exactly three payments in the mempool');

  await env.mine(1, OTHER_MINER);
  const fees = first.body.feeSats + (c1!.status === 200 ? c1! : c2!).body.feeSats + reused.body.feeSats;
  const spent = Number(amount) + 10_000 + 20_000 + fees;
  balance = await api('GET', '/v1/wallet/balance', { token: alice });
  assert.deepEqual(balance.body, { confirmedSats: Number(FAUCET_SATS) - spent, unconfirmedSats: 0, immatureSats: 0, totalSats: Number(FAUCET_SATS) - spent, tipHeight: env.node.chain.tip.height });
  const bobBalance = await api('GET', '/v1/wallets/bob/balance', { token: bob });
  assert.equal(bobBalance.body.confirmedSats, Number(amount) + 30_000);
  // A retry after the block still answers the first result, and debits nothing.
  assert.deepEqual((await send({ address: bobAddress, amountSats: Number(amount), feeRateSatPerVb: 2 }, 'pay-bob-1')).body, first.body);
  assert.equal(env.node.mempool.size, 0);
  const history = await api('GET', '/v1/wallet/history', { token: alice });
  assert.equal(history.body.txs.length, 4);
  const payment = history.body.txs.find((x: any) => x.txid === first.body.txid);
  assert.equal(payment.netSats, -(Number(amount) + first.body.feeSats));
  assert.equal(payment.feeSats, first.body.feeSats);
  assert.equal(payment.confirmations, 1);
  assert.equal(history.body.txs.find((x: any) => x.txid === drip.body.txid).netSats, Number(FAUCET_SATS));

  // Faucet: to a given address; bad address; the per-account limit (2 an hour here).
  assertError(await api('POST', '/v1/faucet', { token: bob, body: { address: 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4' } }), 400, 'bad-address');
  const toGiven = await api('POST', '/v1/faucet', { token: bob, body: { address: bobAddress } });
  assert.equal(toGiven.status, 200, JSON.stringify(toGiven.body));
  assert.equal(toGiven.body.address, bobAddress);
  assert.equal((await api('POST', '/v1/faucet', { token: alice })).status, 200);
  const limited = await api('POST', '/v1/faucet', { token: alice });
  assertError(limited, 429, 'rate-limited');
  assert.ok(Number(limited.headers.get('retry-after')) > 0);

  // Chain summary from the node.
  const chain = await api('GET', '/v1/chain');
  assert.equal(chain.status, 200);
  assert.equal(chain.body.network, 'regtest');
  assert.equal(chain.body.height, env.node.chain.tip.height);
  assert.equal(chain.body.tipHash, env.node.chain.tip.hashHex);
  assert.equal(chain.body.mempoolCount, env.node.mempool.size);
  assert.equal(typeof chain.body.feeEstimates, 'object');

  // A restart on the same data: accounts, keys and handed-out addresses survive.
  const aliceAddresses = (await api('GET', '/v1/wallet', { token: alice })).body.addresses as string[];
  await service.close();
  service = await startWalletService(serviceOptions, { logger: silentLogger() });
  api = client(service.url);
  const again = (await api('POST', '/v1/login', { body: { username: 'alice', password: 'alice-password' } })).body.token as string;
  assert.equal((await api('GET', '/v1/wallet/balance', { token: alice })).status, 200, 'a token outlives a restart');
  const fresh = (await api('POST', '/v1/wallet/address', { token: again })).body.address as string;
  assert.ok(!aliceAddresses.includes(fresh), 'a fresh address after a restart');
  assert.deepEqual((await api('GET', '/v1/wallet', { token: again })).body.addresses, [...aliceAddresses, fresh]);
  assert.equal((await api('GET', '/v1/wallet/balance', { token: again })).body.confirmedSats, Number(FAUCET_SATS) - spent);

  // Allowed explicitly, the high fee is paid, and the node's broadcast ceiling is lifted for it.
  const dear = await api('POST', '/v1/wallet/send', {
    token: again,
    headers: { 'idempotency-key': 'k-absurd' },
    body: { address: bobAddress, amountSats: 100_000, feeRateSatPerVb: 20_000, allowHighFee: true },
  });
  assert.equal(dear.status, 200, JSON.stringify(dear.body));
  assert.ok(dear.body.feeRateSatPerVb >= 20_000, `rate ${dear.body.feeRateSatPerVb}`);
  assert.equal(env.node.mempool.get(txidFromHex(dear.body.txid))?.fee, BigInt(dear.body.feeSats));
}

test('wallet service against a real regtest node, on SQLite and on PostgreSQL', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-ws-'));
  const mnemonic = entropyToMnemonic(new Uint8Array(randomBytes(16)));
  const mnemonicFile = join(dir, 'faucet.mnemonic');
  const env = await openFundedNode(mnemonicFile, mnemonic);
  t.after(async () => {
    await env.close();
    rmSync(dir, { recursive: true, force: true });
  });

  await t.test('SQLite', async (t) => {
    await runServiceFlow(t, env, { faucetMnemonicFile: mnemonicFile }, 'sqlite');
  });

  await t.test('PostgreSQL (database test, a schema of its own)', async (t) => {
    const schema = `cairn_ws_test_${process.pid}_${randomBytes(4).toString('hex')}`;
    t.after(async () => {
      const admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
      try {
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await admin.end();
      }
    });
    await runServiceFlow(t, env, { faucetMnemonicFile: mnemonicFile, dbUrl: PG_URL, pgSchema: schema }, 'pg');
    // The tables were in that schema.
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ table_name: string }>('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name', [schema]);
      assert.deepEqual(rows.map((r) => r.table_name), ['wallet_accounts', 'wallet_addresses', 'wallet_idempotency', 'wallet_keystores', 'wallet_service_migration', 'wallet_service_migration_lock']);
    } finally {
      await admin.end();
    }
  });
});

test('cairn wallet-service: a real process prints its URL, serves, and stops cleanly on SIGTERM', async (t) => {
  const env = await openRestTestNode({ rest: { rateLimit: false } });
  const datadir = mkdtempSync(join(tmpdir(), 'cairn-ws-cli-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/run.ts', 'wallet-service', '--network', 'regtest', '--node', `${env.url}/api`, '--port', '0', '--datadir', datadir, '--faucet-amount', '2.5'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await env.close();
    rmSync(datadir, { recursive: true, force: true });
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const urlLine = /wallet-service on regtest: (http:\/\/127\.0\.0\.1:\d+)\/v1\//;
  // Ends at the URL line or at an early exit, whichever comes first.
  const started = await waitFor('the wallet-service URL line', () => (child.exitCode !== null ? 'exited' : urlLine.test(out) && 'up'), 60_000);
  if (started !== 'up') throw new Error(`wallet-service did not start:\n${out}`);
  assert.match(out, /faucet +rcrn1q[a-z0-9]+ +\(mine to it/);
  assert.match(out, /database +sqlite .*wallet-service\.sqlite/);
  const api = client(urlLine.exec(out)![1]!);
  assert.equal((await api('GET', '/v1/chain')).body.height, env.node.chain.tip.height);
  assert.equal((await api('GET', '/v1/faucet')).body.amountSats, 250_000_000);
  assert.equal(statSync(datadir).mode & 0o777, 0o700);
  child.kill('SIGTERM');
  assert.equal(await exited, 0, out);
  assert.match(out, /stopping \(SIGTERM\)…\nstopped\n/);
});

test('wallet service on a network other than devnet/regtest: the faucet is refused with a reason', async (t) => {
  const datadir = mkdtempSync(join(tmpdir(), 'cairn-ws-main-'));
  // No node behind it: the faucet answers before any node request.
  const service = await startWalletService(
    { params: main, nodeUrl: 'http://127.0.0.1:9/api', datadir, port: 0, passwordScrypt: FAST_SCRYPT },
    { logger: silentLogger() },
  );
  t.after(async () => {
    await service.close();
    rmSync(datadir, { recursive: true, force: true });
  });
  assert.equal(service.faucetAddress, undefined);
  const api = client(service.url);
  assert.equal((await api('POST', '/v1/register', { body: { username: 'dave', password: 'dave-password' } })).status, 201);
  const token = (await api('POST', '/v1/login', { body: { username: 'dave', password: 'dave-password' } })).body.token as string;
  assertError(await api('POST', '/v1/faucet', { token }), 403, 'faucet-disabled');
  const info = await api('GET', '/v1/faucet');
  assert.equal(info.body.enabled, false);
  assert.match(info.body.reason, /devnet and regtest/);
  // The node is down: node-backed routes say so.
  assertError(await api('GET', '/v1/chain'), 503, 'node-unavailable');
  assertError(await api('GET', '/v1/wallet/balance', { token }), 503, 'node-unavailable');
  assert.match((await api('POST', '/v1/wallet/address', { token })).body.address, /^crn1q/);
});
