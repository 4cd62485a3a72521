import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { ACK_SUFFIX, CURRENT_LOG_FILE, PRODUCER_LOCK_FILE, ROTATED_DIR, parseRotatedFileName } from './logDirLayout.js';
import { LogError } from './logError.js';
import { createLogger, moduleLogger } from './logger.js';
import { RotatingLogDestination } from './rotatingLogDestination.js';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-rotlog-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function rotatedNames(dir: string): string[] {
  return readdirSync(join(dir, ROTATED_DIR))
    .filter((n) => parseRotatedFileName(n) !== undefined)
    .sort((a, b) => parseRotatedFileName(a)!.seq - parseRotatedFileName(b)!.seq);
}

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('size rotation: whole lines only, in order, nothing lost, file names carry start, pid and sequence', (t) => {
  const dir = tempDir(t);
  const dest = RotatingLogDestination.open({ dir, maxBytes: 1000, rotateIntervalMs: 0 });
  t.after(() => dest.close());
  const log = moduleLogger(pino({ base: null }, dest), 'chain');
  for (let n = 1; n <= 200; n++) log.info({ n }, 'numbered line');
  const names = rotatedNames(dir);
  assert.ok(names.length >= 10, `expected many rotations, got ${names.length}`);
  const numbers: number[] = [];
  names.forEach((name, i) => {
    const id = parseRotatedFileName(name)!;
    assert.deepEqual([id.startMs, id.pid, id.seq], [dest.startMs, process.pid, i + 1]);
    const text = readFileSync(join(dir, ROTATED_DIR, name), 'utf8');
    assert.ok(text.endsWith('\n'), 'a rotated file ends on a line boundary');
    assert.ok(Buffer.byteLength(text) >= 1000, 'rotated at the size limit, not before');
    for (const line of text.trimEnd().split('\n')) numbers.push((JSON.parse(line) as { n: number }).n);
  });
  for (const line of readFileSync(join(dir, CURRENT_LOG_FILE), 'utf8').split('\n').filter(Boolean)) {
    numbers.push((JSON.parse(line) as { n: number }).n);
  }
  assert.deepEqual(numbers, Array.from({ length: 200 }, (_, i) => i + 1));
  assert.equal(dest.stats.writes, 200);
  assert.equal(dest.stats.droppedWrites, 0);
});

test('age rotation: a non-empty file is rotated on the timer, an empty one is not', async (t) => {
  const dir = tempDir(t);
  const dest = RotatingLogDestination.open({ dir, rotateIntervalMs: 40 });
  t.after(() => dest.close());
  const log = pino({ base: null }, dest);
  log.info('first');
  await until('the age rotation', () => rotatedNames(dir).length === 1);
  assert.equal(readFileSync(join(dir, CURRENT_LOG_FILE), 'utf8'), '');
  const ticks = dest.stats.ticks;
  await until('five more ticks with nothing written', () => dest.stats.ticks >= ticks + 5);
  assert.equal(rotatedNames(dir).length, 1);
  log.info('second');
  await until('the second age rotation', () => rotatedNames(dir).length === 2);
});

test('a leftover current.ndjson of a crashed run becomes rotated file 0 on open; acked files are deleted', (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, ROTATED_DIR), { recursive: true });
  writeFileSync(join(dir, CURRENT_LOG_FILE), '{"n":1}\n{"n":2}\n');
  writeFileSync(join(dir, ROTATED_DIR, '1-2-000001.ndjson'), '{"n":0}\n');
  writeFileSync(join(dir, ROTATED_DIR, '1-2-000001.ndjson' + ACK_SUFFIX), '{}');
  writeFileSync(join(dir, ROTATED_DIR, '1-2-000002.ndjson'), '{"n":0.5}\n');
  writeFileSync(join(dir, ROTATED_DIR, '1-9-000001.ndjson' + ACK_SUFFIX), '{}'); // marker whose file is gone
  const dest = RotatingLogDestination.open({ dir, rotateIntervalMs: 0 });
  t.after(() => dest.close());
  const left = readdirSync(join(dir, ROTATED_DIR)).sort();
  const recovered = `${dest.startMs}-${process.pid}-000000.ndjson`;
  assert.deepEqual(left, ['1-2-000002.ndjson', recovered].sort());
  assert.equal(readFileSync(join(dir, ROTATED_DIR, recovered), 'utf8'), '{"n":1}\n{"n":2}\n');
  assert.equal(readFileSync(join(dir, CURRENT_LOG_FILE), 'utf8'), '');
  assert.equal(dest.stats.deletedAcked, 1);

  // An ack marker written later is honoured on the next rotation: the file and the marker go.
  writeFileSync(join(dir, ROTATED_DIR, recovered + ACK_SUFFIX), '{}');
  dest.write('{"n":3}\n');
  const name = dest.rotate();
  assert.ok(name !== undefined);
  assert.deepEqual(readdirSync(join(dir, ROTATED_DIR)).sort(), ['1-2-000002.ndjson', name].sort());
});

test('createLogger({logDir}) writes module lines there; the same dir opened twice in a process shares one file', (t) => {
  const dir = tempDir(t);
  const a = createLogger({ logDir: dir, rotation: { rotateIntervalMs: 0 } });
  const b = createLogger({ logDir: dir, rotation: { rotateIntervalMs: 0 } });
  moduleLogger(a, 'chain').info({ height: 1 }, 'a');
  moduleLogger(b, 'p2p').warn('b');
  const lines = readFileSync(join(dir, CURRENT_LOG_FILE), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(lines.map((l) => [l['module'], l['msg'], l['level']]), [['chain', 'a', 30], ['p2p', 'b', 40]]);
  const dest = RotatingLogDestination.open({ dir });
  dest.close();
  // close(): final rotation, lock released, later writes dropped
  assert.equal(rotatedNames(dir).length, 1);
  assert.ok(!existsSync(join(dir, PRODUCER_LOCK_FILE)));
  a.info('after close');
  assert.equal(dest.stats.droppedWrites, 1);
});

test('a log dir held by another live process is refused; a dead owner is taken over', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, PRODUCER_LOCK_FILE), JSON.stringify({ pid: process.ppid, threadId: 0, sinceMs: 0 }));
  assert.throws(() => RotatingLogDestination.open({ dir }), (err: unknown) => err instanceof LogError && err.code === 'dir-busy');
  const dead = spawnSync(process.execPath, ['-e', '0']).pid;
  writeFileSync(join(dir, PRODUCER_LOCK_FILE), JSON.stringify({ pid: dead, threadId: 0, sinceMs: 0 }));
  const dest = RotatingLogDestination.open({ dir });
  t.after(() => dest.close());
  assert.equal((JSON.parse(readFileSync(join(dir, PRODUCER_LOCK_FILE), 'utf8')) as { pid: number }).pid, process.pid);
});

test('a deleted log dir closes the destination quietly', async (t) => {
  const dir = tempDir(t);
  const dest = RotatingLogDestination.open({ dir: join(dir, 'logs'), rotateIntervalMs: 20 });
  t.after(() => dest.close());
  dest.write('{"n":1}\n');
  rmSync(join(dir, 'logs'), { recursive: true, force: true });
  // The first tick tries the age rotation of the non-empty file and finds the dir gone; the destination stops.
  await until('a tick after the dir is gone', () => dest.stats.ticks >= 1);
  dest.write('{"n":2}\n');
  assert.equal(dest.stats.droppedWrites, 1);
  assert.ok(!existsSync(join(dir, 'logs')));
});
