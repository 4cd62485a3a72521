/**
 * The exchange engine with accounts and fees, on the matching bench's exchange-core-like stream (~1,000 users, ~1,000
 * resting orders over ~700 price levels; GTC and IOC places, a few FOK, cancels, quantity decreases that keep
 * priority, moves by cancel-replace), beside the matching core alone on the same stream in the same run:
 * - in memory: engine.apply per command (locks, settlement at the maker price, ceil fees to the fee account, ledger
 *   entries, order reports, depth events) against OrderBook.apply alone; commands per CPU-second, median of
 *   alternating passes after as many seconds of untimed warm-up passes, and the same-run ratio. Goal: >= 1,000,000
 *   commands/s for the engine. Beside it, the engine with userEvents = false (no order or ledger events: what
 *   recovery's replay runs), same results and state.
 * - with the durable log: the sequencer and the SQLite command log (WAL, synchronous=FULL, one fsync per batch: group
 *   commit) with a window of commands in flight (submitted in stream order, as many concurrent clients would);
 *   commands per wall-second, ack latency p50/p99 (submit → durable result), batches and their mean size.
 * - the whole service (log + snapshots + SQLite history + market data), the same way.
 * - end to end: signed REST orders through a real `cairn exchange` process (exchangeGateway.bench.ts).
 * Both books see the same commands with the same order ids (the engine numbers orders as the stream does), and the
 * bench checks they make the same number of trades and that the engine's audit holds after a pass.
 * Long crash mode: `--only exchangeCrash` runs test/exchangeCrash.test.ts with EXCHANGE_CRASH_CYCLES kills (50).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../src/logging/logger.js';
import type { MatchCommand, NewOrder } from '../src/matching/matchCommand.js';
import type { MatchEvent } from '../src/matching/matchEvent.js';
import type { EngineCommand, OrderParams, SequencedCommand } from '../src/exchange/engineCommand.js';
import type { CommandOutcome } from '../src/exchange/engineEvent.js';
import type { ExchangeEngine as ExchangeEngineType } from '../src/exchange/engine.js';
import type { ExchangeConfig } from '../src/exchange/exchangeConfig.js';
import { formatRate, type BenchResult } from './harness.js';
import { runExchangeGatewayBench } from './exchangeGateway.bench.js';
import { generateStream } from './matching.bench.js';
import { importShipped } from './shipped.js';

// The compiled code `cairn exchange` runs (see shipped.ts): the book, the engine, the log, the sequencer, the service.
const { defineMarketGrid } = await importShipped<typeof import('../src/matching/marketGrid.js')>('matching/marketGrid.js');
const { OrderBook } = await importShipped<typeof import('../src/matching/orderBook.js')>('matching/orderBook.js');
const { auditEngine } = await importShipped<typeof import('../src/exchange/audit.js')>('exchange/audit.js');
const { SqliteCommandLog } = await importShipped<typeof import('../src/exchange/commandLog.js')>('exchange/commandLog.js');
const { ExchangeEngine } = await importShipped<typeof import('../src/exchange/engine.js')>('exchange/engine.js');
const { checkExchangeConfig } = await importShipped<typeof import('../src/exchange/exchangeConfig.js')>('exchange/exchangeConfig.js');
const { ExchangeService } = await importShipped<typeof import('../src/exchange/exchangeService.js')>('exchange/exchangeService.js');
const { Sequencer } = await importShipped<typeof import('../src/exchange/sequencer.js')>('exchange/sequencer.js');

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const GOAL_ENGINE = 1_000_000;
const USERS = 1000;
const WINDOW = 1024;
/** Kills of the long crash mode. */
export const DEFAULT_EXCHANGE_CRASH_CYCLES = 50;

/** The bench market: the matching bench's grid (USD with 6 decimals keeps one lot × one tick = 1 unit), no minimums. */
const CONFIG: ExchangeConfig = checkExchangeConfig({
  network: 'regtest',
  assets: [
    { asset: 'CRN', decimals: 8, onChain: true },
    { asset: 'USD', decimals: 6, onChain: false },
  ],
  markets: [
    {
      symbol: 'CRNUSD',
      displayName: 'CRN/USD',
      baseAsset: 'CRN',
      quoteAsset: 'USD',
      tickSize: '0.01',
      maxPrice: '1000000',
      stepSize: '0.0001',
      minQuantity: '0.0001',
      maxQuantity: '9000',
      minNotional: '0',
      makerFeePpm: 1000,
      takerFeePpm: 1000,
      status: 'TRADING',
      maxOpenOrders: 1000,
    },
  ],
});
const GRID = defineMarketGrid({ symbol: 'CRNUSD', baseAsset: 'CRN', quoteAsset: 'USD', baseDecimals: 8, quoteDecimals: 6, tickSize: '0.01', stepSize: '0.0001', maxPrice: '1000000', maxQuantity: '9000' });

function orderParams(o: NewOrder): OrderParams {
  return {
    side: o.side,
    orderType: o.type,
    ...(o.timeInForce !== undefined ? { timeInForce: o.timeInForce } : {}),
    ...(o.priceTicks !== undefined ? { priceTicks: o.priceTicks } : {}),
    ...(o.quantityLots !== undefined ? { quantityLots: o.quantityLots } : {}),
    ...(o.stpMode !== undefined ? { stpMode: o.stpMode } : {}),
  };
}

/** The matching stream's command as an engine command (order ids line up: the engine numbers orders as the stream). */
function toEngine(c: MatchCommand): EngineCommand {
  switch (c.type) {
    case 'PLACE':
      return { type: 'PLACE_ORDER', symbol: 'CRNUSD', userId: c.order.userId, order: orderParams(c.order) };
    case 'CANCEL':
      return { type: 'CANCEL_ORDER', symbol: 'CRNUSD', userId: c.userId, orderId: c.orderId };
    case 'AMEND_KEEP_PRIORITY':
      return { type: 'AMEND_ORDER', symbol: 'CRNUSD', userId: c.userId, orderId: c.orderId, newQuantityLots: c.newQuantityLots };
    case 'CANCEL_REPLACE':
      return { type: 'CANCEL_REPLACE', symbol: 'CRNUSD', userId: c.order.userId, cancelOrderId: c.cancelOrderId, mode: c.mode, order: orderParams(c.order) };
  }
}

/** The exchange bench's command streams (also checked by bench/engineEquivalence.ts). */
export interface Streams {
  setup: EngineCommand[];
  coreFill: MatchCommand[];
  coreBench: MatchCommand[];
  /** Sequenced: configuration, funding, fill (untimed), then the bench commands. */
  sequenced: SequencedCommand[];
  benchFrom: number;
  levels: number;
  resting: number;
  mix: Record<string, number>;
}

/**
 * The bench's streams for `commands` matching-bench commands: the market configuration and funding of 1,000 users,
 * the fill, then the bench commands, as engine commands sequenced from 1 (100 per simulated millisecond).
 */
export function buildStreams(commands: number): Streams {
  const s = generateStream(commands, 'cairn matching bench v1');
  const setup: EngineCommand[] = [{ type: 'CONFIGURE', config: CONFIG }];
  for (let u = 1; u <= USERS; u++) {
    setup.push({ type: 'ADJUST_BALANCE', adjustmentId: `usd-${u}`, userId: u, asset: 'USD', amount: 1_000_000_000_000_000n });
    setup.push({ type: 'ADJUST_BALANCE', adjustmentId: `crn-${u}`, userId: u, asset: 'CRN', amount: 1_000_000_000_000_000n });
  }
  const all = [...setup, ...s.fill.map(toEngine), ...s.bench.map(toEngine)];
  const t0 = Date.UTC(2025, 0, 1);
  const sequenced = all.map((command, i) => ({ seq: i + 1, timeMs: t0 + Math.floor(i / 100), command }));
  return { setup, coreFill: s.fill, coreBench: s.bench, sequenced, benchFrom: setup.length + s.fill.length, levels: s.levelsAfterFill, resting: s.restingAfterFill, mix: s.mix };
}

interface Rates {
  cpu: number[];
  wall: number[];
}

function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
}

function percentile(xs: Float64Array | number[], p: number): number {
  const a = Float64Array.from(xs).sort();
  return a[Math.min(a.length - 1, Math.floor(a.length * p))]!;
}

/** One timed pass of the core alone; returns its trade count. */
function corePass(st: Streams, into: Rates): number {
  const book = new OrderBook(GRID);
  const noop = (): void => {};
  for (const c of st.coreFill) book.apply(c, noop);
  let trades = 0;
  const sink = (e: MatchEvent): void => {
    if (e.kind === 'TRADE') trades++;
  };
  const bench = st.coreBench;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < bench.length; i++) book.apply(bench[i]!, sink);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  into.cpu.push(bench.length / ((cpu.user + cpu.system) / 1e6));
  into.wall.push(bench.length / (ms / 1000));
  return trades;
}

/** A fresh engine after the untimed setup and fill. */
function filledEngine(st: Streams, userEvents = true): ExchangeEngineType {
  const e = new ExchangeEngine();
  e.userEvents = userEvents;
  for (let i = 0; i < st.benchFrom; i++) e.apply(st.sequenced[i]!);
  return e;
}

/** One timed pass of the engine (with or without user events); returns the engine and its trade count. */
function enginePass(st: Streams, into: Rates, userEvents = true): { engine: ExchangeEngineType; trades: number; events: number } {
  const e = filledEngine(st, userEvents);
  const seq = st.sequenced;
  let trades = 0;
  let events = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = st.benchFrom; i < seq.length; i++) {
    const o = e.apply(seq[i]!);
    events += o.events.length;
    if (o.events.length > 3) for (const ev of o.events) if (ev.type === 'trade') trades++;
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const n = seq.length - st.benchFrom;
  into.cpu.push(n / ((cpu.user + cpu.system) / 1e6));
  into.wall.push(n / (ms / 1000));
  return { engine: e, trades, events };
}

/**
 * Submits `commands` through `submit` in stream order with at most `window` in flight, for at most `seconds`;
 * returns the rate and ack latencies.
 */
async function windowed(commands: readonly EngineCommand[], submit: (c: EngineCommand) => Promise<CommandOutcome>, window: number, seconds: number): Promise<{ done: number; wallSec: number; p50Ms: number; p99Ms: number }> {
  const lat: number[] = [];
  let inflight = 0;
  let next = 0;
  let done = 0;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const pump = (): void => {
      while (inflight < window && next < commands.length && performance.now() < end) {
        const started = performance.now();
        inflight++;
        submit(commands[next++]!).then(
          () => {
            lat.push(performance.now() - started);
            inflight--;
            done++;
            if (inflight === 0 && (next >= commands.length || performance.now() >= end)) resolve();
            else pump();
          },
          reject,
        );
      }
    };
    pump();
  });
  const wallSec = (performance.now() - t0) / 1000;
  return { done, wallSec, p50Ms: percentile(lat, 0.5), p99Ms: percentile(lat, 0.99) };
}

/** Runs the exchange bench (figures printed) and returns its results. */
export async function runExchangeBench(seconds: number): Promise<Record<string, BenchResult>> {
  const commands = Math.max(100_000, Math.min(1_000_000, Math.round(seconds * 100_000)));
  const g0 = performance.now();
  const st = buildStreams(commands);
  const genSec = (performance.now() - g0) / 1000;
  const load0 = loadavg()[0]!;

  // ---- in memory: engine vs core alone, alternating passes ----
  const core: Rates = { cpu: [], wall: [] };
  const eng: Rates = { cpu: [], wall: [] };
  const lean: Rates = { cpu: [], wall: [] };
  // Warm-up: alternating untimed passes for `seconds` (at least two of each). The engine's first passes run while V8
  // still compiles and deoptimizes its paths (300k-command passes measured 500k, 565k, then ~700k commands per
  // CPU-second from the third on): a long-running engine is measured at steady state, as JMH's warm-up iterations do.
  const warmUntil = performance.now() + seconds * 1000;
  let warmPasses = 0;
  do {
    corePass(st, { cpu: [], wall: [] });
    enginePass(st, { cpu: [], wall: [] });
    enginePass(st, { cpu: [], wall: [] }, false);
    warmPasses++;
  } while (performance.now() < warmUntil || warmPasses < 2);
  let coreTrades = 0;
  let engineRun = { engine: new ExchangeEngine(), trades: 0, events: 0 };
  const end = performance.now() + seconds * 1000;
  do {
    coreTrades = corePass(st, core);
    engineRun = enginePass(st, eng);
    enginePass(st, lean, false);
  } while (performance.now() < end || core.cpu.length < 3);
  const audit = auditEngine(engineRun.engine);
  // Per-command latency of the engine (wall clock, performance.now around each apply).
  const e = filledEngine(st);
  const n = st.sequenced.length - st.benchFrom;
  const lat = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    e.apply(st.sequenced[st.benchFrom + i]!);
    lat[i] = performance.now() - t;
  }
  lat.sort();

  const coreRate = median(core.cpu);
  const engineRate = median(eng.cpu);
  const mix = Object.entries(st.mix)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${((100 * v) / commands).toFixed(1)}%`)
    .join(', ');
  console.log(`\n## exchange engine: accounts, fees, ledger and events (goal >= ${GOAL_ENGINE.toLocaleString('en-US')} commands/s in memory); load ${load0.toFixed(2)}`);
  console.log(`stream: ${commands.toLocaleString('en-US')} commands after ${st.coreFill.length.toLocaleString('en-US')} fill orders (${st.resting} resting over ${st.levels} levels), ${USERS} users with balances, fees 0.1%/0.1%; generated in ${genSec.toFixed(1)} s`);
  console.log(`mix: ${mix}`);
  console.log(`matching core alone: ${formatRate(coreRate, 'commands')} per CPU-second (${formatRate(median(core.wall), 'commands')} wall), median of ${core.cpu.length} passes; ${coreTrades.toLocaleString('en-US')} trades`);
  console.log(`engine (in memory):  ${formatRate(engineRate, 'commands')} per CPU-second (${formatRate(median(eng.wall), 'commands')} wall), median of ${eng.cpu.length} passes after ${warmPasses} warm-up passes; ${engineRun.trades.toLocaleString('en-US')} trades, ${(engineRun.events / n).toFixed(1)} events/command; ` +
    `latency p50 ${(lat[Math.floor(n * 0.5)]! * 1e6).toFixed(0)} ns, p99 ${(lat[Math.floor(n * 0.99)]! * 1e6).toFixed(0)} ns; audit ${audit.ok ? 'OK' : 'FAILED'}`);
  console.log(`ratio: engine / core alone = ${(engineRate / coreRate).toFixed(2)} (same run, same stream); engine = ${((100 * engineRate) / GOAL_ENGINE).toFixed(0)}% of the goal` +
    (coreTrades !== engineRun.trades ? `; WARNING: trade counts differ (${coreTrades} vs ${engineRun.trades})` : ''));
  const leanRate = median(lean.cpu);
  console.log(`engine without user events (userEvents = false, as recovery replays: no order or ledger events; same results, state and trades): ${formatRate(leanRate, 'commands')} per CPU-second (${formatRate(median(lean.wall), 'commands')} wall); / core alone = ${(leanRate / coreRate).toFixed(2)}`);

  // ---- durable: sequencer + SQLite log, windowed ----
  const dir = mkdtempSync(join(tmpdir(), 'cairn-exchange-bench-'));
  const results: Record<string, BenchResult> = {
    matchingCore: { name: 'matching core (same stream)', ops: commands, seconds: commands / coreRate, opsPerSec: coreRate },
    engine: { name: 'exchange engine in memory', ops: commands, seconds: commands / engineRate, opsPerSec: engineRate },
    engineNoUserEvents: { name: 'exchange engine in memory, no user events', ops: commands, seconds: commands / leanRate, opsPerSec: leanRate },
  };
  try {
    const benchCommands = st.sequenced.slice(st.benchFrom).map((s) => s.command);
    {
      const log = SqliteCommandLog.open(join(dir, 'log-only', 'command-log.sqlite'));
      const engine = new ExchangeEngine();
      const seq = new Sequencer({}, { engine, log });
      await Promise.all(st.sequenced.slice(0, st.benchFrom).map((s) => seq.submit(s.command)));
      const before = seq.getStats();
      const r = await windowed(benchCommands, (c) => seq.submit(c), WINDOW, seconds);
      const after = seq.getStats();
      const batches = after.batches - before.batches;
      const rate = r.done / r.wallSec;
      console.log(`durable log (SQLite WAL, synchronous=FULL, group commit), ${WINDOW} in flight: ${formatRate(rate, 'commands')} wall over ${r.done.toLocaleString('en-US')} commands; ` +
        `ack latency p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms; ${batches.toLocaleString('en-US')} durable writes (fsyncs), ${(r.done / batches).toFixed(0)} commands each; load ${loadavg()[0]!.toFixed(2)}`);
      results.durableLog = { name: 'engine + durable log', ops: r.done, seconds: r.wallSec, opsPerSec: rate };
      await seq.close();
      log.close();
    }
    {
      const svc = await ExchangeService.open({ datadir: join(dir, 'service'), config: CONFIG, snapshotEveryCommands: 100_000 }, { logger: silentLogger() });
      await Promise.all(st.sequenced.slice(1, st.benchFrom).map((s) => svc.submit(s.command)));
      await svc.historyCaughtUp(120_000);
      const r = await windowed(benchCommands, (c) => svc.submit(c), WINDOW, seconds);
      const tc = performance.now();
      await svc.historyCaughtUp(300_000);
      const lagMs = performance.now() - tc;
      const rate = r.done / r.wallSec;
      const w = await svc.history!.counts();
      console.log(`whole service (log + snapshots + market data; SQLite history written by its worker thread from the log), ${WINDOW} in flight: ${formatRate(rate, 'commands')} wall over ${r.done.toLocaleString('en-US')} commands; ` +
        `ack latency p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms; history caught up ${lagMs.toFixed(0)} ms after the last ack ` +
        `(${w.ledger.toLocaleString('en-US')} ledger entries (balance changes), ${w.orders.toLocaleString('en-US')} orders, ${w.trades.toLocaleString('en-US')} trades in all); load ${loadavg()[0]!.toFixed(2)}`);
      results.service = { name: 'exchange service (durable, history, market data)', ops: r.done, seconds: r.wallSec, opsPerSec: rate };
      await svc.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // End to end: signed REST through a real `cairn exchange` process (exchangeGateway.bench.ts).
  Object.assign(results, await runExchangeGatewayBench(seconds));
  return results;
}

/** What the long crash mode reports. */
export interface ExchangeCrashBenchResult {
  readonly summary: Record<string, unknown>;
  readonly loadBefore: number;
  readonly loadAfter: number;
}

/**
 * Runs test/exchangeCrash.test.ts with `cycles` kills in a child process and prints its summary.
 * @throws Error with the test's output when it fails
 */
export async function runExchangeCrashBench(cycles = DEFAULT_EXCHANGE_CRASH_CYCLES): Promise<ExchangeCrashBenchResult> {
  const loadBefore = loadavg()[0]!;
  console.log(`\n== exchange crash safety: ${cycles} SIGKILL cycles (test/exchangeCrash.test.ts); load ${loadBefore.toFixed(2)}`);
  const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', `--test-timeout=${Math.max(600_000, cycles * 15_000)}`, 'test/exchangeCrash.test.ts'], {
    cwd: ROOT,
    env: { ...process.env, EXCHANGE_CRASH_CYCLES: String(cycles) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const line = /\[exchange-crash\] summary (\{.*\})/.exec(out);
  if (code !== 0 || line === null) throw new Error(`the exchange crash test failed (exit ${code}):\n${out.slice(-6000)}`);
  const summary = JSON.parse(line[1]!) as Record<string, unknown>;
  console.log(`  ${JSON.stringify(summary)}`);
  return { summary, loadBefore, loadAfter: loadavg()[0]! };
}
