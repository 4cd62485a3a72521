/**
 * End-to-end: log producers (test/fixtures/logProducer.ts, createLogger with a rotating log dir) and `cairn
 * log-collector` as real processes. Both are killed with SIGKILL again and again while lines flow — the collector
 * right after it started a batch (its journal appeared) — and restarted; at the end every numbered line any producer
 * wrote must be in the consolidated output at least once. Then `cairn logs` filters a consolidated dir by module,
 * level and time, and follows it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogCollector } from '../src/logging/logCollector.js';

const CLI = ['--import', 'tsx', 'src/cli/run.ts'];
const PRODUCER = ['--import', 'tsx', 'test/fixtures/logProducer.ts'];

interface Proc {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  output(): string;
}

function start(args: string[], readyPattern: RegExp, timeoutMs = 30_000): Promise<Proc> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  // 'close', not 'exit': the output is complete by then (a producer may print 'ready' and exit at once).
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const proc: Proc = { child, exited, output: () => out };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready in ${timeoutMs} ms: ${args.join(' ')}\n${out}`)), timeoutMs);
    const check = (): void => {
      if (readyPattern.test(out)) {
        clearTimeout(timer);
        resolve(proc);
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      if (!readyPattern.test(out)) {
        clearTimeout(timer);
        reject(new Error(`exited (${code}) before ready: ${args.join(' ')}\n${out}`));
      }
    });
  });
}

async function kill9(proc: Proc): Promise<void> {
  proc.child.kill('SIGKILL');
  await proc.exited;
}

const phase = (what: string): void => {
  if (process.env['LOGTEST_DEBUG']) process.stderr.write(`[${new Date().toISOString()}] ${what}\n`);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('kill -9 of producers and of the collector in mid-transfer, repeatedly: every line written is delivered', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'cairn-logcollect-e2e-'));
  const out = join(root, 'logs');
  const live = new Set<Proc>();
  t.after(async () => {
    for (const p of live) if (p.child.exitCode === null && p.child.signalCode === null) await kill9(p);
    rmSync(root, { recursive: true, force: true });
  });
  const began = Date.now();
  const runs: { run: string; producer: number }[] = [];
  const producers: (Proc | undefined)[] = [undefined, undefined];
  const startProducer = async (i: number, maxLines = 1e9): Promise<Proc> => {
    const run = `p${i}r${runs.length}`;
    phase(`start producer ${run}`);
    runs.push({ run, producer: i });
    const p = await start([...PRODUCER, join(root, `node${i}`, 'logs'), run, join(root, `${run}.progress`), String(maxLines)], /ready/);
    live.add(p);
    return p;
  };
  const startCollector = async (): Promise<Proc> => {
    phase('start collector');
    const c = await start([...CLI, 'log-collector', '--dir', out, '--scan', root, '--poll-ms', '100', '--log-level', 'warn'], /log collector:/);
    live.add(c);
    return c;
  };

  // Kills the collector as soon as its journal shows a batch in progress (or after 3 s); returns the journal state
  // left behind: 'pending' / 'committed' = killed mid-batch, undefined = the batch had just finished.
  const killCollectorMidBatch = async (c: Proc): Promise<string | undefined> => {
    const stateDir = join(out, '.collector');
    const journal = join(stateDir, 'journal.json');
    await new Promise<void>((resolve) => {
      const done = (): void => {
        watcher.close();
        clearTimeout(timer);
        c.child.kill('SIGKILL');
        resolve();
      };
      const watcher = watch(stateDir, (_event, name) => {
        if (name === 'journal.json' && existsSync(journal)) done();
      });
      const timer = setTimeout(done, 3000);
    });
    await c.exited;
    if (!existsSync(journal)) return undefined;
    return (JSON.parse(readFileSync(journal, 'utf8')) as { state: string }).state;
  };

  producers[0] = await startProducer(0);
  producers[1] = await startProducer(1);
  let collector = await startCollector();
  let producerKills = 0;
  let collectorKills = 0;
  const collectorKillStates: string[] = [];
  const CYCLES = 6;
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    phase(`cycle ${cycle}`);
    await sleep(300 + Math.floor(Math.random() * 400));
    let collectorKilled = false;
    if (cycle % 2 === 0) {
      collectorKillStates.push((await killCollectorMidBatch(collector)) ?? 'between batches');
      collectorKills++;
      collectorKilled = true;
    }
    const victims = cycle % 3 === 0 ? [0, 1] : [cycle % 2];
    await sleep(Math.floor(Math.random() * 200));
    for (const i of victims) {
      await kill9(producers[i]!);
      producerKills++;
    }
    // Restarted together: a restart costs a process start (most of this test's time).
    const restarted = await Promise.all([...victims.map((i) => startProducer(i)), ...(collectorKilled ? [startCollector()] : [])]);
    victims.forEach((i, k) => (producers[i] = restarted[k]));
    if (collectorKilled) collector = restarted[victims.length]!;
  }

  // The last crash of each producer, not restarted: the collector rotates their leftover current.ndjson itself
  // (their lock names a dead process) and delivers it in its final pass on SIGTERM.
  await sleep(500);
  for (const i of [0, 1]) {
    await kill9(producers[i]!);
    producerKills++;
  }
  collector.child.kill('SIGTERM');
  assert.equal(await collector.exited, 0, collector.output());
  assert.match(collector.output(), /log collector stopped: \d+ file\(s\)/);
  for (const i of [0, 1]) {
    // Adopted (renamed away), or empty because the kill fell right after a rotation.
    const current = join(root, `node${i}`, 'logs', 'current.ndjson');
    assert.ok(!existsSync(current) || statSync(current).size === 0, 'leftover adopted by the collector');
  }
  // Nothing is left to deliver; a producer starting again deletes every acked file and leaves nothing behind.
  const check = LogCollector.open({ outDir: out, scanRoots: [root] });
  const lastPass = check.runPass();
  check.close();
  assert.deepEqual([lastPass.files, lastPass.lines, lastPass.adopted, check.totals.rolledBack], [0, 0, 0, 0]);
  for (const p of await Promise.all([startProducer(0, 0), startProducer(1, 0)])) assert.equal(await p.exited, 0, p.output());
  for (const i of [0, 1]) assert.deepEqual(readdirSync(join(root, `node${i}`, 'logs', 'rotated')), []);

  // Count: lines written per run (progress file, or the highest number found anywhere if the kill fell between the
  // log call and the progress write) against the distinct lines delivered.
  const delivered = new Map<string, Set<number>>();
  const maxSeen = new Map<string, number>();
  let outputLines = 0;
  for (const date of readdirSync(out).filter((d) => /^\d{4}-\d{2}-\d{2}$/.test(d))) {
    for (const file of readdirSync(join(out, date))) {
      for (const line of readFileSync(join(out, date, file), 'utf8').split('\n')) {
        if (line.length === 0) continue;
        const rec = JSON.parse(line) as { run: string; n: number; module: string; source: string; time: number };
        outputLines++;
        assert.equal(`${rec.module}.ndjson`, file, 'a line sits in its module file');
        assert.equal(new Date(rec.time).toISOString().slice(0, 10), date, 'a line sits in its date folder');
        assert.equal(rec.source, `node${rec.run[1]}`);
        let set = delivered.get(rec.run);
        if (!set) delivered.set(rec.run, (set = new Set()));
        set.add(rec.n);
        maxSeen.set(rec.run, Math.max(maxSeen.get(rec.run) ?? 0, rec.n));
      }
    }
  }
  let written = 0;
  let distinct = 0;
  for (const { run } of runs) {
    const progress = Number(readFileSync(join(root, `${run}.progress`), 'utf8').trim());
    const last = Math.max(progress, maxSeen.get(run) ?? 0);
    const got = delivered.get(run) ?? new Set<number>();
    const missing: number[] = [];
    for (let n = 1; n <= last; n++) if (!got.has(n)) missing.push(n);
    assert.deepEqual(missing.slice(0, 20), [], `run ${run}: ${missing.length} of ${last} lines lost`);
    written += last;
    distinct += got.size;
  }
  assert.equal(distinct, written);
  assert.ok(written > 10_000, `only ${written} lines written`);
  assert.ok(collectorKillStates.some((s) => s !== 'between batches'), `no collector kill fell inside a batch: ${collectorKillStates.join(', ')}`);
  t.diagnostic(
    `runs ${runs.length}, producer kills ${producerKills}, collector kills ${collectorKills} (journal left: ${collectorKillStates.join(', ')}); ` +
      `lines written ${written}, delivered ${distinct} distinct in ${outputLines} output lines (duplicates ${outputLines - distinct}); ` +
      `last collector: ${/\(\d+ leftover.*recovered\)/.exec(collector.output())?.[0] ?? '?'}; ${Date.now() - began} ms`,
  );
});

test('cairn logs: filters by module, level and time, prints one line per record, follows new lines', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'cairn-logs-e2e-'));
  const live: ChildProcess[] = [];
  t.after(() => {
    for (const c of live) if (c.exitCode === null) c.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });
  // A devnet-like dir: devnet.json and the collector's output in logs/.
  writeFileSync(join(root, 'devnet.json'), '{}');
  const out = join(root, 'logs');
  const now = Date.now();
  const rec = (ago: number, level: number, module: string, msg: string, extra: object = {}): Record<string, unknown> => ({
    source: 'node1',
    level,
    time: now - ago,
    pid: 1,
    module,
    ...extra,
    msg,
  });
  const records = [
    rec(3 * 3_600_000, 50, 'chain', 'old error'),
    rec(20 * 60_000, 40, 'chain', 'reorg', { depth: 2, fork: 'ab cd' }),
    rec(10 * 60_000, 30, 'chain', 'block connected', { height: 7 }),
    rec(5 * 60_000, 50, 'p2p', 'peer banned', { peer: '12D3Koo' }),
    rec(60_000, 20, 'mempool', 'tx accepted'),
  ];
  for (const r of records) {
    const date = new Date(r['time'] as number).toISOString().slice(0, 10);
    mkdirSync(join(out, date), { recursive: true });
    appendFileSync(join(out, date, `${r['module'] as string}.ndjson`), JSON.stringify(r) + '\n');
  }
  const logs = (...args: string[]): string[] => {
    const r = spawnSync(process.execPath, [...CLI, 'logs', ...args], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter((l) => l.length > 0);
  };
  const msgs = (lines: string[]): unknown[] => lines.map((l) => (JSON.parse(l) as { msg: string }).msg);

  // A devnet dir stands for its logs/ folder; durations and ISO times; module list, level, last n.
  assert.deepEqual(msgs(logs('--dir', root, '--json', '--since', '1h')), ['reorg', 'block connected', 'peer banned', 'tx accepted']);
  assert.deepEqual(msgs(logs('--dir', out, '--json', '--module', 'chain,p2p', '--level', 'warn', '-n', '2')), ['reorg', 'peer banned']);
  const pretty = logs('--dir', out, '--module', 'chain', '--level', 'warn', '--since', new Date(now - 30 * 60_000).toISOString());
  assert.deepEqual(pretty, [`${new Date(now - 20 * 60_000).toISOString()} WARN  chain    [node1] reorg depth=2 fork="ab cd"`]);
  const bad = spawnSync(process.execPath, [...CLI, 'logs', '--dir', out, '--since', 'yesterday'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /cannot read 'yesterday' as a time/);

  // --follow prints records appended later, then stops on SIGINT.
  const follow = await start([...CLI, 'logs', '--dir', out, '--follow', '--level', 'error', '--poll-ms', '50'], /peer banned/);
  live.push(follow.child);
  const today = new Date().toISOString().slice(0, 10);
  mkdirSync(join(out, today), { recursive: true });
  appendFileSync(join(out, today, 'api.ndjson'), JSON.stringify(rec(0, 30, 'api', 'not shown')) + '\n' + JSON.stringify(rec(0, 50, 'api', 'server failed')) + '\n');
  const deadline = Date.now() + 10_000;
  while (!/server failed/.test(follow.output())) {
    assert.ok(Date.now() < deadline, `follow did not print the new record:\n${follow.output()}`);
    await sleep(20);
  }
  follow.child.kill('SIGINT');
  assert.equal(await follow.exited, 0);
  assert.doesNotMatch(follow.output(), /not shown/);
  assert.deepEqual(
    follow.output().trim().split('\n').map((l) => l.replace(/^\S+ /, '')),
    ['ERROR chain    [node1] old error', 'ERROR p2p      [node1] peer banned peer=12D3Koo', 'ERROR api      [node1] server failed'],
  );
});
