/**
 * In-process checks of the Networker's peer rules, on real libp2p over loopback TCP: a node of another network (other
 * protocol ids) and a peer that speaks our protocol ids but claims another genesis are both refused at status; two
 * nodes of one network link; a peer that keeps requesting while told to wait is banned, while an honest node syncing
 * against tight limits is throttled (RATE_LIMITED) but never scored; a node that loses its only peer says so; a child
 * tx gossiped before its parent waits as an orphan and enters the mempool when the parent comes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { lpStream } from '@libp2p/utils';
import { multiaddr } from '@multiformats/multiaddr';
import '../src/cli/shims.js';
import { silentLogger } from '../src/logging/logger.js';
import { solveBlockCpu } from '../src/mining/cpuSolver.js';
import { FullNode } from '../src/node/fullNode.js';
import type { NetworkerOptions } from '../src/p2p/networker.js';
import { Networker } from '../src/p2p/networker.js';
import { formatPeersStatus } from '../src/p2p/peers/peerManager.js';
import { decodeHeaders, decodeStatus, encodeHeadersRequest, encodeResponseChunk, encodeStatus, protocolIds, RespStatus } from '../src/p2p/wire.js';
import type { ChainParams } from '../src/params/chainParams.js';
import { devnet, regtest } from '../src/params/networks.js';
import { computeTxid, encodeTx } from '../src/primitives/tx.js';
import type { Tx } from '../src/primitives/types.js';
import { FakePeer, genesisStatus, type FakePeerOptions } from '../src/testing/fakePeer.js';
import { buildSpend, coinsOf, makeTestKey, type TestKey } from '../src/testing/txFactory.js';
import { waitFor } from '../src/testing/waitFor.js';
import { decodeBlockHash } from '../src/primitives/identity.js';
import { NULL_BLOCK_HASH } from '../src/primitives/blockHeader.js';

const WAIT_MS = 20_000;
const dirs: string[] = [];
const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface NetworkedNode {
  readonly node: FullNode;
  readonly net: Networker;
  /** The node's first listen multiaddr (with /p2p/<id>). */
  readonly addr: string;
}

async function startNetworkedNode(params: ChainParams, options: Partial<NetworkerOptions> = {}): Promise<NetworkedNode> {
  const datadir = mkdtempSync(join(tmpdir(), `cairn-net-${params.name}-`));
  dirs.push(datadir);
  const node = await FullNode.open({ params, datadir, scriptThreads: 1 }, { logger: silentLogger() });
  const net = new Networker(
    { params, datadir, port: 0, maintenanceIntervalMs: 200, ...options },
    { chain: node.chain, mempool: node.mempool, logger: silentLogger(), nowSec: node.nowSec },
  );
  await net.start();
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await net.stop();
    await node.close();
  };
  closers.push(close);
  return { node, net, addr: net.localAddresses()[0]! };
}

async function startFakePeer(options: Omit<FakePeerOptions, 'params'> = {}): Promise<FakePeer> {
  const peer = await FakePeer.start({ params: regtest, ...options });
  closers.push(() => peer.stop());
  return peer;
}

/** Mines `count` blocks on `node` (regtest PoW on this thread), paying `key`; returns the blocks. */
async function mine(node: FullNode, count: number, key: TestKey): Promise<Tx[]> {
  const coinbases: Tx[] = [];
  for (let i = 0; i < count; i++) {
    const template = node.blockTemplates.createTemplate();
    const block = solveBlockCpu(node.blockTemplates.buildBlock(template, { rewardScript: key.scriptPubKey }), regtest.powLimit);
    assert.ok(block !== null);
    assert.equal((await node.submitBlock(block)).status, 'connected');
    coinbases.push(block.txs[0]!);
  }
  return coinbases;
}

test('two regtest nodes link; a devnet node dialing a regtest node is refused at status, every time it redials', async () => {
  const a = await startNetworkedNode(regtest);
  const b = await startNetworkedNode(regtest);
  const d = await startNetworkedNode(devnet);
  b.net.addNode(a.addr, 'add');
  await waitFor('regtest peers', () => a.net.peers().length === 1 && b.net.peers().length === 1, WAIT_MS);
  assert.equal(b.net.peers()[0]!.peerId, a.net.peerId);

  d.net.addNode(a.addr, 'add');
  // The devnet node connects at the transport level, fails the status handshake (regtest does not speak devnet's
  // protocol ids) and hangs up; it keeps redialing (every 200 ms here), and is refused every time. The positive
  // signal that refusals happened: d's health names the failed handshake with a.
  const failure = await waitFor('the devnet node to fail its status handshake with the regtest node', () => d.net.health().lastFailure, WAIT_MS);
  const shortA = `${a.net.peerId.slice(0, 8)}…${a.net.peerId.slice(-4)}`;
  assert.match(failure, new RegExp(`^${shortA} (hung up during|failed) the handshake`));
  assert.equal(d.net.peers().length, 0);
  assert.deepEqual(a.net.peers().map((p) => p.peerId), [b.net.peerId]);
});

test('a peer on our protocol ids that claims another genesis is disconnected at status', async () => {
  const a = await startNetworkedNode(regtest);
  const bogus = { ...genesisStatus(regtest, '/rogue/'), genesisHash: decodeBlockHash(new Uint8Array(32).fill(7)) };
  // The rogue answers the node's own status request with the same wrong genesis.
  const rogue = await startFakePeer({ status: bogus });
  // The node answers with its own status before it checks ours (its own handshake may hang up first: both are fine).
  const reply = await rogue.request(a.addr, rogue.ids.status, encodeStatus(bogus)).catch(() => undefined);
  if (reply !== undefined && reply[0]?.status === RespStatus.SUCCESS) assert.equal(decodeStatus(reply[0].payload).network, 'regtest');
  await waitFor('the rogue to be disconnected', () => !rogue.connected, WAIT_MS);
  assert.equal(a.net.peers().length, 0);
  assert.deepEqual(a.net.listBanned(), [], 'a peer of another chain is dropped, not banned');
});

test('a peer that closes the status stream without answering (it is hanging up) is disconnected, not banned', async () => {
  // Two nodes redialing each other after an outage race so: one answers nothing while it drops the connection.
  // Banning for it (as a malformed status) banned honest nodes for a day.
  const a = await startNetworkedNode(regtest);
  const quiet = await startFakePeer({ hangUpOnStatus: true });
  await quiet.libp2p.dial(multiaddr(a.addr));
  await waitFor('a to give up the handshake with the quiet peer', () => a.net.health().lastFailure, WAIT_MS);
  await waitFor('the quiet peer to be disconnected', () => !quiet.connected, WAIT_MS);
  assert.equal(a.net.peers().length, 0);
  assert.deepEqual(a.net.listBanned(), [], 'a peer that hung up was banned');
});

test('a peer that keeps requesting headers while told to wait (RATE_LIMITED) is scored 10 a request and banned at 100', async () => {
  // 10 headers requests per 10 s: a tight loop of 40 overruns it and ignores every RATE_LIMITED answer.
  const a = await startNetworkedNode(regtest, { requestLimits: { headers: { maxConcurrent: 2, requests: { quota: 10, quotaTimeMs: 10_000 } } } });
  // A well-behaved status (right network and genesis), so the node keeps the connection and scores the peer.
  const rogue = await startFakePeer({ status: genesisStatus(regtest, '/flooder/') });
  await rogue.dial(a.addr);
  await waitFor('the node to take the flooder as a peer', () => a.net.peers().length === 1, WAIT_MS);
  let served = 0;
  let rateLimited = 0;
  let failed = 0;
  let retryAfterMs = 0;
  for (let i = 0; i < 40; i++) {
    try {
      const [chunk] = await rogue.request(a.addr, rogue.ids.headers, encodeHeadersRequest({ locator: [NULL_BLOCK_HASH], stopHash: NULL_BLOCK_HASH, maxCount: 10 }));
      if (chunk?.status === RespStatus.SUCCESS) {
        decodeHeaders(chunk.payload);
        served++;
      } else if (chunk?.status === RespStatus.RATE_LIMITED) {
        rateLimited++;
        retryAfterMs = chunk.retryAfterMs;
      }
    } catch {
      failed++; // banned: the stream or the dial is refused
    }
  }
  assert.equal(served, 10, `the quota is served (served ${served}, rate limited ${rateLimited}, failed ${failed})`);
  assert.ok(rateLimited >= 3, `then the node answers RATE_LIMITED (${rateLimited} times)`);
  assert.ok(retryAfterMs > 0, 'with the time to wait');
  assert.ok(failed > 0, 'and after the ban nothing more is served');
  const ban = await waitFor('the ban', () => a.net.listBanned().find((b) => b.peerId === rogue.peerId), WAIT_MS);
  assert.match(ban.reason, /request rate limit exceeded: \d+ headers requests while told to wait/);
  await waitFor('the rogue to be disconnected', () => !rogue.connected, WAIT_MS);
});

test('an honest node syncing against tight request limits is throttled (RATE_LIMITED) but never scored, and completes the sync', async () => {
  // 400 blocks per second per peer with bursts of 200: the syncing node's 128-block requests, three at a time, overrun
  // it at once. It must wait as told and finish, unbanned.
  const a = await startNetworkedNode(regtest, {
    requestLimits: { blocks: { maxConcurrent: 8, items: { quota: 200, quotaTimeMs: 500 } } },
  });
  await mine(a.node, 1000, makeTestKey('p2p/throttle/miner', 'p2wpkh'));
  const b = await startNetworkedNode(regtest);
  b.net.addNode(a.addr, 'add');
  await waitFor('b to sync 1,000 blocks from a', () => b.node.chain.tip.hashHex === a.node.chain.tip.hashHex, 60_000);
  assert.equal(b.node.chain.height, 1000);
  const stats = a.net.requestStats;
  assert.ok(stats.rateLimited.blocks > 0, `a answered RATE_LIMITED (served ${stats.served.blocks} block requests, rate limited ${stats.rateLimited.blocks})`);
  assert.deepEqual(a.net.listBanned(), [], 'the honest node was banned');
  assert.equal(a.net.peers()[0]?.banScore, 0, 'the honest node was scored');
  assert.deepEqual(a.net.peers().map((p) => p.peerId), [b.net.peerId]);
});

test('a peer that claims more work and answers headers with garbage is banned by the syncing node (client side of req/resp)', async () => {
  const b = await startNetworkedNode(regtest);
  // The fake claims a heavier chain, so b asks it for headers, and answers with a success chunk that is no headers list.
  const liar = await startFakePeer({ status: { ...genesisStatus(regtest, '/liar/'), tipHeight: 5000, chainWork: 1n << 100n } });
  await liar.libp2p.handle(liar.ids.headers, async (stream) => {
    const frames = lpStream(stream);
    try {
      await frames.read();
      await frames.write(encodeResponseChunk({ status: RespStatus.SUCCESS, payload: Uint8Array.of(0xfd, 0xff) }));
      await stream.close();
    } catch (err) {
      stream.abort(err as Error);
    }
  });
  b.net.addNode(`${liar.libp2p.getMultiaddrs()[0]!.toString()}`, 'add');
  const ban = await waitFor('b to ban the liar', () => b.net.listBanned().find((e) => e.peerId === liar.peerId), WAIT_MS);
  assert.match(ban.reason, /^malformed headers: /);
  await waitFor('the liar to be disconnected', () => !liar.connected, WAIT_MS);
  assert.equal(b.node.chain.bestHeader.height, 0);
});

test('responses cut at the size cap: the syncing node asks again for the blocks a response left out', async () => {
  // Two or three small blocks a response: every request for more comes back partly served.
  const a = await startNetworkedNode(regtest, { maxBlocksResponseBytes: 500 });
  await mine(a.node, 300, makeTestKey('p2p/cap/miner', 'p2wpkh'));
  const b = await startNetworkedNode(regtest);
  b.net.addNode(a.addr, 'add');
  await waitFor('b to sync 300 blocks in small responses', () => b.node.chain.tip.hashHex === a.node.chain.tip.hashHex, 60_000);
  const served = a.net.requestStats.served.blocks;
  assert.ok(served >= 300 / 4, `the blocks came in many small responses (${served} requests served)`);
  assert.deepEqual(a.net.listBanned(), []);
});

test('a node that loses its only peer says so (health and status line) and recovers when the peer comes back', async () => {
  const a = await startNetworkedNode(regtest);
  const b = await startNetworkedNode(regtest);
  b.net.addNode(a.addr, 'add');
  await waitFor('b to link to a', () => b.net.peers().length === 1, WAIT_MS);
  assert.equal(formatPeersStatus(b.net.health(), b.node.nowSec()), 'peers 1');

  await a.net.setNetworkActive(false);
  assert.equal(formatPeersStatus(a.net.health(), a.node.nowSec()), 'peers 0 (network off: setnetworkactive false)');
  const health = await waitFor('b to notice it has no peers', () => (b.net.health().noPeersSinceSec !== undefined ? b.net.health() : undefined), WAIT_MS);
  assert.equal(health.peers, 0);
  assert.equal(health.lastPeer, a.net.peerId);
  assert.equal(health.redialing, 1);
  const line = formatPeersStatus(health, b.node.nowSec());
  assert.match(line, /^peers 0 \(no peers for \d+s: lost 12D3KooW…\w{4}; redialing 1/);

  await a.net.setNetworkActive(true);
  await waitFor('b to reconnect to a', () => b.net.peers().length === 1, WAIT_MS);
  assert.equal(b.net.health().noPeersSinceSec, undefined);
  assert.equal(formatPeersStatus(b.net.health(), b.node.nowSec()), 'peers 1');
});

test('a node banned by its only peer mid-sync stops asking, says so and that its sync stalled, and resumes when the ban is lifted', async () => {
  // 200 blocks per second per peer: slow enough to ban the syncing node half-way.
  const a = await startNetworkedNode(regtest, { requestLimits: { blocks: { maxConcurrent: 8, items: { quota: 200, quotaTimeMs: 1000 } } } });
  await mine(a.node, 600, makeTestKey('p2p/stall/miner', 'p2wpkh'));
  const b = await startNetworkedNode(regtest);
  b.net.addNode(a.addr, 'add');
  await waitFor('b to start syncing', () => b.node.chain.height > 0, WAIT_MS);
  await a.net.setBan(b.net.peerId, 'add');
  await waitFor('b to notice it has no peers', () => b.net.health().noPeersSinceSec !== undefined, WAIT_MS);
  await waitFor('b to stop its sync', () => !b.net.syncProgress.active, WAIT_MS);
  const stalledAt = b.node.chain.height;
  assert.ok(stalledAt < 600, `b synced everything (${stalledAt}) before the ban`);
  assert.equal(b.net.syncProgress.headersHeight, 600, 'b knows the headers it lacks the blocks of');
  // b's event loop stays free (a sync round spinning with nobody to ask would starve it and time this wait out) and
  // its redials go on, refused: the positive signal that time passed. On a loaded machine a redial may first fail
  // otherwise (a dial timeout), so wait for the refusal's own words rather than for the first failure.
  const hungUp = /^12D3KooW…\w{4} hung up during the handshake \(it may have banned this node\)$/;
  const failure = await waitFor('a redial of b to be refused (hung up during the handshake)', () => {
    const last = b.net.health().lastFailure;
    return last !== undefined && hungUp.test(last) ? last : undefined;
  }, WAIT_MS);
  assert.match(failure, hungUp);
  assert.match(
    formatPeersStatus(b.net.health(), b.node.nowSec()),
    /^peers 0 \(no peers for \d+s: lost 12D3KooW…\w{4}; redialing 1: 12D3KooW…\w{4} hung up during the handshake \(it may have banned this node\)\)$/,
  );
  assert.equal(b.node.chain.height, stalledAt);

  await a.net.setBan(b.net.peerId, 'remove');
  await waitFor('b to reconnect and finish the sync', () => b.node.chain.height === 600, 60_000);
  assert.equal(b.node.chain.tip.hashHex, a.node.chain.tip.hashHex);
});

test('a child tx gossiped before its parent waits as an orphan and enters the mempool when the parent arrives', async () => {
  const a = await startNetworkedNode(regtest);
  const key = makeTestKey(77);
  const [coinbase] = await mine(a.node, 101, key);
  const parent = buildSpend(coinsOf(coinbase!, key), { key, valueSats: 1_000_000_000n }, 10_000n).tx;
  const child = buildSpend(coinsOf(parent, key).slice(0, 1), { key, valueSats: 500_000_000n }, 10_000n).tx;

  const relayer = await startFakePeer({ status: genesisStatus(regtest, '/relayer/'), topics: [protocolIds(regtest).txTopic] });
  await relayer.dial(a.addr);
  await waitFor('the node to subscribe the relayer to the tx topic', () => relayer.subscribers(relayer.ids.txTopic).length === 1, WAIT_MS);

  const ignoredBefore = a.net.gossipStats.tx.ignore;
  await relayer.publish(relayer.ids.txTopic, encodeTx(child));
  // The positive signal that the child was validated: the tx validator ignored it (orphan, not rejected).
  await waitFor('the child to be validated', () => a.net.gossipStats.tx.ignore === ignoredBefore + 1, WAIT_MS);
  assert.equal(a.node.mempool.has(computeTxid(child)), false, 'the child alone cannot enter');
  assert.equal(a.net.gossipStats.tx.reject, 0, 'an orphan is not the sender\'s fault');
  await relayer.publish(relayer.ids.txTopic, encodeTx(parent));
  await waitFor(
    'parent and child in the mempool',
    () => a.node.mempool.has(computeTxid(parent)) && a.node.mempool.has(computeTxid(child)),
    WAIT_MS,
  );
});
