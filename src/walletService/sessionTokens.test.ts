import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SignJWT, UnsecuredJWT } from 'jose';
import { ServiceError } from './serviceError.js';
import { SessionTokens, TOKEN_ISSUER } from './sessionTokens.js';

const secret = new Uint8Array(randomBytes(32));
const isUnauthorized = (e: unknown) => e instanceof ServiceError && e.statusCode === 401 && e.code === 'unauthorized';

test('SessionTokens: a token round-trips to its session and expires after ttlSec', async () => {
  let now = 1_700_000_000;
  const tokens = new SessionTokens(secret, { network: 'regtest', ttlSec: 3600, nowSec: () => now });
  const { token, expiresAtSec } = await tokens.issue({ accountId: 'acc-1', username: 'alice' });
  assert.equal(expiresAtSec, now + 3600);
  assert.deepEqual(await tokens.verify(token), { accountId: 'acc-1', username: 'alice' });
  now += 3599;
  assert.deepEqual(await tokens.verify(token), { accountId: 'acc-1', username: 'alice' });
  now += 2;
  await assert.rejects(tokens.verify(token), (e) => isUnauthorized(e) && /expired/.test((e as Error).message));
});

test('SessionTokens refuses forged, tampered, unsigned, foreign-audience and garbage tokens', async () => {
  const tokens = new SessionTokens(secret, { network: 'regtest' });
  const { token } = await tokens.issue({ accountId: 'acc-1', username: 'alice' });
  const other = new SessionTokens(new Uint8Array(randomBytes(32)), { network: 'regtest' });
  await assert.rejects(other.verify(token), isUnauthorized);
  const devnet = new SessionTokens(secret, { network: 'devnet' });
  await assert.rejects(devnet.verify(token), isUnauthorized);
  const [h, p, s] = token.split('.');
  const payload = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
  payload['username'] = 'mallory';
  await assert.rejects(tokens.verify(`${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`), isUnauthorized);
  const unsigned = new UnsecuredJWT({ username: 'alice' }).setSubject('acc-1').setIssuer(TOKEN_ISSUER).setAudience('cairn-wallet-service:regtest').setIssuedAt().setExpirationTime('1h').encode();
  await assert.rejects(tokens.verify(unsigned), isUnauthorized);
  const hs512 = await new SignJWT({ username: 'alice' }).setProtectedHeader({ alg: 'HS512' }).setSubject('acc-1').setIssuer(TOKEN_ISSUER)
    .setAudience('cairn-wallet-service:regtest').setIssuedAt().setExpirationTime('1h').sign(new Uint8Array(randomBytes(64)));
  await assert.rejects(tokens.verify(hs512), isUnauthorized);
  for (const junk of ['', 'abc', 'a.b.c']) await assert.rejects(tokens.verify(junk), isUnauthorized);
});
