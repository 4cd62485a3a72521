/**
 * Deposits and withdrawals on the trading page, end to end in a real Chromium (Debian's /usr/bin/chromium via
 * playwright-core; never a browser download): a real regtest node (in process, its Esplora REST API on an ephemeral
 * port, blocks mined from its own templates), a real `cairn exchange serve --node-url` child running the chain bridge
 * against it (2 confirmations), the wallet service, and the real `cairn web` child proxying them. Alice registers on
 * /trade and sees her deposit address with its QR code; the test pays it on chain; the page shows the deposit pending
 * with `confirmations 0/2`, then 1/2 after a block, then credited, and her CRN balance, without a reload. Refusals
 * (more than the balance, another network's address) show the gateway's code and message. She withdraws 0.5 CRN with
 * the keyboard only (Tab to the fields, Enter to review, Enter on the focused Confirm): her withdrawals list shows it
 * sent with its txid linked to the explorer's tx page, which the node has; two blocks complete it. "Max" fills the
 * balance less the published fee. axe-core finds no serious or critical violation (light, dark, phone); no console
 * error but the refusals' 400s. Screenshots go to tmp/web-test/ (or $CAIRN_WEB_TEST_OUT). Needs `npm run build`.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { addressToScriptPubKey } from '../src/crypto/address.js';
import { COIN } from '../src/consensus/amount.js';
import { regtest } from '../src/params/networks.js';
import { bytesToHex } from '../src/primitives/hex.js';
import { encodeTx } from '../src/primitives/tx.js';
import { buildSignedTx, coinsOf, makeTestKey, testKeyAddress } from '../src/testing/txFactory.js';
import { waitFor } from '../src/testing/waitFor.js';
import { openRestTestNode, type RestTestNode } from './fixtures/restTestNode.js';
import { sidewaysOverflow } from './fixtures/sidewaysOverflow.js';
import { startChild, openPage, seriousViolations, exchangeReadyUrl, startWalletAndWeb } from './fixtures/browserPage.js';

const CHROMIUM = process.env['CAIRN_CHROMIUM'] ?? '/usr/bin/chromium';
const OUT_DIR = resolve(process.env['CAIRN_WEB_TEST_OUT'] ?? join('tmp', 'web-test'));
const STEP_MS = 20_000;
const CONFS = 2;
const MINER = makeTestKey('web-capital/miner', 'p2wpkh');
const PAYEE = makeTestKey('web-capital/payee', 'p2wpkh');

/** Waits for an element with `testId` whose text matches `pattern`; returns its text. */
async function waitText(page: Page, testId: string, pattern: RegExp, timeoutMs = STEP_MS): Promise<string> {
  const el = page.getByTestId(testId).filter({ hasText: pattern }).first();
  try {
    await el.waitFor({ timeout: timeoutMs });
  } catch (err) {
    // Say what the page showed instead (the panels' texts), so a failure reads without a screenshot.
    const seen = await page.locator('[data-testid$="-panel"]').allTextContents().catch(() => []);
    throw new Error(`no ${testId} matching ${pattern} within ${timeoutMs} ms; the panels showed:\n${seen.join('\n')}`, { cause: err });
  }
  return (await el.textContent()) ?? '';
}

/** The accessible name (or text) of the focused element. */
async function focused(page: Page): Promise<string> {
  // Runs in the page (the test's tsconfig has no DOM types, hence the structural type).
  const el = page.locator(':focus');
  if ((await el.count()) === 0) return '';
  return el.evaluate((e: { getAttribute(n: string): string | null; textContent: string | null }) => (e.getAttribute('aria-label') ?? e.getAttribute('name') ?? e.textContent ?? '').trim());
}

/** Presses Tab until the element named `name` (see focused()) has the focus; fails after `max` presses. */
async function tabTo(page: Page, name: string, max = 60): Promise<void> {
  for (let i = 0; i < max; i++) {
    if ((await focused(page)) === name) return;
    await page.keyboard.press('Tab');
  }
  assert.fail(`Tab never reached ${name} (last: ${await focused(page)})`);
}

test('trading page: deposit address with QR, deposit pending n/N then credited live, refusals, keyboard withdrawal sent and completed, max, axe', { timeout: 150_000 }, async (t) => {
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: apt-get install -y chromium (CI's .ci/run does)`);
  mkdirSync(OUT_DIR, { recursive: true });
  const root = mkdtempSync(join(tmpdir(), 'cairn-web-capital-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));

  // A regtest node with one mature coinbase of the test's miner (the coin the deposit spends).
  const env: RestTestNode = await openRestTestNode({ rest: { rateLimit: false } });
  t.after(() => env.close());
  const blocks = await env.mine(101, MINER);
  const coin = coinsOf(blocks[0]!.txs[0]!, MINER)[0]!;
  const mine = async (n: number): Promise<void> => void (await env.mine(n, MINER));

  const exchange = await startChild(t, 'cairn exchange serve', ['bin/cairn.js', 'exchange', 'serve', '--network', 'regtest', '--datadir', join(root, 'exchange'), '--port', '0', '--json', '--node-url', `${env.url}/api`, '--confirmations', String(CONFS)], exchangeReadyUrl);
  const url = await startWalletAndWeb(t, { root, nodeApiUrl: `${env.url}/api`, exchangeUrl: exchange.value });

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  t.after(() => browser.close());
  const errors: string[] = [];
  const alice = await openPage(browser, errors, { width: 1280, height: 1000 });
  await alice.goto(`${url}/trade/CRNUSD`);
  await alice.getByLabel('Username').fill('alice');
  await alice.getByLabel('Password').fill('alice-password');
  await alice.getByRole('button', { name: 'Register', exact: true }).click();

  // The deposit address, its QR code, the published terms; no deposit or withdrawal yet.
  const address = (await waitText(alice, 'deposit-address', /^rcrn1q/)).trim();
  await alice.getByTestId('deposit-panel').getByRole('img', { name: `QR code of ${address}` }).waitFor({ timeout: STEP_MS });
  await waitText(alice, 'deposit-panel', new RegExp(`Credited after ${CONFS} confirmations`));
  await waitText(alice, 'deposits-empty', /No deposit yet/);
  await waitText(alice, 'withdrawals-empty', /No withdrawal yet/);
  await waitText(alice, 'withdraw-terms', /Available 0\.00000000 CRN · Fee 0\.00010000 CRN · minimum 0\.\d{8} CRN/);
  await waitText(alice, 'user-stream', /live/);

  // Pay 2 CRN to it on chain: pending 0/2 from the mempool, 1/2 after a block, credited after the second; the
  // balance follows (user stream), all without a reload.
  const deposit = buildSignedTx([coin], [
    { value: 2n * COIN, scriptPubKey: addressToScriptPubKey(address, regtest.bech32Hrp) },
    { value: coin.output.value - 2n * COIN - 10_000n, scriptPubKey: MINER.scriptPubKey },
  ]);
  const posted = await fetch(`${env.url}/api/tx`, { method: 'POST', body: bytesToHex(encodeTx(deposit)) });
  const depositTxid = (await posted.text()).trim();
  assert.equal(posted.status, 200, depositTxid);
  await waitText(alice, 'deposit-row', /^2\.00000000pending · confirmations 0\/2/);
  assert.equal(await alice.getByTestId('deposit-row').getByRole('link').getAttribute('href'), `/tx/${depositTxid}`);
  await waitText(alice, 'balance-CRN', /^CRN0\.000000000\.00000000$/);
  await mine(1);
  await waitText(alice, 'deposit-row', /^2\.00000000pending · confirmations 1\/2/);
  await mine(1);
  await waitText(alice, 'deposit-row', /^2\.00000000credited/);
  await waitText(alice, 'balance-CRN', /^CRN2\.000000000\.00000000$/);
  await waitText(alice, 'withdraw-terms', /^Available 2\.00000000 CRN/);

  // Refusals show the gateway's Binance code and message: more than the balance (-2010), another network's address (-1102).
  const form = alice.getByTestId('withdraw-panel');
  const payee = testKeyAddress(PAYEE, regtest.bech32Hrp);
  const refused = async (to: string, amount: string, pattern: RegExp): Promise<void> => {
    await form.getByLabel('Withdraw to address (CRN)').fill(to);
    await form.getByLabel('Withdraw amount (CRN)').fill(amount);
    await form.getByRole('button', { name: 'Review withdrawal' }).click();
    await form.getByRole('button', { name: 'Confirm withdrawal' }).click();
    await waitText(alice, 'withdraw-confirm', pattern);
    await form.getByRole('button', { name: 'Back' }).click();
  };
  await refused(payee, '5', /The exchange refused: -2010 .*(balance|insufficient)/i);
  await refused('crn1qw508d6qejxtdg4y5r3zarvary0c5xw7k7k7l6', '0.1', /The exchange refused: -1102 .*not a regtest address/);
  // Malformed amounts never leave the page.
  await form.getByLabel('Withdraw amount (CRN)').fill('0.123456789');
  await form.getByRole('button', { name: 'Review withdrawal' }).click();
  await form.getByRole('alert').filter({ hasText: /^Amount: / }).waitFor({ timeout: STEP_MS });

  // A withdrawal of 0.5 CRN by keyboard only: Tab to the address, type, Tab to the amount, type, Enter reviews; the
  // focus is on Confirm, Enter sends.
  await form.getByLabel('Withdraw to address (CRN)').fill('');
  await form.getByLabel('Withdraw amount (CRN)').fill('');
  await alice.getByTestId('deposit-panel').getByRole('button', { name: 'Copy address' }).focus();
  await tabTo(alice, 'withdraw-address');
  await alice.keyboard.type(payee);
  await alice.keyboard.press('Tab');
  assert.equal(await focused(alice), 'withdraw-amount');
  await alice.keyboard.type('0.5');
  await alice.keyboard.press('Enter');
  await waitText(alice, 'withdraw-confirm', /Withdraw 0\.50000000 CRN to .*The fee is 0\.00010000 CRN: 0\.50010000 CRN leaves your balance/);
  assert.equal(await focused(alice), 'Confirm withdrawal');
  await alice.keyboard.press('Enter');
  await waitText(alice, 'withdraw-result', /^Withdrawal requested: 0\.50000000 CRN to /);
  await waitText(alice, 'balance-CRN', /^CRN1\.499900000\.50010000$/);
  // The batch goes out: its txid links to the explorer's tx page, and the node has that transaction.
  await waitText(alice, 'withdrawal-row', /^0\.50000000.*sent · confirmations 0\/2/);
  const href = await alice.getByTestId('withdrawal-row').getByRole('link').getAttribute('href');
  const payoutTxid = /^\/tx\/([0-9a-f]{64})$/.exec(href ?? '')?.[1];
  assert.ok(payoutTxid !== undefined, `withdrawal link ${href}`);
  const payout = (await (await fetch(`${env.url}/api/tx/${payoutTxid}`)).json()) as { vout: Array<{ scriptpubkey_address?: string; value: number }> };
  assert.ok(payout.vout.some((o) => o.scriptpubkey_address === payee && o.value === 50_000_000), JSON.stringify(payout.vout));
  await mine(CONFS);
  await waitText(alice, 'withdrawal-row', /^0\.50000000.*completed/);
  await waitText(alice, 'balance-CRN', /^CRN1\.499900000\.00000000$/);

  // Max: the available balance less the published fee.
  await form.getByRole('button', { name: /^Max/ }).click();
  await waitFor('Max to fill the amount', async () => ((await form.getByLabel('Withdraw amount (CRN)').inputValue()) === '1.49980000' ? true : undefined), STEP_MS);

  // The explorer's tx page of the payout opens from the link.
  const phone = await openPage(browser, errors, { width: 390, height: 844 });
  const dark = await openPage(browser, errors, { width: 1280, height: 1000, dark: true });
  for (const p of [phone, dark]) {
    await p.goto(`${url}/trade/CRNUSD`);
    await p.getByLabel('Username').fill('alice');
    await p.getByLabel('Password').fill('alice-password');
    await p.getByRole('button', { name: 'Sign in', exact: true }).click();
    await waitText(p, 'withdrawal-row', /completed/);
    await waitText(p, 'deposit-row', /credited/);
  }
  await alice.screenshot({ path: join(OUT_DIR, 'trading-capital-desktop.png'), fullPage: true });
  await dark.screenshot({ path: join(OUT_DIR, 'trading-capital-dark.png'), fullPage: true });
  await phone.screenshot({ path: join(OUT_DIR, 'trading-capital-phone.png'), fullPage: true });
  const a11y = [...(await seriousViolations(alice)).map((v) => `light: ${v}`), ...(await seriousViolations(dark)).map((v) => `dark: ${v}`), ...(await seriousViolations(phone)).map((v) => `phone: ${v}`)];
  assert.deepEqual(a11y, [], 'axe: no serious or critical violations');
  // The phone page does not scroll sideways (tables scroll inside their own regions).
  const overflow = await sidewaysOverflow(phone);
  assert.equal(overflow.overflowPx, 0, `sideways scroll at 390 px: ${overflow.culprits.join(', ')}`);
  await alice.getByTestId('withdrawal-row').getByRole('link').click();
  await alice.waitForURL(`${url}/tx/${payoutTxid}`);
  await alice.getByText(payee).first().waitFor({ timeout: STEP_MS });
  // The refusals' 400s are logged by the browser as failed loads: the only console errors allowed.
  assert.deepEqual(errors.filter((e) => !/status of 400 \(Bad Request\)/.test(e)), [], 'no console errors');
  process.stdout.write(`# screenshots in ${OUT_DIR}\n`);
});
