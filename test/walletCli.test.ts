/**
 * End-to-end: `cairn wallet` processes against a real `cairn node` process on regtest, as a user would drive them.
 * Wallet A (password from CAIRN_WALLET_PASSWORD, explicit --wallet file) mines 101 blocks through JSON-RPC, pays
 * wallet B (password from --password-file, default file under $HOME/.cairn/regtest); B sees the payment unconfirmed,
 * then confirmed (balance, history, utxos); A bumps the fee of a second payment (new txid in the mempool, the old one gone); two copies of B's
 * file spend B's only coin to different payees and the node refuses the second with its reject reason; wrong
 * password, invalid address, insufficient funds and an unreachable node fail with exit code 1 and a reason; `restore` from A's mnemonic gives the same keys, first address and balance. No secret appears in any output
 * but create's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cookiePathOf } from '../src/api/rpc/rpcCookie.js';
import { regtest } from '../src/params/networks.js';
import { waitFor } from '../src/testing/waitFor.js';
import { HdAccount, mnemonicToWalletSeed } from '../src/wallet/hdAccount.js';

const CLI = ['--import', 'tsx', 'src/cli/run.ts'];
const PASSWORD_A = 'correct horse battery staple A';
const PASSWORD_B = 'b-wallet password';
const COIN = 100_000_000;

interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Every output of the wallet processes, to check no secret leaks. */
const outputs: { args: string[]; out: string }[] = [];

/** Runs `cairn <args>` as its own process, stdin not a terminal; bounded by timeoutMs. */
function cairn(args: string[], env: Record<string, string | undefined>, timeoutMs = 120_000): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } as NodeJS.ProcessEnv });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`cairn ${args.join(' ')} timed out after ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      outputs.push({ args, out: stdout + stderr });
      resolve({ code, stdout, stderr });
    });
  });
}

interface RunningNode {
  readonly child: ChildProcess;
  readonly rpcPort: number;
  readonly apiPort: number;
  readonly exited: Promise<number | null>;
}

async function startNode(datadir: string): Promise<RunningNode> {
  const child = spawn(process.execPath, [...CLI, 'node', '--network', 'regtest', '--datadir', datadir, '--rpcport', '0', '--api-port', '0', '--stratum-port', '0', '--p2p-port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // Ends at the banner or at an early exit, whichever comes first.
  const started = await waitFor('the node banner', () => (child.exitCode !== null ? 'exited' : /REST\s+http:\/\/127\.0\.0\.1:(\d+)/.test(out) && 'up'), 60_000).catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });
  if (started !== 'up') throw new Error(`node did not start:\n${out}`);
  const rpcPort = Number(/JSON-RPC\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(out)![1]);
  const apiPort = Number(/REST\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(out)![1]);
  return { child, rpcPort, apiPort, exited };
}

function parseJson<T>(run: CliRun, what: string): T {
  assert.equal(run.code, 0, `${what} failed (exit ${run.code}): ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

function assertFails(run: CliRun, pattern: RegExp, what: string): void {
  assert.equal(run.code, 1, `${what}: expected exit code 1, got ${run.code}\n${run.stdout}${run.stderr}`);
  assert.match(run.stderr, pattern, what);
  assert.doesNotMatch(run.stderr, /\n\s+at /, `${what}: no stack trace`);
}

interface Balance {
  confirmedSats: number;
  unconfirmedSats: number;
  immatureSats: number;
  tipHeight: number;
}
interface Created {
  network: string;
  file: string;
  mnemonic?: string;
  firstAddress: string;
  masterFingerprint: string;
  accounts: { kind: string; path: string; extendedPublicKey: string }[];
}
interface Sent {
  txid: string;
  feeSats: number;
  amountSats: number;
  inputs: string[];
  hex?: string;
  broadcast: boolean;
}

test('cairn wallet against a real regtest node process: create, mine, pay, confirm, bump fee, double spend, errors, restore', { timeout: 360_000 }, async (t) => {
  const started = Date.now();
  const marks: string[] = [];
  const mark = (label: string) => marks.push(`${label} ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const dir = mkdtempSync(join(tmpdir(), 'cairn-wallet-cli-'));
  const home = join(dir, 'home');
  const datadir = join(dir, 'node');
  let node: RunningNode | undefined;
  t.after(async () => {
    if (node !== undefined && node.child.exitCode === null) {
      node.child.kill('SIGINT');
      const timer = setTimeout(() => node!.child.kill('SIGKILL'), 10_000);
      await node.exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  });
  node = await startNode(datadir);
  mark('node up');
  const nodeUrl = `http://127.0.0.1:${node.apiPort}/api`;
  const cookie = readFileSync(cookiePathOf(datadir), 'utf8').trim();
  const rpc = async (method: string, params: unknown[]): Promise<unknown> => {
    const res = await fetch(`http://127.0.0.1:${node!.rpcPort}/`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(cookie).toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '1.0', id: 1, method, params }),
    });
    const reply = (await res.json()) as { result: unknown; error: unknown };
    assert.equal(reply.error, null, `${method}: ${JSON.stringify(reply.error)}`);
    return reply.result;
  };
  const mempoolTxids = async (): Promise<string[]> => (await (await fetch(`${nodeUrl}/mempool/txids`)).json()) as string[];

  const walletA = join(dir, 'a.json');
  const walletB = join(home, '.cairn', 'regtest', 'wallet.json'); // B uses the default path under $HOME
  const passwordFileB = join(dir, 'b.password');
  writeFileSync(passwordFileB, `${PASSWORD_B}\n`);
  const envA = { HOME: home, CAIRN_WALLET_PASSWORD: PASSWORD_A };
  const envB = { HOME: home, CAIRN_WALLET_PASSWORD: undefined };
  const a = (...args: string[]) => cairn(['wallet', ...args, '--wallet', walletA, '--node', nodeUrl], envA);
  const b = (...args: string[]) => cairn(['wallet', ...args, '--network', 'regtest', '--password-file', passwordFileB, '--node', nodeUrl], envB);

  // create: A with --json (mnemonic as a field), B in human form (the words shown once, with the warning).
  const [createA, createB] = await Promise.all([
    cairn(['wallet', 'create', '--network', 'regtest', '--wallet', walletA, '--json', '--yes'], envA),
    cairn(['wallet', 'create', '--network', 'regtest', '--password-file', passwordFileB], envB),
  ]);
  const createdA = parseJson<Created>(createA, 'create A');
  assert.equal(createdA.network, 'regtest');
  assert.equal(createdA.mnemonic?.split(' ').length, 24);
  assert.match(createdA.firstAddress, /^rcrn1q/);
  assert.deepEqual(createdA.accounts.map((x) => x.path), ["m/84'/1'/0'", "m/86'/1'/0'"]);
  assert.equal(statSync(walletA).mode & 0o777, 0o600, 'keystore mode 0600');
  assert.equal(createB.code, 0, createB.stderr);
  assert.match(createB.stdout, /WRITE DOWN/);
  assert.equal(/^\s*1\. /m.test(createB.stdout) && /24\. \w+/.test(createB.stdout), true, 'the 24 words are listed');
  const mnemonicB = [...createB.stdout.matchAll(/\d+\. ([a-z]+)/g)].map((m) => m[1]!).join(' ');
  assert.equal(mnemonicB.split(' ').length, 24);
  const addressB = /First receive address: (rcrn1\w+)/.exec(createB.stdout)![1]!;
  assert.equal(statSync(walletB).mode & 0o777, 0o600);
  mark('created');

  // Offline or node-independent steps start now and overlap with the mining below: restore from A's mnemonic, and the
  // refusals (wrong password, an unreachable node, an address of another network).
  const walletR = join(dir, 'restored.json');
  const offline = Promise.all([
    cairn(['wallet', 'restore', '--network', 'regtest', '--wallet', walletR, '--mnemonic', createdA.mnemonic!, '--json', '--yes'], envA),
    cairn(['wallet', 'balance', '--wallet', walletA, '--node', nodeUrl], { HOME: home, CAIRN_WALLET_PASSWORD: 'not the password' }),
    cairn(['wallet', 'balance', '--wallet', walletA, '--node', 'http://127.0.0.1:1/api'], envA),
    a('send', 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq', '1', '--yes'),
  ]);
  offline.catch(() => undefined); // awaited below; this only keeps an early failure from being an unhandled rejection

  // 101 blocks to A's first address: the coinbases of heights 1 and 2 are mature for block 102.
  const hashes = (await rpc('generatetoaddress', [101, createdA.firstAddress])) as string[];
  assert.equal(hashes.length, 101);
  const balanceA0 = await a('balance', '--json', '--yes');
  assert.deepEqual(parseJson<Balance>(balanceA0, 'balance A'), { confirmedSats: 100 * COIN, unconfirmedSats: 0, immatureSats: 99 * 50 * COIN, tipHeight: 101 });
  const [restoreRun, wrongPassword, unreachable, badAddress] = await offline;
  assertFails(wrongPassword, /wrong password for .*a\.json/, 'wrong password');
  assertFails(unreachable, /node unreachable at http:\/\/127\.0\.0\.1:1\/api/, 'unreachable node');
  assertFails(badAddress, /invalid address: not a regtest address.*rcrn1/, 'address of another network');
  const restored = parseJson<Created>(restoreRun, 'restore');
  assert.equal(restored.mnemonic, undefined, 'restore does not echo the mnemonic');
  assert.equal(restored.firstAddress, createdA.firstAddress);
  assert.equal(restored.masterFingerprint, createdA.masterFingerprint);
  assert.deepEqual(restored.accounts, createdA.accounts);
  mark('mined, refusals checked');

  // A pays B 1.5 coins: in the mempool, B sees it unconfirmed, then confirmed after a block.
  const sent = parseJson<Sent>(await a('send', addressB, '1.5', '--fee-rate', '2', '--yes', '--json'), 'send A→B');
  assert.equal(sent.amountSats, 150_000_000);
  assert.equal(sent.broadcast, true);
  assert.ok(sent.feeSats >= 2 * 141 && sent.feeSats < 2 * 200, `fee ${sent.feeSats} at 2 sat/vB for one P2WPKH input`);
  assert.deepEqual(await mempoolTxids(), [sent.txid]);
  const [balanceB1, historyB1] = await Promise.all([b('balance', '--json'), b('history', '--json', '--yes')]);
  assert.deepEqual(parseJson<Balance>(balanceB1, 'balance B'), { confirmedSats: 0, unconfirmedSats: 150_000_000, immatureSats: 0, tipHeight: 101 });
  const history1 = parseJson<{ txid: string; netSats: number; confirmed: boolean }[]>(historyB1, 'history B');
  assert.deepEqual(history1.map((r) => [r.txid, r.netSats, r.confirmed]), [[sent.txid, 150_000_000, false]]);
  mark('paid, seen unconfirmed');
  await rpc('generatetoaddress', [1, createdA.firstAddress]);
  assert.deepEqual(await mempoolTxids(), []);
  const [balanceB2, utxosB2] = await Promise.all([b('balance', '--json'), b('utxos', '--json', '--yes')]);
  assert.deepEqual(parseJson<Balance>(balanceB2, 'balance B after a block'), { confirmedSats: 150_000_000, unconfirmedSats: 0, immatureSats: 0, tipHeight: 102 });
  const utxos = parseJson<{ txid: string; valueSats: number; address: string; confirmations: number }[]>(utxosB2, 'utxos B');
  assert.deepEqual(utxos.map((u) => [u.txid, u.valueSats, u.address, u.confirmations]), [[sent.txid, 150_000_000, addressB, 1]]);

  // bump-fee: a payment at 1 sat/vB is replaced by one at 5 sat/vB; the node drops the original.
  const slow = parseJson<Sent>(await a('send', addressB, '25000000', '--sats', '--fee-rate', '1', '--yes', '--json'), 'send at 1 sat/vB');
  assert.deepEqual(await mempoolTxids(), [slow.txid]);
  const bumped = parseJson<{ txid: string; replacesTxid: string; feeSats: number; originalFeeSats: number }>(
    await a('bump-fee', slow.txid, '--fee-rate', '5', '--yes', '--json'),
    'bump-fee',
  );
  assert.equal(bumped.replacesTxid, slow.txid);
  assert.notEqual(bumped.txid, slow.txid);
  assert.equal(bumped.originalFeeSats, slow.feeSats);
  assert.ok(bumped.feeSats >= 5 * 141, `bumped fee ${bumped.feeSats}`);
  assert.deepEqual(await mempoolTxids(), [bumped.txid]);
  mark('bumped');

  // Double spend from two copies of B's file: B's only spendable coin is the confirmed 1.5 (the 0.25 from A is
  // unconfirmed and not B's own change). Copy 1 signs a payment without broadcasting; copy 2 pays someone else from
  // the same coin and broadcasts; copy 1's tx is then refused by the node, with its reason, at the same fee rate.
  const walletB2 = join(dir, 'b-copy.json');
  copyFileSync(walletB, walletB2);
  const b2 = (...args: string[]) => cairn(['wallet', ...args, '--wallet', walletB2, '--password-file', passwordFileB, '--node', nodeUrl], envB);
  const held = parseJson<Sent>(await b('send', createdA.firstAddress, '0.5', '--fee-rate', '2', '--no-broadcast', '--json'), 'copy 1 signs');
  assert.equal(held.broadcast, false);
  assert.ok(!(await mempoolTxids()).includes(held.txid));
  const spent = parseJson<Sent>(await b2('send', createdA.firstAddress, '0.7', '--fee-rate', '2', '--yes', '--json'), 'copy 2 sends');
  assert.deepEqual(spent.inputs, held.inputs, 'both copies spend the same coin');
  assert.equal(spent.inputs.length, 1);
  assert.equal(spent.inputs[0]!.split(':')[0], sent.txid, 'the coin is the output of A\'s payment');
  assert.notEqual(spent.txid, held.txid);
  const [doubleSpend, tooMuch] = await Promise.all([
    cairn(['wallet', 'broadcast', held.hex!, '--network', 'regtest', '--node', nodeUrl], envB),
    b2('send', createdA.firstAddress, '10', '--yes'),
  ]);
  assertFails(doubleSpend, new RegExp(`the node rejected the transaction: insufficient fee, rejecting replacement ${held.txid}`), 'double spend');
  const mempool = await mempoolTxids();
  assert.ok(mempool.includes(spent.txid) && !mempool.includes(held.txid), 'the first spend stays, the double spend is not in the mempool');
  assertFails(tooMuch, /insufficient funds: \d+\.\d{8} more needed/, 'insufficient funds');
  mark('double spend refused');

  // The restored wallet sees what A sees, and hands out the same next receive address (index 1: index 0 is used).
  const r = (...args: string[]) => cairn(['wallet', ...args, '--wallet', walletR, '--node', nodeUrl], envA);
  const [balA, balR, addrR, infoR] = await Promise.all([
    a('balance', '--json'),
    r('balance', '--json'),
    r('address'),
    cairn(['wallet', 'info', '--wallet', walletR, '--json', '--yes'], { HOME: home, CAIRN_WALLET_PASSWORD: undefined }), // no password needed
  ]);
  const balanceA = parseJson<Balance>(balA, 'balance A');
  assert.deepEqual(parseJson<Balance>(balR, 'balance restored'), balanceA);
  assert.ok(balanceA.unconfirmedSats > 0, 'A has unconfirmed change and B\'s payment');
  const accountA = HdAccount.fromSeed(mnemonicToWalletSeed(createdA.mnemonic!), regtest, 'p2wpkh');
  assert.equal(accountA.deriveAddress(0, 0).address, createdA.firstAddress);
  assert.equal(addrR.stdout, `${accountA.deriveAddress(0, 1).address}\n`);
  const info = parseJson<{ network: string; file: string; masterFingerprint: string; accounts: unknown[]; mnemonic?: string }>(infoR, 'info');
  assert.deepEqual([info.network, info.file, info.masterFingerprint, info.mnemonic], ['regtest', walletR, createdA.masterFingerprint, undefined]);
  assert.deepEqual(info.accounts, createdA.accounts);

  // A keystore others can read: ssh's warning on stderr, the file tightened to 0600, once.
  chmodSync(walletR, 0o644);
  const [exposed, again] = [await r('address', '--json', '--yes'), await r('address', '--json', '--yes')];
  assert.equal(exposed.code, 0, exposed.stderr);
  assert.match(exposed.stderr, /WARNING: UNPROTECTED PRIVATE KEY FILE!/);
  assert.ok(exposed.stderr.includes(`Permissions 0644 for '${walletR}' are too open.`), exposed.stderr);
  assert.match(exposed.stderr, /cairn changed them to 0600/);
  assert.equal(statSync(walletR).mode & 0o777, 0o600);
  assert.deepEqual(JSON.parse(exposed.stdout), { address: accountA.deriveAddress(0, 1).address }, '--json output unaffected by the warning');
  assert.equal(again.stderr, '', 'no warning once the file is private');
  mark('keystore permissions');

  // Absurd fees: 100,000 sat/vB (the wallet service once paid it: 141x the payment) is refused unless allowed, by
  // the wallet and, for a tx signed elsewhere, by the node's maxfeerate.
  const absurd = await a('send', addressB, '0.001', '--fee-rate', '100000', '--yes', '--json');
  assertFails(absurd, /the fee of \d+ sats \(100000 sat\/vB\) is above the ceiling of 10000 sat\/vB .*likely mistake; pass --allow-high-fee to pay it/, 'absurd fee');
  const signedDear = parseJson<Sent>(
    await a('send', addressB, '0.001', '--fee-rate', '100000', '--allow-high-fee', '--no-broadcast', '--json', '--yes'),
    'absurd fee allowed, not broadcast',
  );
  assert.ok(signedDear.feeSats > 100_000 * 100, `fee ${signedDear.feeSats} sats`);
  const refusedByNode = await cairn(['wallet', 'broadcast', signedDear.hex!, '--network', 'regtest', '--node', nodeUrl, '--yes', '--json'], envB);
  assertFails(refusedByNode, /the node rejected the transaction: Fee exceeds maximum configured by user \(e\.g\. -maxtxfee, maxfeerate\) \(pass --allow-high-fee/, 'node maxfeerate');
  assert.ok(!(await mempoolTxids()).includes(signedDear.txid));
  const allowed = await cairn(['wallet', 'broadcast', signedDear.hex!, '--network', 'regtest', '--node', nodeUrl, '--allow-high-fee', '--yes', '--json'], envB);
  assert.deepEqual(parseJson<{ txid: string }>(allowed, 'broadcast with --allow-high-fee'), { txid: signedDear.txid });
  assert.ok((await mempoolTxids()).includes(signedDear.txid));
  mark('absurd fees');

  // No secret in any output but create's (and none of the passwords anywhere).
  for (const { args, out } of outputs) {
    assert.ok(!out.includes(PASSWORD_A) && !out.includes(PASSWORD_B), `a password in the output of ${args.join(' ')}`);
    if (args[1] === 'create') continue;
    assert.ok(!out.includes(createdA.mnemonic!) && !out.includes(mnemonicB), `a mnemonic in the output of ${args.join(' ')}`);
  }
  mark('done');
  t.diagnostic(`${outputs.length} wallet CLI processes; ${marks.join(', ')}`);
});
