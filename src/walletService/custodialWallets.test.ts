import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { regtest } from '../params/networks.js';
import { parseKeystoreFile } from '../wallet/keystore.js';
import type { NodeClient } from '../wallet/nodeClient.js';
import { isWalletError } from '../wallet/walletError.js';
import { CustodialWallets, SERVICE_KEYSTORE_SCRYPT } from './custodialWallets.js';
import { nowIso, openWalletDb } from './walletDb.js';

/** No node: these tests never sync. */
const noNode = new Proxy({}, { get: () => () => Promise.reject(new Error('no node in this test')) }) as NodeClient;

test('CustodialWallets: seeds encrypted under the master key in the database, addresses recorded and fresh after a restart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-custodial-'));
  const walletDb = await openWalletDb({ sqlitePath: join(dir, 'ws.sqlite') });
  t.after(async () => {
    await walletDb.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const { db } = walletDb;
  const masterKey = new Uint8Array(randomBytes(32));
  const wallets = new CustodialWallets({ params: regtest, masterKey }, { db, client: noNode });

  const json = await wallets.createKeystoreJson();
  const file = parseKeystoreFile(json);
  assert.equal(file.network, 'regtest');
  assert.deepEqual({ N: file.kdf.N, r: file.kdf.r, p: file.kdf.p }, SERVICE_KEYSTORE_SCRYPT);
  assert.deepEqual(file.accounts.map((a) => a.kind), ['p2wpkh']);
  assert.ok(!json.includes('abandon') && !/"entropy"/.test(json), 'no clear secret');
  assert.notEqual(parseKeystoreFile(await wallets.createKeystoreJson()).masterFingerprint, file.masterFingerprint, 'a new seed per wallet');

  await db.insertInto('wallet_accounts').values({ id: 'acc-1', username: 'alice', password_hash: 'x', created_at: nowIso() }).execute();
  await db.insertInto('wallet_keystores').values({ account_id: 'acc-1', network: 'regtest', keystore: json, created_at: nowIso() }).execute();
  const xpub = await wallets.withWallet('acc-1', async (w) => w.getExtendedPublicKeys()[0]!.extendedPublicKey);
  assert.equal(xpub, file.accounts[0]!.extendedPublicKey);
  const a0 = await wallets.newAddress('acc-1');
  const a1 = await wallets.newAddress('acc-1');
  assert.equal(a0.seq, 0);
  assert.equal(a1.seq, 1);
  assert.notEqual(a0.address, a1.address);
  assert.match(a0.address, /^rcrn1q/);

  // A restarted service (same master key) hands out the next address, not one already given.
  const restarted = new CustodialWallets({ params: regtest, masterKey }, { db, client: noNode });
  const a2 = await restarted.newAddress('acc-1');
  assert.equal(a2.seq, 2);
  assert.ok(![a0.address, a1.address].includes(a2.address));
  assert.deepEqual(await restarted.readAddresses('acc-1'), [a0.address, a1.address, a2.address]);

  // Another master key cannot open the wallets.
  const wrong = new CustodialWallets({ params: regtest, masterKey: new Uint8Array(randomBytes(32)) }, { db, client: noNode });
  await assert.rejects(wrong.withWallet('acc-1', async () => 0), (e) => isWalletError(e, 'wrong-password'));
  await assert.rejects(wallets.withWallet('no-such-account', async () => 0), /has no wallet/);
});
