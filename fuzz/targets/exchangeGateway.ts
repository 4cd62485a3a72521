/**
 * Fuzz target `exchange-gateway`: the exchange's Binance-style gateway (fastify in this process on a real exchange
 * service in a temp dir, requests over loopback). Requests follow the route table with Binance parameters drawn from
 * valid values, near misses and junk, signed correctly with a funded user's API key (or not, or with a token),
 * in the query string, a form body or a JSON body. Property: never a 5xx; every error is Binance's `{code, msg}`
 * with a negative code; no answer carries an internal message.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ExchangeService } from '../../src/exchange/exchangeService.js';
import { defaultExchangeConfig } from '../../src/exchange/exchangeConfig.js';
import { startGateway, type Gateway } from '../../src/exchange/gateway/gatewayServer.js';
import { silentLogger } from '../../src/logging/logger.js';
import { check } from '../oracle.js';
import { defineTarget } from '../target.js';
import { findInternalLeak, httpRequest } from './nodeFixture.js';

/** The gateway under fuzzing and a funded user's credentials. */
interface GatewayFixture {
  readonly dir: string;
  readonly service: ExchangeService;
  readonly gateway: Gateway;
  readonly apiKey: string;
  readonly secret: string;
  readonly token: string;
}

const ROUTES: ReadonlyArray<readonly [string, string]> = [
  ['GET', '/api/v3/ping'], ['GET', '/api/v3/time'], ['GET', '/api/v3/exchangeInfo'], ['GET', '/api/v3/depth'], ['GET', '/api/v3/trades'],
  ['GET', '/api/v3/historicalTrades'], ['GET', '/api/v3/aggTrades'], ['GET', '/api/v3/klines'], ['GET', '/api/v3/uiKlines'],
  ['GET', '/api/v3/ticker/24hr'], ['GET', '/api/v3/ticker/price'], ['GET', '/api/v3/ticker/bookTicker'], ['GET', '/api/v3/avgPrice'],
  ['POST', '/api/v3/order'], ['POST', '/api/v3/order/test'], ['DELETE', '/api/v3/order'], ['GET', '/api/v3/order'],
  ['POST', '/api/v3/order/cancelReplace'], ['PUT', '/api/v3/order/amend/keepPriority'], ['GET', '/api/v3/openOrders'], ['DELETE', '/api/v3/openOrders'], ['GET', '/api/v3/allOrders'],
  ['GET', '/api/v3/myTrades'], ['GET', '/api/v3/account'], ['GET', '/api/v3/account/commission'], ['POST', '/api/v3/userDataStream'],
  ['PUT', '/api/v3/userDataStream'], ['POST', '/v1/register'], ['POST', '/v1/login'], ['GET', '/v1/me'], ['POST', '/v1/api-keys'],
  ['GET', '/v1/api-keys'], ['POST', '/v1/faucet'], ['POST', '/v1/admin/balance'], ['GET', '/nowhere'],
];

const VALUES: Readonly<Record<string, readonly string[]>> = {
  symbol: ['CRNUSD', 'CRNUSDT', 'crnusd', 'BTCUSD', '', 'CRN/USD'],
  symbols: ['["CRNUSD"]', '["CRNUSD","CRNUSDT"]', '[]', '[1]', 'CRNUSD', '["x"'],
  side: ['BUY', 'SELL', 'buy', 'X'],
  type: ['LIMIT', 'MARKET', 'LIMIT_MAKER', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT_LIMIT', 'ICEBERG'],
  timeInForce: ['GTC', 'IOC', 'FOK', 'GTX'],
  price: ['100.00', '100.25', '0.01', '0', '-1', '1e3', '100.001', '99999999999', 'NaN', '1000000.00'],
  quantity: ['0.0001', '1', '0.5', '0', '9000', '9000.0001', '0.00001', '1e-3', '-1'],
  quoteOrderQty: ['10', '0.000001', '0.0000001', '0', 'abc'],
  stopPrice: ['99.00', '101.00', '0', 'x'],
  newClientOrderId: ['my-1', 'cairn-5', 'x'.repeat(40), 'bad id'],
  newOrderRespType: ['ACK', 'RESULT', 'FULL', 'NONE'],
  selfTradePreventionMode: ['NONE', 'EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH', 'DECREMENT'],
  orderId: ['1', '2', '0', '-1', '9007199254740993', 'x'],
  origClientOrderId: ['my-1', 'cairn-1', ''],
  cancelReplaceMode: ['STOP_ON_FAILURE', 'ALLOW_FAILURE', 'X'],
  cancelOrderId: ['1', '3', 'x'],
  newQty: ['0.5', '0.0001', '0', '100', 'x'],
  limit: ['1', '5', '100', '1000', '5000', '0', '-5', '1.5', 'x'],
  interval: ['1m', '1M', '1h', '7m', ''],
  startTime: ['0', '1700000000000', '-1', 'x'],
  endTime: ['0', '1700000000000', '99999999999999999'],
  fromId: ['0', '1', '-1'],
  recvWindow: ['5000', '60000', '60001', '0', 'x'],
  omitZeroBalances: ['true', 'false', 'yes'],
  username: ['fuzzuser', 'ab', 'x'.repeat(40)],
  password: ['correct horse', 'short', ''],
  asset: ['USD', 'CRN', 'XYZ', 'usd'],
  amount: ['1', '-1', '0', '1.1234567', 'x'],
  adjustmentId: ['f-1', 'bad id!', ''],
  listenKey: ['x'.repeat(40), 'bad'],
  label: ['bot', 'x'.repeat(80)],
  permission: ['READ', 'TRADE', 'ADMIN'],
  __proto__: ['1'],
};

/** One request. */
export interface GatewayInput {
  readonly method: string;
  readonly path: string;
  readonly params: ReadonlyArray<readonly [string, string]>;
  /** Where the parameters go. */
  readonly placement: 'query' | 'form' | 'json';
  /** How it authenticates: a correct signature, a wrong one, a token, nothing. */
  readonly auth: 'signed' | 'badSignature' | 'token' | 'none';
  readonly timestampSkewMs: number;
}

const arbParam: fc.Arbitrary<readonly [string, string]> = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...Object.keys(VALUES)).chain((k) => fc.tuple(fc.constant(k), fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...VALUES[k]!) }, { weight: 1, arbitrary: fc.string({ maxLength: 20 }) }))) },
  { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 })) },
);

export default defineTarget<GatewayInput, GatewayFixture>({
  name: 'exchange-gateway',
  description: "the exchange's Binance-style gateway over loopback: every answer is < 500, errors are {code < 0, msg}, no internal message",
  async: true,
  chunkRuns: 500,
  async setup() {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-fuzz-gateway-'));
    const service = await ExchangeService.open({ datadir: dir, config: defaultExchangeConfig('regtest'), history: false }, { logger: silentLogger() });
    const gateway = await startGateway(
      { network: 'regtest', datadir: dir, port: 0, perIpLimit: false, perKeyLimit: false, passwordScrypt: { N: 1024, r: 8, p: 1 }, faucetPerUser: { max: 1_000_000, timeWindowMs: 1000 } },
      { service, logger: silentLogger() },
    );
    const json = { 'content-type': 'application/json' };
    const creds = JSON.stringify({ username: 'fuzzer', password: 'fuzz password' });
    await httpRequest(gateway.url, { method: 'POST', path: '/v1/register', headers: json, body: creds });
    const { token } = JSON.parse((await httpRequest(gateway.url, { method: 'POST', path: '/v1/login', headers: json, body: creds })).text) as { token: string };
    const key = JSON.parse((await httpRequest(gateway.url, { method: 'POST', path: '/v1/api-keys', headers: { authorization: `Bearer ${token}` } })).text) as { apiKey: string; secretKey: string };
    for (const asset of ['USD', 'CRN']) {
      await httpRequest(gateway.url, { method: 'POST', path: '/v1/faucet', headers: { ...json, authorization: `Bearer ${token}` }, body: JSON.stringify({ asset }) });
    }
    return { dir, service, gateway, apiKey: key.apiKey, secret: key.secretKey, token };
  },
  async teardown(f) {
    await f.gateway.close();
    await f.service.close();
    rmSync(f.dir, { recursive: true, force: true });
  },
  input: () =>
    fc.record({
      route: fc.constantFrom(...ROUTES),
      otherMethod: fc.option(fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'HEAD'), { freq: 8 }),
      params: fc.array(arbParam, { maxLength: 10 }),
      placement: fc.constantFrom('query', 'form', 'json'),
      auth: fc.constantFrom('signed', 'signed', 'badSignature', 'token', 'none'),
      timestampSkewMs: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -120_000, max: 120_000 }) }),
    }).map((r) => ({ method: r.otherMethod ?? r.route[0], path: r.route[1], params: r.params, placement: r.placement, auth: r.auth, timestampSkewMs: r.timestampSkewMs }) as GatewayInput),
  async run(input, f) {
    const params: Array<readonly [string, string]> = [...input.params];
    const headers: Record<string, string> = {};
    if (input.auth === 'signed' || input.auth === 'badSignature') {
      params.push(['timestamp', String(Date.now() + input.timestampSkewMs)]);
      headers['x-mbx-apikey'] = f.apiKey;
    }
    if (input.auth === 'token') headers['authorization'] = `Bearer ${f.token}`;
    const text = params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
    const sig = input.auth === 'badSignature' ? 'ab'.repeat(32) : createHmac('sha256', f.secret).update(text).digest('hex');
    const signedText = input.auth === 'signed' || input.auth === 'badSignature' ? `${text}&signature=${sig}` : text;
    let path = input.path;
    let body: string | undefined;
    if (input.placement === 'query' || input.method === 'GET' || input.method === 'HEAD') path += signedText === '' ? '' : `?${signedText}`;
    else if (input.placement === 'form') {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = signedText;
    } else {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(Object.fromEntries(params));
      if (input.auth === 'signed' || input.auth === 'badSignature') path += `?signature=${sig}`;
    }
    // Node's client sends a DELETE body without a length unless told: the server would read it as the next request.
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const reply = await httpRequest(f.gateway.url, { method: input.method, path, headers, ...(body !== undefined ? { body } : {}) });
    check(reply.status < 500, `${input.method} ${path} answered ${reply.status}: ${reply.text.slice(0, 300)}`);
    check(findInternalLeak(reply.text) === undefined, `${input.method} ${path} leaked an internal message: ${reply.text.slice(0, 300)}`);
    if (reply.status >= 400 && input.method !== 'HEAD') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(reply.text);
      } catch {
        parsed = undefined;
      }
      const e = parsed as { code?: unknown; msg?: unknown } | undefined;
      check(typeof e?.code === 'number' && e.code < 0 && typeof e.msg === 'string', `${input.method} ${path} answered ${reply.status} without Binance's {code, msg}: ${reply.text.slice(0, 300)}`);
    }
  },
});
