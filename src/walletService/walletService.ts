/**
 * `cairn wallet-service`: a custodial wallet REST service over a node's Esplora API. Accounts (username + scrypt
 * password hash) log in for a JWT; each account has one HD wallet (BIP-84) whose seed is encrypted at rest under the
 * service's master key; routes give the wallet's info, fresh addresses, balance, history and payments (idempotent by
 * `Idempotency-Key`), a rate-limited faucet on devnet and regtest, and a chain summary. Storage is SQLite by default or
 * PostgreSQL (walletDb.ts). Errors are JSON `{error, reason}` (serviceError.ts).
 *
 * Routes (JSON; "auth" = `Authorization: Bearer <token>` from /v1/login):
 *   POST /v1/register {username, password}          201 {username, network}; 409 username-taken
 *   POST /v1/login {username, password}             200 {token, tokenType, expiresAt, username}; 401
 *   GET  /v1/wallet                          auth   the wallet: network, accounts (xpubs), addresses handed out
 *   POST /v1/wallet/address                  auth   201 {address}: a fresh receive address
 *   GET  /v1/wallet/balance                  auth   {confirmedSats, unconfirmedSats, immatureSats, totalSats, tipHeight}
 *   GET  /v1/wallet/history                  auth   {tipHeight, txs: [...]}, mempool first, then newest confirmed
 *   POST /v1/wallet/send {address, amountSats, feeRateSatPerVb?, allowHighFee?} + Idempotency-Key
 *                                            auth   {txid, feeSats, …}; 422 fee-too-high above 10,000 sat/vB or 0.10
 *                                                   coin unless allowHighFee
 *   the same under /v1/wallets/:username/… (403 for another account's wallet)
 *   GET  /v1/faucet                                 faucet address, amount, balance (devnet/regtest)
 *   POST /v1/faucet {address?}               auth   pays the faucet amount (default to a fresh address of the caller)
 *   GET  /v1/chain                                  {network, height, tipHash, mempoolCount, feeEstimates, …}
 */
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import rateLimit from '@fastify/rate-limit';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyError, type FastifyRequest } from 'fastify';
import { isP2trScript, isP2wpkhScript } from '../consensus/scriptType.js';
import { addressToScriptPubKey } from '../crypto/address.js';
import { moduleLogger, type Logger } from '../logging/logger.js';
import type { ChainParams } from '../params/chainParams.js';
import type { Sats } from '../primitives/types.js';
import { EsploraClient, type NodeClient } from '../wallet/nodeClient.js';
import type { Wallet } from '../wallet/wallet.js';
import { WalletError, isWalletError } from '../wallet/walletError.js';
import { readChainSummary } from './chainSummary.js';
import { CustodialWallets } from './custodialWallets.js';
import { Faucet, FAUCET_NETWORKS, isFaucetNetwork } from './faucet.js';
import { DEFAULT_FAUCET_AMOUNT_SATS } from './faucetDefaults.js';
import { checkIdempotencyKey, computeRequestHash, IdempotencyStore } from './idempotency.js';
import { DEFAULT_PASSWORD_SCRYPT, hashPassword, verifyPassword, type PasswordScryptParams } from '../crypto/passwordHash.js';
import { CredentialsBody, FaucetBody, LoginBody, SendBody, UsernameParams } from './schemas.js';
import { ServiceError } from './serviceError.js';
import { loadOrCreateSecretFile } from './serviceSecrets.js';
import { DEFAULT_TOKEN_TTL_SEC, SessionTokens, type Session } from './sessionTokens.js';
import { nowIso, openWalletDb, type WalletDb } from './walletDb.js';

/** A request budget: at most `max` requests per `timeWindowMs`. */
export interface RateLimit {
  readonly max: number;
  readonly timeWindowMs: number;
}

/** The service's rate limits (per client IP unless said otherwise). */
export interface WalletServiceRateLimits {
  /** Every route (default 600 a minute); false = none. */
  readonly global: RateLimit | false;
  /** POST /v1/login (default 20 a minute). */
  readonly login: RateLimit;
  /** POST /v1/register (default 20 an hour). */
  readonly register: RateLimit;
  /** POST /v1/faucet per account (default 3 an hour). */
  readonly faucetPerAccount: RateLimit;
  /** POST /v1/faucet per IP (default 10 an hour). */
  readonly faucetPerIp: RateLimit;
}

/** Default rate limits. */
export const DEFAULT_RATE_LIMITS: WalletServiceRateLimits = Object.freeze({
  global: { max: 600, timeWindowMs: 60_000 },
  login: { max: 20, timeWindowMs: 60_000 },
  register: { max: 20, timeWindowMs: 3_600_000 },
  faucetPerAccount: { max: 3, timeWindowMs: 3_600_000 },
  faucetPerIp: { max: 10, timeWindowMs: 3_600_000 },
});

/** Default faucet payment: 10 coins (defined in faucetDefaults.ts, which the CLI help reads without loading this). */
export { DEFAULT_FAUCET_AMOUNT_SATS };

/** Files of the service's data dir. */
export const SERVICE_FILES = Object.freeze({
  masterKey: 'master.key',
  tokenSecret: 'jwt.secret',
  sqlite: 'wallet-service.sqlite',
});

/** Options of the wallet service (plain values the CLI maps its flags onto). */
export interface WalletServiceOptions {
  readonly params: ChainParams;
  /** The node's Esplora API base URL including its prefix, e.g. `http://127.0.0.1:28730/api`. */
  readonly nodeUrl: string;
  /** Data dir: master key, token secret, faucet keystore, SQLite file (created 0700). */
  readonly datadir: string;
  /** Interface to listen on (default 127.0.0.1). */
  readonly host?: string;
  /** TCP port; 0 = an ephemeral one. */
  readonly port: number;
  /** `postgres://…` to store in PostgreSQL; default SQLite in the data dir. */
  readonly dbUrl?: string;
  /** PostgreSQL schema of the tables (created if missing); default the connection's search_path. */
  readonly pgSchema?: string;
  /** What the faucet pays a request, sats (default 10 coins). */
  readonly faucetAmountSats?: Sats;
  /** A file with the faucet's BIP-39 mnemonic; default a keystore in the data dir made on first start. */
  readonly faucetMnemonicFile?: string;
  /** Session token lifetime, s (default 3,600). */
  readonly tokenTtlSec?: number;
  /** scrypt cost of password hashes (default N = 2^15, r = 8, p = 1). */
  readonly passwordScrypt?: PasswordScryptParams;
  /** Rate limits (defaults DEFAULT_RATE_LIMITS). */
  readonly rateLimits?: Partial<WalletServiceRateLimits>;
  /** Take the client IP from X-Forwarded-For (behind a reverse proxy); default false. */
  readonly trustProxy?: boolean;
  /** Address gap limit of the wallets (default 20). */
  readonly gapLimit?: number;
}

/** What the wallet service is built on. */
export interface WalletServiceDeps {
  /** Root logger; the service logs under module `wallet-service`. */
  readonly logger: Logger;
  /** The node client (default an EsploraClient on options.nodeUrl). */
  readonly client?: NodeClient;
  /** fetch for the chain summary and the default client (default the global fetch). */
  readonly fetch?: typeof fetch;
}

/** A running wallet service. */
export interface WalletService {
  /** Base URL, e.g. `http://127.0.0.1:28731`. */
  readonly url: string;
  readonly port: number;
  /** Where miners pay the faucet (devnet/regtest), else undefined. */
  readonly faucetAddress: string | undefined;
  /** Where the faucet's seed comes from, else undefined. */
  readonly faucetSource: string | undefined;
  /** The database, without credentials (e.g. `sqlite /…/wallet-service.sqlite`). */
  readonly dbDescription: string;
  /** Stops listening, then closes the database (idempotent). */
  close(): Promise<void>;
}

/**
 * Checks an address is a P2WPKH or P2TR address of the network (the outputs cairn allows).
 * @throws ServiceError 400 bad-address
 */
export function checkPayableAddress(address: string, params: ChainParams): void {
  let script: Uint8Array;
  try {
    script = addressToScriptPubKey(address, params.bech32Hrp);
  } catch (e) {
    throw new ServiceError(400, 'bad-address', `not a ${params.name} address (${params.bech32Hrp}1…): ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!isP2wpkhScript(script) && !isP2trScript(script)) throw new ServiceError(400, 'bad-address', `${params.name} only pays to P2WPKH and P2TR addresses`);
}

/** The HTTP answer for a wallet error. */
export function serviceErrorOfWalletError(e: WalletError): ServiceError {
  switch (e.code) {
    case 'bad-address':
    case 'bad-amount':
    case 'dust-output':
    case 'bad-fee-rate':
      return new ServiceError(400, e.code, e.message);
    case 'insufficient-funds':
      return new ServiceError(422, 'insufficient-funds', e.message, e.shortfallSats !== undefined ? { shortfallSats: Number(e.shortfallSats) } : {});
    case 'too-many-inputs':
      return new ServiceError(422, 'too-many-inputs', e.message);
    case 'fee-too-high':
      return new ServiceError(422, 'fee-too-high', `${e.message}; send "allowHighFee": true to pay it`, e.feeSats !== undefined ? { feeSats: Number(e.feeSats) } : {});
    case 'network-error':
    case 'timeout':
      return new ServiceError(503, 'node-unavailable', `the node does not answer: ${e.message}`);
    case 'http-error':
    case 'not-found':
    case 'bad-response':
      return new ServiceError(502, 'node-error', e.message);
    default:
      return new ServiceError(500, 'internal', 'internal error');
  }
}

const sats = (v: bigint): number => Number(v);

/**
 * Starts the wallet service: data dir and its secrets, database (migrated), faucet (devnet/regtest), then the HTTP
 * server. On a start-up failure what was opened is closed again and the error is thrown.
 * @throws Error (bad database URL, unreachable PostgreSQL, port taken, unreadable faucet mnemonic, …)
 */
export async function startWalletService(options: WalletServiceOptions, deps: WalletServiceDeps): Promise<WalletService> {
  const { params } = options;
  const logger = moduleLogger(deps.logger, 'wallet-service');
  const limits: WalletServiceRateLimits = { ...DEFAULT_RATE_LIMITS, ...options.rateLimits };
  await mkdir(options.datadir, { recursive: true, mode: 0o700 });
  const masterKey = await loadOrCreateSecretFile(join(options.datadir, SERVICE_FILES.masterKey));
  const tokenSecret = await loadOrCreateSecretFile(join(options.datadir, SERVICE_FILES.tokenSecret));
  for (const [name, f] of [[SERVICE_FILES.masterKey, masterKey], [SERVICE_FILES.tokenSecret, tokenSecret]] as const) {
    if (f.tightened) logger.warn({ file: name }, 'secret file was readable by others; its mode is now 0600');
  }
  const client = deps.client ?? new EsploraClient({ baseUrl: options.nodeUrl, ...(deps.fetch ? { fetch: deps.fetch } : {}) });
  const walletDb: WalletDb = await openWalletDb({
    sqlitePath: join(options.datadir, SERVICE_FILES.sqlite),
    ...(options.dbUrl !== undefined ? { url: options.dbUrl } : {}),
    ...(options.pgSchema !== undefined ? { pgSchema: options.pgSchema } : {}),
  });
  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: true,
    bodyLimit: 16 * 1024,
    trustProxy: options.trustProxy ?? false,
    routerOptions: { ignoreTrailingSlash: true },
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  let faucet: Faucet | undefined;
  try {
    faucet = isFaucetNetwork(params)
      ? await Faucet.open(
          {
            params,
            datadir: options.datadir,
            masterKey: masterKey.secret,
            amountSats: options.faucetAmountSats ?? DEFAULT_FAUCET_AMOUNT_SATS,
            ...(options.faucetMnemonicFile !== undefined ? { mnemonicFile: options.faucetMnemonicFile } : {}),
          },
          { client, logger },
        )
      : undefined;
    const { db } = walletDb;
    const wallets = new CustodialWallets(
      { params, masterKey: masterKey.secret, ...(options.gapLimit !== undefined ? { gapLimit: options.gapLimit } : {}) },
      { db, client, logger },
    );
    const tokens = new SessionTokens(tokenSecret.secret, { network: params.name, ttlSec: options.tokenTtlSec ?? DEFAULT_TOKEN_TTL_SEC });
    const idempotency = new IdempotencyStore(db);
    const passwordScrypt = options.passwordScrypt ?? DEFAULT_PASSWORD_SCRYPT;
    // Compared against when the username does not exist, so a login takes as long either way.
    const dummyHash = await hashPassword(randomUUID(), passwordScrypt);

    await app.register(rateLimit, {
      global: limits.global !== false,
      ...(limits.global !== false ? { max: limits.global.max, timeWindow: limits.global.timeWindowMs } : {}),
      errorResponseBuilder: (_req, context) =>
        new ServiceError(429, 'rate-limited', `too many requests: ${context.max} per ${context.after}; retry later`, { retryAfterSec: Math.ceil(context.ttl / 1000) }),
    });
    const faucetPerIp = app.createRateLimit({ max: limits.faucetPerIp.max, timeWindow: limits.faucetPerIp.timeWindowMs, keyGenerator: (req) => `faucet-ip:${req.ip}` });
    const faucetAccountOf = new WeakMap<FastifyRequest, string>();
    const faucetPerAccount = app.createRateLimit({
      max: limits.faucetPerAccount.max,
      timeWindow: limits.faucetPerAccount.timeWindowMs,
      keyGenerator: (req) => `faucet-account:${faucetAccountOf.get(req) ?? ''}`,
    });

    app.setErrorHandler((err: FastifyError | ServiceError | WalletError, req, reply) => {
      let e: ServiceError;
      if (err instanceof ServiceError) e = err;
      else if (err instanceof WalletError) e = serviceErrorOfWalletError(err);
      else if ('validation' in err && err.validation !== undefined) e = new ServiceError(400, 'bad-request', err.message);
      else if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
        const reasons: Record<number, string> = { 413: 'payload-too-large', 415: 'unsupported-media-type', 429: 'rate-limited' };
        e = new ServiceError(err.statusCode, reasons[err.statusCode] ?? 'bad-request', err.message);
      } else e = new ServiceError(500, 'internal', 'internal error');
      if (e.statusCode >= 500 && e.code === 'internal') logger.error({ err, url: req.url }, 'wallet service request failed');
      else if (e.statusCode >= 500) logger.warn({ reason: e.code, msg: e.message, url: req.url }, 'wallet service request failed');
      if (e.statusCode === 401) void reply.header('www-authenticate', 'Bearer');
      if (typeof e.details['retryAfterSec'] === 'number') void reply.header('retry-after', String(e.details['retryAfterSec']));
      return reply.code(e.statusCode).send(e.toBody());
    });
    app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: `no route ${req.method} ${req.url.split('?')[0]}`, reason: 'not-found' }));

    /** The session of the request's bearer token. @throws ServiceError 401 */
    const authenticate = async (req: FastifyRequest): Promise<Session> => {
      const header = req.headers.authorization;
      if (header === undefined) throw new ServiceError(401, 'unauthorized', 'no token: send "Authorization: Bearer <token>" (POST /v1/login gives one)');
      const m = /^Bearer +([A-Za-z0-9._~+/=-]+)$/i.exec(header);
      if (m === null) throw new ServiceError(401, 'unauthorized', 'the Authorization header must be "Bearer <token>"');
      const session = await tokens.verify(m[1]!);
      const row = await db.selectFrom('wallet_accounts').select(['username']).where('id', '=', session.accountId).executeTakeFirst();
      if (row === undefined || row.username !== session.username) throw new ServiceError(401, 'unauthorized', 'the account of this token does not exist');
      return session;
    };
    /** The session, checked to own the wallet named in the path (if any). @throws ServiceError 401 | 403 */
    const authorizeWallet = async (req: FastifyRequest): Promise<Session> => {
      const session = await authenticate(req);
      const named = (req.params as { username?: string } | undefined)?.username;
      if (named !== undefined && named !== session.username) throw new ServiceError(403, 'forbidden', `the wallet of '${named}' is not yours`);
      return session;
    };
    const synced = async <T>(accountId: string, fn: (wallet: Wallet, tipHeight: number) => T): Promise<T> =>
      wallets.withWallet(accountId, async (wallet) => fn(wallet, (await wallet.sync()).tipHeight));

    // Accounts.
    app.post('/v1/register', { schema: { body: CredentialsBody }, config: { rateLimit: { max: limits.register.max, timeWindow: limits.register.timeWindowMs } } }, async (req, reply) => {
      const { username, password } = req.body;
      const taken = () => new ServiceError(409, 'username-taken', `the username '${username}' is taken`);
      if ((await db.selectFrom('wallet_accounts').select('id').where('username', '=', username).executeTakeFirst()) !== undefined) throw taken();
      const [passwordHash, keystore] = await Promise.all([hashPassword(password, passwordScrypt), wallets.createKeystoreJson()]);
      const id = randomUUID();
      const now = nowIso();
      const created = await db.transaction().execute(async (trx) => {
        const r = await trx
          .insertInto('wallet_accounts')
          .values({ id, username, password_hash: passwordHash, created_at: now })
          .onConflict((oc) => oc.column('username').doNothing())
          .executeTakeFirst();
        if (Number(r.numInsertedOrUpdatedRows ?? 0n) !== 1) return false;
        await trx.insertInto('wallet_keystores').values({ account_id: id, network: params.name, keystore, created_at: now }).execute();
        return true;
      });
      if (!created) throw taken();
      logger.info({ username }, 'account registered');
      return reply.code(201).send({ username, network: params.name });
    });

    app.post('/v1/login', { schema: { body: LoginBody }, config: { rateLimit: { max: limits.login.max, timeWindow: limits.login.timeWindowMs } } }, async (req) => {
      const { username, password } = req.body;
      const row = await db.selectFrom('wallet_accounts').select(['id', 'password_hash']).where('username', '=', username).executeTakeFirst();
      const ok = await verifyPassword(password, row?.password_hash ?? dummyHash);
      if (row === undefined || !ok) throw new ServiceError(401, 'unauthorized', 'wrong username or password');
      const { token, expiresAtSec } = await tokens.issue({ accountId: row.id, username });
      return { token, tokenType: 'Bearer', expiresAt: new Date(expiresAtSec * 1000).toISOString(), username };
    });

    // Wallet routes, by token (/v1/wallet/…) and by name (/v1/wallets/:username/…).
    for (const base of ['/v1/wallet', '/v1/wallets/:username']) {
      const params_ = base.includes(':username') ? { params: UsernameParams } : {};
      app.get(base, { schema: { ...params_ } }, async (req) => {
        const session = await authorizeWallet(req);
        return wallets.withWallet(session.accountId, async (wallet) => ({
          username: session.username,
          network: params.name,
          accounts: wallet.getExtendedPublicKeys(),
          addresses: await wallets.readAddresses(session.accountId),
        }));
      });
      app.post(`${base}/address`, { schema: { ...params_ } }, async (req, reply) => {
        const session = await authorizeWallet(req);
        const { address } = await wallets.newAddress(session.accountId);
        return reply.code(201).send({ address });
      });
      app.get(`${base}/balance`, { schema: { ...params_ } }, async (req) => {
        const session = await authorizeWallet(req);
        return synced(session.accountId, (wallet, tipHeight) => {
          const b = wallet.getBalance();
          return {
            confirmedSats: sats(b.confirmed),
            unconfirmedSats: sats(b.unconfirmed),
            immatureSats: sats(b.immature),
            totalSats: sats(b.confirmed + b.unconfirmed + b.immature),
            tipHeight,
          };
        });
      });
      app.get(`${base}/history`, { schema: { ...params_ } }, async (req) => {
        const session = await authorizeWallet(req);
        return synced(session.accountId, (wallet, tipHeight) => ({
          tipHeight,
          txs: wallet.getHistory().map((r) => ({
            txid: r.txid,
            netSats: sats(r.netSats),
            receivedSats: sats(r.receivedSats),
            sentSats: sats(r.sentSats),
            ...(r.feeSats !== undefined ? { feeSats: sats(r.feeSats) } : {}),
            confirmed: r.status.confirmed,
            ...(r.status.blockHeight !== undefined ? { blockHeight: r.status.blockHeight, confirmations: tipHeight - r.status.blockHeight + 1 } : { confirmations: 0 }),
            ...(r.status.blockHash !== undefined ? { blockHash: r.status.blockHash } : {}),
            ...(r.status.blockTimeSec !== undefined ? { blockTimeSec: r.status.blockTimeSec } : {}),
            isCoinbase: r.isCoinbase,
          })),
        }));
      });
      app.post(`${base}/send`, { schema: { ...params_, body: SendBody } }, async (req, reply) => {
        const session = await authorizeWallet(req);
        const key = checkIdempotencyKey(req.headers['idempotency-key']);
        const { address, amountSats, feeRateSatPerVb, allowHighFee } = req.body;
        checkPayableAddress(address, params);
        const result = await send(session.accountId, key, {
          address,
          amountSats,
          ...(feeRateSatPerVb !== undefined ? { feeRateSatPerVb } : {}),
          ...(allowHighFee === true ? { allowHighFee } : {}),
        });
        if (result.replayed) void reply.header('idempotent-replayed', 'true');
        return reply.code(result.status).send(result.body);
      });
    }

    /**
     * Broadcasts a signed payment and stores the outcome under its key; answers what a retry will get too. A payment
     * whose high fee the request allowed goes out with the node's fee-rate ceiling lifted as well.
     */
    const broadcastAndComplete = async (
      accountId: string,
      key: string,
      signed: { txid: string; txHex: string; body: unknown },
      allowHighFee: boolean,
    ): Promise<{ status: number; body: unknown }> => {
      const { txid, txHex, body } = signed;
      try {
        const answered = await client.broadcast(txHex, allowHighFee ? { maxFeeRateSatPerKvb: 0n } : {});
        if (answered !== txid) throw new WalletError('bad-response', `the node answered txid ${answered} for ${txid}`);
      } catch (e) {
        // Refused, perhaps because the node already has it (an earlier attempt got through and was mined since).
        const known = await client.getTx(txid).then(() => true, () => false);
        if (!known) {
          if (isWalletError(e, 'http-error')) {
            const refused = new ServiceError(422, 'tx-rejected', `the node refused the payment: ${e.message}`);
            await idempotency.complete(accountId, key, refused.statusCode, refused.toBody());
            throw refused;
          }
          idempotency.leave(accountId, key);
          throw new ServiceError(503, 'node-unavailable', `payment ${txid} is signed but not broadcast (${e instanceof Error ? e.message : String(e)}); retry with the same Idempotency-Key`);
        }
      }
      await idempotency.complete(accountId, key, 200, body);
      logger.info({ account: accountId, txid }, 'payment sent');
      return { status: 200, body };
    };

    /** An idempotent payment (see idempotency.ts). */
    const send = async (
      accountId: string,
      key: string,
      request: { address: string; amountSats: number; feeRateSatPerVb?: number; allowHighFee?: boolean },
    ): Promise<{ status: number; body: unknown; replayed: boolean }> => {
      // The request hash covers allowHighFee, so a replay of a signed payment carries the same answer to it.
      const allowHighFee = request.allowHighFee === true;
      const reservation = await idempotency.reserve(accountId, key, computeRequestHash({ op: 'send', ...request }));
      if (reservation.kind === 'replay') return { status: reservation.status, body: reservation.body, replayed: true };
      return wallets.withWallet(accountId, async (wallet) => {
        if (reservation.kind === 'signed') {
          return { ...(await broadcastAndComplete(accountId, key, reservation, allowHighFee)), replayed: true };
        }
        let signed: Awaited<ReturnType<Wallet['createPayment']>>;
        let body: Record<string, unknown>;
        try {
          await wallet.sync();
          signed = await wallet.createPayment({
            to: request.address,
            amountSats: BigInt(request.amountSats),
            ...(request.feeRateSatPerVb !== undefined ? { feeRateSatPerVb: request.feeRateSatPerVb } : {}),
            allowHighFee,
          });
          body = {
            txid: signed.txid,
            address: request.address,
            amountSats: request.amountSats,
            feeSats: sats(signed.feeSats),
            feeRateSatPerVb: Math.round(signed.feeRateSatPerVb * 1000) / 1000,
            vsize: signed.vsize,
          };
          await idempotency.recordSigned(accountId, key, { txid: signed.txid, txHex: signed.hex, body });
        } catch (e) {
          // Nothing signed was stored: the key may be used again.
          await idempotency.release(accountId, key).catch(() => undefined);
          if (isWalletError(e, 'insufficient-funds')) throw insufficientFunds(e, wallet);
          throw e;
        }
        return { ...(await broadcastAndComplete(accountId, key, { txid: signed.txid, txHex: signed.hex, body }, allowHighFee)), replayed: false };
      });
    };

    // Faucet.
    const faucetDisabled = () => new ServiceError(403, 'faucet-disabled', `the faucet runs on ${FAUCET_NETWORKS.join(' and ')} only; this service runs ${params.name}`);
    app.get('/v1/faucet', async () => {
      if (faucet === undefined) return { enabled: false, network: params.name, reason: faucetDisabled().message };
      const b = await faucet.readBalance();
      return {
        enabled: true,
        network: params.name,
        address: faucet.address,
        amountSats: sats(faucet.amountSats),
        balance: { confirmedSats: sats(b.confirmed), unconfirmedSats: sats(b.unconfirmed), immatureSats: sats(b.immature) },
      };
    });
    app.post('/v1/faucet', {
      schema: { body: FaucetBody },
      // No body at all is fine: pay a fresh address of the caller.
      preValidation: async (req) => {
        if (req.body === undefined || req.body === null) req.body = {};
      },
    }, async (req) => {
      if (faucet === undefined) throw faucetDisabled();
      const session = await authenticate(req);
      const given = req.body.address;
      if (given !== undefined) checkPayableAddress(given, params);
      await checkLimit(req, faucetPerIp, 'from this address');
      faucetAccountOf.set(req, session.accountId);
      await checkLimit(req, faucetPerAccount, 'for this account');
      const to = given ?? (await wallets.newAddress(session.accountId)).address;
      const paid = await faucet.pay(to);
      logger.info({ account: session.accountId, txid: paid.txid }, 'faucet paid');
      return { txid: paid.txid, address: to, amountSats: sats(faucet.amountSats), feeSats: sats(paid.feeSats) };
    });
    app.get('/v1/chain', async () => readChainSummary({ baseUrl: options.nodeUrl, network: params.name, ...(deps.fetch ? { fetch: deps.fetch } : {}) }, client));

    await app.listen({ host: options.host ?? '127.0.0.1', port: options.port });
  } catch (err) {
    await app.close();
    await walletDb.close();
    throw err;
  }

  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const host = options.host ?? '127.0.0.1';
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info({ url, db: walletDb.description, faucet: faucet?.address }, 'wallet service listening');
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    faucetAddress: faucet?.address,
    faucetSource: faucet?.source,
    dbDescription: walletDb.description,
    close(): Promise<void> {
      closing ??= (async () => {
        await app.close();
        await walletDb.close();
      })();
      return closing;
    },
  };
}

/** insufficient-funds with what the wallet holds: received coins are spendable once confirmed (own change at once). */
function insufficientFunds(e: WalletError, wallet: Wallet): ServiceError {
  const b = wallet.getBalance();
  const waiting = [
    ...(b.unconfirmed > 0n ? [`${b.unconfirmed} sats unconfirmed (spendable once confirmed)`] : []),
    ...(b.immature > 0n ? [`${b.immature} sats of immature coinbase`] : []),
  ];
  return new ServiceError(422, 'insufficient-funds', `${e.message}${waiting.length > 0 ? `; the wallet also has ${waiting.join(' and ')}` : ''}`, {
    ...(e.shortfallSats !== undefined ? { shortfallSats: sats(e.shortfallSats) } : {}),
    confirmedSats: sats(b.confirmed),
    unconfirmedSats: sats(b.unconfirmed),
  });
}

/** Applies one rate limiter to a request. @throws ServiceError 429 rate-limited */
async function checkLimit(
  req: FastifyRequest,
  limiter: (req: FastifyRequest) => Promise<{ isAllowed: true } | { isAllowed: false; isExceeded: boolean; max: number; ttlInSeconds: number }>,
  what: string,
): Promise<void> {
  const r = await limiter(req);
  if (!r.isAllowed && r.isExceeded) {
    throw new ServiceError(429, 'rate-limited', `faucet limit reached ${what}: ${r.max} requests per window; retry in ${r.ttlInSeconds} s`, { retryAfterSec: r.ttlInSeconds });
  }
}
