/**
 * The web UI end to end in a real Chromium (Debian's /usr/bin/chromium driven by playwright-core; never a browser
 * download): a real regtest node (in process, its REST API and websocket on an ephemeral port), the real wallet service
 * over it, and the real `cairn web` command (a child process) proxying both. Checks, as a person would see them:
 * the dashboard's height grows live when a block is mined (websocket through the proxy, no reload); the search box
 * finds a height, a block hash, a txid and an address; a user registers, gets coins from the faucet, sees the balance,
 * sends to another user's address with a confirm step and sees the payment in the history; axe-core finds no serious
 * or critical violation on any page in light and dark themes; no console errors; a stopped wallet service shows its
 * panel's error while the explorer keeps working. Screenshots of every page at desktop and phone width are written to
 * tmp/web-test/ (or $CAIRN_WEB_TEST_OUT).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { addressToScriptPubKey, scriptPubKeyToAddress } from '../src/crypto/address.js';
import { entropyToMnemonic } from '../src/crypto/hd.js';
import { COIN } from '../src/consensus/amount.js';
import { startRestServer } from '../src/api/restServer.js';
import { silentLogger } from '../src/logging/logger.js';
import { createNodeContext } from '../src/node/fullNode.js';
import { regtest } from '../src/params/networks.js';
import { makeTestKey } from '../src/testing/txFactory.js';
import { waitFor } from '../src/testing/waitFor.js';
import { HdAccount, mnemonicToWalletSeed } from '../src/wallet/hdAccount.js';
import { startWalletService, type WalletService } from '../src/walletService/walletService.js';
import { openRestTestNode, type RestTestNode } from './fixtures/restTestNode.js';
import { sidewaysOverflow } from './fixtures/sidewaysOverflow.js';
import { openPage, seriousViolations } from './fixtures/browserPage.js';

const CHROMIUM = process.env['CAIRN_CHROMIUM'] ?? '/usr/bin/chromium';
const OUT_DIR = resolve(process.env['CAIRN_WEB_TEST_OUT'] ?? join('tmp', 'web-test'));
const CLI = ['--import', 'tsx', 'src/cli/run.ts'];
const FAUCET_SATS = 10n * COIN;
const OTHER_MINER = makeTestKey('web-test/other-miner', 'p2wpkh');
const STEP_MS = 20_000;

/** Starts `cairn web` on a free port and returns its URL once it prints it. */
async function startCairnWeb(t: TestContext, args: string[]): Promise<{ url: string; child: ChildProcess }> {
  const logDir = mkdtempSync(join(tmpdir(), 'cairn-web-logs-'));
  const child = spawn(process.execPath, [...CLI, 'web', '--network', 'regtest', '--port', '0', '--log-dir', logDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  t.after(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      await exited;
    }
    rmSync(logDir, { recursive: true, force: true });
  });
  const url = await waitFor('cairn web to print its URL', () => {
    if (child.exitCode !== null) throw new Error(`cairn web exited: ${out}`);
    return /cairn web on regtest: (http:\/\/127\.0\.0\.1:\d+)\//.exec(out)?.[1];
  }, 30_000);
  return { url, child };
}

/** Waits until the element with `testId` has text matching `pattern`; returns the text. */
async function waitText(page: Page, testId: string, pattern: RegExp, timeoutMs = STEP_MS): Promise<string> {
  await page.getByTestId(testId).filter({ hasText: pattern }).first().waitFor({ timeout: timeoutMs });
  return (await page.getByTestId(testId).first().textContent()) ?? '';
}

/** Types into the search box and submits. */
async function search(page: Page, text: string): Promise<void> {
  await page.getByRole('searchbox', { name: /search by height/i }).fill(text);
  await page.getByRole('button', { name: 'Search' }).click();
}

test('web UI: explorer live, search, wallet register → faucet → send → history, axe, a stopped service', { timeout: 240_000 }, async (t) => {
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: apt-get install -y chromium (CI's .ci/run does)`);
  mkdirSync(OUT_DIR, { recursive: true });

  // A regtest node whose first 102 blocks pay the faucet (2 mature coinbases), the wallet service, cairn web.
  const env: RestTestNode = await openRestTestNode({ rest: { rateLimit: false } });
  t.after(() => env.close());
  const datadir = mkdtempSync(join(tmpdir(), 'cairn-web-ws-'));
  t.after(() => rmSync(datadir, { recursive: true, force: true }));
  const mnemonic = entropyToMnemonic(randomBytes(16));
  const mnemonicFile = join(datadir, 'faucet.txt');
  writeFileSync(mnemonicFile, `${mnemonic}\n`, { mode: 0o600 });
  const faucetAddress = HdAccount.fromSeed(mnemonicToWalletSeed(mnemonic), regtest, 'p2wpkh', 0).deriveAddress(0, 0).address;
  const tMine = Date.now();
  await env.mine(102, { ...makeTestKey('web-test/faucet', 'p2wpkh'), scriptPubKey: addressToScriptPubKey(faucetAddress, regtest.bech32Hrp) });
  if (process.env['CAIRN_WEB_TEST_TIMING'] !== undefined) process.stdout.write(`# mined 102 blocks: ${Date.now() - tMine} ms\n`);
  let service: WalletService | undefined = await startWalletService(
    {
      params: regtest,
      nodeUrl: `${env.url}/api`,
      datadir: join(datadir, 'service'),
      port: 0,
      faucetMnemonicFile: mnemonicFile,
      faucetAmountSats: FAUCET_SATS,
      passwordScrypt: { N: 1024, r: 8, p: 1 },
      rateLimits: { global: false },
    },
    { logger: silentLogger() },
  );
  t.after(() => service?.close());
  const web = await startCairnWeb(t, ['--node', `${env.url}/api`, '--wallet-service', service.url]);

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  t.after(() => browser.close());
  const errors: string[] = [];
  const page = await openPage(browser, errors, { width: 1280, height: 900 });
  const phone = await openPage(browser, errors, { width: 390, height: 844 });
  const darkPage = await openPage(browser, errors, { width: 1280, height: 900, dark: true });
  const a11y: string[] = [];
  /** Screenshots a page at desktop, phone and dark, and runs axe on each. */
  const capture = async (name: string, path: string, ready: (p: Page) => Promise<unknown>): Promise<void> => {
    const t0 = Date.now();
    for (const [label, p] of [['desktop', page], ['phone', phone], ['dark', darkPage]] as const) {
      if (p !== page) {
        await p.goto(`${web.url}${path}`);
        await ready(p);
      }
      await p.screenshot({ path: join(OUT_DIR, `${name}-${label}.png`), fullPage: true });
      // axe in both themes (contrast differs); the phone layout has the same elements, so a screenshot only.
      if (p !== phone) a11y.push(...(await seriousViolations(p)).map((v) => `${name} ${label}: ${v}`));
      else {
        // At 390 px nothing makes the page scroll sideways (wide tables scroll inside their own regions).
        const o = await sidewaysOverflow(p);
        if (o.overflowPx !== 0) a11y.push(`${name} phone: scrolls ${o.overflowPx} px sideways: ${o.culprits.join(', ')}`);
      }
    }
    if (process.env['CAIRN_WEB_TEST_TIMING'] !== undefined) process.stdout.write(`# capture ${name}: ${Date.now() - t0} ms\n`);
  };

  // Dashboard: the height, then a block mined now appears without a reload (the node's websocket through the proxy).
  await page.goto(web.url);
  const height = env.node.chain.height;
  await waitText(page, 'tip-height', new RegExp(`^${height}$`));
  await waitText(page, 'live-state', /● live/);
  const [mined] = await env.mine(1, OTHER_MINER);
  assert.ok(mined !== undefined);
  await waitText(page, 'tip-height', new RegExp(`^${height + 1}$`));
  await capture('dashboard', '/', (p) => waitText(p, 'tip-height', /\d/));

  // Search: a height, a block hash, an address, a txid.
  const tipHash = await (await fetch(`${web.url}/api/blocks/tip/hash`)).text();
  // By keyboard alone: Tab from the top of the page (skip link, brand, 3 nav links) reaches the search box; Enter searches.
  await page.goto(web.url);
  await waitText(page, 'tip-height', /\d/);
  const focused: string[] = [];
  for (let i = 0; i < 6; i++) {
    await page.keyboard.press('Tab');
    // Runs in the page (the test's tsconfig has no DOM types): the focused element's id, else its text.
    focused.push(await page.locator(':focus').evaluate((el: { id: string; textContent: string | null }) => el.id || (el.textContent ?? '').trim()));
  }
  assert.deepEqual(focused, ['Skip to content', 'cairn', 'Explorer', 'Wallet', 'Trade', 'search-input']);
  await page.keyboard.type(String(height + 1));
  await page.keyboard.press('Enter');
  await waitText(page, 'block-height', new RegExp(`^${height + 1}$`));
  assert.ok(page.url().endsWith(`/block/${tipHash}`), page.url());
  await search(page, tipHash.toUpperCase());
  await page.waitForURL(`**/block/${tipHash}`);
  await capture('block', `/block/${tipHash}`, (p) => waitText(p, 'block-height', /\d/));
  await search(page, faucetAddress);
  await page.waitForURL(`**/address/${faucetAddress}`);
  await waitText(page, 'address-balance', /CRN/);
  await waitText(page, 'address-utxos', /Unspent outputs \(102\)/);
  // A node that lists at most 50 UTXOs an address (electrs's --utxos-limit; cairn node --utxos-limit) refuses the
  // faucet's 102: the UTXO panel says so, balance and history still show.
  const capped = await startRestServer({ port: 0, rateLimit: false, utxosLimit: 50 }, { node: createNodeContext(env.node), logger: silentLogger() });
  t.after(() => capped.close());
  const cappedWeb = await startCairnWeb(t, ['--node', `${capped.url}/api`]);
  const cappedErrors: string[] = [];
  const cappedPage = await openPage(browser, cappedErrors, { width: 1280, height: 900 });
  await cappedPage.goto(`${cappedWeb.url}/address/${faucetAddress}`);
  await waitText(cappedPage, 'address-utxos', /Too many UTXOs to list: the node lists at most 50 per address/);
  await waitText(cappedPage, 'address-balance', /CRN/);
  await cappedPage.getByTestId('address-history').getByTestId('tx-card').first().waitFor({ timeout: STEP_MS });
  // The browser's own "Failed to load resource: … 400" line of /utxo is the only console error there.
  assert.deepEqual(cappedErrors.filter((e) => !/status of 400 \(Bad Request\)/.test(e)), []);
  await cappedPage.context().close();
  // Screenshots and axe on a small address (the faucet's 100+ tx cards make axe slow; same elements).
  const minerAddress = scriptPubKeyToAddress(OTHER_MINER.scriptPubKey, regtest.bech32Hrp)!;
  await page.goto(`${web.url}/address/${minerAddress}`);
  await waitText(page, 'address-balance', /CRN/);
  await capture('address', `/address/${minerAddress}`, (p) => waitText(p, 'address-balance', /CRN/));
  await search(page, 'not-a-thing');
  await waitText(page, 'search-message', /not a height/);

  // Wallet: register alice, faucet, balance, send to bob, history.
  await page.goto(`${web.url}/wallet`);
  await capture('signin', '/wallet', (p) => p.getByRole('button', { name: 'Register' }).waitFor());
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill('alice-password');
  await page.getByRole('button', { name: 'Register' }).click();
  await waitText(page, 'balance-confirmed', /^0\.00000000 CRN$/);
  await page.getByRole('button', { name: 'Get coins' }).click();
  const faucetText = await waitText(page, 'faucet-result', /Paid 10\.00000000 CRN/);
  assert.match(faucetText, /Paid 10\.00000000 CRN in/);
  await waitText(page, 'balance-unconfirmed', /\+10\.00000000 CRN/);
  await env.mine(1, OTHER_MINER);
  await waitText(page, 'balance-confirmed', /^10\.00000000 CRN$/);
  await page.getByRole('button', { name: 'Show a receive address' }).click();
  const receive = await waitText(page, 'receive-address', /^rcrn1/);
  await page.getByRole('img', { name: `QR code of ${receive}` }).locator('svg').waitFor({ timeout: STEP_MS });

  // Bob (through the proxy's /v1, as the UI does) gives alice an address.
  const j = async (path: string, init: { body?: unknown; token?: string } = {}): Promise<any> => {
    const res = await fetch(`${web.url}${path}`, {
      method: 'POST',
      headers: { ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...(init.token !== undefined ? { authorization: `Bearer ${init.token}` } : {}) },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
    assert.ok(res.ok, `${path}: ${res.status} ${await res.clone().text()}`);
    return res.json();
  };
  await j('/v1/register', { body: { username: 'bob', password: 'bob-password' } });
  const bobToken: string = (await j('/v1/login', { body: { username: 'bob', password: 'bob-password' } })).token;
  const bobAddress: string = (await j('/v1/wallet/address', { token: bobToken })).address;

  await page.getByLabel('Pay to').fill(bobAddress);
  await page.getByLabel(/Amount/).fill('1.5');
  await page.getByRole('button', { name: 'Review' }).click();
  await waitText(page, 'send-confirm', /Send 1\.50000000 CRN to/);
  await page.getByRole('button', { name: 'Confirm and send' }).click();
  const sentText = await waitText(page, 'send-result', /Sent:/);
  const sentTxShort = /Sent: (\w+)…/.exec(sentText)?.[1];
  assert.ok(sentTxShort !== undefined, sentText);
  await page.getByTestId('history-row').filter({ hasText: /-1\.5/ }).first().waitFor({ timeout: STEP_MS });
  await page.getByTestId('history-row').filter({ hasText: /\+10\.00000000/ }).first().waitFor({ timeout: STEP_MS });
  // The other pages (phone, dark) have their own sessions: they sign in as alice (the login path).
  await capture('wallet', '/wallet', async (p) => {
    await p.getByLabel('Username').fill('alice');
    await p.getByLabel('Password').fill('alice-password');
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByTestId('history-row').filter({ hasText: /-1\.5/ }).first().waitFor({ timeout: STEP_MS });
  });

  // The payment's tx page, found by its txid in the search box: unconfirmed, then confirmed after a block.
  const history = await (await fetch(`${web.url}/v1/wallet/history`, { headers: { authorization: `Bearer ${bobToken}` } })).json() as { txs: { txid: string; netSats: number }[] };
  const paid = history.txs.find((x) => x.netSats === 150_000_000);
  assert.ok(paid !== undefined, JSON.stringify(history));
  assert.ok(paid.txid.startsWith(sentTxShort));
  await search(page, paid.txid);
  await page.waitForURL(`**/tx/${paid.txid}`);
  await waitText(page, 'tx-status', /unconfirmed/);
  await env.mine(1, OTHER_MINER);
  await waitText(page, 'tx-status', /confirmed in block \d+ · 1 confirmation$/);
  await capture('tx', `/tx/${paid.txid}`, (p) => waitText(p, 'tx-status', /confirmed/));
  await page.goto(`${web.url}/trade`);
  await page.getByTestId('markets-panel').filter({ hasText: /exchange/ }).waitFor();
  await capture('trade', '/trade', (p) => p.getByTestId('markets-panel').filter({ hasText: /exchange/ }).waitFor());

  assert.deepEqual(errors, [], 'no console errors while every service runs');
  assert.deepEqual(a11y, [], 'axe: no serious or critical violations; no sideways scroll at phone width');

  // The wallet service stops: its panel says so (the proxy's 502), the explorer keeps working.
  await service.close();
  service = undefined;
  const badGateway = await fetch(`${web.url}/v1/wallet/balance`);
  assert.equal(badGateway.status, 502);
  assert.equal(((await badGateway.json()) as { code: string }).code, 'service-unavailable');
  await page.goto(`${web.url}/wallet`);
  await waitText(page, 'wallet-balance', /The wallet service is unavailable/);
  await page.screenshot({ path: join(OUT_DIR, 'wallet-service-down-desktop.png'), fullPage: true });
  await page.goto(web.url);
  await waitText(page, 'tip-height', new RegExp(`^${env.node.chain.height}$`));
  await page.getByTestId('network-panel').filter({ hasText: /walletService down/ }).waitFor({ timeout: STEP_MS });
  // The only console errors now are the browser's own "Failed to load resource: 502" lines of the stopped service.
  assert.deepEqual(errors.filter((e) => !/502 \(Bad Gateway\)/.test(e)), []);
  process.stdout.write(`# screenshots in ${OUT_DIR}\n`);
});
