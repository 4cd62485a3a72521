import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import mqtt from 'mqtt';
import { silentLogger } from '../logging/logger.js';
import { MinerPool } from '../mining/minerPool.js';
import { waitFor } from '../testing/waitFor.js';
import { checkElectBlock, NULL_HASH_HEX, type ElectBlock } from './block.js';
import { ElectPeer } from './electPeer.js';
import { ElectStore } from './electStore.js';
import { EmbeddedBroker } from './embeddedBroker.js';
import { createGenesis } from './genesis.js';
import { signMessage, verifyMessage, type MessageBodies, type MessageHeader, type MessageType, type SignedEnvelope } from './message.js';
import { TOPIC_OF_TYPE, topicPrefix } from './mqttTransport.js';

const dir = mkdtempSync(join(tmpdir(), 'cairn-elect-lock-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// N = 4, quorum 2/3 = 3 (f = 1): member 0 is Byzantine, members 1..3 honest; member 1 runs as a real ElectPeer
const { genesis, privateKeys } = createGenesis({
  peers: 4, quorumRule: '2/3', minZeroBits: 4, maxZeroBits: 8, initialZeroBits: 4, electionTimeoutMinMs: 30_000, electionTimeoutMaxMs: 60_000, heartbeatMs: 1_000,
});

function sign<T extends MessageType>(from: number, type: T, height: number, term: number, body: MessageBodies[T]): SignedEnvelope {
  return signMessage({ chainId: genesis.chainId, height, term, type, from, body } as MessageHeader<T>, privateKeys[from]!);
}

function mineAt(term: number, txs: string[]): { block: ElectBlock; hash: string } {
  for (let nonce = 0; ; nonce++) {
    const block = { height: 1, prevHash: NULL_HASH_HEX, term, leader: 0, zeroBits: 4, txs, timeSec: 1_700_000_000, miner: 0, nonce };
    try {
      return { block, hash: checkElectBlock(genesis, block) };
    } catch {
      // next nonce
    }
  }
}

test('lock (2/3 quorum): a lying leader of a later term cannot get an honest peer locked on A to vote for B ≠ A at that height', async () => {
  const a = mineAt(1, ['aa']);
  const b = mineAt(2, ['bb']);
  assert.notEqual(a.hash, b.hash);
  // term 1: leader 0 proposed A; 0, 1 and 3 voted yes. Member 3 saw the votes and committed A; member 1 missed them
  // (it only accepted A); member 2 missed the proposal.
  const certA = { term: 1, blockHash: a.hash, votes: [0, 1, 3].map((m) => sign(m, 'blockVote', 1, 1, { blockHash: a.hash, yes: true })) };
  const store3 = ElectStore.open(join(dir, 'peer3.sqlite'));
  store3.commit({ block: a.block, certificate: certA }, a.hash, BigInt(genesis.rewardSats), undefined, Date.now());
  const store1 = ElectStore.open(join(dir, 'peer1.sqlite'));
  store1.setElectionDurable({ term: 1, votedFor: 0 });
  store1.setAccepted({ height: 1, term: 1, hash: a.hash, block: a.block });

  const broker = await EmbeddedBroker.start({ port: 0 }, silentLogger());
  const miner = new MinerPool({ threads: 1 });
  const peer1 = new ElectPeer({ genesis, self: 1, privateKey: privateKeys[1]!, brokerUrl: broker.url }, { store: store1, miner, logger: silentLogger() });
  // the Byzantine member's own client: it publishes and sees every message of the chain
  const prefix = topicPrefix(genesis.chainId);
  const byz = mqtt.connect(broker.url, { clientId: 'byzantine-0' });
  const votesOf1: MessageHeader<'blockVote'>[] = [];
  byz.on('message', (_topic, payload) => {
    try {
      const h = verifyMessage(genesis, payload).header;
      if (h.type === 'blockVote' && h.from === 1) votesOf1.push(h as MessageHeader<'blockVote'>);
    } catch {
      // not a chain message
    }
  });
  const publish = (type: MessageType, env: SignedEnvelope) => byz.publishAsync(prefix + TOPIC_OF_TYPE[type], JSON.stringify(env), { qos: 1 });
  try {
    await waitFor('the Byzantine client connected', () => byz.connected || undefined, 10_000, 20);
    await byz.subscribeAsync(prefix + '#', { qos: 1 });
    peer1.start();
    await waitFor('peer 1 connected', () => peer1.status.connected || undefined, 10_000, 20);
    // term 2: member 0 lied about its log (claimed to be up to date), so 2 and 3 granted it their votes: a real proof of election
    const proof = [0, 2, 3].map((m) => sign(m, 'vote', 0, 2, { candidate: 0, granted: true }));
    await publish('heartbeat', sign(0, 'heartbeat', 0, 2, { session: 'byz', tipHeight: 0, tipHash: NULL_HASH_HEX, proof }));
    await publish('proposal', sign(0, 'proposal', 1, 2, { block: b.block }));
    const vote = await waitFor("peer 1's vote on B", () => votesOf1.find((v) => v.term === 2 && v.body.blockHash === b.hash), 10_000, 20);
    assert.equal(vote.body.yes, false, 'an honest peer locked on A never votes yes for B at the same height');
    assert.equal(vote.body.reason, 'locked');
    // B's other votes (the liar's and honest member 2's, which never saw A), then member 3's certified A
    await publish('blockVote', sign(0, 'blockVote', 1, 2, { blockHash: b.hash, yes: true }));
    await publish('blockVote', sign(2, 'blockVote', 1, 2, { blockHash: b.hash, yes: true }));
    await publish('commit', sign(3, 'commit', 1, 1, { block: a.block, certificate: certA }));
    await waitFor('peer 1 commits height 1', () => peer1.status.tipHeight >= 1 || undefined, 10_000, 20);
    assert.equal(store1.getBlock(1)?.hash, store3.getBlock(1)?.hash, 'no two honest stores hold different blocks at height 1');
    assert.equal(store1.getBlock(1)?.hash, a.hash);
  } finally {
    await peer1.stop();
    await byz.endAsync(true);
    await miner.close();
    store1.close();
    store3.close();
    await broker.close();
  }
});
