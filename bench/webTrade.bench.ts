/**
 * Trading page figures (`npm run bench -- --only webTrade`), against a real `cairn exchange` (regtest, port 0, from
 * dist/) behind an in-process `cairn web` with a regtest node:
 * 1. Download size, gzip -9: the initial JS every page loads (index.html's scripts) and the trading page's lazily
 *    loaded chunks (the page with TradingView Lightweight Charts, and the shared sign-in form), from build/web.
 * 2. Time to first render in Debian's Chromium (/usr/bin/chromium), median of 5 cold loads (a new context each):
 *    navigation start → the order book ladder shows the book's best ask (depth snapshot loaded, diff stream open) and
 *    the chart has drawn its canvas; comparator in the same run: navigation start → the explorer dashboard's height.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { silentLogger } from '../src/logging/logger.js';
import { waitFor } from '../src/testing/waitFor.js';
import { DEFAULT_STATIC_DIR, startWebServer } from '../src/web/webServer.js';
import { openRestTestNode } from '../test/fixtures/restTestNode.js';

const PAGE_LOADS = 5;

/** What runWebTradeBench returns. */
export interface WebTradeBenchResult {
  readonly initialJsGzipBytes: number;
  readonly tradeChunksGzipBytes: number;
  readonly firstRenderMs?: { readonly trade: number; readonly dashboard: number };
}

function sizes(dir: string): { initial: number; trade: number } {
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  const initial = new Set([...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.js)"/g)].map((m) => m[1]!));
  const files = readdirSync(join(dir, 'assets')).map((f) => `assets/${f}`);
  const gz = (f: string): number => gzipSync(readFileSync(join(dir, f)), { level: 9 }).length;
  return {
    initial: files.filter((f) => initial.has(f)).reduce((a, f) => a + gz(f), 0),
    trade: files.filter((f) => /\/(TradePage|SignIn)-[^/]+\.js$/.test(f)).reduce((a, f) => a + gz(f), 0),
  };
}

/** Runs the trading page benchmark and prints its figures. */
export async function runWebTradeBench(): Promise<WebTradeBenchResult> {
  console.log('\nwebTrade: trading page download size and first render (real cairn exchange, cairn web, Chromium)');
  const root = mkdtempSync(join(tmpdir(), 'cairn-bench-webtrade-'));
  const child = spawn(process.execPath, ['bin/cairn.js', 'exchange', '--network', 'regtest', '--datadir', join(root, 'exchange'), '--port', '0', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const env = await openRestTestNode({ rest: { rateLimit: false } });
  try {
    const exchangeUrl = await waitFor('cairn exchange to start', () => {
      if (child.exitCode !== null) throw new Error(`cairn exchange exited: ${out}`);
      const line = out.split('\n').find((l) => l.startsWith('{"event":"ready"'));
      return line === undefined ? undefined : (JSON.parse(line) as { url: string }).url;
    }, 30_000);
    // A book with a few levels each side.
    const post = async (path: string, body: unknown, token?: string): Promise<any> => {
      const r = await fetch(`${exchangeUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
      if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
      return r.json();
    };
    await post('/v1/register', { username: 'maker', password: 'maker-password' });
    const { token } = (await post('/v1/login', { username: 'maker', password: 'maker-password' })) as { token: string };
    await post('/v1/faucet', { asset: 'CRN' }, token);
    await post('/v1/faucet', { asset: 'USD' }, token);
    for (let i = 0; i < 10; i++) {
      for (const [side, price] of [['SELL', 101 + i], ['BUY', 99 - i]] as const) {
        const r = await fetch(`${exchangeUrl}/api/v3/order?symbol=CRNUSD&side=${side}&type=LIMIT&timeInForce=GTC&quantity=0.5&price=${price}`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
        if (!r.ok) throw new Error(`order: ${r.status} ${await r.text()}`);
      }
    }
    const web = await startWebServer({ nodeUrl: `${env.url}/api`, exchangeUrl, network: 'regtest', port: 0 }, { logger: silentLogger() });
    try {
      const s = sizes(DEFAULT_STATIC_DIR);
      console.log(`  download (gzip -9): initial JS ${(s.initial / 1024).toFixed(1)} KiB; trading page chunks (page + lightweight-charts + sign-in form) ${(s.trade / 1024).toFixed(1)} KiB, loaded on first visit to /trade`);
      const chromiumPath = process.env['CAIRN_CHROMIUM'] ?? '/usr/bin/chromium';
      if (!existsSync(chromiumPath)) {
        console.log('  first render: skipped (no /usr/bin/chromium)');
        return { initialJsGzipBytes: s.initial, tradeChunksGzipBytes: s.trade };
      }
      const { chromium } = await import('playwright-core');
      const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
      try {
        const measure = async (path: string, selectors: string[]): Promise<number> => {
          const times: number[] = [];
          for (let i = 0; i < PAGE_LOADS; i++) {
            const context = await browser.newContext();
            const page = await context.newPage();
            await page.goto(`${web.url}${path}`, { waitUntil: 'commit' });
            for (const sel of selectors) await page.waitForSelector(sel, { timeout: 30_000 });
            times.push(await page.evaluate(() => performance.now()));
            await context.close();
          }
          times.sort((a, b) => a - b);
          return times[Math.floor(times.length / 2)]!;
        };
        const trade = await measure('/trade/CRNUSD', ['[data-testid="book-ask"] >> text=101.00', '[data-testid="chart"] canvas']);
        const dashboard = await measure('/', '[data-testid="tip-height"]'.split('|'));
        console.log(`  first render (median of ${PAGE_LOADS} cold loads): trading page (book + chart) ${trade.toFixed(0)} ms vs explorer dashboard ${dashboard.toFixed(0)} ms (${(trade / dashboard).toFixed(2)}×)`);
        return { initialJsGzipBytes: s.initial, tradeChunksGzipBytes: s.trade, firstRenderMs: { trade, dashboard } };
      } finally {
        await browser.close();
      }
    } finally {
      await web.close();
    }
  } finally {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await env.close();
    rmSync(root, { recursive: true, force: true });
  }
}
