import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogError } from './logError.js';
import { LogTail, logLevelName, parseLogLevel, parseSince } from './logReader.js';

const NOW = Date.parse('2025-06-02T12:00:00Z');

test('parseSince: durations back from now and ISO times (UTC without a zone); junk is a bad-query', () => {
  assert.equal(parseSince('10m', NOW), NOW - 600_000);
  assert.equal(parseSince('1h', NOW), NOW - 3_600_000);
  assert.equal(parseSince('1.5s', NOW), NOW - 1500);
  assert.equal(parseSince('2d', NOW), NOW - 172_800_000);
  assert.equal(parseSince('2025-06-01', NOW), Date.parse('2025-06-01T00:00:00Z'));
  assert.equal(parseSince('2025-06-01T10:00:00', NOW), Date.parse('2025-06-01T10:00:00Z'));
  assert.equal(parseSince('2025-06-01T10:00:00+02:00', NOW), Date.parse('2025-06-01T08:00:00Z'));
  for (const bad of ['yesterday', '10', '5 years', '2025-13-45']) {
    assert.throws(() => parseSince(bad, NOW), (err: unknown) => err instanceof LogError && err.code === 'bad-query', bad);
  }
  assert.equal(parseLogLevel('WARN'), 40);
  assert.equal(parseLogLevel('35'), 35);
  assert.throws(() => parseLogLevel('loud'), LogError);
  assert.equal(logLevelName(50), 'error');
});

test('LogTail filters by module, level and time across date folders and follows appended lines', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-logtail-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const line = (time: string, level: number, module: string, n: number): string =>
    JSON.stringify({ time: Date.parse(time), level, module, n, msg: 'm' }) + '\n';
  mkdirSync(join(dir, '2025-06-01'));
  mkdirSync(join(dir, '2025-06-02'));
  writeFileSync(join(dir, '2025-06-01', 'chain.ndjson'), line('2025-06-01T23:00:00Z', 30, 'chain', 1) + line('2025-06-01T23:30:00Z', 50, 'chain', 2));
  writeFileSync(join(dir, '2025-06-02', 'chain.ndjson'), line('2025-06-02T01:00:00Z', 40, 'chain', 4));
  writeFileSync(join(dir, '2025-06-02', 'p2p.ndjson'), line('2025-06-02T00:30:00Z', 30, 'p2p', 3) + 'not json\n');

  const all = new LogTail(dir).poll();
  assert.deepEqual(all.map((r) => r.fields?.['n'] ?? r.line), ['not json', 1, 2, 3, 4]); // no time sorts first
  assert.deepEqual(new LogTail(dir, { modules: ['chain'] }).poll().map((r) => r.fields?.['n']), [1, 2, 4]);
  assert.deepEqual(new LogTail(dir, { minLevel: 40 }).poll().map((r) => r.fields?.['n']), [2, 4]);
  assert.deepEqual(new LogTail(dir, { sinceMs: Date.parse('2025-06-01T23:15:00Z') }).poll().map((r) => r.fields?.['n']), [2, 3, 4]);

  // Following: only new complete lines; a half-written line waits; a new module file is found.
  const tail = new LogTail(dir, { minLevel: 30 });
  assert.equal(tail.poll().length, 4);
  assert.deepEqual(tail.poll(), []);
  const next = line('2025-06-02T02:00:00Z', 30, 'chain', 5);
  appendFileSync(join(dir, '2025-06-02', 'chain.ndjson'), next.slice(0, 10));
  assert.deepEqual(tail.poll(), []);
  appendFileSync(join(dir, '2025-06-02', 'chain.ndjson'), next.slice(10));
  writeFileSync(join(dir, '2025-06-02', 'mempool.ndjson'), line('2025-06-02T01:59:00Z', 30, 'mempool', 6));
  assert.deepEqual(tail.poll().map((r) => [r.module, r.fields?.['n']]), [['mempool', 6], ['chain', 5]]);
});
