/**
 * The durable path on real SQLite files and snapshot files in a temp dir: the sequencer's group commit (one durable
 * append per event-loop turn; no result resolves and no outcome is published before its append is durable — checked
 * by instrumenting the log writer), the log's checksums (a damaged tail is cut, a damaged middle refused, a torn WAL
 * tail is discarded by SQLite), snapshots written atomically and validated, and recovery = snapshot + replay =
 * replay from scratch.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteCommandLog, type CommandLog, type LogRecord } from './commandLog.js';
import type { EngineCommand, SequencedCommand } from './engineCommand.js';
import type { CommandOutcome } from './engineEvent.js';
import { ExchangeEngine } from './engine.js';
import { recoverEngine } from './engineRecovery.js';
import { computeStateHash, encodeEngineState } from './engineState.js';
import { defaultExchangeConfig } from './exchangeConfig.js';
import { Sequencer } from './sequencer.js';
import { SnapshotStore } from './snapshotStore.js';
import { assertAudit, USD } from './engineHarness.test.js';

const root = mkdtempSync(join(tmpdir(), 'cairn-exchange-durability-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirCount = 0;
const freshDir = (): string => join(root, `d${++dirCount}`);

/** A log whose appends complete only when the test releases them, around a real SQLite log. */
class ControlledLog implements CommandLog {
  readonly appends: LogRecord[][] = [];
  private releases: Array<() => void> = [];
  /** Highest seq whose append has completed (is durable). */
  durableSeq = 0;

  constructor(private readonly inner: SqliteCommandLog) {}

  get lastSeq(): number {
    return this.inner.lastSeq;
  }

  append(records: readonly LogRecord[]): Promise<void> {
    this.appends.push([...records]);
    return new Promise<void>((resolve, reject) => {
      this.releases.push(() => {
        this.inner.append(records).then(() => {
          this.durableSeq = records[records.length - 1]!.seq;
          resolve();
        }, reject);
      });
    });
  }

  /** Completes the oldest waiting append. */
  release(): void {
    const r = this.releases.shift();
    assert.ok(r !== undefined, 'no append is waiting');
    r();
  }

  get waiting(): number {
    return this.releases.length;
  }

  read(fromSeq: number, toSeq?: number): Iterable<SequencedCommand> {
    return this.inner.read(fromSeq, toSeq);
  }

  close(): void {
    this.inner.close();
  }
}

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));
const credit = (i: number): EngineCommand => ({ type: 'ADJUST_BALANCE', adjustmentId: `a${i}`, userId: 1 + (i % 7), asset: 'USD', amount: BigInt(1 + i) * USD });

test('group commit: one turn, one durable append; nothing resolves or is published before the append completes', async () => {
  const log = new ControlledLog(SqliteCommandLog.open(join(freshDir(), 'log.sqlite')));
  const engine = new ExchangeEngine();
  const seq = new Sequencer({}, { engine, log });
  const published: CommandOutcome[][] = [];
  seq.onOutcomes((o) => {
    for (const x of o) assert.ok(x.seq <= log.durableSeq, `outcome ${x.seq} published before its append was durable (${log.durableSeq})`);
    published.push([...o]);
  });
  const resolvedAt: Array<[number, number]> = [];
  const track = (p: Promise<CommandOutcome>): Promise<CommandOutcome> =>
    p.then((o) => {
      resolvedAt.push([o.seq, log.durableSeq]);
      return o;
    });
  // One turn: the configuration and 99 adjustments.
  const first = [track(seq.submit({ type: 'CONFIGURE', config: defaultExchangeConfig('regtest') }))];
  for (let i = 0; i < 99; i++) first.push(track(seq.submit(credit(i))));
  await nextTurn();
  await nextTurn();
  assert.equal(log.appends.length, 1, 'the turn\'s commands share one append');
  assert.deepEqual(log.appends[0]!.map((r) => r.seq), Array.from({ length: 100 }, (_, i) => i + 1));
  assert.equal(resolvedAt.length, 0, 'no result before the append is durable');
  assert.equal(published.length, 0, 'no outcome published before the append is durable');
  assert.equal(engine.seq, 0, 'nothing applied before the append is durable');
  // Commands of later turns wait while the first append is in flight, then go together.
  const second = [track(seq.submit(credit(100)))];
  await nextTurn();
  second.push(track(seq.submit(credit(101))));
  await nextTurn();
  assert.equal(log.appends.length, 1, 'no second append while the first is in flight');
  log.release();
  const outcomes = await Promise.all(first);
  assert.deepEqual(outcomes.map((o) => o.seq), Array.from({ length: 100 }, (_, i) => i + 1));
  for (const [s, durable] of resolvedAt) assert.ok(s <= durable, `result ${s} resolved before durability (${durable})`);
  await nextTurn();
  assert.equal(log.appends.length, 2);
  assert.deepEqual(log.appends[1]!.map((r) => r.seq), [101, 102]);
  assert.equal(resolvedAt.length, 100);
  log.release();
  await Promise.all(second);
  for (const [s, durable] of resolvedAt) assert.ok(s <= durable, `result ${s} resolved before durability (${durable})`);
  assert.deepEqual(published.map((b) => b.length), [100, 2]);
  assert.equal(seq.getStats().batches, 2);
  await seq.close();
  await assert.rejects(seq.submit(credit(0)), /stopping/);
  log.close();
});

test('on the real SQLite log every result resolves after its batch is committed, and times never go back', async () => {
  const inner = SqliteCommandLog.open(join(freshDir(), 'log.sqlite'));
  let committed = 0;
  const log: CommandLog = {
    get lastSeq() {
      return inner.lastSeq;
    },
    append: async (records) => {
      await inner.append(records);
      committed = records[records.length - 1]!.seq;
    },
    read: (a, b) => inner.read(a, b),
    close: () => inner.close(),
  };
  let t = 5_000;
  const clock = (): number => (t -= 1); // a clock that runs backwards
  const seq = new Sequencer({ clock }, { engine: new ExchangeEngine(), log });
  const all: Array<Promise<void>> = [seq.submit({ type: 'CONFIGURE', config: defaultExchangeConfig('regtest') }).then(() => undefined)];
  for (let turn = 0; turn < 20; turn++) {
    for (let i = 0; i < 10; i++) all.push(seq.submit(credit(turn * 10 + i)).then((o) => assert.ok(o.seq <= committed)));
    await nextTurn();
  }
  await Promise.all(all);
  const times = [...inner.read(1)].map((r) => r.timeMs);
  for (let i = 1; i < times.length; i++) assert.ok(times[i]! >= times[i - 1]!);
  inner.close();
});

test('pipelining: the commands that arrived during a write go to the log as soon as it is durable, before its batch is applied and published', async () => {
  const log = new ControlledLog(SqliteCommandLog.open(join(freshDir(), 'log.sqlite')));
  const engine = new ExchangeEngine();
  const seq = new Sequencer({}, { engine, log });
  const appendsWhenPublished: number[] = [];
  seq.onOutcomes(() => appendsWhenPublished.push(log.appends.length));
  const first = seq.submit({ type: 'CONFIGURE', config: defaultExchangeConfig('regtest') });
  await nextTurn();
  const second = [seq.submit(credit(1)), seq.submit(credit(2))];
  await nextTurn();
  assert.equal(log.appends.length, 1, 'one write in flight at a time');
  log.release();
  await first;
  // The second batch was handed to the log before the first one was published (and before its result resolved).
  assert.deepEqual(appendsWhenPublished, [2]);
  assert.deepEqual(log.appends[1]!.map((r) => r.seq), [2, 3]);
  assert.equal(engine.seq, 1, 'the second batch is not applied before its own write is durable');
  log.release();
  assert.deepEqual((await Promise.all(second)).map((o) => o.seq), [2, 3]);
  await seq.close();
  log.close();
});

test('the writer thread: a result resolves only when another connection can read its record; reopening finds every record', async () => {
  const path = join(freshDir(), 'log.sqlite');
  const log = await SqliteCommandLog.openWithWriterThread(path);
  const reader = new Database(path, { readonly: true });
  const lastOnDisk = (): number => (reader.prepare('SELECT MAX(seq) AS s FROM command_log').get() as { s: number | null }).s ?? 0;
  const engine = new ExchangeEngine();
  const seq = new Sequencer({}, { engine, log });
  const checks: Array<Promise<void>> = [seq.submit({ type: 'CONFIGURE', config: defaultExchangeConfig('regtest') }).then((o) => assert.ok(lastOnDisk() >= o.seq))];
  for (let turn = 0; turn < 30; turn++) {
    for (let i = 0; i < 7; i++) checks.push(seq.submit(credit(turn * 7 + i)).then((o) => assert.ok(lastOnDisk() >= o.seq, `seq ${o.seq} resolved before it was in the file (${lastOnDisk()})`)));
    await nextTurn();
  }
  await Promise.all(checks);
  assert.equal(engine.seq, 211);
  assert.ok(seq.getStats().batches < 211, 'commands share writes');
  await seq.close();
  await log.closeAndWait();
  await assert.rejects(log.append([{ seq: 212, timeMs: 1, body: '{}' }]), /closed/);
  reader.close();
  const again = SqliteCommandLog.open(path, { readOnly: true });
  const { engine: replayed } = recoverEngine(again, undefined);
  assert.equal(computeStateHash(replayed), computeStateHash(engine));
  again.close();
});

/** Writes `n` adjustments (after a CONFIGURE) in batches of `batch` and returns the engine. */
async function fill(log: CommandLog, n: number, batch: number): Promise<ExchangeEngine> {
  const engine = new ExchangeEngine();
  const seq = new Sequencer({}, { engine, log });
  await seq.submit({ type: 'CONFIGURE', config: defaultExchangeConfig('regtest') });
  for (let i = 0; i < n; i += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, n - i) }, (_, j) => seq.submit(credit(i + j))));
  }
  return engine;
}

test('a damaged tail record is cut on open; a damaged record with good ones after it is refused', async () => {
  const path = join(freshDir(), 'log.sqlite');
  const log = SqliteCommandLog.open(path);
  await fill(log, 30, 10);
  log.close();
  const raw = new Database(path);
  raw.prepare("UPDATE command_log SET body = replace(body, 'USD', 'UST') WHERE seq = 31").run();
  raw.close();
  const ro = SqliteCommandLog.open(path, { readOnly: true });
  assert.deepEqual(ro.openReport, { cutRecords: 1, cutFromSeq: 31, cutToSeq: 31 });
  assert.equal(ro.lastSeq, 30);
  ro.close();
  const reopened = SqliteCommandLog.open(path);
  assert.equal(reopened.openReport.cutRecords, 1);
  assert.equal(reopened.lastSeq, 30);
  assert.equal([...reopened.read(1)].length, 30);
  reopened.close();
  const after = SqliteCommandLog.open(path);
  assert.equal(after.openReport.cutRecords, 0, 'the cut is permanent');
  after.close();
  // Damage in the middle: the log opens (the tail is good) but a replay through it stops with LOG_CORRUPT.
  const raw2 = new Database(path);
  raw2.prepare('UPDATE command_log SET crc = crc + 1 WHERE seq = 12').run();
  raw2.close();
  const mid = SqliteCommandLog.open(path);
  assert.equal(mid.lastSeq, 30);
  assert.throws(() => [...mid.read(1)], /record 12 is damaged/);
  assert.throws(() => recoverEngine(mid, undefined), /record 12 is damaged/);
  mid.close();
  // A gap is corruption too.
  const raw3 = new Database(path);
  raw3.prepare('DELETE FROM command_log WHERE seq = 20').run();
  raw3.prepare('UPDATE command_log SET crc = crc - 1 WHERE seq = 12').run();
  raw3.close();
  const gap = SqliteCommandLog.open(path);
  assert.throws(() => [...gap.read(1)], /seq 20 is missing/);
  gap.close();
});

test('a torn WAL tail (a crash during the last commit) loses only that uncommitted batch', async () => {
  const dir = freshDir();
  const path = join(dir, 'log.sqlite');
  const log = SqliteCommandLog.open(path);
  await fill(log, 40, 10); // batches end at seq 1, 11, 21, 31, 41
  // Copy the files as a crash would leave them (the WAL not yet checkpointed), with the WAL cut mid-frame.
  const copy = join(dir, 'copy.sqlite');
  copyFileSync(path, copy);
  copyFileSync(`${path}-wal`, `${copy}-wal`);
  const walBytes = statSync(`${copy}-wal`).size;
  truncateSync(`${copy}-wal`, walBytes - 100);
  log.close();
  const torn = SqliteCommandLog.open(copy);
  assert.ok(torn.lastSeq < 41 && torn.lastSeq >= 31, `lastSeq ${torn.lastSeq}`);
  assert.equal((torn.lastSeq - 1) % 10, 0, 'a whole batch or nothing');
  assert.equal(torn.openReport.cutRecords, 0);
  assert.equal([...torn.read(1)].length, torn.lastSeq);
  torn.close();
});

test('snapshots: atomic files, newest valid one used, damaged or ahead-of-log ones skipped, old ones pruned', async () => {
  const dir = freshDir();
  const log = SqliteCommandLog.open(join(dir, 'log.sqlite'));
  const store = new SnapshotStore(join(dir, 'snapshots'), 3);
  const engine = new ExchangeEngine();
  const seq = new Sequencer({}, { engine, log });
  await seq.submit({ type: 'CONFIGURE', config: defaultExchangeConfig('regtest') });
  const hashes = new Map<number, string>();
  for (let round = 0; round < 5; round++) {
    await Promise.all(Array.from({ length: 10 }, (_, j) => seq.submit(credit(round * 10 + j))));
    await seq.submit({ type: 'PLACE_ORDER', symbol: 'CRNUSD', userId: 1 + round, order: { side: 'BUY', orderType: 'LIMIT', timeInForce: 'GTC', priceTicks: 10_000 - round, quantityLots: 100 } });
    await store.write(engine.seq, encodeEngineState(engine));
    hashes.set(engine.seq, computeStateHash(engine));
  }
  await Promise.all(Array.from({ length: 5 }, (_, j) => seq.submit(credit(100 + j))));
  const liveHash = computeStateHash(engine);
  const files = store.list();
  assert.equal(files.length, 3, 'pruned to 3');
  writeFileSync(join(store.dir, '.snapshot-000000000099.json.1.tmp'), 'partial');
  store.removeLeftovers();
  assert.equal(existsSync(join(store.dir, '.snapshot-000000000099.json.1.tmp')), false);
  // Newest valid: recovery replays only the tail.
  let r = recoverEngine(log, store);
  assert.equal(r.report.snapshotSeq, files[0]!.seq);
  assert.equal(r.report.replayed, engine.seq - files[0]!.seq);
  assert.equal(computeStateHash(r.engine), liveHash);
  const loaded = store.load(files[0]!);
  assert.ok(!('invalid' in loaded) && loaded.stateHash === hashes.get(files[0]!.seq));
  // Truncate the newest: skipped, the next one is used.
  const text = readFileSync(files[0]!.path);
  writeFileSync(files[0]!.path, text.subarray(0, text.length - 10));
  r = recoverEngine(log, store);
  assert.equal(r.report.snapshotSeq, files[1]!.seq);
  assert.match(r.report.skippedSnapshots[0]!.reason, /truncated/);
  assert.equal(computeStateHash(r.engine), liveHash);
  // A snapshot beyond the log's end (the log lost its tail) is not used.
  await store.write(engine.seq + 50, encodeEngineState(engine).replace(`"seq":${engine.seq}`, `"seq":${engine.seq + 50}`));
  r = recoverEngine(log, store);
  assert.match(r.report.skippedSnapshots[0]!.reason, /ahead of the log/);
  assert.equal(computeStateHash(r.engine), liveHash);
  // From scratch and to an earlier seq.
  assert.equal(computeStateHash(recoverEngine(log, store, { fromScratch: true }).engine), liveHash);
  const mid = recoverEngine(log, undefined, { toSeq: files[2]!.seq });
  assert.equal(computeStateHash(mid.engine), hashes.get(files[2]!.seq));
  assertAudit(r.engine);
  log.close();
});
