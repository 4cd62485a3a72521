import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkIdempotencyKey, computeRequestHash, IdempotencyStore } from './idempotency.js';
import { ServiceError } from './serviceError.js';
import { nowIso, openWalletDb } from './walletDb.js';

const isError = (status: number, reason: string) => (e: unknown) => e instanceof ServiceError && e.statusCode === status && e.code === reason;

test('computeRequestHash: canonical (key order and undefined fields do not matter), sensitive to every value', () => {
  const a = computeRequestHash({ op: 'send', address: 'x', amountSats: 5 });
  assert.equal(a, computeRequestHash({ amountSats: 5, address: 'x', op: 'send', feeRateSatPerVb: undefined }));
  assert.notEqual(a, computeRequestHash({ op: 'send', address: 'x', amountSats: 6 }));
  assert.notEqual(a, computeRequestHash({ op: 'send', address: 'x', amountSats: 5, feeRateSatPerVb: 1 }));
  assert.match(a, /^[0-9a-f]{64}$/);
});

test('checkIdempotencyKey: required, 1..255 visible ASCII', () => {
  assert.equal(checkIdempotencyKey('3f1c-uuid'), '3f1c-uuid');
  for (const bad of [undefined, '', 'a b', 'é', 'x'.repeat(256), ['a']]) assert.throws(() => checkIdempotencyKey(bad), isError(400, 'bad-request'));
});

test('IdempotencyStore on SQLite: reserve, in progress, replay, key reuse, release, signed retry, stale takeover', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-idem-'));
  const walletDb = await openWalletDb({ sqlitePath: join(dir, 'ws.sqlite') });
  t.after(async () => {
    await walletDb.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const { db } = walletDb;
  for (const id of ['acc-a', 'acc-b']) await db.insertInto('wallet_accounts').values({ id, username: id, password_hash: 'x', created_at: nowIso() }).execute();
  let now = 1_700_000_000_000;
  const store = new IdempotencyStore(db, { staleMs: 60_000, nowMs: () => now });
  const h1 = computeRequestHash({ n: 1 });
  const h2 = computeRequestHash({ n: 2 });

  assert.deepEqual(await store.reserve('acc-a', 'k1', h1), { kind: 'new' });
  await assert.rejects(store.reserve('acc-a', 'k1', h1), isError(409, 'idempotency-in-progress'));
  await assert.rejects(store.reserve('acc-a', 'k1', h2), isError(422, 'idempotency-key-reused'));
  // Keys are per account.
  assert.deepEqual(await store.reserve('acc-b', 'k1', h2), { kind: 'new' });
  await store.recordSigned('acc-a', 'k1', { txid: 'aa'.repeat(32), txHex: '0200', body: { txid: 'aa'.repeat(32) } });
  await store.complete('acc-a', 'k1', 200, { txid: 'aa'.repeat(32) });
  assert.deepEqual(await store.reserve('acc-a', 'k1', h1), { kind: 'replay', status: 200, body: { txid: 'aa'.repeat(32) } });
  assert.deepEqual(await store.reserve('acc-a', 'k1', h1), { kind: 'replay', status: 200, body: { txid: 'aa'.repeat(32) } });
  await assert.rejects(store.reserve('acc-a', 'k1', h2), isError(422, 'idempotency-key-reused'));

  // Released (failed before signing): the key is free again, even for another body.
  await store.release('acc-b', 'k1');
  assert.deepEqual(await store.reserve('acc-b', 'k1', h1), { kind: 'new' });

  // Signed but the broadcast did not get through: a retry gets the same signed tx to broadcast again.
  assert.deepEqual(await store.reserve('acc-a', 'k2', h1), { kind: 'new' });
  await store.recordSigned('acc-a', 'k2', { txid: 'bb'.repeat(32), txHex: '0200ff', body: { txid: 'bb'.repeat(32) } });
  store.leave('acc-a', 'k2');
  assert.deepEqual(await store.reserve('acc-a', 'k2', h1), { kind: 'signed', txid: 'bb'.repeat(32), txHex: '0200ff', body: { txid: 'bb'.repeat(32) } });
  await assert.rejects(store.reserve('acc-a', 'k2', h1), isError(409, 'idempotency-in-progress'));

  // A pending reservation of a crashed process (another store, same database) is taken over once stale.
  const crashed = new IdempotencyStore(db, { nowMs: () => now });
  assert.deepEqual(await crashed.reserve('acc-a', 'k3', h1), { kind: 'new' });
  await assert.rejects(store.reserve('acc-a', 'k3', h1), isError(409, 'idempotency-in-progress'));
  now += 61_000;
  assert.deepEqual(await store.reserve('acc-a', 'k3', h1), { kind: 'new' });
  await assert.rejects(store.reserve('acc-a', 'k3', h1), isError(409, 'idempotency-in-progress'));
  const rows = await db.selectFrom('wallet_idempotency').select(['account_id', 'idempotency_key', 'state']).orderBy('account_id').orderBy('idempotency_key').execute();
  assert.deepEqual(rows.map((r) => `${r.account_id}/${r.idempotency_key}:${r.state}`), ['acc-a/k1:done', 'acc-a/k2:signed', 'acc-a/k3:pending', 'acc-b/k1:pending']);
});
