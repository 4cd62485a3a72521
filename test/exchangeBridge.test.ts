/**
 * The exchange ↔ chain bridge end to end against a real regtest node (in process, its Esplora REST API on an
 * ephemeral port, blocks from its own templates) and a real exchange engine on a SQLite command log in a temp dir:
 * deposit addresses; a deposit credited exactly once at N confirmations (also across a bridge restart); a competing
 * branch with more work that double-spends a deposit before N (never credited) and one after N (reversed, the account
 * frozen when that leaves it negative, the books still balanced); a batch of withdrawals of two users paid by one
 * transaction and completed at N; another network's address refused; reserves equal to the node's view of the
 * exchange's outputs; a withdrawal the hot wallet cannot pay failing with its funds unlocked; a stuck batch replaced
 * by RBF; a coinbase deposit credited only when mature. And a SIGKILL of the exchange process between signing a batch and broadcasting it: the restart
 * broadcasts the stored tx, builds no second one, and the chain holds exactly one payment.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COIN } from '../src/consensus/amount.js';
import { addressToScriptPubKey, encodeSegwitAddress } from '../src/crypto/address.js';
import { BridgeError } from '../src/exchange/bridge/bridgeError.js';
import { BridgeRouteError, withdrawHistoryRoute, withdrawRoute } from '../src/exchange/bridge/bridgeRoutes.js';
import { BRIDGE_STORE_FILE, BridgeStore } from '../src/exchange/bridge/bridgeStore.js';
import { BRIDGE_SEED_FILE, ExchangeBridge } from '../src/exchange/bridge/exchangeBridge.js';
import { computeReserves } from '../src/exchange/bridge/reserves.js';
import type { EngineCommand } from '../src/exchange/engineCommand.js';
import { defaultExchangeConfig } from '../src/exchange/exchangeConfig.js';
import { ExchangeService } from '../src/exchange/exchangeService.js';
import { silentLogger } from '../src/logging/logger.js';
import { regtest } from '../src/params/networks.js';
import { bytesToHex } from '../src/primitives/hex.js';
import { computeTxid, encodeTx } from '../src/primitives/tx.js';
import type { Tx } from '../src/primitives/types.js';
import { buildBranch, parentOfEntry, spendableCoinbases } from '../src/testing/chainFactory.js';
import { buildSignedTx, makeTestKey, testKeyAddress, type SpendableCoin } from '../src/testing/txFactory.js';
import { EsploraClient } from '../src/wallet/nodeClient.js';
import { HdAccount, mnemonicToWalletSeed } from '../src/wallet/hdAccount.js';
import { waitFor } from '../src/testing/waitFor.js';
import { openRestTestNode, type RestTestNode } from './fixtures/restTestNode.js';

const MINER = makeTestKey('bridge/miner', 'p2wpkh');
const OTHER = makeTestKey('bridge/other', 'p2wpkh');
const CONFS = 3;
const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

async function postTx(url: string, tx: Tx): Promise<string> {
  const res = await fetch(`${url}/api/tx`, { method: 'POST', body: bytesToHex(encodeTx(tx)) });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return text.trim();
}

async function getJson(url: string): Promise<any> {
  const res = await fetch(url);
  assert.equal(res.status, 200, url);
  return res.json();
}

/** A tx paying `amount` from `coin` to `address`, change back to the miner. */
function payTo(coin: SpendableCoin, address: string, amount: bigint): Tx {
  return buildSignedTx([coin], [
    { value: amount, scriptPubKey: addressToScriptPubKey(address, regtest.bech32Hrp) },
    { value: coin.output.value - amount - 10_000n, scriptPubKey: MINER.scriptPubKey },
  ]);
}

/** A tx spending `coin` wholly to OTHER: the double spend the competing branch carries. */
function doubleSpend(coin: SpendableCoin): Tx {
  return buildSignedTx([coin], [{ value: coin.output.value - 20_000n, scriptPubKey: OTHER.scriptPubKey }]);
}

/** Replaces the chain above `forkHeight` with `n` blocks (more work) carrying `txs` in the first one. */
async function reorg(env: RestTestNode, forkHeight: number, n: number, txs: Tx[], tag: string): Promise<void> {
  const parent = env.node.chain.getEntryByHeight(forkHeight);
  assert.ok(parent !== undefined, `no block at ${forkHeight}`);
  const before = env.node.chain.height;
  for (const block of buildBranch(env.params, parentOfEntry(parent), n, (i) => ({ extraNonce: `${tag}-${i}`, coinbaseKey: MINER, ...(i === 0 ? { txs } : {}) }))) {
    await env.node.submitBlock(block);
  }
  assert.equal(env.node.chain.height, forkHeight + n);
  assert.ok(forkHeight + n > before);
  await env.node.mempool.whenReorgUpdatesDone();
}

test('bridge: deposits credited once at N, reorgs before and after N, a batched withdrawal, reserves', async (t) => {
  const env = await openRestTestNode({ rest: { rateLimit: false } });
  t.after(() => env.close());
  const datadir = mkdtempSync(join(tmpdir(), 'cairn-bridge-'));
  t.after(() => rmSync(datadir, { recursive: true, force: true }));
  await env.mine(105, MINER);
  const coins = spendableCoinbases(env.node.chain, MINER);
  assert.ok(coins.length >= 4);

  const logger = silentLogger();
  const service = await ExchangeService.open({ datadir, config: defaultExchangeConfig('regtest'), history: false }, { logger });
  t.after(() => service.close());
  // A cold wallet (watch-only xpub) takes what the hot wallet holds above 1 CRN when a batch goes out.
  const cold = HdAccount.fromSeed(new Uint8Array(32).fill(9), regtest, 'p2wpkh', 0);
  const bridgeOptions = {
    params: regtest,
    datadir,
    nodeUrl: `${env.url}/api`,
    confirmations: CONFS,
    pollIntervalMs: 0,
    batchIntervalMs: 0,
    coldXpub: cold.extendedPublicKey,
    hotWalletLimitSats: COIN,
  };
  // The bridge's clock: real time, moved ahead by the test to make a withdrawal overdue.
  let clockMs = Date.now();
  const bridgeDeps = { submit: (c: EngineCommand) => service.submit(c), logger, nowMs: () => clockMs };
  let bridge = ExchangeBridge.open(bridgeOptions, bridgeDeps);
  t.after(() => bridge.close());
  const crn = (userId: number): { free: bigint; locked: bigint } => {
    const b = service.getBalances(userId).find((x) => x.asset === 'CRN')!;
    return { free: b.free, locked: b.locked };
  };
  assert.equal((await bridge.tick()).tipHeight, env.node.chain.height);

  // Addresses: one index per account, stable, never shared.
  const a1 = bridge.getDepositAddress(1);
  assert.deepEqual(bridge.getDepositAddress(1), a1);
  const a2 = bridge.getDepositAddress(2);
  const a3 = bridge.getDepositAddress(3);
  assert.deepEqual([a1.index, a2.index, a3.index], [0, 1, 2]);
  assert.match(a1.address, /^rcrn1q/);
  assert.match(a1.path, /^m\/84'\/1'\/0'\/0\/0$/);

  // 1. A deposit: confirming 1/3, 2/3, credited at 3, exactly once (also after a restart of the bridge).
  const dep1 = await postTx(env.url, payTo(coins[0]!, a1.address, 2n * COIN));
  await bridge.tick();
  assert.deepEqual(bridge.listDeposits(1).map((x) => [x.txid, x.status, x.confirmations, x.height]), [[dep1, 'seen', 0, null]]);
  await env.mine(1, MINER);
  await bridge.tick();
  let d = bridge.listDeposits(1);
  assert.deepEqual(d.map((x) => [x.txid, x.vout, x.amountSats, x.status, x.confirmations]), [[dep1, 0, 2n * COIN, 'confirming', 1]]);
  assert.equal(d[0]!.height, env.node.chain.height);
  assert.equal(crn(1).free, 0n);
  await env.mine(2, MINER);
  assert.equal((await bridge.tick()).credited, 1);
  assert.equal(bridge.listDeposits(1)[0]!.status, 'credited');
  assert.equal(crn(1).free, 2n * COIN);
  assert.equal((await bridge.tick()).credited, 0);
  await bridge.close();
  bridge = ExchangeBridge.open(bridgeOptions, bridgeDeps);
  await env.mine(1, MINER);
  assert.equal((await bridge.tick()).credited, 0);
  assert.equal(crn(1).free, 2n * COIN);

  // 2. A deposit double-spent by a branch with more work before N: never credited, shown as dropped.
  const tx2 = payTo(coins[1]!, a2.address, COIN);
  await postTx(env.url, tx2);
  await env.mine(1, MINER);
  const h2 = env.node.chain.height;
  await bridge.tick();
  assert.equal(bridge.listDeposits(2)[0]!.status, 'confirming');
  await reorg(env, h2 - 1, 2, [doubleSpend(coins[1]!)], 'before-n');
  const r2 = await bridge.tick();
  assert.equal(r2.disconnected, 1);
  assert.equal(r2.connected, 2);
  await env.mine(CONFS, MINER);
  await bridge.tick();
  assert.deepEqual(bridge.listDeposits(2).map((x) => [x.status, x.height]), [['dropped', null]]);
  assert.equal(crn(2).free, 0n);

  // 3. A deposit credited, then double-spent by a branch with more work: reversed; the user had locked part of it
  // for a withdrawal, so the account is left negative and frozen; the books still balance (a warning, not a failure).
  const tx3 = payTo(coins[2]!, a3.address, 3n * COIN);
  await postTx(env.url, tx3);
  await env.mine(1, MINER);
  const h3 = env.node.chain.height;
  await env.mine(CONFS - 1, MINER);
  assert.equal((await bridge.tick()).credited, 1);
  assert.equal(crn(3).free, 3n * COIN);
  assert.ok((await service.submit({ type: 'LOCK_WITHDRAWAL', withdrawalId: 'manual-3', userId: 3, asset: 'CRN', amount: COIN })).result.ok);
  await reorg(env, h3 - 1, CONFS + 1, [doubleSpend(coins[2]!)], 'after-n');
  const r3 = await bridge.tick();
  assert.equal(r3.reversed, 1);
  assert.deepEqual(crn(3), { free: -COIN, locked: COIN });
  assert.equal(bridge.listDeposits(3)[0]!.status, 'dropped');
  let audit = service.audit();
  assert.ok(audit.ok, audit.problems.join('\n'));
  assert.equal(audit.warnings.length, 1);
  assert.match(audit.warnings[0]!, /user 3 CRN: negative free/);
  // The deposit of step 1 survived both reorgs.
  assert.equal(bridge.listDeposits(1)[0]!.status, 'credited');

  // 4. Withdrawals: another network's address is refused; two users' withdrawals go out in one transaction.
  await assert.rejects(
    bridge.requestWithdrawal({ userId: 1, clientId: 'main-net', address: 'crn1qw508d6qejxtdg4y5r3zarvary0c5xw7k7k7l6', amountSats: COIN / 10n }),
    (e: unknown) => e instanceof BridgeError && e.code === 'BAD_ADDRESS',
  );
  // A P2WSH address of this network is refused too: the chain takes only P2WPKH and P2TR outputs.
  const p2wsh = encodeSegwitAddress(regtest.bech32Hrp, 0, new Uint8Array(32).fill(1));
  await assert.rejects(
    bridge.requestWithdrawal({ userId: 1, clientId: 'p2wsh', address: p2wsh, amountSats: COIN / 10n }),
    (e: unknown) => e instanceof BridgeError && e.code === 'BAD_ADDRESS' && /only P2WPKH/.test(e.message),
  );
  const a4 = bridge.getDepositAddress(4);
  await postTx(env.url, payTo(coins[3]!, a4.address, COIN));
  await env.mine(CONFS, MINER);
  await bridge.tick();
  assert.equal(crn(4).free, COIN);
  const toA = testKeyAddress(makeTestKey('bridge/payee-a'), regtest.bech32Hrp);
  const toB = testKeyAddress(makeTestKey('bridge/payee-b'), regtest.bech32Hrp);
  const w1 = await bridge.requestWithdrawal({ userId: 1, clientId: 'pay-a', address: toA, amountSats: COIN / 2n });
  const w4 = await bridge.requestWithdrawal({ userId: 4, clientId: 'pay-b', address: toB, amountSats: COIN / 4n });
  assert.deepEqual([w1.status, w4.status], ['requested', 'requested']);
  // Idempotent per client id; the same id for another withdrawal is refused.
  assert.equal((await bridge.requestWithdrawal({ userId: 1, clientId: 'pay-a', address: toA, amountSats: COIN / 2n })).id, w1.id);
  await assert.rejects(bridge.requestWithdrawal({ userId: 1, clientId: 'pay-a', address: toB, amountSats: COIN / 2n }), (e: unknown) => e instanceof BridgeError && e.code === 'CLIENT_ID_REUSED');
  await assert.rejects(bridge.requestWithdrawal({ userId: 4, clientId: 'too-much', address: toB, amountSats: COIN }), (e: unknown) => e instanceof BridgeError && e.code === 'REFUSED');
  assert.deepEqual(crn(1), { free: 2n * COIN - COIN / 2n - bridge.withdrawalFeeSats, locked: COIN / 2n + bridge.withdrawalFeeSats });
  const r4 = await bridge.tick();
  assert.ok(r4.batchTxid !== null);
  const views = bridge.listWithdrawals().filter((w) => w.status !== 'failed');
  assert.deepEqual(views.map((w) => [w.id, w.status, w.txid]), [[w1.id, 'broadcast', r4.batchTxid], [w4.id, 'broadcast', r4.batchTxid]]);
  assert.ok((await getJson(`${env.url}/api/mempool/txids`)).includes(r4.batchTxid));

  // The fee market rises while the batch waits: after bumpAfterMs the bridge replaces it by RBF at the new rate; the
  // replacement pays the same withdrawals, and the node's mempool holds only the replacement.
  await bridge.close();
  bridge = ExchangeBridge.open({ ...bridgeOptions, minFeeRateSatPerVb: 5 }, bridgeDeps);
  await bridge.tick();
  assert.equal(bridge.listWithdrawals(1).find((w) => w.id === w1.id)!.txid, r4.batchTxid, 'not bumped before bumpAfterMs');
  clockMs += 120_000;
  await bridge.tick();
  const batchTxid = bridge.listWithdrawals(1).find((w) => w.id === w1.id)!.txid!;
  assert.notEqual(batchTxid, r4.batchTxid);
  assert.deepEqual(bridge.listWithdrawals().filter((w) => w.status !== 'failed').map((w) => [w.status, w.txid]), [['broadcast', batchTxid], ['broadcast', batchTxid]]);
  assert.deepEqual(await getJson(`${env.url}/api/mempool/txids`), [batchTxid]);
  const bumped = await getJson(`${env.url}/api/tx/${batchTxid}`);
  assert.ok(bumped.fee / (bumped.weight / 4) >= 5, `replacement pays ${bumped.fee} sats for ${bumped.weight} WU`);

  // Reserves while the batch is in the mempool: the node's view of the exchange's outputs against the liabilities.
  const node = new EsploraClient({ baseUrl: `${env.url}/api` });
  const store = BridgeStore.open(join(datadir, BRIDGE_STORE_FILE), { readOnly: true });
  t.after(() => store.close());
  const held = (): bigint => service.audit().assets.find((a) => a.asset === 'CRN')!.held;
  let reserves = await computeReserves(store, node, held());
  assert.ok(reserves.ok, JSON.stringify(reserves, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));

  await env.mine(1, MINER);
  await bridge.tick();
  assert.deepEqual(bridge.listWithdrawals(1).filter((w) => w.id === w1.id).map((w) => [w.status, w.confirmations]), [['confirmed', 1]]);
  await env.mine(CONFS - 1, MINER);
  assert.equal((await bridge.tick()).completed, 2);
  assert.deepEqual(bridge.listWithdrawals().filter((w) => w.status !== 'failed').map((w) => w.status), ['completed', 'completed']);
  const batch = await getJson(`${env.url}/api/tx/${batchTxid}`);
  const paid = new Map<string, number>(batch.vout.map((o: { scriptpubkey_address: string; value: number }) => [o.scriptpubkey_address, o.value]));
  assert.equal(paid.get(toA), Number(COIN / 2n));
  assert.equal(paid.get(toB), Number(COIN / 4n));
  // Deposits 1 and 4 made 3 CRN hot; after 0.75 paid, all above 1 CRN (less a fee margin) went to the cold wallet.
  const coldPaid = BigInt(paid.get(cold.deriveAddress(0, 0).address) ?? 0);
  assert.ok(coldPaid > 3n * COIN - COIN / 2n - COIN / 4n - COIN - 100_000n && coldPaid < 3n * COIN - COIN / 2n - COIN / 4n - COIN, `cold got ${coldPaid}`);
  assert.equal(batch.vout.length, 4, 'two payments, the sweep, the change');
  assert.equal(batch.status.confirmed, true);
  assert.deepEqual(crn(1), { free: 2n * COIN - COIN / 2n - bridge.withdrawalFeeSats, locked: 0n });
  assert.deepEqual(crn(4), { free: COIN - COIN / 4n - bridge.withdrawalFeeSats, locked: 0n });
  // The route functions the gateway mounts: Binance's withdraw history shape, and its errors.
  const history = withdrawHistoryRoute(bridge, 4);
  assert.deepEqual(history, [
    // Newest first.
    { id: 'w-4-too-much', withdrawOrderId: 'too-much', amount: '1.00000000', transactionFee: '0.00010000', coin: 'CRN', status: 5, state: 'failed', address: toB, txId: '', confirmNo: 0, info: (history[0] as { info: string }).info },
    { id: w4.id, withdrawOrderId: 'pay-b', amount: '0.25000000', transactionFee: '0.00010000', coin: 'CRN', status: 6, state: 'completed', address: toB, txId: batchTxid, confirmNo: CONFS },
  ]);
  assert.match((history[0] as { info: string }).info, /^INSUFFICIENT_BALANCE/);
  for (const [input, why] of [
    [{ address: toA, amount: '0.000000001', withdrawOrderId: 'x1' }, /more than 8 decimals/],
    [{ address: toA, amount: 'abc', withdrawOrderId: 'x2' }, /not a decimal number/],
    [{ address: toA, amount: '0.00001', withdrawOrderId: 'x3' }, /at least 10000 sats/],
    [{ address: toA, withdrawOrderId: 'x4' }, /'amount'/],
    [{ address: toA, amount: '1', withdrawOrderId: 'bad id!' }, /client id/],
  ] as const) {
    await assert.rejects(withdrawRoute(bridge, 4, input), (e: unknown) => e instanceof BridgeRouteError && e.httpStatus === 400 && e.code === -1102 && why.test(e.message));
  }

  // Reserves = the node's view of the exchange's outputs: deposits 1 and 4 in, the batch's payments and fee out.
  reserves = await computeReserves(store, node, held());
  const spentIn = batch.vin.reduce((s: bigint, i: { prevout: { value: number } }) => s + BigInt(i.prevout.value), 0n);
  // Deposits 1 (2 CRN) and 4 (1 CRN) are the exchange's coins; 2 and 3 were double-spent away.
  const unspentDeposits = 2n * COIN + COIN;
  const expected = unspentDeposits - spentIn + BigInt(batch.vout.reduce((s: number, o: { scriptpubkey_address: string; value: number }) => s + (o.scriptpubkey_address === toA || o.scriptpubkey_address === toB ? 0 : o.value), 0));
  assert.equal(reserves.reservesSats, expected);
  assert.equal(reserves.liabilitiesSats, held());
  assert.equal(reserves.differenceSats, reserves.reservesSats - reserves.liabilitiesSats);
  // User 3's reversed deposit leaves the exchange owed −1 CRN by user 3 and 1 CRN locked for them: liabilities = held.
  assert.ok(reserves.ok);

  // 5. A withdrawal the hot wallet cannot pay (user 6's CRN came by an admin credit, not by a deposit) waits, and
  // fails with its funds unlocked once overdue; it never blocks the others.
  assert.ok((await service.submit({ type: 'ADJUST_BALANCE', adjustmentId: 'no-coins-6', userId: 6, asset: 'CRN', amount: 100n * COIN })).result.ok);
  const big = await bridge.requestWithdrawal({ userId: 6, clientId: 'big', address: toA, amountSats: 50n * COIN });
  const small = await bridge.requestWithdrawal({ userId: 1, clientId: 'small', address: toB, amountSats: COIN / 10n });
  clockMs += 10_000;
  const r5 = await bridge.tick();
  assert.ok(r5.batchTxid !== null, 'the payable withdrawal goes out');
  assert.deepEqual(bridge.listWithdrawals().filter((w) => w.id === big.id || w.id === small.id).map((w) => w.status), ['requested', 'broadcast']);
  assert.deepEqual(crn(6), { free: 50n * COIN - bridge.withdrawalFeeSats, locked: 50n * COIN + bridge.withdrawalFeeSats });
  clockMs += 2 * 3_600_000;
  await bridge.tick();
  const failed = bridge.listWithdrawals(6)[0]!;
  assert.equal(failed.status, 'failed');
  assert.match(failed.reason!, /hot wallet lacks funds/);
  assert.deepEqual(crn(6), { free: 100n * COIN, locked: 0n });

  // 6. A coinbase paying a deposit address counts only once mature (coinbaseMaturity confirmations, not N).
  const a5 = bridge.getDepositAddress(5);
  await env.mine(1, { ...MINER, scriptPubKey: addressToScriptPubKey(a5.address, regtest.bech32Hrp) });
  await env.mine(regtest.coinbaseMaturity - 2, MINER);
  await bridge.tick();
  const young = bridge.listDeposits(5)[0]!;
  assert.deepEqual([young.status, young.confirmations, young.confirmationsNeeded], ['confirming', regtest.coinbaseMaturity - 1, regtest.coinbaseMaturity]);
  assert.equal(crn(5).free, 0n);
  await env.mine(1, MINER);
  assert.equal((await bridge.tick()).credited, 1);
  assert.equal(crn(5).free, young.amountSats);
  assert.ok(young.amountSats > 0n);
  audit = service.audit();
  assert.ok(audit.ok, audit.problems.join('\n'));
});

test("bridge: the node's websocket starts a round at once (the poll timer alone would wait a minute)", async (t) => {
  const env = await openRestTestNode({ rest: { rateLimit: false } });
  t.after(() => env.close());
  const datadir = mkdtempSync(join(tmpdir(), 'cairn-bridge-ws-'));
  t.after(() => rmSync(datadir, { recursive: true, force: true }));
  await env.mine(101, MINER);
  const [coin] = spendableCoinbases(env.node.chain, MINER);
  const logger = silentLogger();
  const service = await ExchangeService.open({ datadir, config: defaultExchangeConfig('regtest'), history: false }, { logger });
  t.after(() => service.close());
  const bridge = ExchangeBridge.open({ params: regtest, datadir, nodeUrl: `${env.url}/api`, confirmations: 1, pollIntervalMs: 60_000 }, { submit: (c) => service.submit(c), logger });
  t.after(() => bridge.close());
  await bridge.tick();
  bridge.start();
  const address = bridge.getDepositAddress(1).address;
  await postTx(env.url, payTo(coin!, address, COIN));
  await waitFor('the deposit seen through a websocket-started round', () => bridge.listDeposits(1)[0]?.status === 'seen' || undefined, 10_000, 20);
  await env.mine(1, MINER);
  await waitFor('the deposit credited through a websocket-started round', () => bridge.listDeposits(1)[0]?.status === 'credited' || undefined, 10_000, 20);
  assert.equal(service.getBalances(1).find((b) => b.asset === 'CRN')!.free, COIN);
});

/** Runs the bridge child once; answers its output lines and how it ended. */
function runChild(datadir: string, nodeUrl: string, mode: 'run' | 'crash-after-sign'): Promise<{ lines: any[]; code: number | null; signal: string | null }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'test/fixtures/bridgeProcess.ts'), datadir, nodeUrl, mode, String(CONFS)], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0 && signal !== 'SIGKILL') process.stderr.write(err);
      resolve({ lines: out.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l)), code, signal });
    }),
  );
}

test('bridge: SIGKILL between signing a batch and broadcasting it; the restart broadcasts the same tx, one payment on chain', async (t) => {
  const env = await openRestTestNode({ rest: { rateLimit: false } });
  t.after(() => env.close());
  const datadir = mkdtempSync(join(tmpdir(), 'cairn-bridge-kill-'));
  t.after(() => rmSync(datadir, { recursive: true, force: true }));
  await env.mine(101, MINER);
  const [coin] = spendableCoinbases(env.node.chain, MINER);
  const nodeUrl = `${env.url}/api`;
  const logger = silentLogger();
  const payee = testKeyAddress(makeTestKey('bridge/kill-payee'), regtest.bech32Hrp);
  {
    // Fund user 7 by a deposit and request a withdrawal, in process; then hand the data dir to the child.
    const service = await ExchangeService.open({ datadir, config: defaultExchangeConfig('regtest'), history: false }, { logger });
    const bridge = ExchangeBridge.open({ params: regtest, datadir, nodeUrl, confirmations: CONFS, pollIntervalMs: 0, batchIntervalMs: 0 }, { submit: (c) => service.submit(c), logger });
    await bridge.tick();
    await postTx(env.url, payTo(coin!, bridge.getDepositAddress(7).address, 2n * COIN));
    await env.mine(CONFS, MINER);
    assert.equal((await bridge.tick()).credited, 1);
    await bridge.requestWithdrawal({ userId: 7, clientId: 'kill-1', address: payee, amountSats: COIN });
    await bridge.close();
    await service.close();
  }
  const crashed = await runChild(datadir, nodeUrl, 'crash-after-sign');
  assert.equal(crashed.signal, 'SIGKILL');
  const signedTxid = crashed.lines[0]?.signed as string;
  assert.match(signedTxid, /^[0-9a-f]{64}$/);
  // Killed before the broadcast: the node never saw it.
  assert.deepEqual(await getJson(`${env.url}/api/mempool/txids`), []);
  const restarted = await runChild(datadir, nodeUrl, 'run');
  assert.equal(restarted.code, 0);
  assert.equal(restarted.lines.at(-1).batchTxid, null, 'the restart built no second batch');
  assert.deepEqual(await getJson(`${env.url}/api/mempool/txids`), [signedTxid]);
  // A second restart while it is in the mempool sends nothing new either.
  assert.equal((await runChild(datadir, nodeUrl, 'run')).lines.at(-1).batchTxid, null);
  await env.mine(CONFS, MINER);
  const done = await runChild(datadir, nodeUrl, 'run');
  assert.equal(done.lines.at(-1).completed, 1);
  const payments = (await getJson(`${env.url}/api/address/${payee}/txs`)) as Array<{ txid: string; status: { confirmed: boolean } }>;
  assert.deepEqual(payments.map((p) => [p.txid, p.status.confirmed]), [[signedTxid, true]]);
  const store = BridgeStore.open(join(datadir, BRIDGE_STORE_FILE), { readOnly: true });
  t.after(() => store.close());
  assert.deepEqual(store.listWithdrawals().map((w) => [w.batchTxid, w.finished]), [[signedTxid, 'completed']]);
});

test('cairn exchange run --node-url gives deposit addresses and credits deposits; exchange audit --node-url reports reserves and exits 1 when short', async (t) => {
  const env = await openRestTestNode({ rest: { rateLimit: false } });
  t.after(() => env.close());
  const datadir = mkdtempSync(join(tmpdir(), 'cairn-bridge-cli-'));
  t.after(() => rmSync(datadir, { recursive: true, force: true }));
  await env.mine(101, MINER);
  const [coin] = spendableCoinbases(env.node.chain, MINER);
  const nodeUrl = `${env.url}/api`;
  // Not spawnSync: the node answering the CLI runs in this process's event loop.
  const cli = (args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      const c = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/run.ts'), ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
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

  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(REPO_ROOT, 'src/cli/run.ts'), 'exchange', 'run', '--network', 'regtest', '--datadir', datadir, '--no-history', '--node-url', nodeUrl, '--confirmations', '1'],
    { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  let n = 0;
  const ask = async (msg: Record<string, unknown>): Promise<any> => {
    const id = `q${++n}`;
    child.stdin.write(JSON.stringify({ id, ...msg }) + '\n');
    return waitFor(`answer ${id}`, () => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).find((o) => o.id === id), 30_000, 20);
  };
  await waitFor('exchange ready', () => out.includes('"event":"ready"'), 60_000);
  const ready = JSON.parse(out.split('\n')[0]!);
  assert.deepEqual([ready.bridge.nodeUrl, ready.bridge.confirmations, ready.bridge.withdrawalFeeSats], [nodeUrl, 1, '10000']);
  assert.match(ready.bridge.xpub, /^vpub/);
  const addr = (await ask({ bridge: 'depositAddress', userId: 5 })).result;
  assert.deepEqual([addr.coin, addr.tag, addr.path], ['CRN', '', "m/84'/1'/0'/0/0"]);
  const refused = await ask({ bridge: 'withdraw', userId: 5, address: 'crn1qw508d6qejxtdg4y5r3zarvary0c5xw7k7k7l6', amount: '0.1', withdrawOrderId: 'x' });
  assert.equal(refused.error.code, -1102);
  assert.match(refused.error.message, /not a regtest address/);
  const depositTx = payTo(coin!, addr.address, 2n * COIN);
  const depositTxid = await postTx(env.url, depositTx);
  await env.mine(1, MINER);
  const credited = await waitFor(
    'the deposit credited by the running bridge',
    async () => {
      const d = (await ask({ bridge: 'deposits', userId: 5 })).result as Array<{ state: string }>;
      return d.length === 1 && d[0]!.state === 'credited' ? d[0] : undefined;
    },
    30_000,
    200,
  );
  assert.deepEqual(credited, { amount: '2.00000000', coin: 'CRN', status: 1, state: 'credited', txId: depositTxid, vout: 0, blockHash: (credited as any).blockHash, height: env.node.chain.height, confirmTimes: '1/1' });
  const config = (await ask({ bridge: 'config' })).result[0].networkList[0];
  assert.deepEqual([config.withdrawFee, config.minConfirm], ['0.00010000', 1]);
  const served = (await ask({ bridge: 'liabilitiesProof', userId: 5 })).result;
  assert.deepEqual([served.balance, served.root.sum], [String(2n * COIN), String(2n * COIN)]);
  child.stdin.end();
  assert.equal(await exited, 0);

  // Proof of liabilities: the same proof from the stopped exchange's data dir, checked by the CLI verifier.
  const proofRun = await cli(['exchange', 'liabilities-proof', '--datadir', datadir, '--user', '5']);
  assert.equal(proofRun.status, 0, proofRun.stderr);
  assert.deepEqual(JSON.parse(proofRun.stdout), served);
  const proofFile = join(datadir, 'proof-5.json');
  writeFileSync(proofFile, proofRun.stdout);
  const verified = await cli(['exchange', 'verify-liabilities', proofFile]);
  assert.equal(verified.status, 0, verified.stdout + verified.stderr);
  assert.match(verified.stdout, new RegExp(`^OK: user 5's balance ${2n * COIN} is included in root ${served.root.hash}`));
  writeFileSync(proofFile, JSON.stringify({ ...served, balance: String(3n * COIN) }));
  const forged = await cli(['exchange', 'verify-liabilities', proofFile]);
  assert.equal(forged.status, 1);
  assert.match(forged.stdout, /^INVALID: the path does not lead to the root hash/);

  const ok = await cli(['exchange', 'audit', '--datadir', datadir, '--node-url', nodeUrl]);
  assert.equal(ok.status, 0, String(ok.stdout) + String(ok.stderr));
  assert.match(String(ok.stdout), new RegExp(`reserves: OK  on chain ${2n * COIN} sats in 1 outputs  liabilities ${2n * COIN}  difference 0`));

  // The hot wallet's key leaks and the deposit is swept outside the exchange: reserves fall short, the audit fails.
  const mnemonic = readFileSync(join(datadir, BRIDGE_SEED_FILE), 'utf8').trim();
  const account = HdAccount.fromSeed(mnemonicToWalletSeed(mnemonic), regtest, 'p2wpkh', 0);
  const privateKey = account.derivePrivateKey(0, 0);
  const thief = { kind: 'p2wpkh' as const, privateKey, publicKey: account.deriveAddress(0, 0).publicKey, scriptPubKey: account.deriveAddress(0, 0).scriptPubKey };
  const stolen = buildSignedTx([{ outpoint: { txid: computeTxid(depositTx), index: 0 }, output: depositTx.outputs[0]!, key: thief }], [{ value: 2n * COIN - 10_000n, scriptPubKey: OTHER.scriptPubKey }]);
  await postTx(env.url, stolen);
  const short = await cli(['exchange', 'audit', '--datadir', datadir, '--node-url', nodeUrl, '--json']);
  assert.equal(short.status, 1);
  const report = JSON.parse(String(short.stdout));
  assert.equal(report.ok, true, 'the books themselves still balance');
  assert.deepEqual(report.reserves, { reservesSats: '0', utxoCount: 0, liabilitiesSats: String(2n * COIN), differenceSats: String(-2n * COIN), ok: false });
});
