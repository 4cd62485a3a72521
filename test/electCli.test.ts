/**
 * `cairn elect init|status|peer` as processes: init writes a genesis and keys and refuses to overwrite; bad flags and
 * a key that is not the member's are clear errors, never a stack trace; status reads a peer's store.
 * Needs dist/ built (`npm run build`).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { checkElectBlock, NULL_HASH_HEX } from '../src/elect/block.js';
import { ElectStore, ELECT_STORE_FILE } from '../src/elect/electStore.js';
import type { ElectGenesis } from '../src/elect/genesis.js';
import { CAIRN_BIN } from '../src/testing/electCluster.js';

const root = mkdtempSync(join(tmpdir(), 'cairn-elect-cli-'));
after(() => rmSync(root, { recursive: true, force: true }));

function cairn(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CAIRN_BIN, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('cairn elect init writes genesis and 0600 keys, refuses to overwrite; bad flags and wrong keys are clear errors; status reads a store', () => {
  const dir = join(root, 'c1');
  const init = cairn(['elect', 'init', '--peers', '4', '--quorum', '2/3', '--dir', dir]);
  assert.equal(init.status, 0, init.stderr);
  const genesis = JSON.parse(readFileSync(join(dir, 'genesis.json'), 'utf8')) as { members: unknown[]; quorum: number; quorumRule: string };
  assert.equal(genesis.members.length, 4);
  assert.equal(genesis.quorum, 3);
  assert.equal(statSync(join(dir, 'peer1', 'elect-key.json')).mode & 0o777, 0o600);

  const again = cairn(['elect', 'init', '--peers', '4', '--dir', dir]);
  assert.equal(again.status, 1);
  assert.match(again.stderr, /exists \(use --force/);
  const badQuorum = cairn(['elect', 'init', '--peers', '3', '--quorum', '2/3', '--dir', join(root, 'c2')]);
  assert.equal(badQuorum.status, 1);
  assert.match(badQuorum.stderr, /bad-genesis: quorum 2\/3 needs N >= 3f\+1/);
  const badPeers = cairn(['elect', 'init', '--peers', 'ten', '--dir', join(root, 'c3')]);
  assert.match(badPeers.stderr, /--peers must be an integer/);

  // peer2's data dir with peer1's key: refused before connecting anywhere
  writeFileSync(join(dir, 'peer2', 'elect-key.json'), readFileSync(join(dir, 'peer1', 'elect-key.json'), 'utf8').replace('"index": 0', '"index": 1'));
  const wrongKey = cairn(['elect', 'peer', '--genesis', join(dir, 'genesis.json'), '--datadir', join(dir, 'peer2'), '--broker', 'mqtt://127.0.0.1:1']);
  assert.equal(wrongKey.status, 1);
  assert.match(wrongKey.stderr, /bad-key: key does not match member 1's public key/);
  assert.doesNotMatch(wrongKey.stderr, /at .*\.js:\d+/);

  const noStore = cairn(['elect', 'status', '--datadir', join(dir, 'peer3')]);
  assert.equal(noStore.status, 1);
  assert.match(noStore.stderr, /no chain in/);

  // a store with one committed block: status prints it, with the reward
  const store = ElectStore.open(join(dir, 'peer3', ELECT_STORE_FILE));
  const g = { ...(JSON.parse(readFileSync(join(dir, 'genesis.json'), 'utf8')) as ElectGenesis), minZeroBits: 1 };
  let block;
  let hash = '';
  for (let nonce = 0; hash === ''; nonce++) {
    block = { height: 1, prevHash: NULL_HASH_HEX, term: 1, leader: 0, zeroBits: 2, txs: [], timeSec: 1, miner: 2, nonce };
    try {
      hash = checkElectBlock(g, block);
    } catch {
      // next nonce
    }
  }
  store.commit({ block: block!, certificate: { term: 1, blockHash: hash, votes: [] } }, hash, 5_000_000_000n, 40, Date.now());
  store.close();
  const status = cairn(['elect', 'status', '--datadir', join(dir, 'peer3'), '--json']);
  assert.equal(status.status, 0, status.stderr);
  const parsed = JSON.parse(status.stdout) as { height: number; tip: string; blocks: { miner: number }[]; balances: Record<string, string> };
  assert.equal(parsed.height, 1);
  assert.equal(parsed.tip, hash);
  assert.deepEqual(parsed.balances, { '2': '5000000000' });
});
