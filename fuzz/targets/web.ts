/**
 * Fuzz target `web`: `cairn web` (the UI server and proxy, in this process) in front of a real regtest node, over
 * loopback. Requests: the search box (`/web/search?q=` with heights, hashes, txids, addresses, their mutations and
 * junk), `/web/status`, proxied node routes, page paths of the single-page app, asset paths and junk paths, with
 * every method. Property: never a 5xx other than the JSON 503 of a service this server was not given (the wallet
 * service and the exchange are not configured here), and no error answer carries an internal message.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { silentLogger } from '../../src/logging/logger.js';
import { startWebServer, type WebServer } from '../../src/web/webServer.js';
import { mutatedString } from '../mutate.js';
import { check } from '../oracle.js';
import { defineTarget } from '../target.js';
import { arbAddressText, arbHashText, arbNumberText, findInternalLeak, httpRequest, openFuzzNode, type FuzzNode } from './nodeFixture.js';

/** The fixture: the fuzz node, and cairn web over it serving a tiny stand-in UI. */
interface WebFixture {
  readonly fuzz: FuzzNode;
  readonly web: WebServer;
  readonly staticDir: string;
}

/** One request. */
export interface WebInput {
  readonly method: string;
  readonly path: string;
}

/** encodeURIComponent that also takes lone surrogates (as their UTF-8 replacement character). */
function percentEncode(text: string): string {
  return [...Buffer.from(text, 'utf8')].map((b) => (/[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0').toUpperCase()}`)).join('');
}

const PATHS = ['/', '/wallet', '/trade', '/block/{h}', '/tx/{h}', '/address/{a}', '/assets/index.js', '/favicon.svg', '/web/status', '/web/search', '/api/blocks/tip/height', '/api/block/{h}', '/api/address/{a}/txs', '/api/block-height/{n}', '/v1/wallet', '/exchange/api/v3/ping'];

export default defineTarget<WebInput, WebFixture>({
  name: 'web',
  description: 'cairn web (UI server + proxy) over a regtest node: no 5xx but the not-configured 503, no internal message',
  async: true,
  chunkRuns: 1_000,
  setup: async () => {
    const fuzz = await openFuzzNode();
    const staticDir = mkdtempSync(join(tmpdir(), 'cairn-fuzz-web-'));
    writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>cairn</title><div id="root"></div>');
    mkdirSync(join(staticDir, 'assets'));
    writeFileSync(join(staticDir, 'assets', 'index.js'), '');
    try {
      const web = await startWebServer({ nodeUrl: `${fuzz.env.url}/api`, network: 'regtest', port: 0, staticDir }, { logger: silentLogger() });
      return { fuzz, web, staticDir };
    } catch (err) {
      await fuzz.close();
      throw err;
    }
  },
  teardown: async (f) => {
    await f.web.close();
    await f.fuzz.close();
    rmSync(f.staticDir, { recursive: true, force: true });
  },
  input: (f) => {
    const { known } = f.fuzz;
    const query = fc.oneof(arbNumberText(known), arbHashText(known), arbAddressText(known), fc.string({ maxLength: 300 }), fc.string({ maxLength: 50, unit: 'binary' }));
    const search = query.map((q) => `/web/search?q=${percentEncode(q)}`);
    const fill = fc.tuple(fc.constantFrom(...PATHS), arbHashText(known), arbAddressText(known), arbNumberText(known)).map(([p, h, a, n]) =>
      p.replace('{h}', percentEncode(h)).replace('{a}', percentEncode(a)).replace('{n}', percentEncode(n)),
    );
    const junk = mutatedString(fc.constantFrom(...PATHS, '/web/search?q=1', '/api/v1/ws'), { alphabet: 'abcdefghijklmnopqrstuvwxyz/?=&%.-_~0123456789', maxLength: 300 });
    return fc.record({
      method: fc.oneof({ weight: 8, arbitrary: fc.constant('GET') }, { weight: 1, arbitrary: fc.constantFrom('HEAD', 'OPTIONS', 'DELETE', 'PUT', 'PATCH', 'POST') }),
      path: fc.oneof({ weight: 4, arbitrary: search }, { weight: 4, arbitrary: fill }, { weight: 2, arbitrary: junk }),
    });
  },
  async run(input, f) {
    const reply = await httpRequest(f.web.url, { method: input.method, path: input.path, headers: {} });
    // A HEAD answer has no body: the not-configured 503 is known by its prefix then.
    const notConfigured = reply.status === 503 && (/service-not-configured/.test(reply.text) || (input.method === 'HEAD' && /^\/(v1|exchange)\//.test(input.path)));
    check(reply.status < 500 || notConfigured, `${input.method} ${input.path} answered ${reply.status}: ${reply.text.slice(0, 300)}`);
    const leak = findInternalLeak(reply.text);
    check(reply.status < 400 || leak === undefined, `${input.method} ${input.path} answered ${reply.status} with an internal message (${leak}): ${reply.text.slice(0, 300)}`);
  },
});
