/**
 * The trading pages end to end in a real Chromium (Debian's /usr/bin/chromium via playwright-core; never a browser
 * download): a real `cairn exchange` (regtest, port 0, a child process), a real regtest node and wallet service (in
 * process), and the real `cairn web --exchange` (a child process) proxying all three and the exchange's websockets.
 * Alice and Bob register once (the one sign-in makes an account at the wallet service and the exchange), take test
 * CRN / USD from the exchange's faucet with the page's buttons; Alice's limit sell shows in the order book ladder (kept
 * from the snapshot + diff stream) and her open orders; Bob buys with the form (market order); the fill shows without
 * a reload in recent trades, the chart's last candle, both users' trades and both users' balances (equal to what the
 * exchange's /api/v3/account says); Alice cancels the rest; Bob's oversized order shows Binance's refusal (-2010);
 * axe-core finds no serious or critical violation (light and dark); no console errors; then the exchange stops: the
 * trading panels say so and the wallet keeps working for a new sign-in. Screenshots (desktop, dark, phone) go to
 * tmp/web-test/ (or $CAIRN_WEB_TEST_OUT). Needs `npm run build` (the exchange runs from dist/, the UI from build/web).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { waitFor } from '../src/testing/waitFor.js';
import { formatDecimal } from '../web/src/exchangeLogic.js';
import { openRestTestNode, type RestTestNode } from './fixtures/restTestNode.js';
import { sidewaysOverflow } from './fixtures/sidewaysOverflow.js';
import { startChild, openPage, seriousViolations, exchangeReadyUrl, startWalletAndWeb } from './fixtures/browserPage.js';

const CHROMIUM = process.env['CAIRN_CHROMIUM'] ?? '/usr/bin/chromium';
const OUT_DIR = resolve(process.env['CAIRN_WEB_TEST_OUT'] ?? join('tmp', 'web-test'));
const STEP_MS = 20_000;

/** Waits for an element with `testId` whose text matches `pattern`; returns its text. */
async function waitText(page: Page, testId: string, pattern: RegExp, timeoutMs = STEP_MS): Promise<string> {
  const el = page.getByTestId(testId).filter({ hasText: pattern }).first();
  await el.waitFor({ timeout: timeoutMs });
  return (await el.textContent()) ?? '';
}

/** Registers (or signs in) on the trade page's form: one sign-in for the wallet service and the exchange. */
async function signIn(page: Page, url: string, name: string, button: 'Register' | 'Sign in'): Promise<void> {
  await page.goto(`${url}/trade/CRNUSD`);
  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Password').fill(`${name}-password`);
  await page.getByRole('button', { name: button, exact: true }).click();
}

test('trading pages: one sign-in, faucet, limit sell in the live book, market buy by form, fills everywhere, cancel, refusal, axe, exchange down', { timeout: 180_000 }, async (t) => {
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: apt-get install -y chromium (CI's .ci/run does)`);
  mkdirSync(OUT_DIR, { recursive: true });
  const root = mkdtempSync(join(tmpdir(), 'cairn-web-trade-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));

  const exchange = await startChild(t, 'cairn exchange', ['bin/cairn.js', 'exchange', '--network', 'regtest', '--datadir', join(root, 'exchange'), '--port', '0', '--json'], exchangeReadyUrl);
  const env: RestTestNode = await openRestTestNode({ rest: { rateLimit: false } });
  t.after(() => env.close());
  const url = await startWalletAndWeb(t, { root, nodeApiUrl: `${env.url}/api`, exchangeUrl: exchange.value });

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  t.after(() => browser.close());
  const errors: string[] = [];
  const alice = await openPage(browser, errors, { width: 1280, height: 1000 });
  const bob = await openPage(browser, errors, { width: 1280, height: 1000, dark: true });
  // Everything (lightweight-charts included) comes from the local bundle: no request leaves the web origin.
  const foreign: string[] = [];
  for (const p of [alice, bob]) p.on('request', (r) => void (new URL(r.url()).origin !== url && !r.url().startsWith('data:') ? foreign.push(r.url()) : undefined));

  // One sign-in: registering on the trade page makes both accounts; the wallet page is signed in too.
  await signIn(alice, url, 'alice', 'Register');
  await alice.getByTestId('balances-panel').getByRole('button', { name: 'Get test CRN' }).click();
  await waitText(alice, 'balance-CRN', /^CRN100\.00000000/);
  await signIn(bob, url, 'bob', 'Register');
  await bob.getByTestId('balances-panel').getByRole('button', { name: 'Get test USD' }).click();
  await waitText(bob, 'balance-USD', /^USD10000\.000000/);
  await waitText(alice, 'market-stream', /live/);
  await waitText(bob, 'user-stream', /live/);

  // Alice: limit sell 0.5 CRN at 100.25 → the ladder's ask and her open orders.
  await alice.getByRole('button', { name: 'Sell CRN' }).first().click();
  await alice.getByLabel('Order type').selectOption('LIMIT');
  await alice.getByLabel('Price (USD)').fill('100.25');
  await alice.getByLabel('Amount (CRN)').fill('0.5');
  await alice.getByRole('button', { name: 'Sell CRN' }).last().click();
  await waitText(alice, 'order-result', /NEW: SELL 0\.0000 of 0\.5000 CRN filled at limit 100\.25 USD/);
  await waitText(alice, 'open-order', /SELL LIMIT.*100\.25.*0\.0000 \/ 0\.5000/);
  await waitText(alice, 'book-ask', /100\.250\.5000/);
  await waitText(bob, 'book-ask', /100\.250\.5000/);
  await waitText(alice, 'bridge-note', /runs without the chain bridge/);
  await waitText(alice, 'balance-CRN', /^CRN99\.500000000\.50000000$/);

  // Bob: a post-only buy at Alice's ask would take: refused with Binance's -2010 and its reason.
  await bob.getByLabel('Order type').selectOption('LIMIT_MAKER');
  await bob.getByTestId('book-ask').getByRole('button', { name: '100.25' }).click(); // the ladder fills the price
  await waitFor('the ladder to fill the price', async () => ((await bob.getByLabel('Price (USD)').inputValue()) === '100.25' ? true : undefined), STEP_MS);
  await bob.getByLabel('Amount (CRN)').fill('0.1');
  await bob.getByRole('button', { name: 'Buy CRN' }).last().click();
  await waitText(bob, 'panel-error', /The exchange refused: -2010 Order would immediately match and take\./);
  // % of balance: 50 % of Bob's 10,000 USD at 100.25 → 49.8753 CRN (rounded down to the 0.0001 step, exact).
  await bob.getByRole('button', { name: '50 %' }).click();
  const half = await waitFor('50 % to fill the amount', async () => {
    const v = await bob.getByLabel('Amount (CRN)').inputValue();
    return v === '0.1' ? undefined : v;
  }, STEP_MS);
  assert.equal(half, '49.8753');

  // Bob: a market buy of 0.2 by the form (25 % of his USD at the best ask would be 24.9376 CRN).
  await bob.getByLabel('Order type').selectOption('MARKET');
  await bob.getByRole('button', { name: '25 %' }).click();
  await waitFor('25 % at the best ask', async () => ((await bob.getByLabel('Amount (CRN)').inputValue()) === '24.9376' ? true : undefined), STEP_MS);
  await bob.getByLabel('Order type').selectOption('MARKET');
  await bob.getByLabel('Amount (CRN)').fill('0.2');
  await bob.getByRole('button', { name: 'Buy CRN' }).last().click();
  await waitText(bob, 'order-result', /FILLED: BUY 0\.2000 of 0\.2000 CRN filled\./);

  // The fill, live (no reload) on both pages: ladder, recent trades, chart's last candle, my trades, balances.
  for (const p of [alice, bob]) {
    await waitText(p, 'book-ask', /100\.250\.3000/);
    await waitText(p, 'recent-trade', /100\.250\.2000/);
    await waitText(p, 'last-candle', /close 100\.25 · volume 0\.2000 CRN/);
    await waitText(p, 'last-CRNUSD', /^100\.25$/);
  }
  await waitText(alice, 'my-trade', /SELL \(maker\)100\.250\.200020\.050000/);
  await waitText(bob, 'my-trade', /BUY100\.250\.200020\.050000/);
  await waitText(alice, 'open-order', /0\.2000 \/ 0\.5000/);
  // Balances on the page equal the exchange's own account, formatted to each asset's precision.
  for (const [p, name] of [[alice, 'alice'], [bob, 'bob']] as const) {
    const login = (await (await fetch(`${url}/exchange/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: name, password: `${name}-password` }) })).json()) as { token: string };
    const acct = (await (await fetch(`${url}/exchange/api/v3/account`, { headers: { authorization: `Bearer ${login.token}` } })).json()) as { balances: { asset: string; free: string; locked: string }[] };
    for (const [asset, decimals] of [['CRN', 8], ['USD', 6]] as const) {
      const b = acct.balances.find((x) => x.asset === asset)!;
      const expected = `${asset}${formatDecimal(b.free, decimals)}${formatDecimal(b.locked, decimals)}`;
      await waitText(p, `balance-${asset}`, new RegExp(`^${expected.replace(/\./g, '\\.')}$`));
    }
    if (name === 'bob') assert.notEqual(acct.balances.find((x) => x.asset === 'CRN')!.free, '0.00000000', 'bob bought CRN');
  }

  // Screenshots and axe while the page is full: desktop light, dark, phone.
  const phone = await openPage(browser, errors, { width: 390, height: 844 });
  await signIn(phone, url, 'alice', 'Sign in');
  await waitText(phone, 'open-order', /0\.2000 \/ 0\.5000/);
  await waitText(phone, 'recent-trade', /100\.25/);
  await alice.screenshot({ path: join(OUT_DIR, 'trading-desktop.png'), fullPage: true });
  await bob.screenshot({ path: join(OUT_DIR, 'trading-dark.png'), fullPage: true });
  await phone.screenshot({ path: join(OUT_DIR, 'trading-phone.png'), fullPage: true });
  const a11y = [...(await seriousViolations(alice)).map((v) => `light: ${v}`), ...(await seriousViolations(bob)).map((v) => `dark: ${v}`)];
  assert.deepEqual(a11y, [], 'axe: no serious or critical violations');
  assert.deepEqual(foreign, [], 'no request to another origin');
  // At phone width with a full book, trades and orders the page does not scroll sideways.
  const phoneOverflow = await sidewaysOverflow(phone);
  assert.equal(phoneOverflow.overflowPx, 0, `sideways scroll at 390 px: ${phoneOverflow.culprits.join(', ')}`);

  // Alice cancels the rest: gone from her open orders and from both ladders.
  await alice.getByTestId('open-order').getByRole('button', { name: /Cancel order/ }).click();
  await waitText(alice, 'open-orders-panel', /No open order\./);
  await waitText(bob, 'book-panel', /The book is empty\./);
  await waitText(alice, 'order-history-row', /SELL LIMIT.*CANCELED/);

  // A refused order: Binance's code and message, shown as such.
  await bob.getByLabel('Order type').selectOption('LIMIT');
  await bob.getByLabel('Price (USD)').fill('100.25');
  await bob.getByLabel('Amount (CRN)').fill('1000');
  await bob.getByRole('button', { name: 'Buy CRN' }).last().click();
  const refusal = await waitText(bob, 'panel-error', /The exchange refused: -2010/);
  assert.match(refusal, /insufficient balance/i);
  // The browser logs the 400 of a refused order as a failed resource load: the only console error allowed.
  assert.deepEqual(errors.filter((e) => !/status of 400 \(Bad Request\)/.test(e)), [], 'no console errors');
  // The wallet page is signed in by the same sign-in.
  await alice.goto(`${url}/wallet`);
  await waitText(alice, 'balance-confirmed', /^0\.00000000 CRN$/);

  // The exchange stops: the trading panels say so; a new user still signs in to the wallet, which keeps working.
  const stopped = new Promise((r) => exchange.child.once('exit', r));
  exchange.child.kill('SIGTERM');
  await stopped;
  await bob.goto(`${url}/trade`);
  await waitText(bob, 'markets-panel', /The exchange is unavailable/);
  const carol = await openPage(browser, errors, { width: 1280, height: 900 });
  await signIn(carol, url, 'carol', 'Register');
  await waitText(carol, 'markets-panel', /The exchange is unavailable/);
  await waitText(carol, 'signin-service-error', /not to the exchange/);
  await carol.goto(`${url}/wallet`);
  await waitText(carol, 'balance-confirmed', /^0\.00000000 CRN$/);
  await carol.goto(`${url}/trade`);
  await waitText(carol, 'markets-panel', /The exchange is unavailable/);
  await carol.getByTestId('signin-service-error').waitFor({ timeout: STEP_MS });
  await carol.screenshot({ path: join(OUT_DIR, 'trading-exchange-down-desktop.png'), fullPage: true });
  process.stdout.write(`# screenshots in ${OUT_DIR}\n`);
});
