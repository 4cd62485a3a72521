/**
 * Crash test of the exchange with real processes: `cairn exchange run` on a data dir takes a concurrent stream of
 * commands on standard input (up to 64 in flight: funding adjustments, some repeated; limit GTC/IOC/FOK and market
 * orders of 20 users on two markets; cancels; amends; withdrawals) and the test SIGKILLs it at a random moment, at
 * least 20 times, restarting it on the same data dir each time. After every kill, in this process:
 * - every acknowledged command is in the command log, byte for byte as the engine encoded it, at the seq it was
 *   acknowledged with, and a replay from an empty state gives each one the result that was acknowledged (every
 *   acknowledged order and fill is there);
 * - the state restored as start-up restores it (newest valid snapshot + log) has the same hash as a replay of the
 *   whole log from an empty state, and the audit holds (Σ free + locked = credited − withdrawn per asset, locks =
 *   open orders + withdrawals, books = open orders);
 * - a state hash the running process reported before the kill equals the replay from scratch up to that seq.
 * The last run stops cleanly, and the CLI's own `state-hash` (snapshot + log, and --from-scratch) and `audit` agree;
 * the history the runs wrote (SQLite, idempotent by seq across the kills) has exactly the replay's trades, ledger
 * entries and orders, and equals, table for table, the history `cairn exchange replay --rebuild-history` writes.
 * Reproduce with EXCHANGE_CRASH_SEED=<seed printed>; EXCHANGE_CRASH_CYCLES sets the number of kills (default 20;
 * at least 20). Needs `npm run build` (it runs bin/cairn.js).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { auditEngine } from '../src/exchange/audit.js';
import { decodeCommand, encodeCommand } from '../src/exchange/engineCommand.js';
import { ExchangeEngine } from '../src/exchange/engine.js';
import { computeStateHash } from '../src/exchange/engineState.js';
import { readExchangeState } from '../src/exchange/exchangeService.js';
import { parseCommand } from '../src/exchange/engineCommand.js';
import { SeededRng } from '../src/testing/seededRng.js';
import { waitFor } from '../src/testing/waitFor.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'bin', 'cairn.js');
const CYCLES = Math.max(20, Number(process.env.EXCHANGE_CRASH_CYCLES ?? 20));
const SEED = process.env.EXCHANGE_CRASH_SEED ?? String(Date.now() % 1_000_000);
const USERS = 20;
const IN_FLIGHT = 64;
/** Kill this long after the run's first acknowledgement: a uniform draw in [MIN, MAX] ms. */
const KILL_MIN_MS = 10;
const KILL_MAX_MS = 400;
const START_TIMEOUT_MS = 30_000;

/** JSON with bigints as strings (how the CLI prints results). */
const json = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));

interface Ack {
  readonly seq: number;
  /** The command as sent. */
  readonly command: Record<string, unknown>;
  /** The result line's `result`, as printed. */
  readonly result: string;
}

/** One `cairn exchange run` process fed by the driver. */
class Run {
  readonly child: ChildProcess;
  readonly closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  ready: { seq: number; stateHash: string } | undefined;
  readonly lines: string[] = [];
  readonly stderr: string[] = [];
  private readonly waiting = new Map<number, { command: Record<string, unknown>; resolve: (a: Ack | undefined) => void }>();
  private readonly queries = new Map<number, (v: { seq: number; hash: string }) => void>();
  private nextId = 1;
  private partial = '';
  dead = false;

  constructor(datadir: string) {
    this.child = spawn(process.execPath, [CLI, 'exchange', 'run', '--network', 'regtest', '--datadir', datadir, '--snapshot-every', '150', '--snapshot-interval-sec', '1'], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdin!.on('error', () => undefined); // writes after the kill fail: the commands were never acknowledged
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (this.partial + chunk).split('\n');
      this.partial = parts.pop()!; // a line cut by the kill is no acknowledgement
      for (const line of parts) this.onLine(line);
    });
    this.child.stderr!.setEncoding('utf8').on('data', (c: string) => this.stderr.push(c));
    this.closed = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        this.dead = true;
        for (const w of this.waiting.values()) w.resolve(undefined);
        this.waiting.clear();
        resolve({ code, signal });
      });
    });
  }

  private onLine(line: string): void {
    this.lines.push(line);
    const msg = JSON.parse(line) as Record<string, unknown>;
    if (msg.event === 'ready') {
      this.ready = { seq: msg.seq as number, stateHash: msg.stateHash as string };
      return;
    }
    const id = msg.id as number;
    const q = this.queries.get(id);
    if (q !== undefined) {
      this.queries.delete(id);
      q({ seq: msg.seq as number, hash: msg.hash as string });
      return;
    }
    const w = this.waiting.get(id);
    if (w === undefined) return;
    this.waiting.delete(id);
    assert.equal(msg.error, undefined, `command ${json(w.command)} failed: ${json(msg.error)}`);
    w.resolve({ seq: msg.seq as number, command: w.command, result: json(msg.result) });
  }

  /** Sends a command; resolves with its acknowledgement, or undefined if the process died first. */
  send(command: Record<string, unknown>): Promise<Ack | undefined> {
    if (this.dead) return Promise.resolve(undefined);
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, { command, resolve });
      this.child.stdin!.write(`${JSON.stringify({ id, command })}\n`);
    });
  }

  /** Asks for the live state hash. */
  stateHash(): Promise<{ seq: number; hash: string } | undefined> {
    if (this.dead) return Promise.resolve(undefined);
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.queries.set(id, resolve);
      void this.closed.then(() => resolve(undefined));
      this.child.stdin!.write(`${JSON.stringify({ id, query: 'stateHash' })}\n`);
    });
  }

  get inFlight(): number {
    return this.waiting.size;
  }
}

/** The order flow: what the driver knows of the exchange from acknowledgements. */
class Driver {
  readonly open = new Map<number, { userId: number; symbol: string; quantityLots: number }>();
  private adjustments = 0;
  private withdrawals: string[] = [];
  private withdrawalCount = 0;

  constructor(private readonly rng: SeededRng) {}

  /** Funding commands for every user (USD, USDT, CRN). */
  funding(): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = [];
    for (let u = 1; u <= USERS; u++) {
      out.push({ type: 'ADJUST_BALANCE', adjustmentId: `fund-usd-${u}`, userId: u, asset: 'USD', amount: '5000000000' });
      out.push({ type: 'ADJUST_BALANCE', adjustmentId: `fund-usdt-${u}`, userId: u, asset: 'USDT', amount: '5000000000' });
      out.push({ type: 'ADJUST_BALANCE', adjustmentId: `fund-crn-${u}`, userId: u, asset: 'CRN', amount: '5000000000' });
    }
    return out;
  }

  next(): Record<string, unknown> {
    const r = this.rng;
    const q = r.int(0, 99);
    const userId = r.int(1, USERS);
    const symbol = r.int(0, 3) === 0 ? 'CRNUSDT' : 'CRNUSD';
    if (q < 55) {
      const side = r.int(0, 1) === 0 ? 'BUY' : 'SELL';
      const kind = r.int(0, 9);
      if (kind === 0) return { type: 'PLACE_ORDER', symbol, userId, order: { side, orderType: 'MARKET', quantityLots: r.int(100, 2_000) } };
      if (kind === 1) return { type: 'PLACE_ORDER', symbol, userId, order: { side, orderType: 'MARKET', quoteOrderQty: String(r.int(2, 50) * 1_000_000) } };
      const tif = kind === 2 ? 'IOC' : kind === 3 ? 'FOK' : 'GTC';
      const price = side === 'BUY' ? 10_000 - r.int(-20, 60) : 10_000 + r.int(-20, 60);
      return { type: 'PLACE_ORDER', symbol, userId, order: { side, orderType: 'LIMIT', timeInForce: tif, priceTicks: price, quantityLots: r.int(100, 3_000) } };
    }
    const open = [...this.open.entries()];
    if (q < 75 && open.length > 0) {
      const [orderId, o] = open[r.int(0, open.length - 1)]!;
      return { type: 'CANCEL_ORDER', symbol: o.symbol, userId: o.userId, orderId };
    }
    if (q < 82 && open.length > 0) {
      const [orderId, o] = open[r.int(0, open.length - 1)]!;
      return { type: 'AMEND_ORDER', symbol: o.symbol, userId: o.userId, orderId, newQuantityLots: Math.max(1, o.quantityLots - r.int(1, 50)) };
    }
    if (q < 90) {
      // Some adjustment ids repeat: the engine applies each once.
      const n = r.chance(0.3) && this.adjustments > 0 ? r.int(0, this.adjustments - 1) : this.adjustments++;
      return { type: 'ADJUST_BALANCE', adjustmentId: `adj-${n}`, userId: 1 + (n % USERS), asset: n % 2 === 0 ? 'USD' : 'CRN', amount: String(1_000_000 + n) };
    }
    if (q < 95 || this.withdrawals.length === 0) {
      const id = `wd-${this.withdrawalCount++}`;
      this.withdrawals.push(id);
      return { type: 'LOCK_WITHDRAWAL', withdrawalId: id, userId, asset: 'CRN', amount: String(r.int(1, 1_000_000)) };
    }
    const id = this.withdrawals.splice(r.int(0, this.withdrawals.length - 1), 1)[0]!;
    return r.chance(0.5) ? { type: 'COMPLETE_WITHDRAWAL', withdrawalId: id } : { type: 'FAIL_WITHDRAWAL', withdrawalId: id };
  }

  /** Learns open orders from an acknowledged result. */
  learn(ack: Ack): void {
    const result = JSON.parse(ack.result) as { ok: boolean; kind: string; order?: { orderId: number; userId: number; symbol: string; status: string; quantityLots: number } };
    if (!result.ok || result.order === undefined) return;
    const o = result.order;
    if (o.status === 'NEW' || o.status === 'PARTIALLY_FILLED') this.open.set(o.orderId, { userId: o.userId, symbol: o.symbol, quantityLots: o.quantityLots });
    else this.open.delete(o.orderId);
  }
}

/** The log's records as stored, read with plain SQL (not through the code under test). */
function readLogBodies(datadir: string): Map<number, string> {
  const db = new Database(join(datadir, 'command-log.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT seq, body FROM command_log ORDER BY seq').all() as Array<{ seq: number; body: string }>;
    return new Map(rows.map((r) => [r.seq, r.body]));
  } finally {
    db.close();
  }
}

test(`exchange crash safety: SIGKILL ${CYCLES} times under concurrent order flow, nothing acknowledged is lost`, { timeout: Math.max(180_000, CYCLES * 8_000) }, async (t) => {
  const datadir = mkdtempSync(join(tmpdir(), 'cairn-exchange-crash-'));
  let run: Run | undefined;
  t.after(async () => {
    if (run !== undefined && !run.dead) {
      run.child.kill('SIGKILL');
      await run.closed;
    }
    rmSync(datadir, { recursive: true, force: true });
  });
  const rng = new SeededRng(`exchange-crash/${SEED}`);
  t.diagnostic(`[exchange-crash] seed ${SEED} (reproduce with EXCHANGE_CRASH_SEED=${SEED}), ${CYCLES} kills, data dir ${datadir}`);
  const driver = new Driver(rng);
  const acked = new Map<number, Ack>();
  let replayCounts = { trades: 0, ledger: 0, orders: 0 };
  const liveHashes: Array<{ seq: number; hash: string }> = [];
  let killedMidSnapshot = 0;
  const started = Date.now();

  for (let cycle = 0; cycle <= CYCLES; cycle++) {
    const last = cycle === CYCLES;
    run = new Run(datadir);
    const r = run;
    await waitFor('the exchange to be ready', () => r.ready !== undefined || (r.dead ? Promise.reject(new Error(`exited: ${r.stderr.join('')}`)) : false), START_TIMEOUT_MS);
    assert.ok(r.ready!.seq >= Math.max(0, ...acked.keys()), `cycle ${cycle}: restarted at seq ${r.ready!.seq}, below an acknowledged seq`);
    const cycleAcks: Ack[] = [];
    const onAck = (a: Ack | undefined): void => {
      if (a === undefined) return;
      acked.set(a.seq, a);
      cycleAcks.push(a);
      driver.learn(a);
    };
    const pump = async (commands: Array<Record<string, unknown>>): Promise<void> => {
      await Promise.all(commands.map((c) => r.send(c).then(onAck)));
    };
    if (cycle === 0) await pump(driver.funding());
    // Concurrent flow: keep IN_FLIGHT commands outstanding until the kill (or, in the last run, 300 commands).
    let sent = 0;
    let stop = false;
    const flow = (async () => {
      while (!stop && !r.dead && (!last || sent < 300)) {
        if (r.inFlight >= IN_FLIGHT) {
          await new Promise((res) => setImmediate(res));
          continue;
        }
        void r.send(driver.next()).then(onAck);
        sent++;
        if (sent % 97 === 0) {
          const h = await r.stateHash();
          if (h !== undefined) liveHashes.push(h);
        }
      }
    })();
    if (last) {
      await flow;
      await waitFor('the last run to answer everything', () => r.inFlight === 0 || r.dead, 30_000);
      r.child.stdin!.end();
      const exit = await r.closed;
      assert.equal(exit.code, 0, `clean stop failed: ${r.stderr.join('')}`);
    } else {
      await waitFor('a first acknowledgement', () => cycleAcks.length > 0 || r.dead, START_TIMEOUT_MS);
      await new Promise((res) => setTimeout(res, rng.int(KILL_MIN_MS, KILL_MAX_MS)));
      r.child.kill('SIGKILL');
      stop = true;
      const exit = await r.closed;
      assert.equal(exit.signal, 'SIGKILL', `cycle ${cycle}: the process ended on its own: ${r.stderr.join('')}`);
      await flow;
    }

    // Every acknowledged command is in the log, at its seq, as the engine encoded it.
    const bodies = readLogBodies(datadir);
    for (const [seq, a] of acked) {
      assert.equal(bodies.get(seq), encodeCommand(decodeCommand(a.command)), `cycle ${cycle}: acknowledged seq ${seq} is not in the log as sent`);
    }
    // A replay from scratch gives each acknowledged command its acknowledged result; its hash is start-up's.
    const replay = new ExchangeEngine();
    const counts = { trades: 0, ledger: 0, orders: new Set<number>() };
    for (const [seq, body] of [...bodies].sort((x, y) => x[0] - y[0])) {
      const outcome = replay.apply({ seq, timeMs: (readTime(datadir, seq)), command: parseCommand(body) });
      for (const e of outcome.events) {
        if (e.type === 'trade') counts.trades++;
        else if (e.type === 'balance') counts.ledger++;
        else if (e.type === 'order') counts.orders.add(e.order.orderId);
      }
      const a = acked.get(seq);
      if (a !== undefined) assert.equal(json(outcome.result), a.result, `cycle ${cycle}: seq ${seq} replays to another result`);
      const lh = liveHashes.find((h) => h.seq === seq);
      if (lh !== undefined) assert.equal(computeStateHash(replay), lh.hash, `cycle ${cycle}: the live hash at seq ${seq} differs from the replay`);
    }
    const restored = readExchangeState(datadir);
    assert.equal(computeStateHash(restored.engine), computeStateHash(replay), `cycle ${cycle}: snapshot + log (from ${restored.report.snapshotSeq}) differs from a replay from scratch`);
    if (restored.report.skippedSnapshots.length > 0) killedMidSnapshot++;
    const audit = auditEngine(restored.engine);
    assert.ok(audit.ok, `cycle ${cycle}: audit failed: ${audit.problems.join('; ')}`);
    replayCounts = { trades: counts.trades, ledger: counts.ledger, orders: counts.orders.size };
  }

  // The CLI agrees with itself and with the checks above.
  const cli = (...args: string[]): { status: number | null; out: string } => {
    const p = spawnSync(process.execPath, [CLI, 'exchange', ...args, '--datadir', datadir], { cwd: ROOT, encoding: 'utf8' });
    return { status: p.status, out: p.stdout + p.stderr };
  };
  const a = cli('state-hash', '--json');
  const b = cli('state-hash', '--json', '--from-scratch');
  assert.equal(a.status, 0, a.out);
  const ha = JSON.parse(a.out) as { seq: number; stateHash: string; snapshotSeq: number };
  const hb = JSON.parse(b.out) as { seq: number; stateHash: string; snapshotSeq: number };
  assert.equal(ha.stateHash, hb.stateHash);
  assert.ok(ha.snapshotSeq > 0, 'the clean stop wrote a snapshot');
  assert.equal(hb.snapshotSeq, 0);
  assert.equal(cli('audit').status, 0);
  // The history written across the kills: exactly the replay's rows, and what a rebuild from the log writes.
  const dump = (): { lastSeq: number; counts: typeof replayCounts; tables: string } => {
    const db = new Database(join(datadir, 'history.sqlite'), { readonly: true, fileMustExist: true });
    try {
      const lastSeq = Number((db.prepare("SELECT value FROM exchange_history_meta WHERE key = 'last_seq'").get() as { value: string }).value);
      const n = (t: string): number => (db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n;
      // The ledger holds one row per user per command, with that user's balance changes in `entries` (a JSON array).
      const changes = (): number => (db.prepare('SELECT COALESCE(SUM(json_array_length(entries)), 0) AS n FROM exchange_ledger_groups').get() as { n: number }).n;
      const tables = ['exchange_orders ORDER BY order_id', 'exchange_trades ORDER BY symbol, trade_id', 'exchange_ledger_groups ORDER BY user_id, seq', 'exchange_klines ORDER BY symbol, interval, open_time_ms']
        .map((t) => JSON.stringify(db.prepare(`SELECT * FROM ${t}`).all()))
        .join('\n');
      return { lastSeq, counts: { trades: n('exchange_trades'), ledger: changes(), orders: n('exchange_orders') }, tables };
    } finally {
      db.close();
    }
  };
  const written = dump();
  assert.equal(written.lastSeq, ha.seq, 'the history reached the end of the log');
  assert.deepEqual(written.counts, replayCounts, 'the history holds the replay\'s rows, none twice');
  const rebuild = cli('replay', '--rebuild-history', '--json');
  assert.equal(rebuild.status, 0, rebuild.out);
  const rebuilt = dump();
  assert.equal(rebuilt.tables, written.tables, 'the history written across the kills differs from a rebuild from the log');
  const trades = [...acked.values()].filter((x) => x.result.includes('"tradeId"')).length;
  t.diagnostic(`[exchange-crash] summary ${JSON.stringify({ seed: SEED, kills: CYCLES, acknowledged: acked.size, logSeq: ha.seq, ordersWithFills: trades, liveHashesChecked: liveHashes.length, skippedSnapshotRestarts: killedMidSnapshot, seconds: Math.round((Date.now() - started) / 1000) })}`);
});

const timeCache = new Map<string, Map<number, number>>();
/** The stored time of a record (plain SQL), cached per data dir and refreshed when a seq is missing. */
function readTime(datadir: string, seq: number): number {
  let m = timeCache.get(datadir);
  if (m === undefined || !m.has(seq)) {
    const db = new Database(join(datadir, 'command-log.sqlite'), { readonly: true, fileMustExist: true });
    try {
      m = new Map((db.prepare('SELECT seq, time_ms FROM command_log').all() as Array<{ seq: number; time_ms: number }>).map((r) => [r.seq, r.time_ms]));
    } finally {
      db.close();
    }
    timeCache.set(datadir, m);
  }
  return m.get(seq)!;
}
