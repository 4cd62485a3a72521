/**
 * The history on real databases — a SQLite file and the machine's PostgreSQL (127.0.0.1:5432, database `test`, a
 * schema of its own per run, dropped after): rows match the engine's events, writing is idempotent by sequence
 * number (repeats and restarts write nothing twice), a follower of the command log writes it from wherever it stopped,
 * reads follow Binance's pagination and never show another user's data; and the service reads its own writes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { silentLogger } from '../logging/logger.js';
import { SqliteCommandLog } from './commandLog.js';
import { ExchangeEngine } from './engine.js';
import type { CommandOutcome, OrderState } from './engineEvent.js';
import { defaultExchangeConfig } from './exchangeConfig.js';
import { ExchangeService } from './exchangeService.js';
import { HISTORY_MIGRATION_TABLE, openHistoryDb, type HistoryDb } from './historyDb.js';
import { HistoryQueries, type LedgerEntry } from './historyQueries.js';
import { HistoryFollower } from './historyFollower.js';
import { HistoryWriter } from './historyWriter.js';
import { MarketData } from './marketData.js';
import { Sequencer } from './sequencer.js';
import { CRN, EngineHarness, USD } from './engineHarness.test.js';
import { SeededRng } from '../testing/seededRng.js';

const PG_URL = process.env.CAIRN_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const root = mkdtempSync(join(tmpdir(), 'cairn-exchange-history-'));
const schemas: string[] = [];
after(async () => {
  rmSync(root, { recursive: true, force: true });
  if (schemas.length === 0) return;
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  } finally {
    await client.end();
  }
});
let n = 0;
const assetsOf = (symbol: string): { base: string; quote: string } => ({ base: 'CRN', quote: symbol === 'CRNUSD' ? 'USD' : 'USDT' });

/** A harness with a seeded flow of orders, cancels and trades among 4 users. */
function tradingHarness(seed: string, steps: number): EngineHarness {
  const h = new EngineHarness();
  h.auditEach = false;
  for (let u = 1; u <= 4; u++) {
    h.credit(u, 'USD', 100_000n * USD);
    h.credit(u, 'CRN', 1_000n * CRN);
  }
  const rng = new SeededRng(seed);
  for (let i = 0; i < steps; i++) {
    const open = h.engine.listOpenOrders();
    if (rng.chance(0.2) && open.length > 0) {
      const o = open[rng.int(0, open.length - 1)]!;
      h.run({ type: 'CANCEL_ORDER', symbol: o.market.symbol, userId: o.userId, orderId: o.orderId }, rng.int(1, 40_000));
    } else {
      const side = rng.chance(0.5) ? 'BUY' : 'SELL';
      h.run({ type: 'PLACE_ORDER', symbol: 'CRNUSD', userId: rng.int(1, 4), order: { side, orderType: 'LIMIT', timeInForce: rng.chance(0.8) ? 'GTC' : 'IOC', priceTicks: 10_000 + rng.int(-15, 15), quantityLots: rng.int(100, 900) } }, rng.int(1, 40_000));
    }
  }
  return h;
}

/** The latest state of every order that had an event, from the outcomes. */
function finalOrders(outcomes: readonly CommandOutcome[]): Map<number, OrderState> {
  const m = new Map<number, OrderState>();
  for (const o of outcomes) for (const e of o.events) if (e.type === 'order') m.set(e.order.orderId, e.order);
  return m;
}

/** Every balance change of the outcomes as the ledger shows it, in (seq, idx) order. */
function expectedLedger(outcomes: readonly CommandOutcome[]): LedgerEntry[] {
  const out: LedgerEntry[] = [];
  for (const o of outcomes) {
    let idx = 0;
    for (const e of o.events) {
      if (e.type !== 'balance') continue;
      out.push({
        seq: o.seq, idx: idx++, userId: e.userId, asset: e.asset, deltaFree: e.deltaFree, deltaLocked: e.deltaLocked, free: e.free, locked: e.locked,
        reason: e.reason, symbol: e.symbol, orderId: e.orderId, tradeId: e.tradeId, externalId: e.externalId, timeMs: o.timeMs,
      });
    }
  }
  return out;
}

async function checkHistory(db: HistoryDb, h: EngineHarness): Promise<void> {
  const q = new HistoryQueries(db);
  const outcomes = h.outcomes;
  const counts = await q.counts();
  const tradeEvents = outcomes.flatMap((o) => o.events.filter((e) => e.type === 'trade'));
  const balanceEvents = outcomes.flatMap((o) => o.events.filter((e) => e.type === 'balance'));
  const orders = finalOrders(outcomes);
  assert.equal(counts.trades, tradeEvents.length);
  assert.equal(counts.ledger, balanceEvents.length);
  assert.equal(counts.orders, orders.size);
  assert.ok(tradeEvents.length > 20, `the flow traded (${tradeEvents.length})`);
  // Each user's orders, page by page from orderId 1, equal the engine's final states.
  for (let u = 1; u <= 4; u++) {
    const mine = [...orders.values()].filter((o) => o.userId === u && o.symbol === 'CRNUSD').sort((a, b) => a.orderId - b.orderId);
    const pages: OrderState[] = [];
    let from = 1;
    for (;;) {
      const page = await q.allOrders(u, 'CRNUSD', { orderId: from, limit: 7 });
      pages.push(...page);
      if (page.length < 7) break;
      from = page[page.length - 1]!.orderId + 1;
    }
    assert.deepEqual(pages, mine);
    const recent = await q.allOrders(u, 'CRNUSD', { limit: 3 });
    assert.deepEqual(recent, mine.slice(-3));
    // myTrades: every fill of the user's orders, with its fee on the asset received.
    const trades = await q.myTrades(u, 'CRNUSD', { fromId: 1, limit: 1000 });
    const expected = tradeEvents.flatMap((t) => (t.type !== 'trade' ? [] : [
      ...(t.buyerUserId === u ? [{ id: t.tradeId, order: t.buyerOrderId, fee: t.buyerFee, asset: 'CRN', buyer: true }] : []),
      ...(t.sellerUserId === u ? [{ id: t.tradeId, order: t.sellerOrderId, fee: t.sellerFee, asset: 'USD', buyer: false }] : []),
    ]));
    assert.deepEqual(trades.map((t) => ({ id: t.tradeId, order: t.orderId, fee: t.commission, asset: t.commissionAsset, buyer: t.isBuyer })), expected);
    const someOrder = mine.find((o) => o.executedLots > 0);
    if (someOrder !== undefined) {
      const ofOrder = await q.myTrades(u, 'CRNUSD', { orderId: someOrder.orderId });
      assert.equal(ofOrder.reduce((s, t) => s + t.quantityLots, 0), someOrder.executedLots);
      // Nobody else sees them.
      assert.deepEqual(await q.myTrades(u === 1 ? 2 : 1, 'CRNUSD', { orderId: someOrder.orderId }), []);
      assert.equal(await q.getOrder(u === 1 ? 2 : 1, 'CRNUSD', someOrder.orderId), undefined);
      assert.deepEqual(await q.getOrder(u, 'CRNUSD', someOrder.orderId), someOrder);
      assert.deepEqual(await q.getOrder(u, 'CRNUSD', undefined, someOrder.clientOrderId), someOrder);
    }
    const ledger = await q.ledger(u, { fromSeq: 1, limit: 1000 });
    assert.deepEqual(ledger.map((l) => [l.deltaFree, l.deltaLocked, l.reason]), balanceEvents.filter((b) => b.type === 'balance' && b.userId === u).slice(0, 1000).map((b) => (b.type === 'balance' ? [b.deltaFree, b.deltaLocked, b.reason] : [])));
    // Every field, in (seq, idx) order, and pages that end inside a command's changes or skip other assets' changes.
    const mineLedger = expectedLedger(outcomes).filter((l) => l.userId === u);
    assert.deepEqual(await q.ledger(u, { fromSeq: 1, limit: 1000 }), mineLedger.slice(0, 1000));
    const midSeq = mineLedger[Math.floor(mineLedger.length / 2)]!.seq;
    for (const limit of [1, 2, 7]) {
      assert.deepEqual(await q.ledger(u, { fromSeq: midSeq, limit }), mineLedger.filter((l) => l.seq >= midSeq).slice(0, limit), `fromSeq, limit ${limit}`);
      assert.deepEqual(await q.ledger(u, { limit }), mineLedger.slice(-limit), `most recent, limit ${limit}`);
      for (const asset of ['CRN', 'USD']) {
        const ofAsset = mineLedger.filter((l) => l.asset === asset);
        assert.deepEqual(await q.ledger(u, { asset, limit }), ofAsset.slice(-limit), `most recent ${asset}, limit ${limit}`);
        assert.deepEqual(await q.ledger(u, { asset, fromSeq: midSeq, limit }), ofAsset.filter((l) => l.seq >= midSeq).slice(0, limit), `${asset} from seq, limit ${limit}`);
      }
      const endTime = mineLedger[Math.floor(mineLedger.length / 3)]!.timeMs;
      assert.deepEqual(await q.ledger(u, { endTime, limit }), mineLedger.filter((l) => l.timeMs <= endTime).slice(-limit), `before endTime, limit ${limit}`);
      assert.deepEqual(await q.ledger(u, { startTime: endTime, limit }), mineLedger.filter((l) => l.timeMs >= endTime).slice(0, limit), `from startTime, limit ${limit}`);
    }
  }
  // Candles equal the ones market data computes from the same outcomes.
  const md = new MarketData(new ExchangeEngine());
  const replay = new ExchangeEngine();
  const md2 = new MarketData(replay);
  for (const sc of h.log) md2.apply([replay.apply(sc)]);
  void md;
  for (const interval of ['1m', '1h', '1d', '1w', '1M'] as const) {
    assert.deepEqual(await q.klines('CRNUSD', interval, { limit: 1000 }), md2.klines('CRNUSD', interval, { limit: 1000 }));
  }
  const public3 = await q.trades('CRNUSD', { limit: 3 });
  assert.deepEqual(public3.map((t) => t.tradeId), tradeEvents.slice(-3).map((t) => (t.type === 'trade' ? t.tradeId : 0)));
  await assert.rejects(q.allOrders(1, 'CRNUSD', { limit: 1001 }), /limit must be/);
}

async function writeAndCheck(open: () => Promise<HistoryDb>): Promise<void> {
  const h = tradingHarness(`history-${n}`, 400);
  let db = await open();
  let writer = await HistoryWriter.open(db, assetsOf);
  // In uneven batches, some overlapping (a repeat writes nothing), then the whole again after a reopen.
  const all = h.outcomes;
  await writer.write(all.slice(0, 10));
  await writer.write(all.slice(5, 250));
  await assert.rejects(writer.write(all.slice(260)), /cannot take seq/, 'a gap is refused');
  await writer.write(all.slice(250));
  assert.equal(writer.lastSeq, all.length);
  await db.close();
  db = await open();
  writer = await HistoryWriter.open(db, assetsOf);
  assert.equal(writer.lastSeq, all.length);
  await writer.write(all);
  assert.equal(writer.written.batches, 0, 'nothing written twice');
  await checkHistory(db, h);
  await db.close();
}

test('history on SQLite: rows match the events, pages follow Binance, repeats write nothing twice', async () => {
  const sqlitePath = join(root, `h${++n}.sqlite`);
  await writeAndCheck(() => openHistoryDb({ sqlitePath }));
});

test('history on PostgreSQL: the same, in a schema of its own', async () => {
  const schema = `cairn_exchange_test_${process.pid}_${Date.now() % 1_000_000}`;
  schemas.push(schema);
  await writeAndCheck(() => openHistoryDb({ url: PG_URL, pgSchema: schema, sqlitePath: '' }));
});

test('a follower writes the history from the command log (snapshot + replay), from wherever it stopped', async () => {
  const dir = join(root, `follow${++n}`);
  const log = SqliteCommandLog.open(join(dir, 'log.sqlite'));
  const engine = new ExchangeEngine();
  const seq = new Sequencer({}, { engine, log });
  const h = tradingHarness('follow', 300);
  for (const sc of h.log) await seq.submit(sc.command);
  const db = await openHistoryDb({ sqlitePath: join(dir, 'history.sqlite') });
  // A read-only follower of the log the sequencer appends to, as the history worker is.
  const reader = SqliteCommandLog.open(join(dir, 'log.sqlite'), { readOnly: true });
  let follower = await HistoryFollower.open(db, reader, undefined, 100);
  const progress: number[] = [];
  await follower.advanceTo(120, (s) => progress.push(s));
  assert.deepEqual(progress, [100, 120]);
  // More commands arrive; a new follower (a restart) reads on from 120.
  await Promise.all(Array.from({ length: 50 }, (_, i) => seq.submit({ type: 'PLACE_ORDER', symbol: 'CRNUSD', userId: 1 + (i % 4), order: { side: i % 2 === 0 ? 'BUY' : 'SELL', orderType: 'LIMIT', timeInForce: 'GTC', priceTicks: 10_000, quantityLots: 100 } })));
  follower = await HistoryFollower.open(db, reader, undefined, 100);
  assert.equal(follower.lastSeq, 120);
  await follower.advanceTo(engine.seq);
  assert.equal(follower.lastSeq, engine.seq);
  const counts = await new HistoryQueries(db).counts();
  const outcomes = [...(function* () {
    const e = new ExchangeEngine();
    for (const sc of log.read(1)) yield e.apply(sc);
  })()];
  assert.equal(counts.ledger, outcomes.reduce((s, o) => s + o.events.filter((e) => e.type === 'balance').length, 0));
  assert.equal(counts.trades, outcomes.reduce((s, o) => s + o.events.filter((e) => e.type === 'trade').length, 0));
  await db.close();
  reader.close();
  log.close();
});

for (const store of ['SQLite', 'PostgreSQL'] as const) test(`the service (history on ${store}) reads its own writes: a filled order is found right after its fill; user streams; history survives a restart`, async () => {
  const datadir = join(root, `svc${++n}`);
  const schema = `cairn_exchange_svc_${process.pid}_${n}`;
  if (store === 'PostgreSQL') schemas.push(schema);
  const history = store === 'PostgreSQL' ? { url: PG_URL, pgSchema: schema } : {};
  const open = (): Promise<ExchangeService> => ExchangeService.open({ datadir, config: defaultExchangeConfig('regtest'), history }, { logger: silentLogger() });
  let svc = await open();
  const streams: Record<number, string[]> = { 1: [], 2: [] };
  for (const u of [1, 2]) svc.subscribeUser(u, (events) => streams[u]!.push(...events.map((e) => (e.type === 'order' ? `order:${e.execution}:${e.order.userId}` : `${e.type}:${e.userId}`))));
  await svc.submit({ type: 'ADJUST_BALANCE', adjustmentId: 'a', userId: 1, asset: 'USD', amount: 1000n * USD });
  await svc.submit({ type: 'ADJUST_BALANCE', adjustmentId: 'b', userId: 2, asset: 'CRN', amount: 10n * CRN });
  const ask = await svc.submit({ type: 'PLACE_ORDER', symbol: 'CRNUSD', userId: 2, order: { side: 'SELL', orderType: 'LIMIT', timeInForce: 'GTC', priceTicks: 10_000, quantityLots: 1_000, clientOrderId: 'ask' } });
  assert.ok(ask.result.ok);
  const bid = await svc.submit({ type: 'PLACE_ORDER', symbol: 'CRNUSD', userId: 1, order: { side: 'BUY', orderType: 'LIMIT', timeInForce: 'GTC', priceTicks: 10_000, quantityLots: 1_000 } });
  assert.ok(bid.result.ok && bid.result.kind === 'order');
  const filled = await svc.getOrder(2, 'CRNUSD', { clientOrderId: 'ask' });
  assert.equal(filled?.status, 'FILLED');
  assert.equal(await svc.getOrder(1, 'CRNUSD', { clientOrderId: 'ask' }), undefined);
  assert.equal((await svc.myTrades(1, 'CRNUSD')).length, 1);
  assert.equal(svc.depth('CRNUSD').lastUpdateId, 2);
  assert.equal((await svc.klines('CRNUSD', '1m')).length, 1);
  await assert.rejects(svc.allOrders(1, 'NOPE'), /invalid symbol/);
  // Each user saw only their own order updates and balance changes.
  assert.ok(streams[1]!.every((e) => e.endsWith(':1')) && streams[2]!.every((e) => e.endsWith(':2')));
  assert.deepEqual(streams[2]!.filter((e) => e.startsWith('order')), ['order:NEW:2', 'order:TRADE:2']);
  assert.deepEqual(streams[1]!.filter((e) => e.startsWith('order')), ['order:NEW:1', 'order:TRADE:1']);
  await svc.close();
  svc = await open();
  assert.equal((await svc.myTrades(2, 'CRNUSD')).length, 1, 'no duplicate after a restart');
  assert.equal((await svc.klines('CRNUSD', '1m')).length, 1, 'candles come back from the history');
  assert.equal((await svc.trades('CRNUSD')).length, 1);
  assert.equal(svc.ticker24h('CRNUSD').count, 1);
  const counts = await svc.history!.counts();
  assert.equal(counts.trades, 1);
  // A market halted at run time stays halted across a restart (the file's TRADING applies to new markets only).
  assert.ok((await svc.submit({ type: 'SET_MARKET_STATUS', symbol: 'CRNUSDT', status: 'HALT' })).result.ok);
  await svc.close();
  svc = await open();
  assert.equal(svc.markets().find((m) => m.symbol === 'CRNUSDT')?.status, 'HALT');
  await svc.close();
});

/** Turns a migrated history back into one from before migration 0002: the ledger one row per change (exchange_ledger, 0001's schema). */
async function downgradeLedger(db: HistoryDb, rows: readonly LedgerEntry[]): Promise<void> {
  const k = db.db as unknown as Kysely<{ exchange_ledger: Record<string, unknown> }>;
  await sql.raw('DROP TABLE exchange_ledger_groups').execute(k);
  await sql
    .raw(
      'CREATE TABLE exchange_ledger (seq bigint NOT NULL, idx integer NOT NULL, user_id bigint NOT NULL, asset text NOT NULL, delta_free text NOT NULL, delta_locked text NOT NULL, ' +
        'free text NOT NULL, locked text NOT NULL, reason text NOT NULL, symbol text NOT NULL, order_id bigint NOT NULL, trade_id bigint NOT NULL, external_id text NOT NULL, ' +
        'time_ms bigint NOT NULL, CONSTRAINT exchange_ledger_pk PRIMARY KEY (seq, idx))',
    )
    .execute(k);
  await sql.raw('CREATE INDEX exchange_ledger_user ON exchange_ledger (user_id, seq)').execute(k);
  for (let i = 0; i < rows.length; i += 500) {
    await k
      .insertInto('exchange_ledger')
      .values(rows.slice(i, i + 500).map((l) => ({
        seq: l.seq, idx: l.idx, user_id: l.userId, asset: l.asset, delta_free: l.deltaFree.toString(), delta_locked: l.deltaLocked.toString(), free: l.free.toString(),
        locked: l.locked.toString(), reason: l.reason, symbol: l.symbol, order_id: l.orderId, trade_id: l.tradeId, external_id: l.externalId, time_ms: l.timeMs,
      })))
      .execute();
  }
  await sql.raw(`DELETE FROM ${HISTORY_MIGRATION_TABLE} WHERE name = '0002_ledger_groups'`).execute(k);
}

async function migrateAndCheck(open: () => Promise<HistoryDb>): Promise<void> {
  const h = tradingHarness('ledger-migration', 2_500);
  const expected = expectedLedger(h.outcomes);
  assert.ok(expected.length > 10_000, `more changes than one page of the migration (${expected.length})`);
  let db = await open();
  await downgradeLedger(db, expected);
  await db.close();
  db = await open();
  try {
    const q = new HistoryQueries(db);
    assert.equal((await q.counts()).ledger, expected.length);
    for (let u = 0; u <= 4; u++) {
      const mine = expected.filter((l) => l.userId === u);
      const got: LedgerEntry[] = [];
      for (let fromSeq = 1; ; ) {
        // Whole commands per page: a page that ends inside one is cut back to the command's start.
        const page = await q.ledger(u, { fromSeq, limit: 1000 });
        const lastSeq = page[page.length - 1]?.seq;
        const whole = page.length < 1000 ? page : page.filter((l) => l.seq !== lastSeq);
        got.push(...whole);
        if (page.length < 1000) break;
        fromSeq = lastSeq!;
      }
      assert.deepEqual(got, mine, `user ${u}'s ledger after the migration`);
    }
  } finally {
    await db.close();
  }
}

test('migration 0002 regroups an old ledger (one row per change) without losing or reordering a change: SQLite', async () => {
  const sqlitePath = join(root, `h${++n}.sqlite`);
  await migrateAndCheck(() => openHistoryDb({ sqlitePath }));
});

test('migration 0002 regroups an old ledger (one row per change) without losing or reordering a change: PostgreSQL', async () => {
  const schema = `cairn_exchange_test_${process.pid}_${Date.now() % 1_000_000}_m`;
  schemas.push(schema);
  await migrateAndCheck(() => openHistoryDb({ url: PG_URL, pgSchema: schema, sqlitePath: '' }));
});
