import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { silentLogger } from '../logging/logger.js';
import { MinerPool } from '../mining/minerPool.js';
import { waitForEvent } from '../testing/waitFor.js';
import { checkElectBlock, NULL_HASH_HEX, type ElectBlock } from './block.js';
import { ElectPeer } from './electPeer.js';
import { ElectStore, type StoredBlock } from './electStore.js';
import { EmbeddedBroker } from './embeddedBroker.js';
import { createGenesis } from './genesis.js';

const dir = mkdtempSync(join(tmpdir(), 'cairn-elect-peer-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a new leader re-proposes the block it accepted (it may be committed elsewhere) before any new challenge, then mines the next one with the WASM pool', async () => {
  const broker = await EmbeddedBroker.start({ port: 0 }, silentLogger());
  const { genesis, privateKeys } = createGenesis({
    peers: 1, minZeroBits: 4, maxZeroBits: 8, initialZeroBits: 4, electionTimeoutMinMs: 50, electionTimeoutMaxMs: 100, heartbeatMs: 20,
  });
  const store = ElectStore.open(join(dir, 'elect.sqlite'));
  // peer 0 voted yes on B at height 1 in term 1, then crashed before the commit
  let accepted: { block: ElectBlock; hash: string } | undefined;
  for (let nonce = 0; accepted === undefined; nonce++) {
    const block = { height: 1, prevHash: NULL_HASH_HEX, term: 1, leader: 0, zeroBits: 4, txs: ['c0ffee'], timeSec: 1_700_000_000, miner: 0, nonce };
    try {
      accepted = { block, hash: checkElectBlock(genesis, block) };
    } catch {
      // next nonce
    }
  }
  store.setElectionDurable({ term: 1, votedFor: 0 });
  store.setAccepted({ height: 1, term: 1, hash: accepted.hash, block: accepted.block });
  const miner = new MinerPool({ threads: 1 });
  const peer = new ElectPeer({ genesis, self: 0, privateKey: privateKeys[0]!, brokerUrl: broker.url }, { store, miner, logger: silentLogger() });
  try {
    const commits = (height: number) => waitForEvent<StoredBlock>(`the commit at height ${height}`, (l) => peer.onCommit(l), 15_000, (b) => b.height === height);
    const first = commits(1);
    const second = commits(2);
    peer.start();
    const b1 = await first;
    assert.equal(b1.hash, accepted.hash, 'the accepted block, not a new one, is committed at height 1');
    assert.ok(b1.certificate.term >= 2, 'by the leader of a later term');
    const b2 = await second;
    assert.equal(b2.block.prevHash, accepted.hash);
    assert.equal(b2.block.miner, 0);
    assert.equal(checkElectBlock(genesis, b2.block), b2.hash, 'mined by the pool to the challenge difficulty');
    assert.equal(store.getAccepted()?.height ?? 3, 3, 'no accepted block left at or below the tip');
    assert.equal(peer.status.role, 'leader');
  } finally {
    await peer.stop();
    await miner.close();
    store.close();
    await broker.close();
  }
});
