/**
 * What the gateway's route modules share: the exchange service, the formatter, the account store, the tokens, the
 * request helpers (parameters, authentication with per-key rate limits) and the listen keys of user streams.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ExchangeService } from '../exchangeService.js';
import type { ExchangeNetwork } from '../exchangeConfig.js';
import type { AccountStore } from './accountStore.js';
import type { BinanceFormat } from './binanceFormat.js';
import { GatewayError, unauthorized } from './gatewayError.js';
import { checkSignedRequest, type Caller, type GatewayTokens } from './requestAuth.js';
import { RequestParams } from './requestParams.js';

/** A request budget: at most `max` per `timeWindowMs`. */
export interface RateLimit {
  readonly max: number;
  readonly timeWindowMs: number;
}

/** One entry of exchangeInfo's `rateLimits`, Binance's shape. @see binance-spot-api-docs rest-api.md "ENUM definitions" (Rate limiters, Rate limit intervals) */
export interface BinanceRateLimit {
  readonly rateLimitType: 'REQUEST_WEIGHT' | 'ORDERS' | 'RAW_REQUESTS';
  readonly interval: 'SECOND' | 'MINUTE' | 'HOUR' | 'DAY';
  readonly intervalNum: number;
  readonly limit: number;
}

const INTERVAL_UNITS = [['DAY', 86_400_000], ['HOUR', 3_600_000], ['MINUTE', 60_000], ['SECOND', 1_000]] as const;

/**
 * A limiter's budget as a Binance `rateLimits` entry: the largest interval unit that divides its window exactly
 * (10,000 ms = 10 SECOND, 60,000 ms = 1 MINUTE); a window that is not a whole number of seconds is shown rounded up
 * to whole seconds (a client keeping to the longer window keeps to the real one).
 */
export function binanceRateLimit(rateLimitType: BinanceRateLimit['rateLimitType'], limit: RateLimit): BinanceRateLimit {
  for (const [interval, ms] of INTERVAL_UNITS) {
    if (limit.timeWindowMs % ms === 0) return { rateLimitType, interval, intervalNum: limit.timeWindowMs / ms, limit: limit.max };
  }
  return { rateLimitType, interval: 'SECOND', intervalNum: Math.ceil(limit.timeWindowMs / 1000), limit: limit.max };
}

/** A refusal for going over a rate limit: 429, -1003, with the seconds to wait (sent as Retry-After). */
export class RateLimitedError extends GatewayError {
  constructor(
    readonly retryAfterSec: number,
    what: string,
  ) {
    super(429, -1003, `Too many requests; ${what}. Retry after ${retryAfterSec} s.`);
  }
}

/** Fixed-window counters per key (API key or user), bounded: the map is cleared when a window ends. */
export class WindowCounter {
  private windowStartMs = 0;
  private counts = new Map<string, number>();

  constructor(private readonly limit: RateLimit) {}

  /** Counts one request of `key` at `nowMs`. @throws RateLimitedError when over the limit */
  hit(key: string, nowMs: number, what: string): void {
    if (nowMs - this.windowStartMs >= this.limit.timeWindowMs) {
      this.windowStartMs = nowMs - (nowMs % this.limit.timeWindowMs);
      this.counts = new Map();
    }
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    if (n > this.limit.max) {
      throw new RateLimitedError(Math.max(1, Math.ceil((this.windowStartMs + this.limit.timeWindowMs - nowMs) / 1000)), `${what}: ${this.limit.max} per ${this.limit.timeWindowMs / 1000} s`);
    }
  }
}

/** A user data stream's listen key: whose it is and until when it lives (60 min after the last keepalive). */
interface ListenKey {
  readonly userId: number;
  expiresAtMs: number;
}

/** Listen keys of user data streams (Binance `POST /api/v3/userDataStream`), in memory, bounded per user. */
export class ListenKeys {
  static readonly TTL_MS = 60 * 60_000;
  private readonly keys = new Map<string, ListenKey>();
  private readonly closers = new Map<string, Set<() => void>>();

  /** The user's live key (Binance returns the same one while it lives), or a new one. */
  create(userId: number, nowMs: number): string {
    for (const [k, v] of this.keys) {
      if (v.expiresAtMs <= nowMs) this.remove(k);
      else if (v.userId === userId) {
        v.expiresAtMs = nowMs + ListenKeys.TTL_MS;
        return k;
      }
    }
    const key = randomBytes(30).toString('base64url');
    this.keys.set(key, { userId, expiresAtMs: nowMs + ListenKeys.TTL_MS });
    return key;
  }

  /** The user of a live key, or undefined. */
  userOf(key: string, nowMs: number): number | undefined {
    const v = this.keys.get(key);
    return v !== undefined && v.expiresAtMs > nowMs ? v.userId : undefined;
  }

  /** Extends the user's key by 60 min. @throws GatewayError -1125 when it is not the user's live key */
  keepAlive(key: string, userId: number, nowMs: number): void {
    const v = this.keys.get(key);
    if (v === undefined || v.userId !== userId || v.expiresAtMs <= nowMs) throw new GatewayError(400, -1125, 'This listenKey does not exist.');
    v.expiresAtMs = nowMs + ListenKeys.TTL_MS;
  }

  /** Registers a stream to close when its key is closed; returns the unregister function. */
  onClose(key: string, close: () => void): () => void {
    let set = this.closers.get(key);
    if (set === undefined) this.closers.set(key, (set = new Set()));
    set.add(close);
    return () => set.delete(close);
  }

  /** Closes the user's key and its streams. @throws GatewayError -1125 */
  close(key: string, userId: number): void {
    const v = this.keys.get(key);
    if (v === undefined || v.userId !== userId) throw new GatewayError(400, -1125, 'This listenKey does not exist.');
    this.remove(key);
  }

  /** Removes expired keys; their streams get `listenKeyExpired` and are closed. */
  sweep(nowMs: number): void {
    for (const [k, v] of this.keys) if (v.expiresAtMs <= nowMs) this.remove(k);
  }

  private remove(key: string): void {
    this.keys.delete(key);
    for (const c of this.closers.get(key) ?? []) c();
    this.closers.delete(key);
  }
}

/** Shared state of the route modules. */
export interface GatewayContext {
  readonly service: ExchangeService;
  readonly network: ExchangeNetwork;
  readonly format: BinanceFormat;
  readonly store: AccountStore;
  readonly tokens: GatewayTokens;
  readonly listenKeys: ListenKeys;
  /** Per API key (or per user for tokens) request budget. */
  readonly perKey: WindowCounter | undefined;
  /**
   * The limiters' budgets as exchangeInfo shows them: REQUEST_WEIGHT = the per-IP limiter (every request weighs 1),
   * ORDERS = the per-key limiter (it counts every private request of the key, orders included, so a client that keeps
   * its orders and its other private requests under it is never refused). A limiter that is off has no entry.
   */
  readonly rateLimits: readonly BinanceRateLimit[];
  /** The clock, ms. */
  readonly nowMs: () => number;
}

/** The raw query string of a request ('' when none). */
export function rawQuery(req: FastifyRequest): string {
  const i = req.url.indexOf('?');
  return i < 0 ? '' : req.url.slice(i + 1);
}

/** The raw form body of a request ('' when none or JSON). */
export function rawFormBody(req: FastifyRequest): string {
  return typeof req.body === 'string' ? req.body : '';
}

/**
 * The request decoration that hands the parameters authenticate() already parsed to the route's paramsOf() call, once
 * (PERF: one parse per request). A decoration (declared on the app by decorateParsedParams, so every request object
 * has the slot from its construction and keeps one shape) instead of a WeakMap keyed by the request: a WeakMap entry
 * per request cost a hash-table insert and delete on the event loop plus ephemeron work in every GC.
 */
const PARSED_PARAMS = 'cairnParsedParams';

declare module 'fastify' {
  interface FastifyRequest {
    /** Parameters authenticate() parsed, for the route's paramsOf() (gatewayContext.ts); null once taken or when none. */
    cairnParsedParams: RequestParams | null;
  }
}

/** Declares the request slot paramsOf() reads; call once on the root instance before any route is registered. */
export function decorateParsedParams(app: FastifyInstance): void {
  app.decorateRequest(PARSED_PARAMS, null);
}

/** The request's parameters: query string, then a form or JSON body. @throws GatewayError -1101 | -1100 */
export function paramsOf(req: FastifyRequest): RequestParams {
  const parsed = req.cairnParsedParams;
  if (parsed !== null && parsed !== undefined) {
    req.cairnParsedParams = null;
    return parsed;
  }
  const sources: Array<string | Record<string, unknown>> = [rawQuery(req)];
  if (typeof req.body === 'string') sources.push(req.body);
  else if (typeof req.body === 'object' && req.body !== null && !Array.isArray(req.body)) sources.push(req.body as Record<string, unknown>);
  return new RequestParams(sources);
}

const BEARER_RE = /^Bearer +([A-Za-z0-9._~+/=-]+)$/i;

/**
 * Authenticates a private request: `Authorization: Bearer <jwt>`, or `X-MBX-APIKEY` with a signature (`signed`) or
 * without (Binance USER_STREAM routes). Counts it against the per-key budget. `trade` requires TRADE permission.
 * @throws GatewayError 401 -2015/-2014 | 400 -1022/-1021/-1102 | 429 -1003
 */
export async function authenticate(ctx: GatewayContext, req: FastifyRequest, mode: { signed: boolean; trade?: boolean }): Promise<Caller> {
  const now = ctx.nowMs();
  const auth = req.headers.authorization;
  const apiKey = req.headers['x-mbx-apikey'];
  let caller: Caller;
  if (typeof auth === 'string' && auth !== '') {
    const m = BEARER_RE.exec(auth);
    if (m === null) throw unauthorized('the Authorization header must be "Bearer <token>"');
    const userId = await ctx.tokens.verify(m[1]!);
    caller = { userId, via: 'token', apiKey: '', permission: 'TRADE' };
  } else if (typeof apiKey === 'string') {
    if (mode.signed) {
      // The signature covers the query string and a form body; parameters in a JSON body would ride unsigned.
      if (typeof req.body === 'object' && req.body !== null && Object.keys(req.body).length > 0) {
        throw new GatewayError(400, -1022, 'Signature for this request is not valid: a signed request sends its parameters in the query string or a form body, not JSON.');
      }
      // The route reads the same parameters next: parse them once here. Malformed ones (-1101, -1100) are the route's
      // to refuse, after authentication, as before; the two values needed here are then read leniently.
      let parsed: RequestParams | undefined;
      try {
        parsed = paramsOf(req);
      } catch {
        parsed = undefined;
      }
      let timestamp: string | undefined;
      let recvWindow: string | undefined;
      if (parsed !== undefined) {
        req.cairnParsedParams = parsed;
        timestamp = parsed.peek('timestamp');
        recvWindow = parsed.peek('recvWindow');
      } else {
        const p = new URLSearchParams(rawQuery(req) + '&' + rawFormBody(req));
        timestamp = p.get('timestamp') ?? undefined;
        recvWindow = p.get('recvWindow') ?? undefined;
      }
      caller = checkSignedRequest(ctx.store, { apiKey, query: rawQuery(req), body: rawFormBody(req), timestamp, recvWindow }, now);
    } else {
      const key = /^[A-Za-z0-9]{1,128}$/.test(apiKey) ? ctx.store.liveKey(apiKey) : undefined;
      if (key === undefined) throw unauthorized('unknown or revoked API key');
      caller = { userId: key.userId, via: 'apiKey', apiKey, permission: key.permission };
    }
  } else {
    throw unauthorized('send X-MBX-APIKEY with a signed request, or Authorization: Bearer <token> from POST /v1/login');
  }
  if (mode.trade === true && caller.permission !== 'TRADE') throw unauthorized('this API key may only read');
  ctx.perKey?.hit(caller.apiKey !== '' ? `k:${caller.apiKey}` : `u:${caller.userId}`, now, caller.apiKey !== '' ? 'per API key' : 'per user');
  return caller;
}
