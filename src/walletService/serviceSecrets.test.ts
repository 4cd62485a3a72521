import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateSecretFile } from './serviceSecrets.js';

test('loadOrCreateSecretFile: created once with mode 0600, read back the same; loose permissions tightened; bad content refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-secret-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'sub', 'master.key');
  const first = await loadOrCreateSecretFile(path);
  assert.equal(first.created, true);
  assert.equal(first.secret.length, 32);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  const second = await loadOrCreateSecretFile(path);
  assert.equal(second.created, false);
  assert.deepEqual(second.secret, first.secret);

  chmodSync(path, 0o644);
  const third = await loadOrCreateSecretFile(path);
  assert.equal(third.tightened, true);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.deepEqual(third.secret, first.secret);

  const bad = join(dir, 'bad.key');
  writeFileSync(bad, 'not hex\n', { mode: 0o600 });
  await assert.rejects(loadOrCreateSecretFile(bad), (e: NodeJS.ErrnoException) => e.code === 'ESECRET');
  // Two concurrent first starts agree on one secret.
  const racy = join(dir, 'racy.key');
  const [a, b] = await Promise.all([loadOrCreateSecretFile(racy), loadOrCreateSecretFile(racy)]);
  assert.deepEqual(a.secret, b.secret);
  assert.equal([a.created, b.created].filter(Boolean).length, 1);
});
