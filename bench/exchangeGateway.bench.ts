/**
 * The exchange end to end: a real `cairn exchange` process (gateway + engine + durable SQLite command log with group
 * commit + history worker + market data), driven by HTTP clients in this process (undici pools, keep-alive and
 * pipelining) sending Binance-signed (HMAC-SHA256, signed fresh with the current timestamp) `POST /api/v3/order`
 * requests: LIMIT GTC and IOC orders of 16 users at prices around one mid, so they cross and the book stays shallow.
 * Figures, per concurrency level (requests in flight: 16, 64, 256): orders/s over the wall clock, request latency
 * p50/p99 (send → response, the order durable), the server's CPU time per order (its /proc utime + stime) and the
 * client's. Goal: >= 10,000 orders/s on this 2-core machine.
 * Comparators in the same run: a bare fastify "hello" route in another process on the same client and the same
 * signed bodies (the HTTP ceiling of the machine), the engine alone in memory (engine.apply) on the same orders, and
 * the exchange service without HTTP (ExchangeService.submit with the durable log, 64 requests in flight).
 * Note: the clients share the machine's 2 cores with the server, as they would on one box.
 * CAIRN_BENCH_MAX_CONNECTIONS (default 256) caps the connections per level; requests beyond it are pipelined.
 * Environment: CAIRN_BENCH_SERVER_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) is passed to the server's
 * node; CAIRN_BENCH_CONCURRENCY (e.g. `64` or `16,256`) replaces the sweep; CAIRN_BENCH_CLI (a path to another
 * checkout's bin/cairn.js, built) runs that checkout's server instead, for A/B in one run; CAIRN_BENCH_E2E_ONLY=1 skips
 * the bare-route ceiling and the comparators (the end-to-end levels only, for repeated A/B); CAIRN_BENCH_WARMUP_MS
 * sets each level's warm-up (default 3,000 ms, so the server's JIT has settled before the clock starts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { silentLogger } from '../src/logging/logger.js';
import type { EngineCommand } from '../src/exchange/engineCommand.js';
import type { ExchangeConfig } from '../src/exchange/exchangeConfig.js';
import { formatRate, type BenchResult } from './harness.js';
import { importShipped } from './shipped.js';

// The comparators run the compiled code the `cairn exchange` process runs (see shipped.ts).
const { ExchangeEngine } = await importShipped<typeof import('../src/exchange/engine.js')>('exchange/engine.js');
const { defaultExchangeConfig } = await importShipped<typeof import('../src/exchange/exchangeConfig.js')>('exchange/exchangeConfig.js');
const { ExchangeService } = await importShipped<typeof import('../src/exchange/exchangeService.js')>('exchange/exchangeService.js');

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = process.env.CAIRN_BENCH_CLI ?? join(ROOT, 'bin', 'cairn.js');
const GOAL = 10_000;
const USERS = 16;
/** Warm-up of each level before its clock starts, ms (see runLevel). */
const WARMUP_MS = Number(process.env.CAIRN_BENCH_WARMUP_MS ?? 3_000);
/**
 * Most TCP connections per level (CAIRN_BENCH_MAX_CONNECTIONS); more requests in flight are pipelined on them.
 * 256, so every level up to 256 in flight is one request per connection, as concurrent API clients send (a Binance
 * client does not pipeline). It was 32: with 8 requests pipelined per connection, Node's HTTP server answers a
 * connection's requests in order, so each waited for the durable log's commit of the one before it, and the
 * throughput at 256 in flight was bounded by 32 connections / commit latency (9,233/s at 32 × 8 against 13,017/s at
 * 256 × 1 in the same minute, load 1.4), not by the server's CPU.
 */
const MAX_CONNECTIONS = Number(process.env.CAIRN_BENCH_MAX_CONNECTIONS ?? 256);

/** One generated order: Binance parameters and the engine command with the same meaning. */
interface BenchOrder {
  /** The stream's user slot (sides alternate per slot). */
  readonly user: number;
  readonly query: string;
  readonly command: (userId: number) => EngineCommand;
}

/** A deterministic order stream: sides alternate per user, prices 99.90..100.10, quantity 0.02..0.06 CRN (every one above the 1 USD minimum notional), 1 in 3 IOC. */
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
    const quantityLots = 100 * (2 + rnd(5));
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

/**
 * The shipped markets with MAX_NUM_ORDERS raised to the most a markets file allows (100,000): the stream only places
 * orders (2 in 3 GTC), so at the default 200 per user the 16 users hit the filter within a second and the rest of
 * the run measured -1013 refusals, not orders. The server (by --markets) and the comparators use this config.
 */
function benchConfig(): ExchangeConfig {
  const cfg = defaultExchangeConfig('regtest');
  return { ...cfg, markets: cfg.markets.map((m) => ({ ...m, maxOpenOrders: 100_000 })) };
}

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const a = Float64Array.from(xs).sort();
  return a[Math.min(a.length - 1, Math.floor(a.length * p))]!;
}

/** CPU time (user + system) of a /proc stat file, ms (fields 14 and 15, clock ticks of 10 ms on Linux); NaN when unreadable. */
function statCpuMs(path: string): number {
  try {
    const stat = readFileSync(path, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

/** CPU time of each thread of a process, ms, by thread id (empty when /proc is not there). */
function threadCpuMs(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) out.set(Number(tid), statCpuMs(`/proc/${pid}/task/${tid}/stat`));
  } catch {
    // not Linux, or the process ended
  }
  return out;
}

/** CPU time a process has used, ms: in all and on its main thread (the event loop), from /proc (Linux); NaN elsewhere. */
function processCpuMs(pid: number): { total: number; main: number } {
  return { total: statCpuMs(`/proc/${pid}/stat`), main: statCpuMs(`/proc/${pid}/task/${pid}/stat`) };
}

async function post(pool: Pool, path: string, body: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const r = await pool.request({ path, method: 'POST', headers, body });
  return { status: r.statusCode, text: await r.body.text() };
}

/** Funding of each user: USD and CRN from the admin route. */
async function setupUsers(pool: Pool, adminToken: string): Promise<Array<{ apiKey: string; secret: string; userId: number }>> {
  const json = { 'content-type': 'application/json' };
  const users: Array<{ apiKey: string; secret: string; userId: number }> = [];
  for (let u = 0; u < USERS; u++) {
    const creds = JSON.stringify({ username: `bench${u}`, password: 'bench password' });
    await post(pool, '/v1/register', creds, json);
    const login = JSON.parse((await post(pool, '/v1/login', creds, json)).text) as { token: string; userId: number };
    const key = JSON.parse((await post(pool, '/v1/api-keys', '{}', { ...json, authorization: `Bearer ${login.token}` })).text) as { apiKey: string; secretKey: string };
    for (const [asset, amount] of [['USD', '1000000'], ['CRN', '100000']] as const) {
      const r = await post(pool, '/v1/admin/balance', JSON.stringify({ userId: login.userId, asset, amount, adjustmentId: `bench-${asset}-${u}` }), { ...json, 'x-cairn-admin-token': adminToken });
      if (r.status !== 200) throw new Error(`funding failed: ${r.text}`);
    }
    users.push({ apiKey: key.apiKey, secret: key.secretKey, userId: login.userId });
  }
  return users;
}

/** Spawns a node process and waits for the first line of stdout that is a JSON object. */
async function spawnServer(args: string[]): Promise<{ child: ChildProcess; ready: Record<string, unknown> }> {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    child.stdout!.on('data', (c: string) => {
      out += c;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line !== undefined) resolve(JSON.parse(line) as Record<string, unknown>);
    });
    child.once('close', (code) => reject(new Error(`${args.join(' ')} exited ${code}: ${err}`)));
  });
  return { child, ready };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const closed = new Promise((r) => child.once('close', r));
  child.kill('SIGTERM');
  await closed;
}

/** A bare fastify server with a form-body parser and one POST route answering `{}`: the HTTP ceiling. */
const HELLO_SERVER = `
import Fastify from 'fastify';
const app = Fastify({ logger: false });
app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_r, body, done) => done(null, body));
app.post('/api/v3/order', async () => ({}));
await app.listen({ host: '127.0.0.1', port: 0 });
console.log(JSON.stringify({ port: app.server.address().port }));
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
`;

/** Figures of one load level. */
interface LevelResult {
  readonly inFlight: number;
  readonly connections: number;
  readonly pipelining: number;
  readonly done: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly failed: number;
  readonly codes: Map<string, number>;
  readonly wallSec: number;
  readonly rate: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Server CPU per order, ms (NaN when /proc is not there). */
  readonly serverCpuMsPerOrder: number;
  /** … of it on the server's main thread (the event loop), ms. */
  readonly serverMainCpuMsPerOrder: number;
  /** This process's CPU per order, ms (signing, HTTP client). */
  readonly clientCpuMsPerOrder: number;
}

/**
 * Sends signed orders for `seconds` with `inFlight` requests outstanding (each sender sends its next order when the
 * previous one is answered), over min(inFlight, MAX_CONNECTIONS) connections with pipelining for the rest.
 */
async function runLevel(
  port: number,
  serverPid: number,
  users: ReadonlyArray<{ apiKey: string; secret: string }>,
  orders: readonly BenchOrder[],
  from: { next: number },
  inFlight: number,
  seconds: number,
): Promise<LevelResult> {
  const connections = Math.min(inFlight, MAX_CONNECTIONS);
  const pipelining = Math.ceil(inFlight / connections);
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections, pipelining, keepAliveTimeout: 60_000 });
  const headers = users.map((u) => ({ 'content-type': 'application/x-www-form-urlencoded', 'x-mbx-apikey': u.apiKey }));
  const lat: number[] = [];
  let accepted = 0;
  let rejected = 0;
  let failed = 0;
  const codes = new Map<string, number>();
  // Warm-up: the connections are opened and the JIT is warm before the clock starts. It was 300 ms: V8 then still
  // compiled the request path for ~2 s into the measured window (--trace-opt on the server: 2.3 s of compile jobs in
  // the window's first 3 s, then ~20 ms/s), so the main thread ran baseline code and V8's compiler threads added
  // 40-60 µs per order to the server's CPU. CAIRN_BENCH_WARMUP_MS overrides it.
  const warmEnd = performance.now() + WARMUP_MS;
  let measuring = false;
  let end = Number.POSITIVE_INFINITY;
  const sender = async (): Promise<void> => {
    for (;;) {
      const now = performance.now();
      if (!measuring && now >= warmEnd) return;
      if (measuring && now >= end) return;
      const o = orders[from.next++ % orders.length]!;
      const u = users[o.user]!;
      // Signed now: the server refuses a timestamp outside recvWindow, so bodies cannot be made ahead.
      const body = `${o.query}&timestamp=${Date.now()}`;
      const sig = createHmac('sha256', u.secret).update(body).digest('hex');
      const r = await pool.request({ path: '/api/v3/order', method: 'POST', headers: headers[o.user]!, body: `${body}&signature=${sig}` });
      const text = await r.body.text();
      if (!measuring) continue;
      lat.push(performance.now() - now);
      if (r.statusCode === 200) accepted++;
      else {
        if (r.statusCode === 400) rejected++;
        else failed++;
        let code = 'no code';
        try {
          code = String((JSON.parse(text) as { code?: number }).code);
        } catch {
          // not JSON
        }
        const key = `${r.statusCode} ${code}`;
        codes.set(key, (codes.get(key) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, () => sender()));
  measuring = true;
  const s0 = processCpuMs(serverPid);
  const threads0 = threadCpuMs(serverPid);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  end = t0 + seconds * 1000;
  await Promise.all(Array.from({ length: inFlight }, () => sender()));
  const wallSec = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const s1 = processCpuMs(serverPid);
  const threads1 = threadCpuMs(serverPid);
  await pool.close();
  const done = accepted + rejected + failed;
  if (process.env.CAIRN_BENCH_THREADS !== undefined) {
    // Thread ids in start order: the main thread, V8/libuv helpers, then the exchange's worker threads.
    const per = [...threads1].map(([tid, ms]) => `${tid - serverPid}:${(((ms - (threads0.get(tid) ?? 0)) * 1000) / Math.max(1, accepted + rejected + failed)).toFixed(0)}`);
    console.log(`    server CPU µs per order by thread (tid - pid: µs): ${per.join(' ')}`);
  }
  return {
    inFlight, connections, pipelining, done, accepted, rejected, failed, codes, wallSec, rate: accepted / wallSec,
    p50Ms: percentile(lat, 0.5), p99Ms: percentile(lat, 0.99),
    serverCpuMsPerOrder: (s1.total - s0.total) / done, serverMainCpuMsPerOrder: (s1.main - s0.main) / done, clientCpuMsPerOrder: (c.user + c.system) / 1000 / done,
  };
}

function describeLevel(r: LevelResult): string {
  const codes = r.codes.size > 0 ? ` (${[...r.codes].map(([c, n]) => `${c}: ${n}`).join(', ')})` : '';
  return `${String(r.inFlight).padStart(3)} in flight (${r.connections} conn × ${r.pipelining} pipelined): ${formatRate(r.rate, 'orders')} accepted, of ${r.done.toLocaleString('en-US')} sent in ${r.wallSec.toFixed(1)} s; ` +
    `p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms; CPU per order: server ${(r.serverCpuMsPerOrder * 1000).toFixed(0)} µs (main thread ${(r.serverMainCpuMsPerOrder * 1000).toFixed(0)}), client ${(r.clientCpuMsPerOrder * 1000).toFixed(0)} µs; ` +
    `${r.accepted.toLocaleString('en-US')} accepted, ${r.rejected.toLocaleString('en-US')} refused (400), ${r.failed} other${codes}; load ${loadavg()[0]!.toFixed(2)}`;
}

/** Runs the end-to-end gateway bench (figures printed) and returns its results. */
export async function runExchangeGatewayBench(seconds: number): Promise<Record<string, BenchResult>> {
  const levelSec = Math.max(3, seconds);
  const sweep = (process.env.CAIRN_BENCH_CONCURRENCY ?? '16,64,256').split(',').map(Number).filter((n) => Number.isSafeInteger(n) && n > 0);
  const orders = generateOrders(200_000);
  const dir = mkdtempSync(join(tmpdir(), 'cairn-gateway-bench-'));
  console.log(`\n## exchange end to end: signed REST orders through a real cairn exchange process (goal >= ${GOAL.toLocaleString('en-US')} orders/s); load ${loadavg()[0]!.toFixed(2)}`);
  const nodeArgs = (process.env.CAIRN_BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const servers: ChildProcess[] = [];
  const results: Record<string, BenchResult> = {};
  const e2eOnly = process.env.CAIRN_BENCH_E2E_ONLY === '1';
  try {
    // ---- the HTTP ceiling: a bare fastify route, same client, same signed bodies ----
    let helloRate = NaN;
    if (!e2eOnly) {
      const hello = await spawnServer(['--input-type=module', '-e', HELLO_SERVER]);
      servers.push(hello.child);
      const fakeUsers = Array.from({ length: USERS }, (_, u) => ({ apiKey: `k${u}`, secret: `s${u}` }));
      const helloLevel = await runLevel(hello.ready.port as number, hello.child.pid!, fakeUsers, orders, { next: 0 }, 64, levelSec);
      await stop(hello.child);
      console.log(`HTTP ceiling, bare fastify POST route answering {} (another process, same client): ${describeLevel(helloLevel)}`);
      results.gatewayHelloCeiling = { name: 'bare fastify route, same client, 64 in flight', ops: helloLevel.done, seconds: helloLevel.wallSec, opsPerSec: helloLevel.rate };
      helloRate = helloLevel.rate;
    }

    // ---- end to end ----
    const marketsFile = join(dir, 'markets.json');
    const { network: _network, ...marketsJson } = benchConfig();
    writeFileSync(marketsFile, JSON.stringify(marketsJson));
    const ex = await spawnServer([...nodeArgs, CLI, 'exchange', '--network', 'regtest', '--datadir', join(dir, 'ex'), '--port', '0', '--json', '--ip-limit', '0', '--key-limit', '0', '--markets', marketsFile]);
    servers.push(ex.child);
    const port = ex.ready.port as number;
    const adminToken = readFileSync(ex.ready.adminTokenFile as string, 'utf8').trim();
    const setupPool = new Pool(`http://127.0.0.1:${port}`, { connections: 1 });
    const users = await setupUsers(setupPool, adminToken);
    await setupPool.close();
    console.log('signed REST (HMAC-SHA256 signed fresh per request, form body, ACK responses), undici pools:');
    const from = { next: 0 };
    let best: LevelResult | undefined;
    for (const inFlight of sweep) {
      const r = await runLevel(port, ex.child.pid!, users, orders, from, inFlight, levelSec);
      console.log(`  ${describeLevel(r)}`);
      results[`gatewayOrders${inFlight}`] = { name: `signed REST orders end to end, ${inFlight} in flight`, ops: r.accepted, seconds: r.wallSec, opsPerSec: r.rate };
      if (best === undefined || r.rate > best.rate) best = r;
    }
    await stop(ex.child);
    if (best === undefined || e2eOnly) return results;
    console.log(`best: ${formatRate(best.rate, 'orders')} at ${best.inFlight} in flight, ${((100 * best.rate) / GOAL).toFixed(0)}% of the goal; ` +
      `end to end / bare fastify route = ${(best.rate / helloRate).toFixed(3)}`);

    // ---- comparators on the same orders: the engine alone, and the service (durable log) without HTTP ----
    const cfg = benchConfig();
    const setup: EngineCommand[] = [{ type: 'CONFIGURE', config: cfg }];
    for (let u = 1; u <= USERS; u++) {
      setup.push({ type: 'ADJUST_BALANCE', adjustmentId: `usd-${u}`, userId: u, asset: 'USD', amount: 1_000_000_000_000n });
      setup.push({ type: 'ADJUST_BALANCE', adjustmentId: `crn-${u}`, userId: u, asset: 'CRN', amount: 10_000_000_000_000n });
    }
    const n = Math.min(orders.length, Math.max(50_000, best.done));
    const commands = orders.slice(0, n).map((o, i) => o.command(1 + (i % USERS)));
    const engine = new ExchangeEngine();
    let seq = 0;
    for (const command of setup) engine.apply({ seq: ++seq, timeMs: 1, command });
    const e0 = performance.now();
    for (const command of commands) engine.apply({ seq: ++seq, timeMs: 2, command });
    const engineRate = commands.length / ((performance.now() - e0) / 1000);
    const svc = await ExchangeService.open({ datadir: join(dir, 'svc'), config: cfg, history: false }, { logger: silentLogger() });
    for (const command of setup.slice(1)) await svc.submit(command);
    const s0 = performance.now();
    const cpu0 = process.cpuUsage();
    let i = 0;
    const slat: number[] = [];
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (i < commands.length) {
          const c = commands[i++]!;
          const t = performance.now();
          await svc.submit(c);
          slat.push(performance.now() - t);
        }
      }),
    );
    const svcSec = (performance.now() - s0) / 1000;
    const svcCpu = process.cpuUsage(cpu0);
    const svcRate = commands.length / svcSec;
    await svc.close();
    console.log(`comparators, same orders, same run: engine alone in memory ${formatRate(engineRate, 'orders')} (${(1e6 / engineRate).toFixed(1)} µs each); ` +
      `service with the durable log, no HTTP, 64 in flight ${formatRate(svcRate, 'orders')} (p50 ${percentile(slat, 0.5).toFixed(2)} ms, p99 ${percentile(slat, 0.99).toFixed(2)} ms, ` +
      `${(((svcCpu.user + svcCpu.system) / commands.length)).toFixed(1)} µs CPU each)`);
    console.log(`ratio: end to end / engine alone = ${(best.rate / engineRate).toFixed(4)}; end to end / durable service without HTTP = ${(best.rate / svcRate).toFixed(3)}; load ${loadavg()[0]!.toFixed(2)}`);
    results.gatewayEngineAlone = { name: 'engine alone on the same orders', ops: commands.length, seconds: commands.length / engineRate, opsPerSec: engineRate };
    results.gatewayServiceNoHttp = { name: 'durable service on the same orders, no HTTP', ops: commands.length, seconds: svcSec, opsPerSec: svcRate };
  } finally {
    for (const c of servers) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
