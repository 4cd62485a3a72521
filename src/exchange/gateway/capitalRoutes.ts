/**
 * Deposits and withdrawals of the chain's coin over REST: the chain bridge's routes (bridge/bridgeRoutes.ts) mounted in
 * the gateway, each signed like the other private routes (API key with an HMAC signature, or a bearer token from
 * `POST /v1/login`); the user id comes from the authentication only, never from a parameter.
 *   GET  /v1/deposit/address            (GET  /sapi/v1/capital/deposit/address)   coin?, network?
 *   GET  /v1/deposits                   (GET  /sapi/v1/capital/deposit/hisrec)    coin?, limit?
 *   POST /v1/withdrawals                (POST /sapi/v1/capital/withdraw/apply)    coin?, network?, address, amount, withdrawOrderId
 *   GET  /v1/withdrawals                (GET  /sapi/v1/capital/withdraw/history)  coin?, limit?
 *   GET  /v1/capital/config             (GET  /sapi/v1/capital/config/getall)
 *   GET  /v1/account/liabilities-proof
 * A bridge refusal answers its BridgeRouteError's status and Binance code (-1102 malformed or another network's
 * address, -1130 client id reused with other terms, -2010 refused). When the exchange runs without a bridge (no
 * `--node-url`) every route answers 503 with -1001 and says so. Credits and withdrawals reach the user stream as
 * `balanceUpdate` through the engine's balance events (streamRoutes.ts), not here.
 * @see binance-spot-api-docs wallet endpoints (deposit address, deposit history, withdraw, withdraw history, all coins)
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  BridgeRouteError,
  capitalConfigRoute,
  depositAddressRoute,
  depositHistoryRoute,
  liabilitiesProofRoute,
  withdrawHistoryRoute,
  withdrawRoute,
} from '../bridge/bridgeRoutes.js';
import { readLiabilitiesSalt, type ExchangeBridge } from '../bridge/exchangeBridge.js';
import { authenticate, paramsOf, type GatewayContext } from './gatewayContext.js';
import { GatewayError, invalidParam } from './gatewayError.js';
import type { RequestParams } from './requestParams.js';

const AUTH_PARAMS = ['timestamp', 'recvWindow', 'signature'] as const;
/** The one coin the bridge moves. */
const COIN_RE = /^[A-Z0-9]{2,10}$/;
/** Most history rows one request returns (Binance's default and cap for deposit history is 1000). */
const HISTORY_LIMIT_MAX = 1_000;

/** 503 -1001: the exchange runs without the chain bridge. */
export function bridgeNotConfigured(): GatewayError {
  return new GatewayError(503, -1001, 'Deposits and withdrawals are not available: this exchange runs without the chain bridge (start it with --node-url <Esplora URL of a node>).');
}

/** What the capital routes run on: the bridge (undefined without --node-url) and the exchange's data dir (the proof salt). */
export interface CapitalRoutesOptions {
  readonly bridge: ExchangeBridge | undefined;
  readonly datadir: string;
}

/** Runs a bridge route, mapping its BridgeRouteError to the gateway's error (same status, code, message). */
async function bridged<T>(f: () => T | Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    if (err instanceof BridgeRouteError) throw new GatewayError(err.httpStatus, err.code, err.message);
    throw err;
  }
}

/**
 * Registers the capital routes (see the file header) on the gateway.
 * @param options.bridge the running bridge, or undefined (the routes then answer 503 -1001)
 */
export function registerCapitalRoutes(app: FastifyInstance, ctx: GatewayContext, options: CapitalRoutesOptions): void {
  const { bridge } = options;
  const signed = async (req: FastifyRequest, trade = false): Promise<{ userId: number; p: RequestParams; bridge: ExchangeBridge }> => {
    // Said before authentication: whether the exchange runs a bridge is public (the web UI asks without a session).
    if (bridge === undefined) throw bridgeNotConfigured();
    const caller = await authenticate(ctx, req, { signed: true, trade });
    const p = paramsOf(req);
    p.ignore(...AUTH_PARAMS);
    return { userId: caller.userId, p, bridge };
  };
  /** `coin` (default CRN) and `network` (default this exchange's): others are refused with -1130. */
  const readCoin = (p: RequestParams): string => {
    const coin = p.optString('coin', COIN_RE) ?? 'CRN';
    if (coin !== 'CRN') throw invalidParam('coin', `${coin} has no deposits or withdrawals here (only CRN)`);
    return coin;
  };
  const readNetwork = (p: RequestParams): void => {
    const network = p.optString('network', /^[A-Za-z0-9_-]{1,20}$/);
    if (network !== undefined && network.toLowerCase() !== ctx.network) throw invalidParam('network', `this exchange moves CRN on ${ctx.network} only`);
  };
  const readLimit = (p: RequestParams): number => p.optInt('limit', 1, HISTORY_LIMIT_MAX) ?? HISTORY_LIMIT_MAX;

  const depositAddress = async (req: FastifyRequest): Promise<Record<string, unknown>> => {
    const { userId, p, bridge: b } = await signed(req);
    const coin = readCoin(p);
    readNetwork(p);
    p.done();
    return bridged(() => depositAddressRoute(b, userId, coin));
  };
  app.get('/v1/deposit/address', depositAddress);
  app.get('/sapi/v1/capital/deposit/address', depositAddress);

  const deposits = async (req: FastifyRequest): Promise<Array<Record<string, unknown>>> => {
    const { userId, p, bridge: b } = await signed(req);
    readCoin(p);
    const limit = readLimit(p);
    p.done();
    return bridged(() => depositHistoryRoute(b, userId).slice(0, limit));
  };
  app.get('/v1/deposits', deposits);
  app.get('/sapi/v1/capital/deposit/hisrec', deposits);

  const withdraw = async (req: FastifyRequest): Promise<Record<string, unknown>> => {
    const { userId, p, bridge: b } = await signed(req, true);
    readCoin(p);
    readNetwork(p);
    const address = p.string('address', /^[a-zA-Z0-9]{14,90}$/);
    const amount = p.string('amount', /^\d{1,12}(\.\d{1,8})?$/);
    const withdrawOrderId = p.string('withdrawOrderId', /^[A-Za-z0-9_.:-]{1,64}$/);
    p.done();
    return bridged(() => withdrawRoute(b, userId, { address, amount, withdrawOrderId }));
  };
  app.post('/v1/withdrawals', withdraw);
  app.post('/sapi/v1/capital/withdraw/apply', withdraw);

  const withdrawals = async (req: FastifyRequest): Promise<Array<Record<string, unknown>>> => {
    const { userId, p, bridge: b } = await signed(req);
    readCoin(p);
    const limit = readLimit(p);
    p.done();
    return bridged(() => withdrawHistoryRoute(b, userId).slice(0, limit));
  };
  app.get('/v1/withdrawals', withdrawals);
  app.get('/sapi/v1/capital/withdraw/history', withdrawals);

  const config = async (req: FastifyRequest): Promise<Array<Record<string, unknown>>> => {
    const { p, bridge: b } = await signed(req);
    p.done();
    return bridged(() => capitalConfigRoute(b, ctx.network));
  };
  app.get('/v1/capital/config', config);
  app.get('/sapi/v1/capital/config/getall', config);

  app.get('/v1/account/liabilities-proof', async (req) => {
    const { userId, p } = await signed(req);
    p.done();
    return bridged(() => liabilitiesProofRoute(ctx.service.getHoldings('CRN'), readLiabilitiesSalt(options.datadir), userId));
  });
}
