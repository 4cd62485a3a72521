/**
 * The devnet's demo traders against a real `cairn exchange serve` process (devnet network, ephemeral port, through tsx
 * like the devnet test): they register, log in, create API keys, get USD from the faucet (signed with the key) and
 * CRN by fundTraderCrn, then quote and take over the signed REST API — trades appear on GET /api/v3/trades, both
 * sides of the book hold the makers' quotes, and nothing is refused. A second set of traders on the same exchange (a
 * devnet resume) logs in again, revokes the first set's keys and trades on.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseFixedPoint } from '../src/consensus/amount.js';
import { DemoTraders } from '../src/devnet/demoTraders.js';
import { ExchangeApiError, ExchangeClient } from '../src/devnet/exchangeClient.js';
import { waitFor } from '../src/testing/waitFor.js';

const CLI = ['--import', 'tsx', 'src/cli/run.ts'];

async function json(url: string): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

test('demo traders fund themselves and trade on a real exchange over the signed REST API; a second run revokes the first keys and trades on', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'cairn-demo-traders-'));
  const datadir = join(root, 'exchange');
  const proc: ChildProcess = spawn(process.execPath, [...CLI, 'exchange', 'serve', '--network', 'devnet', '--datadir', datadir, '--port', '0', '--json', '--ip-limit', '0', '--log-level', 'silent'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const traders: DemoTraders[] = [];
  t.after(async () => {
    for (const tr of traders) await tr.stop();
    if (proc.exitCode === null) {
      const closed = new Promise((r) => proc.once('close', r));
      proc.kill('SIGKILL');
      await closed;
    }
    rmSync(root, { recursive: true, force: true });
  });
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  const ready = await waitFor('the exchange to print its ready line', () => {
    if (proc.exitCode !== null) throw new Error(`the exchange exited: ${err}`);
    const line = out.split('\n').find((l) => l.startsWith('{'));
    return line === undefined ? undefined : (JSON.parse(line) as { url: string; adminTokenFile: string });
  }, 60_000);
  const options = { baseUrl: ready.url, adminTokenFile: ready.adminTokenFile, symbol: 'CRNUSD', tickMs: 100 };
  const trades = (): Promise<{ id: number }[]> => json(`${ready.url}/api/v3/trades?symbol=CRNUSD&limit=1000`) as Promise<{ id: number }[]>;

  const first = new DemoTraders(options);
  traders.push(first);
  assert.equal(first.getStats().state, 'waiting');
  first.start();
  const seen = await waitFor('trades of the demo traders', async () => ((await trades()).length >= 3 ? trades() : undefined), 30_000, 100);
  const depth = (await json(`${ready.url}/api/v3/depth?symbol=CRNUSD&limit=10`)) as { bids: string[][]; asks: string[][] };
  assert.ok(depth.bids.length >= 2 && depth.asks.length >= 2, JSON.stringify(depth));
  assert.ok(Number(depth.bids[0]![0]) < Number(depth.asks[0]![0]), 'the book is not crossed');
  await first.stop();
  const s1 = first.getStats();
  assert.equal(s1.state, 'stopped');
  assert.ok(s1.ordersSent >= 8, JSON.stringify(s1));
  assert.deepEqual({ refused: s1.refused, errors: s1.errors }, { refused: 0, errors: 0 }, JSON.stringify(s1));

  // The traders hold what the faucet and fundTraderCrn gave them: 10,000 USD and 100 CRN each, moved among them by
  // their trades, less the fees (0.1%) of the little they traded.
  const client = new ExchangeClient(ready.url);
  let crnTotal = 0n;
  for (const username of ['demo-maker-1', 'demo-maker-2', 'demo-taker']) {
    const { token } = (await client.account('POST', '/v1/login', { username, password: 'devnet-demo-trader' })) as { token: string };
    const a = (await client.account('GET', '/api/v3/account', undefined, { token })) as { balances: { asset: string; free: string; locked: string }[] };
    const held = (asset: string): bigint => a.balances.filter((b) => b.asset === asset).reduce((sum, b) => sum + parseFixedPoint(b.free, 8) + parseFixedPoint(b.locked, 8), 0n);
    assert.ok(held('USD') > 0n && held('CRN') > 0n, `${username}: ${JSON.stringify(a.balances)}`);
    crnTotal += held('CRN');
  }
  assert.ok(crnTotal <= 300n * 10n ** 8n && crnTotal > 299n * 10n ** 8n, `CRN held by the three: ${crnTotal}`);
  const login = (await client.account('POST', '/v1/login', { username: 'demo-taker', password: 'devnet-demo-trader' })) as { token: string };
  const keys1 = (await client.account('GET', '/v1/api-keys', undefined, { token: login.token })) as { apiKey: string; revokedAt: number | null }[];
  assert.equal(keys1.filter((k) => k.revokedAt === null).length, 1);

  // A resume: the same accounts log in again, the first keys are revoked, trading goes on.
  const second = new DemoTraders(options);
  traders.push(second);
  second.start();
  const lastSeen = seen[seen.length - 1]!.id;
  await waitFor('trades of the second run', async () => ((await trades()).some((x) => x.id > lastSeen + 2) ? true : undefined), 30_000, 100);
  await second.stop();
  const s2 = second.getStats();
  assert.deepEqual({ refused: s2.refused, errors: s2.errors }, { refused: 0, errors: 0 }, JSON.stringify(s2));
  const keys2 = (await client.account('GET', '/v1/api-keys', undefined, { token: login.token })) as { apiKey: string; revokedAt: number | null }[];
  assert.equal(keys2.length, 2);
  assert.deepEqual(keys2.filter((k) => k.revokedAt === null).length, 1);
  const oldKey = keys1[0]!.apiKey;
  assert.notEqual(keys2.find((k) => k.revokedAt === null)!.apiKey, oldKey);
  await assert.rejects(
    client.signed('GET', '/api/v3/account', {}, { apiKey: oldKey, secretKey: 'x' }),
    (e: unknown) => e instanceof ExchangeApiError && e.status === 401 && e.code === -2015,
  );
  const account = (await client.account('GET', '/v1/me', undefined, { token: login.token })) as { username: string };
  assert.equal(account.username, 'demo-taker');
});
