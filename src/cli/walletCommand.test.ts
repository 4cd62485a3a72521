import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { regtest } from '../params/networks.js';
import { createKeystore } from '../wallet/keystore.js';
import { WalletError } from '../wallet/walletError.js';
import { CliError } from './input.js';
import {
  extractRejectReason,
  obtainPassword,
  parseAmount,
  parseFeeRate,
  passwordFromFileText,
  PASSWORD_ENV,
  resolveWalletTarget,
  walletErrorToCliError,
} from './walletCommand.js';

const MNEMONIC = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';

test('parseAmount: coins with up to 8 decimals or whole sats; positive and at most MAX_MONEY', () => {
  assert.equal(parseAmount('1.5', false), 150_000_000n);
  assert.equal(parseAmount('0.00000001', false), 1n);
  assert.equal(parseAmount('.25', false), 25_000_000n);
  assert.equal(parseAmount('21000000', false), 2_100_000_000_000_000n);
  assert.equal(parseAmount('1000', true), 1000n);
  for (const bad of ['0', '0.0', '-1', '1e3', '1.123456789', 'abc', '', '21000000.00000001', '1,5']) {
    assert.throws(() => parseAmount(bad, false), CliError, bad);
  }
  for (const bad of ['1.5', '0', '-5', '2100000000000001']) assert.throws(() => parseAmount(bad, true), CliError, bad);
});

test('parseFeeRate: positive sat/vB, fractions allowed, absurd values refused', () => {
  assert.equal(parseFeeRate('2'), 2);
  assert.equal(parseFeeRate('1.5'), 1.5);
  for (const bad of ['0', '-1', 'abc', '1e2', '100001']) assert.throws(() => parseFeeRate(bad), CliError, bad);
});

test('extractRejectReason: the message of the node\'s sendrawtransaction error, else the text', () => {
  assert.equal(
    extractRejectReason('HTTP 400 from /tx: sendrawtransaction RPC error: {"code":-26,"message":"insufficient fee, rejecting replacement ab"}'),
    'insufficient fee, rejecting replacement ab',
  );
  assert.equal(extractRejectReason('HTTP 503 from /tx: busy'), 'busy');
});

test('passwordFromFileText drops one trailing line break only', () => {
  assert.equal(passwordFromFileText('pw\n'), 'pw');
  assert.equal(passwordFromFileText('pw\r\n'), 'pw');
  assert.equal(passwordFromFileText('pw \n\n'), 'pw \n');
  assert.equal(passwordFromFileText('pw'), 'pw');
});

test('resolveWalletTarget: defaults under $HOME, the file decides the network, clear refusals', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-wallet-target-'));
  const savedHome = process.env['HOME'];
  process.env['HOME'] = dir;
  t.after(() => {
    if (savedHome === undefined) delete process.env['HOME'];
    else process.env['HOME'] = savedHome;
    rmSync(dir, { recursive: true, force: true });
  });
  const fresh = resolveWalletTarget({ network: 'regtest' }, 'new');
  assert.equal(fresh.walletPath, join(dir, '.cairn', 'regtest', 'wallet.json'));
  assert.equal(fresh.nodeUrl, 'http://127.0.0.1:38730/api');
  assert.equal(fresh.params.name, 'regtest');
  assert.equal(resolveWalletTarget({}, 'new').walletPath, join(dir, '.cairn', 'main', 'wallet.json'));

  const file = join(dir, 'w.json');
  assert.throws(() => resolveWalletTarget({ wallet: file }, 'existing'), /no wallet file at .*w\.json: create one with 'cairn wallet create'/);
  await createKeystore(file, { params: regtest, password: 'pw', mnemonic: MNEMONIC, scrypt: { N: 1024, r: 8, p: 1 } });
  const existing = resolveWalletTarget({ wallet: file, node: 'http://example.test:3000/api' }, 'existing');
  assert.equal(existing.params.name, 'regtest', 'the network of the file');
  assert.equal(existing.nodeUrl, 'http://example.test:3000/api');
  assert.throws(() => resolveWalletTarget({ wallet: file, network: 'main' }, 'existing'), /is a regtest wallet, not main/);
  assert.throws(() => resolveWalletTarget({ wallet: file }, 'new'), /already exists: not overwriting/);
  assert.throws(() => resolveWalletTarget({ network: 'nonet' }, 'new'), /unknown network 'nonet'/);
  assert.throws(() => resolveWalletTarget({ wallet: file, node: 'ftp://x/api' }, 'existing'), /must be an http\(s\) URL/);
  writeFileSync(join(dir, 'junk.json'), '{"version":1}');
  assert.throws(() => resolveWalletTarget({ wallet: join(dir, 'junk.json') }, 'existing'), /is not a usable wallet file/);
});

test('obtainPassword: --password-file, then the variable, else a refusal without a terminal', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-wallet-pw-'));
  const saved = process.env[PASSWORD_ENV];
  t.after(() => {
    if (saved === undefined) delete process.env[PASSWORD_ENV];
    else process.env[PASSWORD_ENV] = saved;
    rmSync(dir, { recursive: true, force: true });
  });
  const file = join(dir, 'pw');
  writeFileSync(file, 'from the file\n');
  process.env[PASSWORD_ENV] = 'from the variable';
  assert.equal(await obtainPassword({ passwordFile: file }, false), 'from the file');
  assert.equal(await obtainPassword({}, true), 'from the variable');
  writeFileSync(file, '\n');
  await assert.rejects(obtainPassword({ passwordFile: file }, false), /is empty/);
  await assert.rejects(obtainPassword({ passwordFile: join(dir, 'missing') }, false), /cannot read --password-file .*ENOENT/);
  delete process.env[PASSWORD_ENV];
  if (process.stdin.isTTY === true) return t.skip('stdin is a terminal: the password would be asked');
  await assert.rejects(obtainPassword({}, false), /no wallet password: give --password-file <file> or set CAIRN_WALLET_PASSWORD/);
});

test('walletErrorToCliError: reasons a user can act on', () => {
  const target = resolveWalletTarget({ network: 'regtest', wallet: '/nonexistent/w.json', node: 'http://127.0.0.1:9/api' }, 'new');
  const message = (e: WalletError) => walletErrorToCliError(e, target).message;
  assert.equal(message(new WalletError('wrong-password', 'x')), 'wrong password for /nonexistent/w.json');
  assert.match(message(new WalletError('network-error', 'cannot reach')), /^node unreachable at http:\/\/127\.0\.0\.1:9\/api: cannot reach\nIs 'cairn node --network regtest' running/);
  assert.match(message(new WalletError('insufficient-funds', 'x', { shortfallSats: 42n })), /^insufficient funds: 0\.00000042 more needed/);
  assert.match(message(new WalletError('bad-address', 'not a regtest address: wrong-hrp')), /^invalid address: not a regtest address: wrong-hrp \(regtest addresses start with rcrn1\)/);
  assert.match(message(new WalletError('keystore-io', 'cannot read')), /^no wallet file at \/nonexistent\/w\.json/);
  assert.equal(walletErrorToCliError(new WalletError('timeout'), target).exitCode, 1);
});
