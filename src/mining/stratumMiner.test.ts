/**
 * The Stratum client and miner against a scripted Stratum server written in this test from the spec (not cairn's
 * server): the shares the miner submits must reconstruct, on the test's side, into headers meeting the share target;
 * it must reconnect when the server drops it, and stop when the server refuses the username. A scripted pool checks
 * the nonce/extranonce2 bookkeeping: continue after a find, roll extranonce2 on exhaustion, switch on a new job.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { test } from 'node:test';
import { hexToBytes } from '../primitives/hex.js';
import type { FoundBlock, MinerJob, MinerPool } from './minerPool.js';
import { StratumMiner } from './stratumMiner.js';

const EN1 = 'a1b2c3d4';
const DIFFICULTY = 2 ** -20;

function sha256d(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(createHash('sha256').update(bytes).digest()).digest());
}

function leValue(hash: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(hash).reverse().toString('hex')}`);
}

/** A job as a pool would send it: params of mining.notify. */
function notifyParams(jobId: string, clean: boolean): unknown[] {
  const prevhash = '11223344'.repeat(7) + '00000000';
  const coinb1 = '02000000010000000000000000000000000000000000000000000000000000000000000000ffffffff0e5108';
  const coinb2 = '0a2f746573742d706f6f6c2fffffffff0100f2052a01000000160014' + '77'.repeat(20) + '00000000';
  return [jobId, prevhash, coinb1, coinb2, ['ab'.repeat(32), 'cd'.repeat(32)], '20000000', '1d00ffff', '65000000', clean];
}

/** The header of a submitted share, rebuilt from the job the way the Stratum spec describes. */
function shareHeader(params: unknown[], en2: string, ntime: string, nonce: string): Uint8Array {
  const [, prevhash, coinb1, coinb2, branch, version, nbits] = params as [string, string, string, string, string[], string, string];
  let root = sha256d(hexToBytes(coinb1 + EN1 + en2 + coinb2));
  for (const s of branch) root = sha256d(new Uint8Array([...root, ...hexToBytes(s)]));
  const prev = hexToBytes(prevhash);
  const prevLe = new Uint8Array(32);
  for (let i = 0; i < 32; i += 4) prevLe.set(prev.slice(i, i + 4).reverse(), i);
  const le = (hex: string): Uint8Array => hexToBytes(hex).reverse();
  return new Uint8Array([...le(version), ...prevLe, ...root, ...le(ntime), ...le(nbits), ...le(nonce)]);
}

interface ScriptedServer {
  readonly server: Server;
  readonly port: number;
  readonly sockets: Socket[];
  readonly submits: unknown[][];
  connections: number;
}

/** A minimal pool: answers subscribe/authorize, sends difficulty + one job, and answers submits with `verdict`. */
async function scriptedServer(authorize: boolean, verdict: (n: number) => unknown): Promise<ScriptedServer> {
  const state: ScriptedServer = { server: createServer(), port: 0, sockets: [], submits: [], connections: 0 };
  state.server.on('connection', (socket) => {
    state.connections++;
    state.sockets.push(socket);
    let buffer = '';
    const send = (m: unknown): boolean => socket.write(`${JSON.stringify(m)}\n`);
    socket.on('error', () => undefined);
    socket.on('data', (d: Buffer) => {
      buffer += d.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const m = JSON.parse(buffer.slice(0, nl)) as { id: number; method: string; params: unknown[] };
        buffer = buffer.slice(nl + 1);
        if (m.method === 'mining.subscribe') send({ id: m.id, result: [[['mining.notify', 's']], EN1, 4], error: null });
        if (m.method === 'mining.authorize') {
          if (!authorize) {
            send({ id: m.id, result: false, error: [24, 'Unauthorized worker', null] });
            continue;
          }
          send({ id: m.id, result: true, error: null });
          send({ id: null, method: 'mining.set_difficulty', params: [DIFFICULTY] });
          send({ id: null, method: 'mining.notify', params: notifyParams('job1', true) });
        }
        if (m.method === 'mining.submit') {
          state.submits.push(m.params);
          send({ id: m.id, ...(verdict(state.submits.length) as object) });
        }
      }
    });
  });
  await new Promise<void>((resolve) => state.server.listen(0, '127.0.0.1', resolve));
  (state as { port: number }).port = (state.server.address() as { port: number }).port;
  return state;
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('stratum miner: submits shares that meet the share target, reports verdicts, reconnects after a drop', async (t) => {
  const pool = await scriptedServer(true, (n) => (n === 2 ? { result: null, error: [23, 'Low difficulty share', null] } : { result: true, error: null }));
  const lines: string[] = [];
  const miner = new StratumMiner(
    { host: '127.0.0.1', port: pool.port, user: 'rcrn1user', threads: 1, statusIntervalMs: 200, reconnectMinMs: 100 },
    { print: (line) => lines.push(line) },
  );
  t.after(async () => {
    await miner.stop();
    for (const s of pool.sockets) s.destroy();
    await new Promise((r) => pool.server.close(r));
  });
  miner.start();
  await waitFor('3 shares', () => pool.submits.length >= 3);
  const shareTarget = ((0xffffn << 208n) * (1n << 20n));
  for (const params of pool.submits.slice(0, 3)) {
    const [worker, jobId, en2, ntime, nonce] = params as string[];
    assert.deepEqual([worker, jobId, ntime], ['rcrn1user', 'job1', '65000000']);
    assert.match(en2!, /^[0-9a-f]{8}$/);
    assert.ok(leValue(sha256d(shareHeader(notifyParams('job1', true), en2!, ntime!, nonce!))) <= shareTarget, 'a real share');
  }
  const nonces = pool.submits.map((p) => p[4] as string);
  assert.equal(new Set(nonces).size, nonces.length, 'no nonce is submitted twice');
  await waitFor('verdict lines', () => lines.some((l) => l.startsWith('share rejected: job job1: Low difficulty share (23)')));
  assert.ok(lines.some((l) => l.startsWith('share accepted: job job1')));
  await waitFor('a hash-rate line', () => lines.some((l) => /^hashrate [\d.]+ [kM]?H\/s \| shares accepted \d+ rejected 1/.test(l)));

  // The server drops the connection: the miner reconnects (back-off 100 ms) and mines again.
  const before = pool.submits.length;
  for (const s of pool.sockets) s.destroy();
  await waitFor('a reconnect', () => pool.connections >= 2);
  assert.ok(lines.some((l) => /^disconnected \(.*\); reconnecting in 0\.1 s$/.test(l)));
  await waitFor('shares after the reconnect', () => pool.submits.length > before + 1);
});

test('stratum miner: a refused username ends the miner with the server\'s reason', async (t) => {
  const pool = await scriptedServer(false, () => ({}));
  t.after(() => new Promise((r) => pool.server.close(r)));
  const lines: string[] = [];
  const miner = new StratumMiner({ host: '127.0.0.1', port: pool.port, user: 'nobody', threads: 1, statusIntervalMs: 0 }, { print: (l) => lines.push(l) });
  miner.start();
  assert.equal(await miner.done, 'unauthorized: Unauthorized worker');
  assert.ok(lines.includes('the server refused nobody: Unauthorized worker'));
});

/** A pool that only records jobs; the test plays the workers' finds and exhaustion. */
class ScriptedPool {
  readonly jobs: MinerJob[] = [];
  private found?: (f: FoundBlock) => void;
  private exhausted?: (id: string) => void;
  current: string | undefined;
  startJob(job: MinerJob): void {
    this.jobs.push(job);
    this.current = job.jobId;
  }
  stopJob(): void {
    this.current = undefined;
  }
  get currentJobId(): string | undefined {
    return this.current;
  }
  onFound(l: (f: FoundBlock) => void): () => void {
    this.found = l;
    return () => undefined;
  }
  onExhausted(l: (id: string) => void): () => void {
    this.exhausted = l;
    return () => undefined;
  }
  onError(): () => void {
    return () => undefined;
  }
  hashRate(): number {
    return 0;
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  find(nonce: number): void {
    const job = this.jobs[this.jobs.length - 1]!;
    const header80 = job.header80.slice();
    new DataView(header80.buffer).setUint32(76, nonce, true);
    this.current = undefined;
    this.found!({ jobId: job.jobId, nonce, header80 });
  }
  exhaust(): void {
    this.current = undefined;
    this.exhausted!(this.jobs[this.jobs.length - 1]!.jobId);
  }
}

test('stratum miner: goes on after a find, rolls extranonce2 when the nonces run out, switches to a new job', async (t) => {
  const server = await scriptedServer(true, () => ({ result: true, error: null }));
  const scripted = new ScriptedPool();
  const miner = new StratumMiner(
    { host: '127.0.0.1', port: server.port, user: 'u', threads: 1, statusIntervalMs: 0 },
    { print: () => undefined, createPool: () => scripted as unknown as MinerPool },
  );
  t.after(async () => {
    await miner.stop();
    for (const s of server.sockets) s.destroy();
    await new Promise((r) => server.server.close(r));
  });
  miner.start();
  await waitFor('the first job', () => scripted.jobs.length === 1);
  const job = notifyParams('job1', true);
  const first = scripted.jobs[0]!;
  assert.equal(first.startNonce, 0);
  assert.equal(first.target, ((0xffffn << 208n) * (1n << 20n)));
  assert.deepEqual(first.header80, shareHeader(job, '00000000', '65000000', '00000000'));

  scripted.find(1234);
  await waitFor('the share', () => server.submits.length === 1);
  assert.deepEqual(server.submits[0], ['u', 'job1', '00000000', '65000000', '000004d2']);
  assert.equal(scripted.jobs.length, 2);
  assert.equal(scripted.jobs[1]!.startNonce, 1235, 'mining goes on from the next nonce');
  assert.deepEqual(scripted.jobs[1]!.header80, first.header80);

  scripted.exhaust();
  assert.equal(scripted.jobs.length, 3);
  assert.equal(scripted.jobs[2]!.startNonce, 0);
  assert.deepEqual(scripted.jobs[2]!.header80, shareHeader(job, '00000001', '65000000', '00000000'), 'extranonce2 rolled to 1');

  const s = server.sockets[0]!;
  s.write(`${JSON.stringify({ id: null, method: 'mining.notify', params: notifyParams('job2', false) })}\n`);
  await waitFor('the new job', () => scripted.jobs.length === 4);
  assert.deepEqual(scripted.jobs[3]!.header80, shareHeader(notifyParams('job2', false), '00000000', '65000000', '00000000'));
});
