/**
 * Web UI figures (`npm run bench -- --only web`):
 * 1. Address page API latency through `cairn web`'s proxy for an address with thousands of transactions (BIG: every
 *    coinbase of N regtest blocks pays it) against a small address (SMALL: 50 coinbases, two full pages) on the same node, same run:
 *    the requests the address page makes — summary (/api/address/:a, one address_stats row), first history page (/txs),
 *    a deep history page (/txs/chain/:last_seen_txid, keyset pagination: page 40 of BIG vs page 2 of SMALL, 25 txs
 *    each), the UTXO list (/utxo, unpaginated in Esplora; the bench's node lists up to BIG_TXS so BIG's 3,000 are
 *    measured, and the cost per UTXO listed is printed). Median and p95 of sequential requests; ratio BIG / SMALL per
 *    route, BIG's and SMALL's requests taken in turn so load bursts hit both. The goal: summary and history pages cost
 *    the same for BIG as for SMALL (ratio near 1). Then BIG's /utxo on
 *    a second REST server of the same node with the default limit (500): the 400 answer, beside SMALL's list there.
 * 2. The UI's initial JS and CSS, gzip bytes (what index.html loads at once; the wallet and trade pages load lazily),
 *    from build/web.
 * 3. Time to first render in Debian's Chromium (/usr/bin/chromium, if present): navigation start → the dashboard's
 *    height shown, and → the wallet's sign-in form shown, median of 5 cold page loads each (new context each time).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DEFAULT_UTXOS_LIMIT } from '../src/api/rest/addressRoutes.js';
import { startRestServer } from '../src/api/restServer.js';
import { scriptPubKeyToAddress } from '../src/crypto/address.js';
import { silentLogger } from '../src/logging/logger.js';
import { createNodeContext } from '../src/node/fullNode.js';
import { regtest } from '../src/params/networks.js';
import { makeTestKey } from '../src/testing/txFactory.js';
import { DEFAULT_STATIC_DIR, startWebServer } from '../src/web/webServer.js';
import { openRestTestNode } from '../test/fixtures/restTestNode.js';

const BIG_TXS = 3_000;
const SMALL_TXS = 50;
const SAMPLES = 40;
const PAGE_LOADS = 5;

/** Figures of one route for one address. */
export interface RouteLatency {
  readonly route: string;
  readonly medianMs: number;
  readonly p95Ms: number;
  /**
   * Process CPU (user + system, every thread) per request, ms: client, cairn web's proxy and the node all run in this
   * process, so this is the request's whole cost, and unlike wall time it does not grow when other processes take the
   * cores.
   */
  readonly cpuMs: number;
}

/** What runWebBench returns (and --json prints). */
export interface WebBenchResult {
  readonly bigTxs: number;
  readonly smallTxs: number;
  readonly big: RouteLatency[];
  readonly small: RouteLatency[];
  readonly jsGzipBytes: number;
  readonly cssGzipBytes: number;
  readonly firstRenderMs?: { readonly dashboard: number; readonly wallet: number };
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Figures of one route from a list of per-request wall and CPU times. */
function figures(wallMs: number[], cpuMs: number[]): { medianMs: number; p95Ms: number; cpuMs: number } {
  const sorted = [...wallMs].sort((a, b) => a - b);
  return { medianMs: quantile(sorted, 0.5), p95Ms: quantile(sorted, 0.95), cpuMs: cpuMs.reduce((a, b) => a + b, 0) / cpuMs.length };
}

/**
 * Times the paths in turn, one request each per round (3 warm-up rounds, then SAMPLES), so a burst of load or a
 * garbage collection lands on all of them alike; answers each path's figures.
 */
async function timeRoutes(base: string, paths: readonly { readonly path: string; readonly status?: number }[]): Promise<{ medianMs: number; p95Ms: number; cpuMs: number }[]> {
  const wall = paths.map((): number[] => []);
  const cpu = paths.map((): number[] => []);
  for (let i = 0; i < SAMPLES + 3; i++) {
    for (const [k, { path, status = 200 }] of paths.entries()) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const res = await fetch(`${base}${path}`);
      const body = await res.text();
      const ms = performance.now() - t0;
      const used = process.cpuUsage(c0);
      if (res.status !== status) throw new Error(`${path}: HTTP ${res.status} ${body.slice(0, 200)}`);
      if (i >= 3) {
        wall[k]!.push(ms);
        cpu[k]!.push((used.user + used.system) / 1000);
      }
    }
  }
  return paths.map((_, k) => figures(wall[k]!, cpu[k]!));
}

/** Keyset pagination: follows /txs/chain/:last_seen `pages` times and returns the last cursor. */
async function cursorAfterPages(base: string, address: string, pages: number): Promise<string | undefined> {
  if (pages === 0) return undefined;
  let path = `/api/address/${address}/txs/chain`;
  let last: string | undefined;
  for (let i = 0; i < pages; i++) {
    const txs = (await (await fetch(`${base}${path}`)).json()) as { txid: string }[];
    if (txs.length === 0) break;
    last = txs[txs.length - 1]!.txid;
    path = `/api/address/${address}/txs/chain/${last}`;
  }
  return last;
}

/** The address page's routes for BIG (deep page `bigPages` + 1) and SMALL (deep page `smallPages` + 1), timed in turn. */
async function measureAddresses(
  base: string,
  big: string,
  bigPages: number,
  small: string,
  smallPages: number,
): Promise<{ big: RouteLatency[]; small: RouteLatency[] }> {
  const routesOf = async (address: string, deepPages: number): Promise<[string, string][]> => {
    const cursor = await cursorAfterPages(base, address, deepPages);
    return [
      ['summary', `/api/address/${address}`],
      ['history page 1', `/api/address/${address}/txs`],
      [`history page ${deepPages + 1}`, cursor === undefined ? `/api/address/${address}/txs/chain` : `/api/address/${address}/txs/chain/${cursor}`],
      ['utxo list', `/api/address/${address}/utxo`],
    ];
  };
  const bigRoutes = await routesOf(big, bigPages);
  const smallRoutes = await routesOf(small, smallPages);
  const out = { big: [] as RouteLatency[], small: [] as RouteLatency[] };
  for (const [i, [route, path]] of bigRoutes.entries()) {
    const [smallRoute, smallPath] = smallRoutes[i]!;
    const [b, s] = await timeRoutes(base, [{ path }, { path: smallPath }]);
    out.big.push({ route, ...b! });
    out.small.push({ route: smallRoute, ...s! });
  }
  return out;
}

/** Gzip bytes of the assets index.html loads at once (entry script, module preloads, stylesheets), and of all JS. */
function uiSizes(dir: string): { initialJs: number; totalJs: number; css: number } {
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  const initial = new Set([...html.matchAll(/(?:src|href)="\/(assets\/[^"]+)"/g)].map((m) => m[1]!));
  const gz = (f: string): number => gzipSync(readFileSync(join(dir, f)), { level: 9 }).length;
  const assets = readdirSync(join(dir, 'assets')).map((f) => `assets/${f}`);
  const sum = (files: string[]): number => files.reduce((a, f) => a + gz(f), 0);
  return {
    initialJs: sum(assets.filter((f) => f.endsWith('.js') && initial.has(f))),
    totalJs: sum(assets.filter((f) => f.endsWith('.js'))),
    css: sum(assets.filter((f) => f.endsWith('.css') && initial.has(f))),
  };
}

async function firstRender(base: string): Promise<{ dashboard: number; wallet: number } | undefined> {
  const chromiumPath = process.env['CAIRN_CHROMIUM'] ?? '/usr/bin/chromium';
  if (!existsSync(chromiumPath)) return undefined;
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  try {
    const measurePage = async (path: string, selector: string): Promise<number> => {
      const times: number[] = [];
      for (let i = 0; i < PAGE_LOADS; i++) {
        const context = await browser.newContext();
        const page = await context.newPage();
        await page.goto(`${base}${path}`, { waitUntil: 'commit' });
        await page.waitForSelector(selector, { timeout: 30_000 });
        // Navigation start → now, by the page's own clock.
        times.push(await page.evaluate(() => performance.now()));
        await context.close();
      }
      times.sort((a, b) => a - b);
      return quantile(times, 0.5);
    };
    return {
      dashboard: await measurePage('/', '[data-testid="tip-height"]'),
      wallet: await measurePage('/wallet', 'button:has-text("Register")'),
    };
  } finally {
    await browser.close();
  }
}

/** Runs the web benchmark and prints its figures. */
export async function runWebBench(): Promise<WebBenchResult> {
  console.log(`\nweb: address page API through cairn web (${BIG_TXS.toLocaleString('en-US')}-tx address vs ${SMALL_TXS}-tx address), UI size, first render`);
  const env = await openRestTestNode({ rest: { rateLimit: false, utxosLimit: BIG_TXS } });
  const web = await startWebServer({ nodeUrl: `${env.url}/api`, network: 'regtest', port: 0 }, { logger: silentLogger() });
  try {
    const bigKey = makeTestKey('web-bench/big', 'p2wpkh');
    const smallKey = makeTestKey('web-bench/small', 'p2wpkh');
    const t0 = performance.now();
    await env.mine(SMALL_TXS, smallKey);
    await env.mine(BIG_TXS, bigKey);
    console.log(`  setup: mined ${(BIG_TXS + SMALL_TXS).toLocaleString('en-US')} regtest blocks in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const big = scriptPubKeyToAddress(bigKey.scriptPubKey, regtest.bech32Hrp)!;
    const small = scriptPubKeyToAddress(smallKey.scriptPubKey, regtest.bech32Hrp)!;
    const { big: bigFigures, small: smallFigures } = await measureAddresses(web.url, big, 39, small, 1);
    console.log(`  ${'route'.padEnd(26)} ${'BIG median'.padStart(11)} ${'p95'.padStart(8)}   ${'SMALL median'.padStart(12)} ${'p95'.padStart(8)}   BIG/SMALL   CPU/request BIG, SMALL, BIG/SMALL`);
    bigFigures.forEach((b, i) => {
      const s = smallFigures[i]!;
      const name = i === 2 ? `${b.route} vs ${s.route.replace('history ', '')}` : b.route;
      console.log(`  ${name.padEnd(26)} ${b.medianMs.toFixed(2).padStart(8)} ms ${b.p95Ms.toFixed(2).padStart(5)} ms   ${s.medianMs.toFixed(2).padStart(9)} ms ${s.p95Ms.toFixed(2).padStart(5)} ms   ${(b.medianMs / s.medianMs).toFixed(2)}×`.padEnd(111) + `${b.cpuMs.toFixed(2)} ms, ${s.cpuMs.toFixed(2)} ms, ${(b.cpuMs / s.cpuMs).toFixed(2)}×`);
    });
    const utxoBig = bigFigures.find((f) => f.route === 'utxo list')!;
    const utxoSmall = smallFigures.find((f) => f.route === 'utxo list')!;
    console.log(
      `  utxo list per UTXO listed (median wall / CPU): BIG ${((utxoBig.medianMs / BIG_TXS) * 1000).toFixed(1)} / ${((utxoBig.cpuMs / BIG_TXS) * 1000).toFixed(1)} µs (${BIG_TXS.toLocaleString('en-US')} UTXOs), ` +
        `SMALL ${((utxoSmall.medianMs / SMALL_TXS) * 1000).toFixed(1)} / ${((utxoSmall.cpuMs / SMALL_TXS) * 1000).toFixed(1)} µs (${SMALL_TXS} UTXOs)`,
    );
    const capped = await startRestServer({ port: 0, rateLimit: false }, { node: createNodeContext(env.node), logger: silentLogger() });
    try {
      const [over, under] = (await timeRoutes(capped.url, [{ path: `/api/address/${big}/utxo`, status: 400 }, { path: `/api/address/${small}/utxo` }])) as [
        { medianMs: number; p95Ms: number; cpuMs: number },
        { medianMs: number; p95Ms: number; cpuMs: number },
      ];
      console.log(
        `  default limit (${DEFAULT_UTXOS_LIMIT}), node direct: BIG /utxo 400 answer ${over.medianMs.toFixed(2)} ms (p95 ${over.p95Ms.toFixed(2)}, CPU ${over.cpuMs.toFixed(2)}), ` +
          `SMALL list ${under.medianMs.toFixed(2)} ms (p95 ${under.p95Ms.toFixed(2)}, CPU ${under.cpuMs.toFixed(2)}): ${(over.medianMs / under.medianMs).toFixed(2)}× wall, ${(over.cpuMs / under.cpuMs).toFixed(2)}× CPU`,
      );
    } finally {
      await capped.close();
    }
    const sizes = uiSizes(DEFAULT_STATIC_DIR);
    const jsGzipBytes = sizes.initialJs;
    const cssGzipBytes = sizes.css;
    console.log(
      `  initial download (gzip -9): JS ${(jsGzipBytes / 1024).toFixed(1)} KiB, CSS ${(cssGzipBytes / 1024).toFixed(1)} KiB ` +
        `(all JS incl. the lazily loaded wallet and trade pages: ${(sizes.totalJs / 1024).toFixed(1)} KiB)`,
    );
    const render = await firstRender(web.url);
    if (render === undefined) console.log('  first render: skipped (no /usr/bin/chromium)');
    else console.log(`  first render (median of ${PAGE_LOADS} cold loads): explorer dashboard ${render.dashboard.toFixed(0)} ms, wallet sign-in ${render.wallet.toFixed(0)} ms`);
    return { bigTxs: BIG_TXS, smallTxs: SMALL_TXS, big: bigFigures, small: smallFigures, jsGzipBytes, cssGzipBytes, ...(render !== undefined ? { firstRenderMs: render } : {}) };
  } finally {
    await web.close();
    await env.close();
  }
}
