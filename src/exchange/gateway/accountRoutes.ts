/**
 * cairn's own account routes under `/v1/` and Binance's user-stream key routes:
 *   POST   /v1/register {username, password}        201 {userId, username}; 409 -1130 name taken
 *   POST   /v1/login {username, password}           {token, tokenType: "Bearer", expiresAt, userId, username}; 401 -2015
 *   GET    /v1/me                          token     {userId, username}
 *   POST   /v1/api-keys {label?, permission?}  token 201 {apiKey, secretKey, label, permission, createdAt} (secret shown once)
 *   GET    /v1/api-keys                    token     [{apiKey, label, permission, createdAt, revokedAt}] (no secrets)
 *   DELETE /v1/api-keys/:apiKey            token     {apiKey, revoked: true}; 404 -1130 no such live key of yours
 *   POST   /v1/faucet {asset?}             token/key devnet/regtest: credits FAUCET_AMOUNTS of the asset (default USD)
 *   POST   /v1/admin/balance {userId | username, asset, amount, adjustmentId, memo?}   header X-CAIRN-ADMIN-TOKEN
 *                                                    an admin balance adjustment (applies once per adjustmentId)
 *   POST/PUT/DELETE /api/v3/userDataStream         X-MBX-APIKEY or token: a listen key for /ws/<listenKey>
 * Passwords are hashed with scrypt (src/crypto/passwordHash.ts, the wallet service's code). Tokens cannot create
 * API keys for another user; API keys cannot create API keys (a leaked key cannot mint more).
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { hashPassword, verifyPassword, type PasswordScryptParams } from '../../crypto/passwordHash.js';
import { parseUnits } from '../../matching/decimal.js';
import { adjustmentAllowed } from '../exchangeConfig.js';
import { EXTERNAL_ID_RE } from '../engineCommand.js';
import { REJECT_INFO, type RejectedResult } from '../engineEvent.js';
import { USERNAME_RE, type ApiKeyPermission } from './accountStore.js';
import { authenticate, paramsOf, WindowCounter, type GatewayContext, type RateLimit } from './gatewayContext.js';
import { GatewayError, illegalParam, unauthorized } from './gatewayError.js';

/** What the faucet credits per request, in coins: off-chain assets 10,000, the chain's coin 100. */
export const FAUCET_AMOUNTS = Object.freeze({ offChain: '10000', onChain: '100' });

/** Options of the account routes. */
export interface AccountRoutesOptions {
  readonly passwordScrypt: PasswordScryptParams;
  /** The admin token (hex) from the admin token file. */
  readonly adminToken: string;
  /** Faucet requests per user (default 20 an hour). */
  readonly faucetPerUser: RateLimit;
}

const PASSWORD_MIN = 8;

/** A refused balance command as Binance's error. */
function refused(r: RejectedResult): GatewayError {
  return new GatewayError(400, REJECT_INFO[r.reason].code, r.message);
}
const PASSWORD_MAX = 256;

/** Registers the account, key, faucet, admin and listen-key routes. */
export async function registerAccountRoutes(app: FastifyInstance, ctx: GatewayContext, options: AccountRoutesOptions): Promise<void> {
  const { store, service } = ctx;
  // Compared against when the username does not exist, so a login takes as long either way.
  const dummyHash = await hashPassword(randomUUID(), options.passwordScrypt);
  const faucetCounter = new WindowCounter(options.faucetPerUser);

  const credentials = (req: FastifyRequest): { username: string; password: string } => {
    const p = paramsOf(req);
    const username = p.string('username');
    const password = p.string('password');
    p.done();
    if (!USERNAME_RE.test(username)) throw illegalParam('username', 'use 3..32 of letters, digits, _ . -');
    if (password.length < PASSWORD_MIN || password.length > PASSWORD_MAX) throw new GatewayError(400, -1130, `Invalid data sent for a parameter 'password': ${PASSWORD_MIN}..${PASSWORD_MAX} characters.`);
    return { username, password };
  };
  const tokenUser = async (req: FastifyRequest): Promise<number> => {
    const caller = await authenticate(ctx, req, { signed: false });
    if (caller.via !== 'token') throw unauthorized('this route takes a login token (Authorization: Bearer <token>), not an API key');
    return caller.userId;
  };

  app.post('/v1/register', async (req, reply) => {
    const { username, password } = credentials(req);
    const hash = await hashPassword(password, options.passwordScrypt);
    const user = store.createUser(username, hash, ctx.nowMs());
    if (user === undefined) throw new GatewayError(409, -1130, `Invalid data sent for a parameter 'username': '${username}' is taken.`);
    return reply.code(201).send({ userId: user.userId, username: user.username });
  });

  app.post('/v1/login', async (req) => {
    const { username, password } = credentials(req);
    const user = store.userByName(username);
    const ok = await verifyPassword(password, user?.passwordHash ?? dummyHash);
    if (user === undefined || !ok) throw new GatewayError(401, -2015, 'Invalid username or password.');
    const { token, expiresAtSec } = await ctx.tokens.issue(user.userId, user.username, ctx.nowMs());
    return { token, tokenType: 'Bearer', expiresAt: expiresAtSec * 1000, userId: user.userId, username: user.username };
  });

  app.get('/v1/me', async (req) => {
    const userId = await tokenUser(req);
    paramsOf(req).done();
    const user = store.userById(userId);
    if (user === undefined) throw unauthorized('the user of this token does not exist');
    return { userId, username: user.username };
  });

  app.post('/v1/api-keys', async (req, reply) => {
    const userId = await tokenUser(req);
    const p = paramsOf(req);
    const label = p.optString('label', /^[\w .:-]{1,64}$/) ?? '';
    const permission = p.optEnum('permission', ['TRADE', 'READ'] as readonly ApiKeyPermission[]) ?? 'TRADE';
    p.done();
    const now = ctx.nowMs();
    const key = store.createApiKey(userId, label, permission, now);
    if (key === undefined) throw new GatewayError(400, -1130, 'Invalid data sent for a parameter: too many live API keys; revoke one first.');
    return reply.code(201).send({ ...key, label, permission, createdAt: now });
  });

  app.get('/v1/api-keys', async (req) => {
    const userId = await tokenUser(req);
    paramsOf(req).done();
    return store.listApiKeys(userId).map((k) => ({ apiKey: k.apiKey, label: k.label, permission: k.permission, createdAt: k.createdMs, revokedAt: k.revokedMs ?? null }));
  });

  app.delete('/v1/api-keys/:apiKey', async (req, reply) => {
    const userId = await tokenUser(req);
    const apiKey = (req.params as { apiKey: string }).apiKey;
    if (!store.revokeApiKey(userId, apiKey, ctx.nowMs())) return reply.code(404).send({ code: -1130, msg: 'Invalid data sent for a parameter: no such live API key of yours.' });
    return { apiKey, revoked: true };
  });

  app.post('/v1/faucet', async (req) => {
    if (ctx.network !== 'devnet' && ctx.network !== 'regtest') throw new GatewayError(403, -2010, 'The faucet runs on devnet and regtest only.');
    const caller = await authenticate(ctx, req, { signed: req.headers.authorization === undefined });
    const p = paramsOf(req);
    p.ignore('timestamp', 'recvWindow', 'signature');
    const assetCode = p.optString('asset', /^[A-Z0-9]{2,10}$/) ?? 'USD';
    p.done();
    const asset = ctx.format.asset(assetCode);
    if (asset === undefined) throw new GatewayError(400, -1130, `Invalid data sent for a parameter 'asset': unknown asset ${assetCode}.`);
    faucetCounter.hit(`u:${caller.userId}`, ctx.nowMs(), 'faucet requests per user');
    const amount = parseUnits(asset.onChain ? FAUCET_AMOUNTS.onChain : FAUCET_AMOUNTS.offChain, asset.decimals);
    const o = await service.submit({ type: 'ADJUST_BALANCE', adjustmentId: `faucet-${caller.userId}-${randomUUID()}`, userId: caller.userId, asset: assetCode, amount, memo: 'faucet' });
    if (o.result.ok !== true || o.result.kind !== 'balance') throw refused(o.result as RejectedResult);
    const r = o.result;
    return { asset: assetCode, amount: ctx.format.amount(assetCode, r.amount), free: ctx.format.amount(assetCode, r.free), locked: ctx.format.amount(assetCode, r.locked) };
  });

  const adminToken = Buffer.from(options.adminToken, 'utf8');
  app.post('/v1/admin/balance', async (req) => {
    const sent = req.headers['x-cairn-admin-token'];
    const given = Buffer.from(typeof sent === 'string' ? sent : '', 'utf8');
    if (given.length !== adminToken.length || !timingSafeEqual(given, adminToken)) throw unauthorized('admin routes need X-CAIRN-ADMIN-TOKEN with the token in the admin token file');
    const p = paramsOf(req);
    let userId = p.optInt('userId', 1, Number.MAX_SAFE_INTEGER);
    const username = p.optString('username', USERNAME_RE);
    if ((userId === undefined) === (username === undefined)) throw new GatewayError(400, -1102, "Param 'userId' or 'username' must be sent (one of them).");
    if (username !== undefined) {
      userId = store.userByName(username)?.userId;
      if (userId === undefined) throw new GatewayError(400, -1130, `Invalid data sent for a parameter 'username': no user '${username}'.`);
    }
    const assetCode = p.string('asset', /^[A-Z0-9]{2,10}$/);
    const amountText = p.string('amount', /^-?\d{1,30}(\.\d{1,18})?$/);
    const adjustmentId = p.string('adjustmentId', EXTERNAL_ID_RE);
    const memo = p.optString('memo', /^[\w .,:;!?()-]{0,200}$/);
    p.done();
    const asset = ctx.format.asset(assetCode);
    if (asset === undefined) throw new GatewayError(400, -1130, `Invalid data sent for a parameter 'asset': unknown asset ${assetCode}.`);
    if (!adjustmentAllowed(ctx.network, asset)) throw new GatewayError(400, -2010, `Admin adjustments of ${assetCode} are not allowed on ${ctx.network} (on-chain assets arrive by deposits).`);
    const negative = amountText.startsWith('-');
    let amount: bigint;
    try {
      amount = parseUnits(negative ? amountText.slice(1) : amountText, asset.decimals);
    } catch {
      throw illegalParam('amount', `at most ${asset.decimals} decimals`);
    }
    if (amount === 0n) throw new GatewayError(400, -1130, "Invalid data sent for a parameter 'amount': must not be zero.");
    const o = await service.submit({ type: 'ADJUST_BALANCE', adjustmentId, userId: userId!, asset: assetCode, amount: negative ? -amount : amount, ...(memo !== undefined ? { memo } : {}) });
    if (o.result.ok !== true || o.result.kind !== 'balance') throw refused(o.result as RejectedResult);
    const r = o.result;
    return { seq: o.seq, userId: r.userId, asset: r.asset, amount: ctx.format.amount(r.asset, r.amount), free: ctx.format.amount(r.asset, r.free), locked: ctx.format.amount(r.asset, r.locked), duplicate: r.duplicate };
  });

  app.post('/api/v3/userDataStream', async (req) => {
    const caller = await authenticate(ctx, req, { signed: false });
    paramsOf(req).done();
    return { listenKey: ctx.listenKeys.create(caller.userId, ctx.nowMs()) };
  });
  app.put('/api/v3/userDataStream', async (req) => {
    const caller = await authenticate(ctx, req, { signed: false });
    const p = paramsOf(req);
    const key = p.string('listenKey', /^[A-Za-z0-9_-]{1,100}$/);
    p.done();
    ctx.listenKeys.keepAlive(key, caller.userId, ctx.nowMs());
    return {};
  });
  app.delete('/api/v3/userDataStream', async (req) => {
    const caller = await authenticate(ctx, req, { signed: false });
    const p = paramsOf(req);
    const key = p.string('listenKey', /^[A-Za-z0-9_-]{1,100}$/);
    p.done();
    ctx.listenKeys.close(key, caller.userId);
    return {};
  });
}
