/**
 * `cairn elect` as processes: 5 peers commit rounds on the embedded broker and on this machine's Mosquitto with
 * equal chains; a 7-peer chaos run (the leader three times and two random followers SIGKILLed and restarted, the broker restarted, 3% of
 * messages dropped, forgeries injected) keeps every honest chain a prefix of every other and makes progress after
 * each leader kill. Needs dist/ built (`npm run build`), as the other CLI tests.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { signMessage, type MessageHeader } from '../src/elect/message.js';
import { NULL_HASH_HEX } from '../src/elect/block.js';
import {
  ElectBrokerProcess, ElectObserver, ElectPeerProcess, isPrefixPair, makeElectChain, readChainHashes, readRecords, type ElectChainDir,
} from '../src/testing/electCluster.js';
import { SeededRng } from '../src/testing/seededRng.js';
import { waitFor } from '../src/testing/waitFor.js';

const root = mkdtempSync(join(tmpdir(), 'cairn-elect-'));
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  if (process.env['CAIRN_KEEP_TMP'] === undefined) rmSync(root, { recursive: true, force: true });
  else process.stderr.write(`kept ${root}\n`);
});

/** Low difficulty and short timings: fast, CPU-light rounds. */
function testChain(name: string, peers: number, quorumRule: 'majority' | '2/3' = 'majority'): ElectChainDir {
  return makeElectChain(join(root, name), {
    peers, quorumRule, minZeroBits: 8, maxZeroBits: 12, initialZeroBits: 10, targetSolveMs: 200,
    electionTimeoutMinMs: 400, electionTimeoutMaxMs: 800, heartbeatMs: 100, minBlockIntervalMs: 150,
  });
}

async function startPeers(chain: ElectChainDir, brokerUrl: string, extra: string[] = []): Promise<ElectPeerProcess[]> {
  const peers = chain.datadirs.map((_, i) => new ElectPeerProcess(chain, i, brokerUrl, extra));
  for (const p of peers) p.start();
  cleanups.push(async () => {
    for (const p of peers) await p.kill('SIGKILL');
  });
  return peers;
}

async function commitRounds(name: string, brokerUrl: string): Promise<void> {
  const chain = testChain(name, 5);
  const observer = new ElectObserver(chain.genesis, brokerUrl);
  cleanups.push(() => observer.close());
  // every peer broadcasts a signed transaction every 300 ms: the leaders put them in their templates
  const peers = await startPeers(chain, brokerUrl, ['--demo-tx-interval-ms', '300']);
  await observer.waitForHeightAbove(5, 40_000);
  await waitFor('a committed block with transactions', () => observer.committedTxs > 0, 20_000);
  // each peer reaches height 6 on its own store, then stops cleanly (SIGINT)
  await waitFor('every peer at height 6', () => chain.datadirs.every((d) => readChainHashes(d).length >= 6), 20_000, 100);
  for (const p of peers) await p.kill('SIGINT');
  const chains = chain.datadirs.map(readChainHashes);
  for (const c of chains) assert.deepEqual(c.slice(0, 6), chains[0]!.slice(0, 6), 'all peers committed the same first 6 blocks');
  for (const a of chains) for (const b of chains) assert.ok(isPrefixPair(a, b));
  await observer.close();
}

test('5 peers on the embedded broker commit rounds; their chains are equal', async () => {
  const broker = new ElectBrokerProcess();
  await broker.start(0);
  cleanups.push(() => broker.stop());
  await commitRounds('embedded', broker.url);
  await broker.stop();
});

test("5 peers on this machine's Mosquitto (127.0.0.1:1883) commit rounds; their chains are equal", async () => {
  await commitRounds('mosquitto', 'mqtt://127.0.0.1:1883');
});

test('chaos: 7 peers, leader and random peers SIGKILLed and restarted, broker restarted, messages dropped: chains stay prefixes, progress resumes, forgeries recorded', async () => {
  const chain = testChain('chaos', 7);
  const broker = new ElectBrokerProcess();
  await broker.start(0);
  cleanups.push(() => broker.kill());
  const observer = new ElectObserver(chain.genesis, broker.url);
  cleanups.push(() => observer.close());
  const peers = await startPeers(chain, broker.url, ['--drop-rate', '0.03']);
  await observer.waitForHeightAbove(3, 40_000);

  // SIGKILL the leader three times; a new leader (higher term) commits new blocks each time; the old one comes back
  for (let k = 0; k < 3; k++) {
    const old = await waitFor('a leader', () => observer.leader, 10_000);
    const heightAtKill = observer.maxCommitHeight;
    await peers[old.leader]!.kill('SIGKILL');
    const next = await waitFor('a new leader', () => (observer.leader !== undefined && observer.leader.term > old.term && observer.leader.leader !== old.leader ? observer.leader : undefined), 15_000, 20);
    await observer.waitForHeightAbove(heightAtKill + 1, 20_000);
    assert.notEqual(next.leader, old.leader);
    peers[old.leader]!.start();
  }

  // two random followers SIGKILLed together (5 of 7 left, quorum 4), rounds go on, then they come back
  const rng = new SeededRng(`elect-chaos/${chain.genesis.chainId}`);
  const leaderNow = observer.leader?.leader ?? 0;
  const followers = [0, 1, 2, 3, 4, 5, 6].filter((i) => i !== leaderNow);
  const victims = [followers.splice(rng.nextUint32() % followers.length, 1)[0]!, followers[rng.nextUint32() % followers.length]!];
  await Promise.all(victims.map((v) => peers[v]!.kill('SIGKILL')));
  let h = observer.maxCommitHeight;
  await observer.waitForHeightAbove(h + 1, 20_000);
  for (const v of victims) peers[v]!.start();

  // the broker SIGKILLed and restarted on its port: everyone reconnects and rounds go on
  await broker.kill();
  await broker.start(broker.port);
  h = observer.maxCommitHeight;
  await observer.waitForHeightAbove(h + 2, 30_000);

  // forgeries: a vote signed by member 1 claiming to be member 2; a solution from a non-member key; a double vote of member 0
  const g = chain.genesis;
  const height = observer.maxCommitHeight + 2;
  const term = observer.leader?.term ?? 1;
  const header = (from: number, type: MessageHeader['type'], body: unknown) => ({ chainId: g.chainId, height, term, type, from, body }) as MessageHeader;
  observer.publish('blockVote', signMessage(header(2, 'blockVote', { blockHash: 'aa'.repeat(32), yes: true }), chain.privateKeys[1]!));
  const outsider = new Uint8Array(randomBytes(32));
  const fakeBlock = { height, prevHash: NULL_HASH_HEX, term, leader: 0, zeroBits: 10, txs: [], timeSec: 0, miner: 7, nonce: 1 };
  observer.publish('solution', signMessage(header(7, 'solution', { block: fakeBlock }), outsider));
  for (let i = 0; i < 2; i++) observer.publish('blockVote', signMessage(header(0, 'blockVote', { blockHash: randomBytes(32).toString('hex'), yes: true }), chain.privateKeys[0]!));
  await waitFor(
    'the forgeries recorded by the peers',
    () => {
      const r = chain.datadirs.map(readRecords);
      return r.some((x) => (x.refused['bad-signature'] ?? 0) > 0) && r.some((x) => (x.refused['non-member'] ?? 0) > 0) && r.some((x) => x.evidence > 0) ? r : undefined;
    },
    15_000,
    200,
  );

  // progress still; every peer, the restarted ones included, catches up to it (catch-up checks each certificate)
  h = observer.maxCommitHeight;
  await observer.waitForHeightAbove(h + 1, 20_000);
  const target = observer.maxCommitHeight;
  await waitFor(`every peer at height ${target}`, () => chain.datadirs.every((d) => readChainHashes(d).length >= target), 30_000, 200);
  for (const p of peers) await p.kill('SIGINT');
  const chains = chain.datadirs.map(readChainHashes);
  for (const a of chains) for (const b of chains) assert.ok(isPrefixPair(a, b), 'no two peers committed different blocks at one height');
  const longest = Math.max(...chains.map((c) => c.length));
  assert.ok(longest >= 8, `chain grew to ${longest}`);
  await observer.close();
});

test('2/3 quorum with the lock: 4 peers, the leader SIGKILLed and restarted twice, messages dropped: progress resumes, chains stay prefixes', async () => {
  const chain = testChain('lock', 4, '2/3');
  assert.equal(chain.genesis.quorum, 3);
  const broker = new ElectBrokerProcess();
  await broker.start(0);
  cleanups.push(() => broker.kill());
  const observer = new ElectObserver(chain.genesis, broker.url);
  cleanups.push(() => observer.close());
  const peers = await startPeers(chain, broker.url, ['--drop-rate', '0.03']);
  await observer.waitForHeightAbove(2, 40_000);
  for (let k = 0; k < 2; k++) {
    const old = await waitFor('a leader', () => observer.leader, 10_000);
    const heightAtKill = observer.maxCommitHeight;
    await peers[old.leader]!.kill('SIGKILL');
    // back at once with its store (its lock included): a locked peer must not block the next leader's rounds
    peers[old.leader]!.start();
    await waitFor('a new term', () => (observer.leader !== undefined && observer.leader.term > old.term ? observer.leader : undefined), 15_000, 20);
    await observer.waitForHeightAbove(heightAtKill + 1, 20_000);
  }
  const target = observer.maxCommitHeight;
  await waitFor(`every peer at height ${target}`, () => chain.datadirs.every((d) => readChainHashes(d).length >= target), 30_000, 200);
  for (const p of peers) await p.kill('SIGINT');
  const chains = chain.datadirs.map(readChainHashes);
  for (const a of chains) for (const b of chains) assert.ok(isPrefixPair(a, b), 'no two peers committed different blocks at one height');
  await observer.close();
});
