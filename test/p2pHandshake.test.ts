/**
 * In-process checks of the Networker's peer rules: a node of another network (other protocol ids) and a peer that
 * speaks our protocol ids but claims another genesis are both refused at status; two nodes of one network link; the
 * request rate limit bans a flooder; a child tx gossiped before its parent waits as an orphan and enters the mempool
 * when the parent comes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import '../src/cli/shims.js';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { identify } from '@libp2p/identify';
import { tcp } from '@libp2p/tcp';
import { lpStream } from '@libp2p/utils';
import { multiaddr } from '@multiformats/multiaddr';
import { gossipsub, type GossipSub } from '@libp2p/gossipsub';
import { createLibp2p, type Libp2p } from 'libp2p';
import { silentLogger } from '../src/logging/logger.js';
import { FullNode } from '../src/node/fullNode.js';
import { hexToHash } from '../src/primitives/hex.js';
import { devnet, regtest } from '../src/params/networks.js';
import type { ChainParams } from '../src/params/chainParams.js';
import { cairnGossipsubOptions, Networker } from '../src/p2p/networker.js';
import { solveBlockCpu } from '../src/mining/cpuSolver.js';
import { encodeTx, computeTxid } from '../src/primitives/tx.js';
import { hashToHex } from '../src/primitives/hex.js';
import { buildSpend, coinsOf, makeTestKey } from '../src/testing/txFactory.js';
import { decodeHeaders, decodeStatus, encodeHeadersRequest, encodeStatus, protocolIds } from '../src/p2p/wire.js';

const dirs: string[] = [];
const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function startNetworkedNode(params: ChainParams, requestsPerSec?: number): Promise<{ node: FullNode; net: Networker }> {
  const datadir = mkdtempSync(join(tmpdir(), `cairn-net-${params.name}-`));
  dirs.push(datadir);
  const node = await FullNode.open({ params, datadir, scriptThreads: 1 }, { logger: silentLogger() });
  const net = new Networker({ params, datadir, port: 0, maintenanceIntervalMs: 200, ...(requestsPerSec !== undefined ? { requestsPerSec } : {}) }, { chain: node.chain, mempool: node.mempool, logger: silentLogger(), nowSec: node.nowSec });
  await net.start();
  closers.push(async () => {
    await net.stop();
    await node.close();
  });
  return { node, net };
}

/** A status of this regtest chain's genesis, as an honest fresh peer sends it. */
function regtestStatus(userAgent: string): Uint8Array {
  const genesisHash = hexToHash(regtest.genesisHashHex);
  return encodeStatus({ network: 'regtest', genesisHash, tipHash: genesisHash, tipHeight: 0, chainWork: 2n, userAgent });
}

/**
 * A libp2p peer written in the test: the node's transports and gossipsub settings, answering the node's status
 * requests with `status`; stopped after the tests.
 */
async function startTestPeer(status: Uint8Array): Promise<Libp2p<{ pubsub: GossipSub }>> {
  const peer = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), pubsub: gossipsub(cairnGossipsubOptions(regtest)) },
  });
  closers.push(async () => {
    await peer.stop();
  });
  await peer.handle(protocolIds(regtest).status, async (inbound) => {
    const lp = lpStream(inbound);
    await lp.read();
    await lp.write(status);
    await inbound.close().catch(() => undefined);
  });
  return peer;
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('two regtest nodes link; a devnet node dialing a regtest node is refused at status', async () => {
  const a = await startNetworkedNode(regtest);
  const b = await startNetworkedNode(regtest);
  const d = await startNetworkedNode(devnet);
  b.net.addNode(a.net.localAddresses()[0]!, 'add');
  await waitFor('regtest peers', () => a.net.peers().length === 1 && b.net.peers().length === 1);
  assert.equal(b.net.peers()[0]!.peerId, a.net.peerId);

  d.net.addNode(a.net.localAddresses()[0]!, 'add');
  // The devnet node connects at the transport level, fails the status handshake (regtest does not speak devnet's
  // protocol ids) and hangs up; it keeps redialing, and is refused every time.
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(d.net.peers().length, 0);
  assert.deepEqual(a.net.peers().map((p) => p.peerId), [b.net.peerId]);
});

test('a peer on our protocol ids that claims another genesis is disconnected at status', async () => {
  const a = await startNetworkedNode(regtest);
  const ids = protocolIds(regtest);
  const bogusStatus = encodeStatus({ network: 'regtest', genesisHash: new Uint8Array(32).fill(7), tipHash: new Uint8Array(32), tipHeight: 0, chainWork: 1n, userAgent: '/rogue/' });
  // The rogue answers the node's own status request with the same wrong genesis.
  const rogue = await startTestPeer(bogusStatus);
  const stream = await rogue.dialProtocol(multiaddr(a.net.localAddresses()[0]!), ids.status);
  const lp = lpStream(stream);
  await lp.write(bogusStatus);
  // The node answers with its own status before it checks ours (its own handshake may hang up first: both are fine).
  const reply = await lp.read().then((r) => decodeStatus(r.subarray())).catch(() => undefined);
  if (reply !== undefined) assert.equal(reply.network, 'regtest');
  await waitFor('the rogue to be disconnected', () => rogue.getConnections().length === 0, 10_000);
  assert.equal(a.net.peers().length, 0);
});

test('a peer flooding headers requests past the rate limit is scored 10 a request and banned at 100', async () => {
  // 5 requests/s with a burst of 10: a tight loop of 40 requests overruns it by far more than 10 times.
  const a = await startNetworkedNode(regtest, 5);
  const ids = protocolIds(regtest);
  // A well-behaved status (right network and genesis), so the node keeps the connection and scores the peer.
  const rogue = await startTestPeer(regtestStatus('/flooder/'));
  const target = multiaddr(a.net.localAddresses()[0]!);
  await rogue.dial(target);
  await waitFor('the node to take the flooder as a peer', () => a.net.peers().length === 1, 10_000);
  let served = 0;
  let refused = 0;
  for (let i = 0; i < 40; i++) {
    try {
      const stream = await rogue.dialProtocol(target, ids.headers);
      const lp = lpStream(stream);
      await lp.write(encodeHeadersRequest({ locator: [new Uint8Array(32)], stopHash: new Uint8Array(32), maxCount: 10 }));
      decodeHeaders((await lp.read()).subarray());
      served++;
    } catch {
      refused++;
    }
  }
  assert.ok(served >= 10 && served < 40, `the burst is served, then requests are refused (served ${served}, refused ${refused})`);
  await waitFor('the ban', () => a.net.listBanned().some((b) => b.peerId === rogue.peerId.toString()), 10_000);
  assert.match(a.net.listBanned()[0]!.reason, /rate limit/);
  await waitFor('the rogue to be disconnected', () => rogue.getConnections().length === 0, 10_000);
});

test('a child tx gossiped before its parent waits as an orphan and enters the mempool when the parent arrives', async () => {
  const a = await startNetworkedNode(regtest);
  const key = makeTestKey(77);
  let coinbase;
  for (let i = 0; i < 101; i++) {
    const template = a.node.blockTemplates.createTemplate();
    const block = solveBlockCpu(a.node.blockTemplates.buildBlock(template, { rewardScript: key.scriptPubKey }), regtest.powLimit);
    assert.ok(block !== null);
    assert.equal((await a.node.submitBlock(block)).status, 'connected');
    if (i === 0) coinbase = block.txs[0]!;
  }
  const parent = buildSpend(coinsOf(coinbase!, key), { key, valueSats: 1_000_000_000n }, 10_000n).tx;
  const child = buildSpend(coinsOf(parent, key).slice(0, 1), { key, valueSats: 500_000_000n }, 10_000n).tx;

  const ids = protocolIds(regtest);
  const rogue = await startTestPeer(regtestStatus('/relayer/'));
  rogue.services.pubsub.subscribe(ids.txTopic);
  await rogue.dial(multiaddr(a.net.localAddresses()[0]!));
  await waitFor('the node to subscribe the relayer to the tx topic', () => rogue.services.pubsub.getSubscribers(ids.txTopic).length === 1, 10_000);

  await rogue.services.pubsub.publish(ids.txTopic, encodeTx(child));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(a.node.mempool.has(hashToHex(computeTxid(child))), false, 'the child alone cannot enter');
  await rogue.services.pubsub.publish(ids.txTopic, encodeTx(parent));
  await waitFor('parent and child in the mempool', () => a.node.mempool.has(hashToHex(computeTxid(parent))) && a.node.mempool.has(hashToHex(computeTxid(child))), 10_000);
});
