/**
 * `cairn exchange` as a process: `run` answers commands and bad lines, `state-hash` agrees with and without
 * snapshots, a data dir in use is refused, `audit` exits 0 on balanced books and 1 when a state does not balance (a
 * snapshot whose books were tampered with), and bad arguments get a clear error, never a stack trace. Needs
 * `npm run build`.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DATADIR_FILES, readExchangeState } from '../src/exchange/exchangeService.js';
import { encodeEngineState } from '../src/exchange/engineState.js';
import { SnapshotStore } from '../src/exchange/snapshotStore.js';
import { waitFor } from '../src/testing/waitFor.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'bin', 'cairn.js');
const root = mkdtempSync(join(tmpdir(), 'cairn-exchange-cli-'));
after(() => rmSync(root, { recursive: true, force: true }));

function cairn(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, input, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const lines = (...objects: unknown[]): string => objects.map((o) => (typeof o === 'string' ? o : JSON.stringify(o))).join('\n') + '\n';

test('cairn exchange run answers each command once durable, and bad lines with an error; state-hash and audit agree', () => {
  const datadir = join(root, 'a');
  const r = cairn(['exchange', 'run', '--network', 'regtest', '--datadir', datadir, '--no-history'], lines(
    { id: 'f1', command: { type: 'ADJUST_BALANCE', adjustmentId: 'f1', userId: 1, asset: 'USD', amount: '1000000000' } },
    { id: 'f2', command: { type: 'ADJUST_BALANCE', adjustmentId: 'f2', userId: 2, asset: 'CRN', amount: '100000000' } },
    { id: 's', command: { type: 'PLACE_ORDER', symbol: 'CRNUSD', userId: 2, order: { side: 'SELL', orderType: 'LIMIT', timeInForce: 'GTC', priceTicks: 10_000, quantityLots: 5_000 } } },
    { id: 'b', command: { type: 'PLACE_ORDER', symbol: 'CRNUSD', userId: 1, order: { side: 'BUY', orderType: 'LIMIT', timeInForce: 'IOC', priceTicks: 10_000, quantityLots: 2_000 } } },
    { id: 'x', command: { type: 'PLACE_ORDER', symbol: 'CRNUSD', userId: 1, order: { side: 'BUY', orderType: 'LIMIT', timeInForce: 'GTC', priceTicks: 10_000, quantityLots: 2_000_000 } } },
    'not json',
    { id: 'bad', command: { type: 'PLACE_ORDER', symbol: 'CRNUSD', userId: -1, order: {} } },
    { type: 'FREEZE_ACCOUNT', userId: 9 },
  ));
  assert.equal(r.status, 0, r.stderr);
  const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(out[0]!.event, 'ready');
  const byId = new Map(out.filter((o) => o.id !== undefined).map((o) => [o.id, o]));
  assert.equal((byId.get('b')!.result as { order: { status: string } }).order.status, 'FILLED');
  assert.deepEqual(byId.get('x')!.result, { ok: false, reason: 'INSUFFICIENT_BALANCE', message: 'Account has insufficient balance for requested action.' });
  assert.equal((byId.get('bad')!.error as { code: string }).code, 'BAD_COMMAND');
  assert.equal((out.find((o) => o.id === null)!.error as { code: string }).code, 'BAD_JSON');
  assert.deepEqual(out.find((o) => o.id === null && o.result !== undefined)?.result, { ok: true, kind: 'done' }, 'a bare command line is answered too');
  const seqs = out.filter((o) => typeof o.seq === 'number' && o.result !== undefined).map((o) => o.seq as number);
  assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), 'answers come in sequence order');
  const a = JSON.parse(cairn(['exchange', 'state-hash', '--datadir', datadir, '--json']).stdout) as { stateHash: string; seq: number; snapshotSeq: number };
  const b = JSON.parse(cairn(['exchange', 'state-hash', '--datadir', datadir, '--json', '--from-scratch']).stdout) as { stateHash: string; seq: number };
  assert.equal(a.stateHash, b.stateHash);
  assert.equal(a.seq, 7);
  assert.equal(a.snapshotSeq, 7, 'the clean stop wrote a snapshot');
  const audit = cairn(['exchange', 'audit', '--datadir', datadir]);
  assert.equal(audit.status, 0, audit.stdout + audit.stderr);
  assert.match(audit.stdout, /audit at seq 7: OK/);
  // Another network on the same data dir is refused with the reason.
  const other = cairn(['exchange', 'run', '--network', 'main', '--datadir', datadir, '--no-history'], '');
  assert.equal(other.status, 1);
  assert.match(other.stderr, /network is regtest, not main/);
});

test('a second process on a data dir in use is refused', async () => {
  const datadir = join(root, 'busy');
  const first = spawn(process.execPath, [CLI, 'exchange', 'run', '--network', 'regtest', '--datadir', datadir, '--no-history'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  try {
    let out = '';
    first.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    await waitFor('the first exchange process', () => out.includes('"event":"ready"'), 30_000);
    const second = cairn(['exchange', 'run', '--network', 'regtest', '--datadir', datadir, '--no-history'], '');
    assert.equal(second.status, 1);
    assert.match(second.stderr, new RegExp(`in use by process ${first.pid}`));
  } finally {
    const closed = new Promise((r) => first.on('close', r));
    first.stdin.end();
    await closed;
  }
});

test('cairn exchange audit exits 1 when the books do not balance', () => {
  const datadir = join(root, 'b');
  assert.equal(cairn(['exchange', 'run', '--network', 'regtest', '--datadir', datadir, '--no-history'], lines({ type: 'ADJUST_BALANCE', adjustmentId: 'f1', userId: 1, asset: 'USD', amount: '500' })).status, 0);
  // Tamper with the books: a snapshot in which user 1 holds one unit more than was ever credited.
  const { engine } = readExchangeState(datadir);
  const usd = engine.assetIndex.get('USD')!;
  engine.account(1).setFree(usd, engine.account(1).freeOf(usd) + 1n);
  new SnapshotStore(join(datadir, DATADIR_FILES.snapshots)).writeSync(engine.seq, encodeEngineState(engine));
  const audit = cairn(['exchange', 'audit', '--datadir', datadir, '--json']);
  assert.equal(audit.status, 1);
  const report = JSON.parse(audit.stdout) as { ok: boolean; problems: string[] };
  assert.equal(report.ok, false);
  assert.match(report.problems.join('\n'), /USD: accounts hold 501 but credited − withdrawn = 500/);
  // The log itself is fine: a replay from scratch balances.
  assert.equal(cairn(['exchange', 'audit', '--datadir', datadir, '--from-scratch']).status, 0);
});

test('bad arguments and missing data get a clear error and exit 1', () => {
  for (const [args, message] of [
    [['exchange', 'run', '--network', 'bitcoin', '--datadir', join(root, 'c')], /--network must be one of/],
    [['exchange', 'run', '--network', 'regtest', '--datadir', join(root, 'c'), '--snapshot-every', '0'], /--snapshot-every must be an integer/],
    [['exchange', 'run', '--network', 'regtest', '--datadir', join(root, 'c'), '--db', 'mysql://x'], /--db must be a postgres/],
    [['exchange', 'run', '--network', 'regtest', '--datadir', join(root, 'c'), '--markets', join(root, 'none.json')], /cannot read the markets file/],
    [['exchange', 'state-hash', '--datadir', join(root, 'missing')], /cannot read the exchange state/],
  ] as const) {
    const r = cairn([...args], '');
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});
