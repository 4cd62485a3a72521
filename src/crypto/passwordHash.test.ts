import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword, verifyPassword } from './passwordHash.js';

const FAST = { N: 1024, r: 8, p: 1 };

test('hashPassword: per-password salt and stored parameters; verifyPassword accepts only the right password', async () => {
  const a = await hashPassword('correct horse', FAST);
  const b = await hashPassword('correct horse', FAST);
  assert.match(a, /^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  assert.notEqual(a, b, 'a fresh salt each time');
  assert.equal(await verifyPassword('correct horse', a), true);
  assert.equal(await verifyPassword('correct horse', b), true);
  assert.equal(await verifyPassword('correct horsE', a), false);
  assert.equal(await verifyPassword('', a), false);
});

test('verifyPassword uses the stored cost parameters and never matches a malformed hash', async () => {
  const stronger = await hashPassword('pw-12345678', { N: 2048, r: 4, p: 2 });
  assert.ok(stronger.startsWith('scrypt$2048$4$2$'));
  assert.equal(await verifyPassword('pw-12345678', stronger), true);
  for (const bad of ['', 'scrypt$', 'bcrypt$1024$8$1$AAAA$AAAA', 'scrypt$1000$8$1$AAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAA==', stronger.replace('$2048$', '$4194304$')]) {
    assert.equal(await verifyPassword('pw-12345678', bad), false, bad);
  }
  // The hash part tampered: no match.
  const parts = stronger.split('$');
  parts[5] = Buffer.alloc(32, 1).toString('base64');
  assert.equal(await verifyPassword('pw-12345678', parts.join('$')), false);
});
