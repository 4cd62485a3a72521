import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACK_SUFFIX, CURRENT_LOG_FILE, PRODUCER_LOCK_FILE, ROTATED_DIR } from './logDirLayout.js';
import { COLLECTOR_STATE_DIR, LogCollector, findProducerDirs, moduleFileName, routeLogLine, sourceLabelOf } from './logCollector.js';
import { RotatingLogDestination } from './rotatingLogDestination.js';

const T0 = Date.parse('2025-06-01T23:59:59.500Z');
const T1 = Date.parse('2025-06-02T00:00:00.250Z');

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-collector-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A producer log dir with the given rotated files (name → lines). */
function makeSource(dir: string, files: Record<string, readonly object[]>): string {
  mkdirSync(join(dir, ROTATED_DIR), { recursive: true });
  writeFileSync(join(dir, CURRENT_LOG_FILE), '');
  for (const [name, lines] of Object.entries(files)) {
    writeFileSync(join(dir, ROTATED_DIR, name), lines.map((l) => JSON.stringify(l) + '\n').join(''));
  }
  return dir;
}

function readLines(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('routeLogLine: UTC date of `time`, module file name, `source` added, non-JSON to unknown', () => {
  assert.deepEqual(routeLogLine('{"time":' + T0 + ',"module":"chain","msg":"x"}', 'node1', 0), {
    relPath: '2025-06-01/chain.ndjson',
    text: `{"source":"node1","time":${T0},"module":"chain","msg":"x"}`,
  });
  assert.equal(routeLogLine(`{"time":${T1},"msg":"no module"}`, 'n', 0).relPath, '2025-06-02/unknown.ndjson');
  assert.equal(routeLogLine('{}', 'n', T1).text, '{"source":"n"}');
  assert.equal(routeLogLine('{"source":"kept","time":1}', 'n', 0).text, '{"source":"kept","time":1}');
  assert.deepEqual(routeLogLine('not json', 'n', T0), { relPath: '2025-06-01/unknown.ndjson', text: 'not json' });
  assert.equal(moduleFileName('../etc'), 'etc');
  assert.equal(moduleFileName('a/b c'), 'a_b_c');
  assert.equal(moduleFileName(7), 'unknown');
  assert.equal(sourceLabelOf('/x/devnet/node2/logs'), 'node2');
  assert.equal(sourceLabelOf('/x/producer-a'), 'producer-a');
});

test('a pass delivers every rotated file of every source by date and module, acks it, and skips acked files', (t) => {
  const root = tempDir(t);
  const a = makeSource(join(root, 'node1', 'logs'), {
    '100-1-000001.ndjson': [{ time: T0, module: 'chain', n: 1 }, { time: T1, module: 'chain', n: 2 }],
    '100-1-000002.ndjson': [{ time: T1, module: 'p2p', n: 3 }, { time: T1, n: 4 }],
  });
  const b = makeSource(join(root, 'node2', 'logs'), { '200-7-000000.ndjson': [{ time: T1, module: 'chain', n: 5 }] });
  const out = join(root, 'out');
  const collector = LogCollector.open({ outDir: out, sources: [a, b] });
  t.after(() => collector.close());
  const pass = collector.runPass();
  assert.deepEqual([pass.files, pass.lines, pass.batches], [3, 5, 2]);
  assert.deepEqual(readLines(join(out, '2025-06-01', 'chain.ndjson')), [{ source: 'node1', time: T0, module: 'chain', n: 1 }]);
  assert.deepEqual(
    readLines(join(out, '2025-06-02', 'chain.ndjson')).map((l) => [l['source'], l['n']]),
    [['node1', 2], ['node2', 5]],
  );
  assert.deepEqual(readLines(join(out, '2025-06-02', 'p2p.ndjson')).map((l) => l['n']), [3]);
  assert.deepEqual(readLines(join(out, '2025-06-02', 'unknown.ndjson')).map((l) => l['n']), [4]);
  for (const name of ['100-1-000001.ndjson', '100-1-000002.ndjson']) assert.ok(existsSync(join(a, ROTATED_DIR, name + ACK_SUFFIX)));
  assert.ok(existsSync(join(b, ROTATED_DIR, '200-7-000000.ndjson' + ACK_SUFFIX)));
  assert.ok(!existsSync(join(out, COLLECTOR_STATE_DIR, 'journal.json')));

  // Acked files are not delivered again; a new file is.
  assert.equal(collector.runPass().files, 0);
  writeFileSync(join(a, ROTATED_DIR, '100-1-000003.ndjson'), JSON.stringify({ time: T1, module: 'p2p', n: 6 }) + '\n');
  assert.deepEqual([collector.runPass().files, collector.totals.lines], [1, 6]);
  assert.deepEqual(readLines(join(out, '2025-06-02', 'p2p.ndjson')).map((l) => l['n']), [3, 6]);

  // The producer then deletes what was acked.
  const dest = RotatingLogDestination.open({ dir: a, rotateIntervalMs: 0 });
  dest.close();
  assert.deepEqual(readdirSync(join(a, ROTATED_DIR)), []);
});

test('recovery: a pending batch is cut back and delivered again once; a committed one only gets its acks', (t) => {
  const root = tempDir(t);
  const src = makeSource(join(root, 'p1'), {
    '1-1-000001.ndjson': [{ time: T0, module: 'chain', n: 1 }],
    '1-1-000002.ndjson': [{ time: T0, module: 'chain', n: 2 }],
  });
  const out = join(root, 'out');
  mkdirSync(join(out, '2025-06-01'), { recursive: true });
  mkdirSync(join(out, COLLECTOR_STATE_DIR), { recursive: true });
  const before = JSON.stringify({ time: T0, module: 'chain', n: 0 }) + '\n';
  // A collector died after appending file 1 but before committing: its output is on disk, no ack.
  writeFileSync(join(out, '2025-06-01', 'chain.ndjson'), before + JSON.stringify({ source: 'p1', time: T0, module: 'chain', n: 1 }) + '\n{"torn');
  writeFileSync(
    join(out, COLLECTOR_STATE_DIR, 'journal.json'),
    JSON.stringify({ state: 'pending', rotatedDir: join(src, ROTATED_DIR), files: ['1-1-000001.ndjson'], sizes: { '2025-06-01/chain.ndjson': before.length } }),
  );
  const collector = LogCollector.open({ outDir: out, sources: [src] });
  t.after(() => collector.close());
  assert.equal(collector.totals.rolledBack, 1);
  assert.equal(readFileSync(join(out, '2025-06-01', 'chain.ndjson'), 'utf8'), before);
  collector.runPass();
  assert.deepEqual(readLines(join(out, '2025-06-01', 'chain.ndjson')).map((l) => l['n']), [0, 1, 2]);
  collector.close();

  // A collector died after committing file 3 but before acking it: the output is complete, only the ack is written.
  writeFileSync(join(src, ROTATED_DIR, '1-1-000003.ndjson'), JSON.stringify({ time: T0, module: 'chain', n: 3 }) + '\n');
  const size = readFileSync(join(out, '2025-06-01', 'chain.ndjson')).length;
  writeFileSync(join(out, '2025-06-01', 'chain.ndjson'), JSON.stringify({ source: 'p1', time: T0, module: 'chain', n: 3 }) + '\n', { flag: 'a' });
  writeFileSync(
    join(out, COLLECTOR_STATE_DIR, 'journal.json'),
    JSON.stringify({ state: 'committed', rotatedDir: join(src, ROTATED_DIR), files: ['1-1-000003.ndjson'], sizes: { '2025-06-01/chain.ndjson': size } }),
  );
  const again = LogCollector.open({ outDir: out, sources: [src] });
  t.after(() => again.close());
  assert.equal(again.totals.rolledForward, 1);
  assert.ok(existsSync(join(src, ROTATED_DIR, '1-1-000003.ndjson' + ACK_SUFFIX)));
  assert.equal(again.runPass().files, 0);
  assert.deepEqual(readLines(join(out, '2025-06-01', 'chain.ndjson')).map((l) => l['n']), [0, 1, 2, 3]);
});

test('scan roots find producer log dirs (not the output dir), again as new ones appear', (t) => {
  const root = tempDir(t);
  makeSource(join(root, 'node1', 'logs'), {});
  mkdirSync(join(root, 'node1', 'other'), { recursive: true });
  const out = join(root, 'logs');
  makeSource(out, {}); // looks like a producer dir, but it is the collector's output: skipped
  assert.deepEqual(findProducerDirs(root, 4, out), [join(root, 'node1', 'logs')]);
  let now = 0;
  const collector = LogCollector.open({ outDir: out, scanRoots: [root], rescanMs: 1000 }, { nowMs: () => now });
  t.after(() => collector.close());
  assert.deepEqual(collector.sources(), [join(root, 'node1', 'logs')]);
  mkdirSync(join(root, 'node2', 'logs', ROTATED_DIR), { recursive: true });
  writeFileSync(join(root, 'node2', 'logs', PRODUCER_LOCK_FILE), '{}');
  assert.equal(collector.sources().length, 1, 'not rescanned before rescanMs');
  now = 1000;
  assert.deepEqual(collector.sources().sort(), [join(root, 'node1', 'logs'), join(root, 'node2', 'logs')]);
});

test("a dead producer's leftover current.ndjson is rotated and delivered by the collector; a live one's is not", (t) => {
  const root = tempDir(t);
  const dead = makeSource(join(root, 'dead', 'logs'), {});
  const alive = makeSource(join(root, 'alive', 'logs'), {});
  const deadPid = spawnSync(process.execPath, ['-e', '0']).pid;
  writeFileSync(join(dead, PRODUCER_LOCK_FILE), JSON.stringify({ pid: deadPid, role: 'producer', threadId: 0, sinceMs: 1 }));
  writeFileSync(join(alive, PRODUCER_LOCK_FILE), JSON.stringify({ pid: process.ppid, role: 'producer', threadId: 0, sinceMs: 1 }));
  for (const dir of [dead, alive]) writeFileSync(join(dir, CURRENT_LOG_FILE), JSON.stringify({ time: T0, module: 'chain', n: 1 }) + '\n');
  const out = join(root, 'out');
  const collector = LogCollector.open({ outDir: out, sources: [dead, alive] });
  t.after(() => collector.close());
  const pass = collector.runPass();
  assert.deepEqual([pass.adopted, pass.files, pass.lines], [1, 1, 1]);
  assert.ok(!existsSync(join(dead, CURRENT_LOG_FILE)));
  assert.ok(!existsSync(join(dead, PRODUCER_LOCK_FILE)), 'the lock is released after the rotation');
  assert.ok(existsSync(join(alive, CURRENT_LOG_FILE)));
  assert.deepEqual(readLines(join(out, '2025-06-01', 'chain.ndjson')), [{ source: 'dead', time: T0, module: 'chain', n: 1 }]);
  // The producer starts again on its dir, deletes the acked file, and leaves no lock behind when it closes.
  const dest = RotatingLogDestination.open({ dir: dead, rotateIntervalMs: 0 });
  dest.close();
  assert.deepEqual(readdirSync(join(dead, ROTATED_DIR)), []);
});
