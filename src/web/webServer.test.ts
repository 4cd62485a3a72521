/**
 * cairn web's pure pieces and its server against real sockets: upstream URL parsing, the search classification, the
 * Prometheus gauge reader, and a server whose upstreams do not answer (502 JSON per service, the UI still served,
 * /web/status says which service is down, unknown /api-like paths get JSON 404s, not the page).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../logging/logger.js';
import { classifySearch } from './searchQuery.js';
import { readGauge } from './statusProbe.js';
import { parseUpstream, WebConfigError } from './upstreams.js';
import { startWebServer, WebServerError } from './webServer.js';

test('parseUpstream maps each service onto its prefix and refuses URLs it cannot proxy', () => {
  assert.deepEqual(parseUpstream('node', 'http://127.0.0.1:8730/api/'), {
    name: 'node', label: 'node', prefix: '/api', origin: 'http://127.0.0.1:8730', rewritePrefix: '/api', url: 'http://127.0.0.1:8730/api/',
  });
  assert.equal(parseUpstream('node', 'http://127.0.0.1:8730').rewritePrefix, '/api');
  assert.equal(parseUpstream('walletService', 'http://127.0.0.1:8731').prefix, '/v1');
  assert.equal(parseUpstream('exchange', 'http://127.0.0.1:9000/gw').rewritePrefix, '/gw');
  for (const [name, url] of [['node', 'ftp://x/api'], ['node', 'http://x/other'], ['node', 'not a url'], ['walletService', 'http://u:p@x:1'], ['walletService', 'http://x/v2'], ['exchange', 'http://x/?q=1']] as const) {
    assert.throws(() => parseUpstream(name, url), WebConfigError, `${name} ${url}`);
  }
});

test('classifySearch: heights, hashes (any case), addresses of cairn networks, and refusals with a reason', () => {
  assert.deepEqual(classifySearch(' 42 '), { kind: 'height', height: 42 });
  const h = 'AB'.repeat(32);
  assert.deepEqual(classifySearch(h), { kind: 'hash', hash: h.toLowerCase() });
  const addr = 'rcrn1qw508d6qejxtdg4y5r3zarvary0c5xw7kyqvxpz';
  assert.deepEqual(classifySearch(addr.toUpperCase()), { kind: 'address', address: addr });
  for (const bad of ['', '99999999999', 'abc', 'ab'.repeat(31), 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4', 'Rcrn1qw508d6qejxtdg4y5r3zarvary0c5xw7kyqvxpz', 'x'.repeat(500)]) {
    assert.equal(classifySearch(bad).kind, 'invalid', bad);
  }
});

test('readGauge reads a sample of the Prometheus text format', () => {
  const text = '# HELP cairn_peers Connected peers\n# TYPE cairn_peers gauge\ncairn_peers 2\ncairn_chain_height{network="devnet"} 117\n';
  assert.equal(readGauge(text, 'cairn_peers'), 2);
  assert.equal(readGauge(text, 'cairn_chain_height'), 117);
  assert.equal(readGauge(text, 'cairn_missing'), undefined);
});

/** A loopback port nothing listens on (bound, then closed). */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test('a web server whose services are down: 502 JSON per service, the UI still served, status says why', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-web-static-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>cairn</title>');
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'assets', 'app-abc.js'), 'console.log(1)');
  const [nodePort, servicePort] = [await deadPort(), await deadPort()];
  await assert.rejects(
    startWebServer({ nodeUrl: 'http://x/api', network: 'regtest', port: 0, staticDir: join(dir, 'none') }, { logger: silentLogger() }),
    (e: unknown) => e instanceof WebServerError && e.code === 'no-ui',
  );
  await assert.rejects(
    startWebServer({ nodeUrl: 'http://x/other', network: 'regtest', port: 0, staticDir: dir }, { logger: silentLogger() }),
    (e: unknown) => e instanceof WebServerError && e.code === 'bad-url',
  );
  const web = await startWebServer(
    { nodeUrl: `http://127.0.0.1:${nodePort}/api`, walletServiceUrl: `http://127.0.0.1:${servicePort}`, network: 'regtest', port: 0, staticDir: dir, nodes: [{ name: 'node1', apiUrl: `http://127.0.0.1:${nodePort}/api` }] },
    { logger: silentLogger() },
  );
  t.after(() => web.close());
  const get = async (path: string): Promise<{ status: number; type: string; body: string; headers: Headers }> => {
    const res = await fetch(`${web.url}${path}`);
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text(), headers: res.headers };
  };
  for (const [path, service] of [['/api/blocks/tip/height', 'node'], ['/v1/wallet/balance', 'walletService']] as const) {
    const r = await get(path);
    assert.equal(r.status, 502, path);
    const body = JSON.parse(r.body) as { code: string; service: string; message: string };
    assert.equal(body.code, 'service-unavailable');
    assert.equal(body.service, service);
    assert.match(body.message, /does not answer \(ECONNREFUSED\)/);
  }
  const search = await get('/web/search?q=12');
  assert.equal(search.status, 502);
  assert.deepEqual(JSON.parse((await get('/web/search?q=nonsense')).body), { found: false, message: "'nonsense' is not a height, a 64-hex block hash or txid, or an address" });
  const exchange = await get('/exchange/api/v3/ping');
  assert.equal(exchange.status, 503);
  assert.equal(JSON.parse(exchange.body).code, 'service-not-configured');
  assert.deepEqual(JSON.parse((await get('/web/exchange/deposits')).body), { available: false, reason: 'no exchange configured' });

  const status = JSON.parse((await get('/web/status')).body) as { services: Record<string, { configured: boolean; up: boolean; error?: string }>; nodes: { name: string; up: boolean }[] };
  assert.deepEqual(status.services['node'] && { configured: status.services['node'].configured, up: status.services['node'].up }, { configured: true, up: false });
  assert.equal(status.services['walletService']!.error, 'ECONNREFUSED');
  assert.equal(status.services['exchange']!.configured, false);
  assert.deepEqual(status.nodes.map((n) => [n.name, n.up]), [['node1', false]]);

  // The single-page app: any page path gets index.html (no-cache); hashed assets are immutable; API-like misses are JSON.
  for (const path of ['/', '/block/00ff', '/wallet']) {
    const r = await get(path);
    assert.equal(r.status, 200, path);
    assert.match(r.type, /text\/html/);
    assert.equal(r.headers.get('cache-control'), 'no-cache');
    assert.equal(r.headers.get('x-frame-options'), 'DENY');
  }
  assert.match((await get('/assets/app-abc.js')).headers.get('cache-control') ?? '', /immutable/);
  for (const path of ['/assets/missing.js', '/web/nothing']) {
    const r = await get(path);
    assert.equal(r.status, 404, path);
    assert.equal(JSON.parse(r.body).code, 'not-found');
  }
});

test('the exchange is proxied under /exchange (its own paths below it), with its answers as they are', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-web-static-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>cairn</title>');
  // A real HTTP server standing in for the exchange gateway: echoes the path it got.
  // The stand-in exchange's /v1/deposit/address: absent (an exchange without the route), 503 (the route, no bridge running), or 401 (the bridge, no session).
  let bridge: 'absent' | 'off' | 'on' = 'absent';
  const exchange = createHttpServer((req, res) => {
    const path = req.url?.split('?')[0];
    res.writeHead(path === '/api/v3/ping' ? 200 : path === '/v1/deposit/address' && bridge !== 'absent' ? (bridge === 'on' ? 401 : 503) : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ path: req.url, forwardedFor: req.headers['x-forwarded-for'] }));
  });
  await new Promise<void>((r) => exchange.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => exchange.close(() => r())));
  const port = (exchange.address() as { port: number }).port;
  const web = await startWebServer(
    { nodeUrl: `http://127.0.0.1:${await deadPort()}/api`, exchangeUrl: `http://127.0.0.1:${port}`, network: 'regtest', port: 0, staticDir: dir },
    { logger: silentLogger() },
  );
  t.after(() => web.close());
  const ping = await fetch(`${web.url}/exchange/api/v3/ping?x=1`);
  assert.equal(ping.status, 200);
  assert.deepEqual(await ping.json(), { path: '/api/v3/ping?x=1', forwardedFor: '127.0.0.1' });
  const missing = await fetch(`${web.url}/exchange/nothing`);
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), { path: '/nothing', forwardedFor: '127.0.0.1' });
  const status = (await (await fetch(`${web.url}/web/status`)).json()) as { services: { exchange: { configured: boolean; up: boolean } } };
  assert.deepEqual(status.services.exchange && { configured: status.services.exchange.configured, up: status.services.exchange.up }, { configured: true, up: true });
  // Deposits: asked by the web server (the route's 404 never reaches the browser); 404 (no route) and 503 (no bridge
  // running) mean none, any other answer (401 without a session) means the exchange takes deposits.
  assert.deepEqual(await (await fetch(`${web.url}/web/exchange/deposits`)).json(), { available: false });
  bridge = 'off';
  assert.deepEqual(await (await fetch(`${web.url}/web/exchange/deposits`)).json(), { available: false });
  bridge = 'on';
  assert.deepEqual(await (await fetch(`${web.url}/web/exchange/deposits`)).json(), { available: true });
});
