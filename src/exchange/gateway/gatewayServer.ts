/**
 * The exchange's HTTP + WebSocket gateway on Binance spot conventions (fastify): public market routes, signed trading
 * and account routes, cairn's account/key/faucet/admin routes under `/v1/`, deposits and withdrawals of CRN through the
 * chain bridge (capitalRoutes.ts, also under Binance's `/sapi/v1/capital/`), and market and user streams under `/ws/`
 * and `/stream`. Errors are Binance's `{code, msg}` (gatewayError.ts); bad input never gets a 500, and an unexpected
 * failure answers -1000 without internal detail (the detail goes to the log). Rate limits: per client IP
 * (@fastify/rate-limit) and per API key / user (gatewayContext.ts), both 429 with -1003 and Retry-After.
 * Data dir files: `gateway.sqlite` (users, API keys, token secret), `admin.token` (0600: the admin routes' token).
 * @see binance-spot-api-docs rest-api.md, web-socket-streams.md, errors.md
 */
import { randomBytes } from 'node:crypto';
import { constants, existsSync, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import rateLimit from '@fastify/rate-limit';
import websocket from '@fastify/websocket';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError } from 'fastify';
import type { Logger } from 'pino';
import { DEFAULT_PASSWORD_SCRYPT, type PasswordScryptParams } from '../../crypto/passwordHash.js';
import { ExchangeError } from '../exchangeError.js';
import type { ExchangeService } from '../exchangeService.js';
import type { ExchangeBridge } from '../bridge/exchangeBridge.js';
import type { ExchangeNetwork } from '../exchangeConfig.js';
import { AccountStore } from './accountStore.js';
import { registerAccountRoutes } from './accountRoutes.js';
import { registerCapitalRoutes } from './capitalRoutes.js';
import { BinanceFormat } from './binanceFormat.js';
import { binanceRateLimit, decorateParsedParams, ListenKeys, RateLimitedError, WindowCounter, type BinanceRateLimit, type GatewayContext, type RateLimit } from './gatewayContext.js';
import { GatewayError } from './gatewayError.js';
import { registerPublicRoutes } from './publicRoutes.js';
import { GatewayTokens } from './requestAuth.js';
import { registerStreamRoutes, type StreamOptions, type StreamStats } from './streamRoutes.js';
import { registerTradingRoutes } from './tradingRoutes.js';

/** Files of the gateway in the exchange's data dir. */
export const GATEWAY_FILES = Object.freeze({ accounts: 'gateway.sqlite', adminToken: 'admin.token' });

/** Options of the gateway (plain values the CLI maps its flags onto). */
export interface GatewayOptions {
  readonly network: ExchangeNetwork;
  /** The exchange's data dir (accounts and the admin token file live there). */
  readonly datadir: string;
  /** Interface (default 127.0.0.1). */
  readonly host?: string;
  /** TCP port; 0 = an ephemeral one. */
  readonly port: number;
  /** Admin token file (default `<datadir>/admin.token`, made with a random token on first start, mode 0600). */
  readonly adminTokenFile?: string;
  /** Login token lifetime, s (default 3,600). */
  readonly tokenTtlSec?: number;
  /** scrypt cost of password hashes (default N = 2^15, r = 8, p = 1). */
  readonly passwordScrypt?: PasswordScryptParams;
  /** Requests per client IP (default 6,000 a minute, Binance's request weight budget); false = none. */
  readonly perIpLimit?: RateLimit | false;
  /** Private requests per API key or user (default 3,000 per 10 s); false = none. */
  readonly perKeyLimit?: RateLimit | false;
  /** Faucet requests per user (default 20 an hour). */
  readonly faucetPerUser?: RateLimit;
  /** Stream options (ping interval, slow-consumer bound). */
  readonly streams?: Partial<StreamOptions>;
  /** Take client IPs from X-Forwarded-For (behind a reverse proxy). */
  readonly trustProxy?: boolean;
  /** The clock, ms (default Date.now). */
  readonly nowMs?: () => number;
}

/** What the gateway runs on. */
export interface GatewayDeps {
  readonly service: ExchangeService;
  readonly logger: Logger;
  /**
   * The chain bridge for the deposit and withdrawal routes (capitalRoutes.ts); without it those routes answer 503
   * -1001 (the exchange runs without --node-url). The bridge is the caller's to start and close.
   */
  readonly bridge?: ExchangeBridge;
}

/** A running gateway. */
export interface Gateway {
  /** `http://host:port` */
  readonly url: string;
  /** `ws://host:port` */
  readonly wsUrl: string;
  readonly port: number;
  /** Path of the admin token file. */
  readonly adminTokenFile: string;
  /** Stream counters. */
  streamStats(): StreamStats;
  /** Stops listening and closes streams and the account store (the exchange service is the caller's). */
  close(): Promise<void>;
}

/**
 * Reads the admin token file, creating it with a random 32-byte hex token (mode 0600, exclusive create) if missing.
 * @throws Error when the file holds no token
 */
export async function loadOrCreateAdminToken(path: string): Promise<string> {
  if (!existsSync(path)) {
    try {
      const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      try {
        await fh.writeFile(`${randomBytes(32).toString('hex')}\n`, 'utf8');
        await fh.sync();
      } finally {
        await fh.close();
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const token = readFileSync(path, 'utf8').trim();
  if (!/^[\x21-\x7e]{16,256}$/.test(token)) throw new Error(`${path} does not hold an admin token (16..256 printable characters)`);
  return token;
}

/** Maps an error to the Binance answer: GatewayError as is, engine query errors to -11xx, others to -1000. */
function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  if (err instanceof ExchangeError) {
    switch (err.code) {
      case 'BAD_QUERY':
        if (err.message.startsWith('invalid symbol')) return new GatewayError(400, -1121, 'Invalid symbol.');
        if (err.message.startsWith('invalid interval')) return new GatewayError(400, -1120, 'Invalid interval.');
        return new GatewayError(400, -1130, `Invalid data sent for a parameter: ${err.message}.`);
      case 'BAD_COMMAND':
        return new GatewayError(400, -1102, `Mandatory parameter was not sent, was empty/null, or malformed: ${err.message}.`);
      case 'BUSY':
        return new GatewayError(503, -1008, 'Server is currently overloaded with other requests. Please try again in a few minutes.');
      case 'CLOSED':
        return new GatewayError(503, -1001, 'Internal error; unable to process your request. Please try again.');
      default:
        return new GatewayError(500, -1000, 'An unknown error occurred while processing the request.');
    }
  }
  const fe = err as Partial<FastifyError>;
  if (fe.validation !== undefined) return new GatewayError(400, -1102, `Mandatory parameter was not sent, was empty/null, or malformed: ${fe.message ?? ''}`);
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    if (fe.statusCode === 413) return new GatewayError(413, -1101, 'Too many parameters sent for this endpoint.');
    if (fe.statusCode === 415) return new GatewayError(415, -1100, 'Illegal characters found in a parameter: send application/x-www-form-urlencoded or application/json.');
    return new GatewayError(400, -1100, `Illegal characters found in a parameter: ${fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || /JSON/i.test(fe.message ?? '') ? 'the body is not valid JSON' : 'malformed request'}.`);
  }
  return new GatewayError(500, -1000, 'An unknown error occurred while processing the request.');
}

/**
 * Starts the gateway on a running exchange service: opens the account store and the admin token, registers the
 * routes and streams, and listens.
 * @throws Error (port taken, unreadable admin token file, account store cannot be opened)
 */
export async function startGateway(options: GatewayOptions, deps: GatewayDeps): Promise<Gateway> {
  const logger = deps.logger.child({ module: 'exchange-gateway' });
  const nowMs = options.nowMs ?? Date.now;
  const adminTokenFile = options.adminTokenFile ?? join(options.datadir, GATEWAY_FILES.adminToken);
  const adminToken = await loadOrCreateAdminToken(adminTokenFile);
  const store = AccountStore.open(join(options.datadir, GATEWAY_FILES.accounts));
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    // No per-request child logger (it showed in the profile): errors are logged with the URL by the error handler.
    childLoggerFactory: (parent) => parent,
    forceCloseConnections: true,
    bodyLimit: 16 * 1024,
    trustProxy: options.trustProxy ?? false,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // A request Node's HTTP parser cannot read still gets Binance's shape; the connection is closed after it.
    clientErrorHandler: (_err, socket) => {
      if (!socket.writable) return;
      const body = '{"code":-1100,"msg":"Illegal characters found in a parameter: malformed HTTP request."}';
      socket.end(`HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    },
  });
  try {
    const keyLimit = options.perKeyLimit === false ? undefined : (options.perKeyLimit ?? { max: 3_000, timeWindowMs: 10_000 });
    const perKey = keyLimit === undefined ? undefined : new WindowCounter(keyLimit);
    const ipLimit = options.perIpLimit ?? { max: 6_000, timeWindowMs: 60_000 };
    const rateLimits: BinanceRateLimit[] = [];
    if (ipLimit !== false) rateLimits.push(binanceRateLimit('REQUEST_WEIGHT', ipLimit));
    if (keyLimit !== undefined) rateLimits.push(binanceRateLimit('ORDERS', keyLimit));
    const ctx: GatewayContext = {
      service: deps.service,
      network: options.network,
      format: new BinanceFormat(deps.service.engine),
      store,
      tokens: new GatewayTokens(store.tokenSecret(), options.network, options.tokenTtlSec ?? 3_600),
      listenKeys: new ListenKeys(),
      perKey,
      rateLimits,
      nowMs,
    };
    decorateParsedParams(app);
    // Binance clients send form bodies; the raw text is kept for the signature (query string + body).
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    app.setErrorHandler((err: unknown, req, reply) => {
      const e = toGatewayError(err);
      if (e.statusCode >= 500) logger.error({ err, url: req.url.split('?')[0] }, 'gateway request failed');
      if (e instanceof RateLimitedError) void reply.header('retry-after', String(e.retryAfterSec));
      return reply.code(e.statusCode).send(e.toBody());
    });
    app.setNotFoundHandler((req, reply) => reply.code(404).send({ code: -1000, msg: `No route ${req.method} ${req.url.split('?')[0]}.` }));
    if (ipLimit !== false) {
      await app.register(rateLimit, {
        global: true,
        max: ipLimit.max,
        timeWindow: ipLimit.timeWindowMs,
        errorResponseBuilder: (_req, c) => new RateLimitedError(Math.max(1, Math.ceil(c.ttl / 1000)), `per IP: ${c.max} per ${c.after}`),
      });
    }
    await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
    registerPublicRoutes(app, ctx);
    registerTradingRoutes(app, ctx);
    await registerAccountRoutes(app, ctx, {
      passwordScrypt: options.passwordScrypt ?? DEFAULT_PASSWORD_SCRYPT,
      adminToken,
      faucetPerUser: options.faucetPerUser ?? { max: 20, timeWindowMs: 3_600_000 },
    });
    registerCapitalRoutes(app, ctx, { bridge: deps.bridge, datadir: options.datadir });
    const streams = registerStreamRoutes(app, ctx, options.streams ?? {}, logger);
    await app.listen({ host: options.host ?? '127.0.0.1', port: options.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : options.port;
    const host = options.host ?? '127.0.0.1';
    const shown = host.includes(':') ? `[${host}]` : host;
    let closing: Promise<void> | undefined;
    return {
      url: `http://${shown}:${port}`,
      wsUrl: `ws://${shown}:${port}`,
      port,
      adminTokenFile,
      streamStats: () => streams.stats(),
      close: () =>
        (closing ??= (async () => {
          streams.close();
          await app.close();
          store.close();
        })()),
    };
  } catch (err) {
    await app.close().catch(() => undefined);
    store.close();
    throw err;
  }
}
