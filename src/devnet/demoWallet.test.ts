import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devnet, regtest } from '../params/networks.js';
import { openDemoWallet } from './demoWallet.js';
import { DevnetError } from './devnetError.js';

test('openDemoWallet: creates a labelled devnet wallet, reopens the same keys, lists more mining addresses on growth', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-demo-wallet-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'demo-wallet.json');
  const first = openDemoWallet(path, devnet, 3);
  assert.equal(first.created, true);
  const file = JSON.parse(readFileSync(path, 'utf8')) as { warning: string; mnemonic: string; miningAddresses: string[]; demoAddresses: string[] };
  assert.match(file.warning, /UNENCRYPTED/);
  assert.equal(file.mnemonic.split(' ').length, 12);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(file.miningAddresses.length, 3);
  assert.ok(file.miningAddresses.every((a) => a.startsWith('dcrn1q')));
  assert.equal(file.demoAddresses.length, 8);
  assert.ok(file.demoAddresses.some((a) => a.startsWith('dcrn1p')), 'P2TR demo addresses');
  assert.equal(new Set([...file.miningAddresses, ...file.demoAddresses]).size, 11);

  const again = openDemoWallet(path, devnet, 4);
  assert.equal(again.created, false);
  assert.equal(again.keys.miningAddress(0).address, file.miningAddresses[0]);
  const grown = JSON.parse(readFileSync(path, 'utf8')) as { mnemonic: string; miningAddresses: string[] };
  assert.equal(grown.mnemonic, file.mnemonic);
  assert.deepEqual(grown.miningAddresses.slice(0, 3), file.miningAddresses);
  assert.equal(grown.miningAddresses.length, 4);
  // The private key matches the address it is asked for.
  const a = again.keys.demoAddresses[1]!;
  assert.equal(again.keys.privateKeyOf(a).length, 32);

  assert.throws(() => openDemoWallet(path, regtest, 3), (e: unknown) => e instanceof DevnetError && e.code === 'bad-manifest');
  writeFileSync(path, '{not json');
  assert.throws(() => openDemoWallet(path, devnet, 3), (e: unknown) => e instanceof DevnetError && e.code === 'bad-manifest');
});
