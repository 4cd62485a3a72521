/**
 * The Stratum server against an in-process regtest node and a raw TCP client. The client side of this test follows
 * the Stratum V1 spec on its own (coinbase = coinb1 || en1 || en2 || coinb2, merkle root from the branch, prevhash
 * word-swapped, version/nbits/ntime/nonce big-endian hex) and does not use cairn's Stratum code: the block it solves
 * must be the block the node accepts.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { silentLogger } from '../logging/logger.js';
import { FullNode } from '../node/fullNode.js';
import { regtest, main } from '../params/networks.js';
import { bytesToHex, hashToHex, hexToBytes } from '../primitives/hex.js';
import { computeTxid, encodeTx } from '../primitives/tx.js';
import { spendableCoinbases } from '../testing/chainFactory.js';
import { buildSpend, makeTestKey, testKeyAddress } from '../testing/txFactory.js';
import { solveBlockCpu } from './cpuSolver.js';
import { StratumServer } from './stratumServer.js';

const NOW = 2_000_000_000;
const MINER = makeTestKey('stratum/miner', 'p2wpkh');
const POOL_USER = makeTestKey('stratum/pool-user', 'p2tr');
const ALICE = makeTestKey('stratum/alice', 'p2wpkh');
/** Share difficulty of the test server: 2^-20, so a share takes ~2^12 hashes on the test's own CPU loop. */
const SHARE_DIFFICULTY = 2 ** -20;

// ── the test's own Stratum arithmetic (from the spec, independent of stratumProtocol.ts) ─────────────────────────

function sha256d(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(createHash('sha256').update(bytes).digest()).digest());
}

/** A 256-bit hash read as Bitcoin compares it with a target: little-endian. */
function leValue(hash: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(hash).reverse().toString('hex')}`);
}

/** Big-endian hex of a u32 (Stratum) → the 4 little-endian header bytes. */
function beHexToLe(hex: string): Uint8Array {
  return hexToBytes(hex).reverse();
}

/** Stratum prevhash → header bytes: every 4-byte word reversed. */
function unswapWords(hex: string): Uint8Array {
  const b = hexToBytes(hex);
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i += 4) out.set(b.slice(i, i + 4).reverse(), i);
  return out;
}

/** Target of a share difficulty (bdiff: difficulty 1 = 0xffff · 2^208). */
function shareTargetOf(difficulty: number): bigint {
  return ((0xffffn << 208n) * (1n << 40n)) / BigInt(Math.round(difficulty * 2 ** 40));
}

/** The compact bits as a target. */
function targetOfBits(bits: number): bigint {
  return BigInt(bits & 0x007fffff) * 256n ** BigInt((bits >>> 24) - 3);
}

interface Notify {
  readonly jobId: string;
  readonly prevhash: string;
  readonly coinb1: string;
  readonly coinb2: string;
  readonly branch: string[];
  readonly version: string;
  readonly nbits: string;
  readonly ntime: string;
  readonly clean: boolean;
}

function toNotify(params: unknown[]): Notify {
  const [jobId, prevhash, coinb1, coinb2, branch, version, nbits, ntime, clean] = params as [string, string, string, string, string[], string, string, string, boolean];
  return { jobId, prevhash, coinb1, coinb2, branch, version, nbits, ntime, clean };
}

/** The 80-byte header of a job for extranonces and nonce, built as the spec describes (nonce as big-endian hex). */
function headerOf(job: Notify, en1: string, en2: string, nonceHex: string): Uint8Array {
  let root = sha256d(hexToBytes(job.coinb1 + en1 + en2 + job.coinb2));
  for (const sibling of job.branch) root = sha256d(new Uint8Array([...root, ...hexToBytes(sibling)]));
  return new Uint8Array([
    ...beHexToLe(job.version),
    ...unswapWords(job.prevhash),
    ...root,
    ...beHexToLe(job.ntime),
    ...beHexToLe(job.nbits),
    ...beHexToLe(nonceHex),
  ]);
}

/** The first nonce from `from` whose header hash satisfies `accept`. */
function grind(job: Notify, en1: string, en2: string, accept: (value: bigint) => boolean, from = 0): { nonceHex: string; hash: Uint8Array } {
  for (let n = from; n < from + 10_000_000; n++) {
    const nonceHex = n.toString(16).padStart(8, '0');
    const hash = sha256d(headerOf(job, en1, en2, nonceHex));
    if (accept(leValue(hash))) return { nonceHex, hash };
  }
  throw new Error('no nonce found');
}

// ── a raw line-based TCP client ─────────────────────────────────────────────────────────────────────────────────────

interface Message {
  id: number | string | null;
  method?: string;
  params?: unknown[];
  result?: unknown;
  error?: unknown;
}

class RawClient {
  private buffer = '';
  private readonly inbox: Message[] = [];
  private waiters: (() => void)[] = [];
  private nextId = 1;
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buffer += d.toString('utf8');
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        if (line.trim()) this.inbox.push(JSON.parse(line) as Message);
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static open(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port }, () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Waits for (and removes) the first received message that matches. */
  async take(match: (m: Message) => boolean, timeoutMs = 10_000): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.inbox.findIndex(match);
      if (i >= 0) return this.inbox.splice(i, 1)[0]!;
      if (this.closed) throw new Error('connection closed');
      if (Date.now() > deadline) throw new Error('timed out waiting for a message');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  sendLine(line: string): void {
    this.socket.write(`${line}\n`);
  }

  async call(method: string, params: unknown[]): Promise<Message> {
    const id = this.nextId++;
    this.sendLine(JSON.stringify({ id, method, params }));
    return this.take((m) => m.id === id);
  }

  notification(method: string): Promise<Message> {
    return this.take((m) => m.method === method);
  }

  async waitClosed(timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('the server did not close the connection');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

async function mineBlocks(node: FullNode, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const template = node.blockTemplates.createTemplate();
    const block = solveBlockCpu(node.blockTemplates.buildBlock(template, { rewardScript: MINER.scriptPubKey }), regtest.powLimit);
    assert.ok(block);
    assert.equal((await node.submitBlock(block)).status, 'connected');
  }
}

test('Stratum server: subscribe, authorize, notify; a share solved from the notify fields is a block the node accepts', async (t) => {
  const datadir = mkdtempSync(join(tmpdir(), 'cairn-stratum-'));
  const node = await FullNode.open({ params: regtest, datadir, scriptThreads: 1 }, { nowSec: () => NOW, logger: silentLogger() });
  const server = await StratumServer.start(
    { port: 0, shareDifficulty: SHARE_DIFFICULTY, templateRefreshMs: 50 },
    { node, logger: silentLogger() },
  );
  const clients: RawClient[] = [];
  t.after(async () => {
    for (const c of clients) c.close();
    await server.close();
    await node.close();
    rmSync(datadir, { recursive: true, force: true });
  });
  const open = async (): Promise<RawClient> => {
    const c = await RawClient.open(server.port);
    clients.push(c);
    return c;
  };

  // A mature coinbase, and a witness spend of it in the mempool: the template then needs a witness commitment.
  await mineBlocks(node, regtest.coinbaseMaturity + 1);
  const [coin] = spendableCoinbases(node.chain, MINER);
  const { tx: spend } = buildSpend([coin!], { key: ALICE, valueSats: 100_000_000n }, 10_000n);
  await node.submitTransaction(spend);

  const client = await open();
  // Before subscribe and authorize, a share is refused with Stratum's codes.
  const early = await client.call('mining.submit', ['x', '1', '00000000', '00000000', '00000000']);
  assert.deepEqual(early.error, [25, 'Not subscribed', null]);

  const sub = await client.call('mining.subscribe', ['test-miner/1.0']);
  assert.equal(sub.error, null);
  const [subscriptions, en1, en2Size] = sub.result as [[string, string][], string, number];
  assert.deepEqual(subscriptions.map((s) => s[0]), ['mining.set_difficulty', 'mining.notify']);
  assert.match(en1, /^[0-9a-f]{8}$/);
  assert.equal(en2Size, 4);
  const other = await open();
  const otherEn1 = ((await other.call('mining.subscribe', [])).result as [unknown, string])[1];
  assert.notEqual(otherEn1, en1, 'extranonce1 is unique per connection');

  // Authorize: an address of another network, a P2WSH-length program and garbage are refused with error 24.
  for (const bad of [testKeyAddress(POOL_USER, main.bech32Hrp), 'rcrn1notanaddress', '']) {
    const refused = await client.call('mining.authorize', [bad, 'x']);
    assert.equal(refused.result, false);
    assert.equal((refused.error as unknown[])[0], 24, bad);
  }
  const noAuthShare = await client.call('mining.submit', ['nobody', '1', '00000000', '00000000', '00000000']);
  assert.equal((noAuthShare.error as unknown[])[0], 24);

  const user = `${testKeyAddress(POOL_USER, regtest.bech32Hrp)}.rig1`;
  const auth = await client.call('mining.authorize', [user, 'x']);
  assert.deepEqual([auth.result, auth.error], [true, null]);
  const setDifficulty = await client.notification('mining.set_difficulty');
  assert.deepEqual(setDifficulty.params, [SHARE_DIFFICULTY]);
  const job = toNotify((await client.notification('mining.notify')).params!);

  // The notify fields, read the spec's way.
  const tip = node.chain.tip;
  assert.equal(hashToHex(unswapWords(job.prevhash)), tip.hashHex, 'prevhash is the tip, word-swapped');
  assert.ok(job.coinb1.endsWith('08'), 'coinb1 ends with the push of the 8 extranonce bytes');
  assert.equal(job.version, '20000000');
  assert.equal(job.nbits, '207fffff');
  assert.equal(parseInt(job.ntime, 16), Math.max(NOW, node.chain.getMedianTimePast(tip) + 1));
  assert.equal(job.clean, true);
  assert.match(job.coinb2, /6a24aa21a9ed[0-9a-f]{64}/, 'the witness commitment output is in coinb2');
  assert.ok(job.coinb2.includes(bytesToHex(POOL_USER.scriptPubKey)), 'the coinbase pays the authorized address');
  assert.deepEqual(job.branch, [bytesToHex(computeTxid(spend))], 'the branch of a 2-tx block is the other txid');

  const shareTarget = shareTargetOf(SHARE_DIFFICULTY);
  const blockTarget = targetOfBits(parseInt(job.nbits, 16));
  const en2 = '0000002a';

  // A hash above both targets: low difficulty.
  const weak = grind(job, en1, en2, (v) => v > shareTarget && v > blockTarget);
  const low = await client.call('mining.submit', [user, job.jobId, en2, job.ntime, weak.nonceHex]);
  assert.deepEqual([low.result, low.error], [null, [23, 'Low difficulty share', null]]);

  // A share (on regtest every share is also a block): accepted, and the tip is the block the test built.
  const good = grind(job, en1, en2, (v) => v <= shareTarget);
  const heightBefore = node.chain.height;
  const accepted = await client.call('mining.submit', [user, job.jobId, en2, job.ntime, good.nonceHex]);
  assert.deepEqual([accepted.result, accepted.error], [true, null]);
  assert.equal(node.chain.height, heightBefore + 1);
  assert.equal(node.chain.tip.hashHex, hashToHex(good.hash), 'the node connected the header the test hashed');
  const block = node.chain.getBlock(node.chain.tip.hash)!;
  assert.equal(block.txs.length, 2);
  assert.equal(bytesToHex(encodeTx(block.txs[0]!, false)), job.coinb1 + en1 + en2 + job.coinb2, 'the coinbase is the miner\'s');
  assert.equal(bytesToHex(block.txs[0]!.outputs[0]!.scriptPubKey), bytesToHex(POOL_USER.scriptPubKey));
  assert.equal(node.mempool.size, 0);
  assert.equal(server.stats.blocksAccepted, 1);

  // The new tip brings a clean job; the same share again is a duplicate; another share on the old job is stale.
  const next = toNotify((await client.notification('mining.notify')).params!);
  assert.equal(next.clean, true);
  assert.equal(hashToHex(unswapWords(next.prevhash)), node.chain.tip.hashHex);
  assert.deepEqual(next.branch, []);
  const dup = await client.call('mining.submit', [user, job.jobId, en2, job.ntime, good.nonceHex]);
  assert.deepEqual(dup.error, [22, 'Duplicate share', null]);
  const staleShare = grind(job, en1, en2, (v) => v <= shareTarget, parseInt(good.nonceHex, 16) + 1);
  const stale = await client.call('mining.submit', [user, job.jobId, en2, job.ntime, staleShare.nonceHex]);
  assert.equal((stale.error as unknown[])[0], 21);
  const unknownJob = await client.call('mining.submit', [user, 'ffffff', en2, job.ntime, staleShare.nonceHex]);
  assert.deepEqual(unknownJob.error, [21, 'Job not found', null]);
  const badTime = await client.call('mining.submit', [user, next.jobId, en2, '00000001', '00000000']);
  assert.equal((badTime.error as unknown[])[0], 20);

  // A transaction entering the mempool gives a better template: a new job with clean_jobs = false.
  const [coin2] = spendableCoinbases(node.chain, MINER);
  await node.submitTransaction(buildSpend([coin2!], { key: ALICE, valueSats: 50_000_000n }, 20_000n).tx);
  const better = toNotify((await client.notification('mining.notify')).params!);
  assert.equal(better.clean, false);
  assert.equal(better.prevhash, next.prevhash);
  assert.equal(better.branch.length, 1);

  // Malformed input: an error reply, and the connection still works; unknown methods too.
  client.sendLine('this is not json');
  const parseError = await client.take((m) => m.id === null && m.error !== null && m.error !== undefined);
  assert.equal((parseError.error as unknown[])[0], 20);
  client.sendLine('{"id":99,"method":"mining.submit","params":"nope"}');
  assert.equal(((await client.take((m) => m.id === 99)).error as unknown[])[0], 20);
  const unknown = await client.call('mining.nonsense', []);
  assert.equal((unknown.error as unknown[])[0], 20);
  const badHex = await client.call('mining.submit', [user, better.jobId, 'zz', better.ntime, '00000000']);
  assert.equal((badHex.error as unknown[])[0], 20);
  const configure = await client.call('mining.configure', [['version-rolling'], {}]);
  assert.deepEqual(configure.result, { 'version-rolling': false });
  const again = await client.call('mining.subscribe', []);
  assert.equal(again.error, null);
});

test('Stratum server limits: max connections, line length, malformed-line budget, idle timeout', async (t) => {
  const datadir = mkdtempSync(join(tmpdir(), 'cairn-stratum-limits-'));
  const node = await FullNode.open({ params: regtest, datadir, scriptThreads: 1 }, { nowSec: () => NOW, logger: silentLogger() });
  const server = await StratumServer.start(
    { port: 0, maxConnections: 2, maxLineBytes: 256, maxMalformedLines: 2, idleTimeoutMs: 300 },
    { node, logger: silentLogger() },
  );
  const clients: RawClient[] = [];
  t.after(async () => {
    for (const c of clients) c.close();
    await server.close();
    await node.close();
    rmSync(datadir, { recursive: true, force: true });
  });
  const open = async (): Promise<RawClient> => {
    const c = await RawClient.open(server.port);
    clients.push(c);
    return c;
  };

  const a = await open();
  const b = await open();
  const c = await open();
  await c.waitClosed();
  assert.equal(server.stats.connections, 2);

  a.sendLine(`{"id":1,"method":"mining.subscribe","params":["${'x'.repeat(300)}"]}`);
  await a.waitClosed();

  b.sendLine('garbage 1');
  b.sendLine('garbage 2');
  b.sendLine('garbage 3');
  await b.waitClosed();

  // A connection that says nothing is closed after the idle timeout; one that talks is kept meanwhile.
  const idle = await open();
  assert.equal(server.stats.idleCloses, 0);
  await idle.waitClosed();
  assert.equal(server.stats.idleCloses, 1, 'closed by the idle timeout, not for another reason');

  const fresh = await open();
  const sub = await fresh.call('mining.subscribe', []);
  assert.equal(sub.error, null, 'the server still serves new connections');
});
