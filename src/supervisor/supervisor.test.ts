/**
 * The supervision module with real processes: a supervisor process (test/fixtures/supervisorHost.ts) over children
 * that watch it as `cairn` does (test/fixtures/supervisedChild.ts); the test SIGKILLs the supervisor at chosen moments
 * and reads what the children did from their shared journal and console files. Leftover handling is checked on
 * children started without a supervisor, and on a real zombie.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../testing/nodeCluster.js';
import { isLiveProcess, liveProcessesMentioning } from '../testing/processTable.js';
import { findLeftovers, isProcessRunning, stopLeftovers } from './leftoverProcesses.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const HOST = join(ROOT, 'test/fixtures/supervisorHost.ts');
const CHILD = join(ROOT, 'test/fixtures/supervisedChild.ts');
/** Bound of a start-up of tsx processes on a loaded 2-core machine. */
const START_MS = 60_000;
/** The bound: no child left this long after its supervisor is gone. */
const GONE_MS = 10_000;

interface Host {
  readonly child: ChildProcess;
  readonly pids: ReadonlyMap<string, number>;
  output(): string;
  lines(): string[];
}

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-supervisor-'));
  t.after(() => {
    for (const pid of liveProcessesMentioning(dir).keys()) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

function journal(dir: string): string[] {
  return existsSync(join(dir, 'journal')) ? readFileSync(join(dir, 'journal'), 'utf8').trim().split('\n') : [];
}

function consoleOf(dir: string, name: string): string {
  return existsSync(join(dir, `${name}.console.log`)) ? readFileSync(join(dir, `${name}.console.log`), 'utf8') : '';
}

/** Starts a supervisor host and waits until every child has started and journalled `ready`. */
async function startHost(dir: string, children: readonly object[]): Promise<Host> {
  const child = spawn(process.execPath, ['--import', 'tsx', HOST, dir, JSON.stringify(children)], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const lines = (): string[] => out.split('\n').filter((l) => l.length > 0);
  await waitFor('the host to start its children', () => (child.exitCode !== null ? Promise.reject(new Error(out)) : lines().includes('started')), START_MS, 50);
  const pids = new Map<string, number>();
  for (const l of lines()) if (l.startsWith('{')) pids.set((JSON.parse(l) as { name: string }).name, (JSON.parse(l) as { pid: number }).pid);
  await waitFor('every child ready', () => [...pids.keys()].every((n) => journal(dir).includes(`${n} ready`)), START_MS, 50);
  return { child, pids, output: () => out, lines };
}

async function killHost(host: Host): Promise<void> {
  const exited = new Promise((r) => host.child.once('exit', r));
  host.child.kill('SIGKILL');
  await exited;
}

test('children stop themselves when their supervisor is SIGKILLed: cleanly on their SIGINT path, or by the stop timeout when that hangs', async (t) => {
  const dir = tempDir(t);
  const host = await startHost(dir, [
    { name: 'a', mode: 'clean' },
    { name: 'b', mode: 'clean' },
    { name: 'h', mode: 'hang', stopTimeoutMs: 1_000 },
  ]);
  await killHost(host);
  await waitFor('no child left', () => [...host.pids.values()].every((pid) => !isLiveProcess(pid)), GONE_MS, 50);
  const lines = journal(dir);
  for (const name of ['a', 'b']) {
    assert.ok(lines.includes(`${name} stopped`), `${name} ran its SIGINT shutdown: ${lines.join(' | ')}`);
    assert.match(consoleOf(dir, name), /the supervisor went away \(link-closed\); stopping as on SIGINT/);
  }
  // The hung one got SIGINT too, and ended itself when the supervisor's stop timeout ran out.
  assert.ok(lines.includes('h stopping') && !lines.includes('h stopped'), lines.join(' | '));
  assert.match(consoleOf(dir, 'h'), /still running 1000 ms after the supervisor went away; exiting/);
  assert.deepEqual([...liveProcessesMentioning(dir).keys()], []);
});

test('stop(): stage by stage, each child signalled once, a hung one SIGKILLed after its timeout; the supervisor then exits', async (t) => {
  const dir = tempDir(t);
  const host = await startHost(dir, [
    { name: 'late', mode: 'clean', stopStage: 2 },
    { name: 'first', mode: 'clean', stopStage: 0 },
    { name: 'mid', mode: 'clean', stopStage: 1 },
    { name: 'stuck', mode: 'hang', stopStage: 1, stopTimeoutMs: 500 },
  ]);
  const exited = new Promise<number | null>((r) => host.child.once('exit', (code) => r(code)));
  host.child.stdin!.write('stop\n');
  assert.equal(await exited, 0, host.output());
  const results = JSON.parse(host.lines().at(-1)!) as { name: string; code: number | null; signal: string | null; killed: boolean }[];
  assert.deepEqual(results, [
    { name: 'first', code: 0, signal: null, killed: false },
    { name: 'mid', code: 0, signal: null, killed: false },
    { name: 'stuck', code: null, signal: 'SIGKILL', killed: true },
    { name: 'late', code: 0, signal: null, killed: false },
  ]);
  const lines = journal(dir).filter((l) => !l.endsWith('ready'));
  // A stage starts once the one before it has ended.
  assert.ok(lines.indexOf('first stopped') < lines.indexOf('mid stopping'), lines.join(' | '));
  assert.ok(lines.indexOf('mid stopped') < lines.indexOf('late stopping'), lines.join(' | '));
  assert.equal(lines.filter((l) => l === 'stuck stopping').length, 1);
  assert.deepEqual([...liveProcessesMentioning(dir).keys()], []);
});

test('a child the supervisor is stopping finishes its shutdown, without a second SIGINT, when the supervisor is SIGKILLed meanwhile', async (t) => {
  const dir = tempDir(t);
  const host = await startHost(dir, [{ name: 's', mode: 'slow', stopTimeoutMs: 30_000 }]);
  host.child.stdin!.write('stop\n');
  await waitFor('s to begin its shutdown', () => journal(dir).includes('s stopping'), START_MS, 20);
  await killHost(host);
  await waitFor('s to notice its supervisor is gone', () => /went away while this process was stopping/.test(consoleOf(dir, 's')), GONE_MS, 20);
  writeFileSync(join(dir, 'journal.release'), '');
  await waitFor('s to end', () => !isLiveProcess(host.pids.get('s')!), GONE_MS, 20);
  // A second SIGINT would have ended it by the default action before this line (its handler is a `once`).
  assert.ok(journal(dir).includes('s stopped'), journal(dir).join(' | '));
});

test('leftovers: found by pid and command-line marker; SIGINT stops them (SIGCONT first wakes a stopped one), SIGKILL the rest', async (t) => {
  const dir = tempDir(t);
  const start = (name: string, mode: string): ChildProcess =>
    spawn(process.execPath, ['--import', 'tsx', CHILD, name, join(dir, 'journal'), mode, join(dir, name)], { cwd: ROOT, stdio: 'ignore' });
  const clean = start('clean', 'clean');
  const frozen = start('frozen', 'clean');
  const hung = start('hung', 'hang');
  const all = [clean, frozen, hung];
  await waitFor('the three ready', () => ['clean', 'frozen', 'hung'].every((n) => journal(dir).includes(`${n} ready`)), START_MS, 50);
  frozen.kill('SIGSTOP');
  const found = findLeftovers([
    { name: 'clean', pid: clean.pid!, marker: join(dir, 'clean') },
    { name: 'never-started', pid: null, marker: dir },
    // A pid now held by an unrelated process (this one): its command line lacks the marker.
    { name: 'reused-pid', pid: process.pid, marker: join(dir, 'reused') },
    { name: 'frozen', pid: frozen.pid!, marker: join(dir, 'frozen') },
    { name: 'hung', pid: hung.pid!, marker: join(dir, 'hung') },
  ]);
  assert.deepEqual(found, [
    { name: 'clean', pid: clean.pid },
    { name: 'frozen', pid: frozen.pid },
    { name: 'hung', pid: hung.pid },
  ]);
  const exits = all.map((c) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r()))));
  const outcomes = await stopLeftovers(found, 1_000);
  assert.deepEqual(
    outcomes.map((o) => [o.name, o.outcome]),
    [
      ['clean', 'stopped'],
      ['frozen', 'stopped'],
      ['hung', 'killed'],
    ],
  );
  await Promise.all(exits);
  assert.equal(hung.signalCode, 'SIGKILL');
  assert.ok(['clean stopped', 'frozen stopped'].every((l) => journal(dir).includes(l)), journal(dir).join(' | '));
  assert.deepEqual(findLeftovers(found.map((f) => ({ ...f, marker: join(dir, f.name) }))), []);
});

test('isProcessRunning: false for a zombie (ended, never reaped), true for a live process', async () => {
  // `sleep 0` ends at once; its parent becomes `sleep 30` (exec), which never reaps it.
  const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    let out = '';
    parent.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const zombie = await waitFor('the pid of the short child', () => (/^\d+\n/.test(out) ? Number(out.trim()) : undefined), START_MS, 20);
    await waitFor('the short child to be a zombie', () => /\) Z /.test(readFileSync(`/proc/${zombie}/stat`, 'utf8')), START_MS, 20);
    assert.equal(isProcessRunning(zombie), false);
    assert.equal(isProcessRunning(parent.pid!), true);
  } finally {
    parent.kill('SIGKILL');
  }
});
