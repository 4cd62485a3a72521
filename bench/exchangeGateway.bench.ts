/**
 * The exchange end to end: a real `cairn exchange` process (gateway + engine + durable SQLite command log with group
 * commit + history worker + market data), driven by concurrent keep-alive HTTP clients in this process sending
 * Binance-signed (HMAC-SHA256) `POST /api/v3/order` requests: LIMIT GTC and IOC orders of 16 users at prices around
 * one mid, so they cross and the book stays shallow. Figures: orders/s over the wall clock, request latency p50/p99
 * (send → response, the order durable), and how many were accepted. Goal: >= 10,000 orders/s on this 2-core machine.
 * Comparators in the same run, on the same orders: the engine alone in memory (engine.apply), and the exchange
 * service without HTTP (ExchangeService.submit with the durable log, as many requests in flight as clients).
 * Note: the clients share the machine's 2 cores with the server, as they would on one box.
 */
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../src/logging/logger.js';
import type { EngineCommand } from '../src/exchange/engineCommand.js';
import { ExchangeEngine } from '../src/exchange/engine.js';
import { defaultExchangeConfig } from '../src/exchange/exchangeConfig.js';
import { ExchangeService } from '../src/exchange/exchangeService.js';
import { formatRate, type BenchResult } from './harness.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'bin', 'cairn.js');
const GOAL = 10_000;
const USERS = 16;
const CONNECTIONS_PER_USER = 4;

/** One generated order: Binance parameters and the engine command with the same meaning. */
interface BenchOrder {
  /** The stream's user slot (sides alternate per slot). */
  readonly user: number;
  readonly query: string;
  readonly command: (userId: number) => EngineCommand;
}

/** A deterministic order stream: sides alternate per user, prices 99.90..100.10, quantity 0.01..0.05 CRN, 1 in 3 IOC. */
function generateOrders(n: number): BenchOrder[] {
  const out: BenchOrder[] = [];
  let x = 12345;
  const rnd = (m: number): number => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x % m;
  };
  for (let i = 0; i < n; i++) {
    const user = i % USERS;
    const side = (i >> 4) % 2 === 0 ? (user % 2 === 0 ? 'BUY' : 'SELL') : user % 2 === 0 ? 'SELL' : 'BUY';
    const priceTicks = 9_990 + rnd(21);
    const quantityLots = 100 * (1 + rnd(5));
    const tif = rnd(3) === 0 ? 'IOC' : 'GTC';
    const price = `${Math.floor(priceTicks / 100)}.${String(priceTicks % 100).padStart(2, '0')}`;
    const quantity = `0.0${quantityLots / 100}00`;
    out.push({
      user,
      query: `symbol=CRNUSD&side=${side}&type=LIMIT&timeInForce=${tif}&price=${price}&quantity=${quantity}&newOrderRespType=ACK`,
      command: (userId) => ({ type: 'PLACE_ORDER', symbol: 'CRNUSD', userId, order: { side, orderType: 'LIMIT', timeInForce: tif, priceTicks, quantityLots } }),
    });
  }
  return out;
}

function percentile(xs: number[], p: number): number {
  const a = Float64Array.from(xs).sort();
  return a[Math.min(a.length - 1, Math.floor(a.length * p))]!;
}

function post(agent: Agent, port: number, path: string, body: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Funding of each user: USD and CRN from the admin route. */
async function setupUsers(port: number, adminToken: string, agent: Agent): Promise<Array<{ apiKey: string; secret: string; userId: number }>> {
  const json = { 'content-type': 'application/json' };
  const users: Array<{ apiKey: string; secret: string; userId: number }> = [];
  for (let u = 0; u < USERS; u++) {
    const creds = JSON.stringify({ username: `bench${u}`, password: 'bench password' });
    await post(agent, port, '/v1/register', creds, json);
    const login = JSON.parse((await post(agent, port, '/v1/login', creds, json)).text) as { token: string; userId: number };
    const key = JSON.parse((await post(agent, port, '/v1/api-keys', '{}', { ...json, authorization: `Bearer ${login.token}` })).text) as { apiKey: string; secretKey: string };
    for (const [asset, amount] of [['USD', '1000000'], ['CRN', '100000']] as const) {
      const r = await post(agent, port, '/v1/admin/balance', JSON.stringify({ userId: login.userId, asset, amount, adjustmentId: `bench-${asset}-${u}` }), { ...json, 'x-cairn-admin-token': adminToken });
      if (r.status !== 200) throw new Error(`funding failed: ${r.text}`);
    }
    users.push({ apiKey: key.apiKey, secret: key.secretKey, userId: login.userId });
  }
  return users;
}

/** Runs the end-to-end gateway bench (figures printed) and returns its results. */
export async function runExchangeGatewayBench(seconds: number): Promise<Record<string, BenchResult>> {
  const runSec = Math.max(3, seconds);
  const clients = USERS * CONNECTIONS_PER_USER;
  const orders = generateOrders(Math.round(runSec * 40_000));
  const dir = mkdtempSync(join(tmpdir(), 'cairn-gateway-bench-'));
  const load0 = loadavg()[0]!;
  console.log(`\n## exchange end to end: signed REST orders through a real cairn exchange process (goal >= ${GOAL.toLocaleString('en-US')} orders/s); load ${load0.toFixed(2)}`);
  const child = spawn(process.execPath, [CLI, 'exchange', '--network', 'regtest', '--datadir', join(dir, 'ex'), '--port', '0', '--json', '--ip-limit', '0', '--key-limit', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const results: Record<string, BenchResult> = {};
  try {
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    const ready = await new Promise<{ port: number; adminTokenFile: string }>((resolve, reject) => {
      const check = (): void => {
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (line !== undefined) resolve(JSON.parse(line) as { port: number; adminTokenFile: string });
      };
      child.stdout.on('data', check);
      child.once('close', (code) => reject(new Error(`the exchange exited ${code}: ${err}`)));
    });
    const { readFileSync } = await import('node:fs');
    const adminToken = readFileSync(ready.adminTokenFile, 'utf8').trim();
    const agent = new Agent({ keepAlive: true, maxSockets: clients });
    const users = await setupUsers(ready.port, adminToken, agent);

    // ---- end to end: `clients` connections, each sending its user's next order when the previous one is answered ----
    const lat: number[] = [];
    let next = 0;
    let accepted = 0;
    let rejected = 0;
    let failed = 0;
    const codes = new Map<string, number>();
    const end = performance.now() + runSec * 1000;
    const t0 = performance.now();
    const worker = async (c: number): Promise<void> => {
      const user = users[c % USERS]!;
      while (performance.now() < end) {
        // Each connection takes the next order of the shared stream and sends it as its user.
        const o = next < orders.length ? orders[next++] : undefined;
        if (o === undefined) return;
        const body = `${o.query}&timestamp=${Date.now()}`;
        const sig = createHmac('sha256', user.secret).update(body).digest('hex');
        const started = performance.now();
        const r = await post(agent, ready.port, '/api/v3/order', `${body}&signature=${sig}`, { 'content-type': 'application/x-www-form-urlencoded', 'x-mbx-apikey': user.apiKey });
        lat.push(performance.now() - started);
        if (r.status === 200) accepted++;
        else {
          if (r.status === 400) rejected++;
          else failed++;
          const code = `${r.status} ${String((JSON.parse(r.text) as { code?: number }).code)}`;
          codes.set(code, (codes.get(code) ?? 0) + 1);
        }
      }
    };
    await Promise.all(Array.from({ length: clients }, (_, c) => worker(c)));
    const wallSec = (performance.now() - t0) / 1000;
    const done = accepted + rejected + failed;
    const rate = done / wallSec;
    agent.destroy();
    console.log(`signed REST (HMAC-SHA256, form body, ACK responses), ${clients} keep-alive clients of ${USERS} users: ${formatRate(rate, 'orders')} wall over ${done.toLocaleString('en-US')} orders in ${wallSec.toFixed(1)} s; ` +
      `latency p50 ${percentile(lat, 0.5).toFixed(2)} ms, p99 ${percentile(lat, 0.99).toFixed(2)} ms; ${accepted.toLocaleString('en-US')} accepted, ${rejected.toLocaleString('en-US')} refused (400), ${failed} other${codes.size > 0 ? ` (${[...codes].map(([c, n]) => `${c}: ${n}`).join(', ')})` : ''}; ` +
      `${((100 * rate) / GOAL).toFixed(0)}% of the goal; load ${loadavg()[0]!.toFixed(2)}`);
    results.gatewayOrders = { name: 'signed REST orders end to end', ops: done, seconds: wallSec, opsPerSec: rate };
    const closed = new Promise((r) => child.once('close', r));
    child.kill('SIGTERM');
    await closed;

    // ---- comparators on the same orders: the engine alone, and the service (durable log) without HTTP ----
    const cfg = defaultExchangeConfig('regtest');
    const setup: EngineCommand[] = [{ type: 'CONFIGURE', config: cfg }];
    for (let u = 1; u <= USERS; u++) {
      setup.push({ type: 'ADJUST_BALANCE', adjustmentId: `usd-${u}`, userId: u, asset: 'USD', amount: 1_000_000_000_000n });
      setup.push({ type: 'ADJUST_BALANCE', adjustmentId: `crn-${u}`, userId: u, asset: 'CRN', amount: 10_000_000_000_000n });
    }
    const commands = orders.slice(0, done).map((o, i) => o.command(1 + (i % USERS)));
    const engine = new ExchangeEngine();
    let seq = 0;
    for (const command of setup) engine.apply({ seq: ++seq, timeMs: 1, command });
    const e0 = performance.now();
    for (const command of commands) engine.apply({ seq: ++seq, timeMs: 2, command });
    const engineRate = commands.length / ((performance.now() - e0) / 1000);
    const svc = await ExchangeService.open({ datadir: join(dir, 'svc'), config: cfg, history: false }, { logger: silentLogger() });
    for (const command of setup.slice(1)) await svc.submit(command);
    const s0 = performance.now();
    let i = 0;
    const slat: number[] = [];
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (i < commands.length) {
          const c = commands[i++]!;
          const t = performance.now();
          await svc.submit(c);
          slat.push(performance.now() - t);
        }
      }),
    );
    const svcSec = (performance.now() - s0) / 1000;
    const svcRate = commands.length / svcSec;
    await svc.close();
    console.log(`comparators, same orders, same run: engine alone in memory ${formatRate(engineRate, 'orders')}; service with the durable log, no HTTP, ${clients} in flight ${formatRate(svcRate, 'orders')} ` +
      `(p50 ${percentile(slat, 0.5).toFixed(2)} ms, p99 ${percentile(slat, 0.99).toFixed(2)} ms)`);
    console.log(`ratio: end to end / engine alone = ${(rate / engineRate).toFixed(4)}; end to end / durable service without HTTP = ${(rate / svcRate).toFixed(3)}`);
    results.gatewayEngineAlone = { name: 'engine alone on the same orders', ops: commands.length, seconds: commands.length / engineRate, opsPerSec: engineRate };
    results.gatewayServiceNoHttp = { name: 'durable service on the same orders, no HTTP', ops: commands.length, seconds: svcSec, opsPerSec: svcRate };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
