/**
 * The gateway in process on a real exchange service (SQLite log in a temp dir) and real sockets: the SIGNED check
 * (what is signed, -1022, -1021, revoked and read-only keys), and the stream bounds — a client that stops reading is
 * disconnected as a slow consumer (1008) instead of being buffered without bound.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { silentLogger } from '../../logging/logger.js';
import { waitFor } from '../../testing/waitFor.js';
import { defaultExchangeConfig } from '../exchangeConfig.js';
import { ExchangeService } from '../exchangeService.js';
import { ExchangeEngine } from '../engine.js';
import { AccountStore } from './accountStore.js';
import { BinanceFormat } from './binanceFormat.js';
import { startGateway, type Gateway } from './gatewayServer.js';
import { checkSignedRequest, splitSignature } from './requestAuth.js';
import { RequestParams } from './requestParams.js';

const dir = mkdtempSync(join(tmpdir(), 'cairn-gateway-unit-'));
let service: ExchangeService;
let gateway: Gateway;

before(async () => {
  service = await ExchangeService.open({ datadir: join(dir, 'ex'), config: defaultExchangeConfig('regtest'), history: false }, { logger: silentLogger() });
  gateway = await startGateway(
    { network: 'regtest', datadir: join(dir, 'ex'), port: 0, passwordScrypt: { N: 1024, r: 8, p: 1 }, streams: { maxBufferedBytes: 64 * 1024 } },
    { service, logger: silentLogger() },
  );
});

after(async () => {
  await gateway.close();
  await service.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the signature covers the query string then the body, without the signature pair', () => {
  assert.deepEqual(splitSignature('symbol=A&timestamp=1&signature=ab', ''), { signature: 'ab', payload: 'symbol=A&timestamp=1' });
  assert.deepEqual(splitSignature('signature=ab&symbol=A', ''), { signature: 'ab', payload: 'symbol=A' });
  // Binance's mixed example: query and body are concatenated as they are.
  assert.deepEqual(splitSignature('symbol=LTCBTC&side=BUY', 'quantity=1&timestamp=5&signature=cd'), { signature: 'cd', payload: 'symbol=LTCBTC&side=BUYquantity=1&timestamp=5' });
  assert.deepEqual(splitSignature('a=1', ''), { signature: undefined, payload: 'a=1' });
});

test('checkSignedRequest: good, bad signature (-1022), stale or future timestamp (-1021), revoked key (-2015)', () => {
  const store = AccountStore.open(join(dir, 'accounts.sqlite'));
  try {
    const user = store.createUser('signer', 'x', 1)!;
    const key = store.createApiKey(user.userId, '', 'TRADE', 1)!;
    const now = 1_700_000_000_000;
    const signed = (q: string): string => `${q}&signature=${createHmac('sha256', key.secretKey).update(q).digest('hex')}`;
    const call = (query: string, ts: number, recvWindow?: string): unknown => {
      try {
        return checkSignedRequest(store, { apiKey: key.apiKey, query, body: '', timestamp: String(ts), recvWindow }, now);
      } catch (err) {
        return (err as { code: number }).code;
      }
    };
    assert.deepEqual(call(signed(`timestamp=${now}`), now), { userId: user.userId, via: 'apiKey', apiKey: key.apiKey, permission: 'TRADE' });
    assert.equal(call(`timestamp=${now}&signature=${'0'.repeat(64)}`, now), -1022);
    // The signature is 64 hex digits, either case; anything else is -1022 (a non-hex digit at any place, 63 or 65).
    const good = createHmac('sha256', key.secretKey).update(`timestamp=${now}`).digest('hex');
    assert.equal((call(`timestamp=${now}&signature=${good.toUpperCase()}`, now) as { userId: number }).userId, user.userId);
    for (let i = 0; i < 64; i += 7) assert.equal(call(`timestamp=${now}&signature=${good.slice(0, i)}g${good.slice(i + 1)}`, now), -1022, `non-hex at ${i}`);
    assert.equal(call(`timestamp=${now}&signature=${good.slice(0, 63)}`, now), -1022);
    assert.equal(call(`timestamp=${now}&signature=${good}0`, now), -1022);
    // An unknown key is -2015, one that cannot be a key -2014.
    const withKey = (apiKey: string): unknown => {
      try {
        return checkSignedRequest(store, { apiKey, query: signed(`timestamp=${now}`), body: '', timestamp: String(now), recvWindow: undefined }, now);
      } catch (err) {
        return (err as { code: number }).code;
      }
    };
    assert.equal(withKey('A'.repeat(64)), -2015);
    assert.equal(withKey('bad-key'), -2014);
    assert.equal(withKey(''), -2014);
    assert.equal(withKey('A'.repeat(129)), -2014);
    assert.equal(call(signed(`timestamp=${now - 5_001}`), now - 5_001), -1021);
    assert.equal((call(signed(`timestamp=${now - 5_001}&recvWindow=6000`), now - 5_001, '6000') as { userId: number }).userId, user.userId);
    assert.equal(call(signed(`timestamp=${now + 1_000}`), now + 1_000), -1021, 'more than 1 s ahead of the server');
    assert.ok(store.revokeApiKey(user.userId, key.apiKey, 2));
    assert.equal(call(signed(`timestamp=${now}`), now), -2015);
  } finally {
    store.close();
  }
});

test('a read-only key cannot trade; another user cannot revoke a key', async () => {
  const post = (path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(gateway.url + path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });
  const tokens: string[] = [];
  for (const username of ['reader', 'other']) {
    await post('/v1/register', { username, password: 'long enough' });
    tokens.push(((await (await post('/v1/login', { username, password: 'long enough' })).json()) as { token: string }).token);
  }
  const key = (await (await post('/v1/api-keys', { permission: 'READ' }, { authorization: `Bearer ${tokens[0]}` })).json()) as { apiKey: string; secretKey: string };
  const q = `symbol=CRNUSD&side=BUY&type=LIMIT&timeInForce=GTC&price=1&quantity=1&timestamp=${Date.now()}`;
  const r = await fetch(`${gateway.url}/api/v3/order?${q}&signature=${createHmac('sha256', key.secretKey).update(q).digest('hex')}`, { method: 'POST', headers: { 'X-MBX-APIKEY': key.apiKey } });
  assert.equal(r.status, 401);
  assert.equal(((await r.json()) as { code: number }).code, -2015);
  const revoke = await fetch(`${gateway.url}/v1/api-keys/${key.apiKey}`, { method: 'DELETE', headers: { authorization: `Bearer ${tokens[1]}` } });
  assert.equal(revoke.status, 404);
  const list = (await (await fetch(`${gateway.url}/v1/api-keys`, { headers: { authorization: `Bearer ${tokens[0]}` } })).json()) as Array<{ apiKey: string; revokedAt: number | null; secretKey?: string }>;
  assert.deepEqual(list.map((k) => [k.apiKey, k.revokedAt, k.secretKey]), [[key.apiKey, null, undefined]], 'still live; the list never shows secrets');
});

test('a stream client that stops reading is disconnected as a slow consumer, not buffered without bound', async () => {
  // Every kline interval plus trades: each fill publishes 17 messages to this connection.
  const intervals = ['1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d', '3d', '1w', '1M'];
  const ws = new WebSocket(`${gateway.wsUrl}/stream?streams=${['crnusd@trade', 'crnusd@aggTrade', ...intervals.map((i) => `crnusd@kline_${i}`)].join('/')}`);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  // Stop reading: the server's unsent data grows once the kernel's socket buffers are full.
  (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
  for (const [userId, asset, amount] of [[101, 'CRN', 10n ** 12n], [102, 'USD', 10n ** 13n]] as const) {
    await service.submit({ type: 'ADJUST_BALANCE', adjustmentId: `slow-${userId}`, userId, asset, amount });
  }
  let rounds = 0;
  while (gateway.streamStats().slowConsumersClosed === 0 && rounds < 200) {
    rounds++;
    const asks = Array.from({ length: 150 }, () => service.submit({ type: 'PLACE_ORDER', symbol: 'CRNUSD', userId: 101, order: { side: 'SELL', orderType: 'LIMIT', timeInForce: 'GTC', priceTicks: 10_000, quantityLots: 100 } }));
    await Promise.all(asks);
    const buy = await service.submit({ type: 'PLACE_ORDER', symbol: 'CRNUSD', userId: 102, order: { side: 'BUY', orderType: 'LIMIT', timeInForce: 'IOC', priceTicks: 10_000, quantityLots: 15_000 } });
    assert.equal(buy.result.ok && 'order' in buy.result ? buy.result.order.status : undefined, 'FILLED');
    await new Promise((r) => setImmediate(r));
  }
  await waitFor('the slow consumer to be disconnected', () => gateway.streamStats().slowConsumersClosed === 1, 10_000);
  (ws as unknown as { _socket: { resume(): void } })._socket.resume();
  assert.equal(await closed, 1008);
  await waitFor('the connection to be gone', () => gateway.streamStats().connections === 0, 5_000);
  assert.ok(rounds < 200, `closed after ${rounds} rounds`);
});

test('over the per-IP budget: 429 with -1003 and Retry-After', async () => {
  const limited = await startGateway({ network: 'regtest', datadir: join(dir, 'ex'), port: 0, perIpLimit: { max: 5, timeWindowMs: 60_000 } }, { service, logger: silentLogger() });
  try {
    const answers = [];
    for (let i = 0; i < 7; i++) answers.push(await fetch(`${limited.url}/api/v3/ping`));
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 200, 200, 429, 429]);
    const body = (await answers[5]!.json()) as { code: number; msg: string };
    assert.equal(body.code, -1003);
    assert.match(answers[5]!.headers.get('retry-after') ?? '', /^\d+$/);
  } finally {
    await limited.close();
  }
});

test('the server pings; a client that answers stays, one that does not is dropped', async () => {
  const pinging = await startGateway({ network: 'regtest', datadir: join(dir, 'ex'), port: 0, streams: { pingIntervalMs: 100 } }, { service, logger: silentLogger() });
  try {
    const open = async (autoPong: boolean): Promise<{ ws: WebSocket; pings: number[]; closed: Promise<void> }> => {
      const ws = new WebSocket(`${pinging.wsUrl}/ws/crnusd@trade`, { autoPong });
      const pings: number[] = [];
      ws.on('ping', () => pings.push(Date.now()));
      const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      return { ws, pings, closed };
    };
    const good = await open(true);
    const silent = await open(false);
    await silent.closed;
    assert.equal(pinging.streamStats().pingTimeouts, 1);
    assert.ok(silent.pings.length >= 1, 'it was pinged before being dropped');
    await waitFor('more pings to the answering client', () => good.pings.length >= 4, 5_000);
    assert.equal(good.ws.readyState, WebSocket.OPEN);
    good.ws.close();
    await good.closed;
  } finally {
    await pinging.close();
  }
});

test('connections beyond maxConnections are closed with 1013', async () => {
  const small = await startGateway({ network: 'regtest', datadir: join(dir, 'ex'), port: 0, streams: { maxConnections: 1 } }, { service, logger: silentLogger() });
  try {
    const first = new WebSocket(`${small.wsUrl}/ws/crnusd@trade`);
    await new Promise((resolve, reject) => first.once('open', resolve).once('error', reject));
    const second = new WebSocket(`${small.wsUrl}/ws/crnusd@trade`);
    const code = await new Promise<number>((resolve) => second.once('close', (c) => resolve(c)));
    assert.equal(code, 1013);
    assert.equal(small.streamStats().connections, 1);
    first.close();
  } finally {
    await small.close();
  }
});

test('a kline stream closes a candle (x = true) when the next one opens', async () => {
  let nowMs = Date.UTC(2026, 0, 1, 12, 0, 10);
  const svc = await ExchangeService.open({ datadir: join(dir, 'klines'), config: defaultExchangeConfig('regtest'), history: false, clock: () => nowMs }, { logger: silentLogger() });
  const gw = await startGateway({ network: 'regtest', datadir: join(dir, 'klines'), port: 0 }, { service: svc, logger: silentLogger() });
  try {
    const ws = new WebSocket(`${gw.wsUrl}/ws/crnusd@kline_1m`);
    const events: Array<{ k: { t: number; x: boolean; c: string } }> = [];
    ws.on('message', (m) => events.push(JSON.parse(String(m)) as { k: { t: number; x: boolean; c: string } }));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    await svc.submit({ type: 'ADJUST_BALANCE', adjustmentId: 'k1', userId: 1, asset: 'CRN', amount: 10n ** 10n });
    await svc.submit({ type: 'ADJUST_BALANCE', adjustmentId: 'k2', userId: 2, asset: 'USD', amount: 10n ** 12n });
    const trade = async (priceTicks: number): Promise<void> => {
      await svc.submit({ type: 'PLACE_ORDER', symbol: 'CRNUSD', userId: 1, order: { side: 'SELL', orderType: 'LIMIT', timeInForce: 'GTC', priceTicks, quantityLots: 100 } });
      await svc.submit({ type: 'PLACE_ORDER', symbol: 'CRNUSD', userId: 2, order: { side: 'BUY', orderType: 'LIMIT', timeInForce: 'IOC', priceTicks, quantityLots: 100 } });
    };
    await trade(10_000);
    await trade(10_100);
    nowMs += 60_000; // the next minute
    await trade(10_200);
    await waitFor('three candle updates and a close', () => events.length >= 4, 5_000);
    const first = Date.UTC(2026, 0, 1, 12, 0, 0);
    assert.deepEqual(events.map((e) => [e.k.t - first, e.k.x, e.k.c]), [[0, false, '100.00'], [0, false, '101.00'], [0, true, '101.00'], [60_000, false, '102.00']]);
    ws.close();
  } finally {
    await gw.close();
    await svc.close();
  }
});

test("exchangeInfo's rateLimits are the limiters' budgets: the limiters refuse exactly the request after them", async () => {
  const sub = join(dir, 'limits');
  const svc = await ExchangeService.open({ datadir: sub, config: defaultExchangeConfig('regtest'), history: false }, { logger: silentLogger() });
  // A fixed clock: the per-key window cannot end halfway through the test.
  const now = Date.now();
  const gw = await startGateway(
    { network: 'regtest', datadir: sub, port: 0, passwordScrypt: { N: 1024, r: 8, p: 1 }, perIpLimit: { max: 12, timeWindowMs: 60_000 }, perKeyLimit: { max: 3, timeWindowMs: 10_000 }, nowMs: () => now },
    { service: svc, logger: silentLogger() },
  );
  try {
    let sent = 0;
    const call = async (path: string, init: RequestInit = {}): Promise<Response> => {
      sent++;
      return fetch(gw.url + path, init);
    };
    const json = { 'content-type': 'application/json' };
    const creds = JSON.stringify({ username: 'limited', password: 'long enough' });
    assert.ok((await call('/v1/register', { method: 'POST', body: creds, headers: json })).ok);
    const token = ((await (await call('/v1/login', { method: 'POST', body: creds, headers: json })).json()) as { token: string }).token;
    const key = (await (await call('/v1/api-keys', { method: 'POST', body: '{}', headers: { ...json, authorization: `Bearer ${token}` } })).json()) as { apiKey: string; secretKey: string };
    const info = (await (await call('/api/v3/exchangeInfo')).json()) as { rateLimits: Array<{ rateLimitType: string; interval: string; intervalNum: number; limit: number }> };
    assert.deepEqual(info.rateLimits, [
      { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 12 },
      { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 3 },
    ]);
    const [weight, orders] = info.rateLimits;
    // The per-key limiter: `orders.limit` signed requests pass, the next one is refused with 429 -1003 and Retry-After.
    const q = `timestamp=${now}`;
    const signedAccount = (): Promise<Response> =>
      call(`/api/v3/account?${q}&signature=${createHmac('sha256', key.secretKey).update(q).digest('hex')}`, { headers: { 'X-MBX-APIKEY': key.apiKey } });
    for (let i = 0; i < orders!.limit; i++) assert.equal((await signedAccount()).status, 200, `signed request ${i + 1}`);
    const refused = await signedAccount();
    assert.equal(refused.status, 429);
    assert.equal(((await refused.json()) as { code: number }).code, -1003);
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    // The per-IP limiter: every request so far counted; it refuses exactly the one after `weight.limit`.
    while (sent < weight!.limit) assert.equal((await call('/api/v3/ping')).status, 200, `request ${sent}`);
    const over = await call('/api/v3/ping');
    assert.equal(over.status, 429);
    assert.equal(((await over.json()) as { code: number }).code, -1003);
  } finally {
    await gw.close();
    await svc.close();
  }
});

test('request parameters read as URLSearchParams reads them, on the fast path (nothing to decode) and the other', () => {
  const texts = ['symbol=CRNUSD&side=BUY&timestamp=1', 'a', 'a=', '=x', '&&a=1&', 'a=b=c&d', 'q=%41%2', 'name=a+b&x=%E2%82%AC', 'a=1&&b=&c'];
  for (const text of texts) {
    const p = new RequestParams([text]);
    const expected = [...new URLSearchParams(text)];
    for (const [k, v] of expected) assert.equal(p.peek(k), v, `${text}: ${k}`);
    // Nothing more: every parameter read, done() passes; a parameter URLSearchParams does not see is not there.
    for (const [k] of expected) p.ignore(k);
    p.done();
  }
  assert.throws(() => new RequestParams(['a=1&a=2']), /Duplicate values for parameter 'a'/);
  // Every text of up to 6 characters over 'a', 'b', '=', '&' (5,461 texts): the same names and values as
  // URLSearchParams, or the -1101 refusal exactly when a name repeats.
  const alphabet = ['a', 'b', '=', '&'];
  let layer = [''];
  for (let len = 0; len <= 6; len++) {
    for (const text of layer) {
      const expected = [...new URLSearchParams(text)];
      const names = new Set(expected.map(([k]) => k));
      if (names.size < expected.length) {
        assert.throws(() => new RequestParams([text]), /Duplicate values/, JSON.stringify(text));
        continue;
      }
      const p = new RequestParams([text]);
      for (const [k, v] of expected) assert.equal(p.peek(k), v, `${JSON.stringify(text)}: ${k}`);
      for (const [k] of expected) p.ignore(k);
      p.done();
    }
    layer = layer.flatMap((t) => alphabet.map((c) => t + c));
  }
});

test('a market formatter is made again when the market is reconfigured (fees), and kept otherwise', () => {
  const cfg = defaultExchangeConfig('regtest');
  const engine = new ExchangeEngine();
  engine.apply({ seq: 1, timeMs: 1, command: { type: 'CONFIGURE', config: cfg } });
  const format = new BinanceFormat(engine);
  const symbol = cfg.markets[0]!.symbol;
  const first = format.market(symbol);
  assert.equal(format.market(symbol), first);
  const takerFeePpm = first.config.takerFeePpm + 1_000;
  const changed = { ...cfg, markets: cfg.markets.map((m) => (m.symbol === symbol ? { ...m, takerFeePpm } : m)) };
  assert.ok(engine.apply({ seq: 2, timeMs: 2, command: { type: 'CONFIGURE', config: changed } }).result.ok);
  assert.equal(format.market(symbol).config.takerFeePpm, takerFeePpm);
  assert.throws(() => format.market('NOPE'), (err: { code?: number }) => err.code === -1121);
});
