import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { computeBlockHash } from '../src/primitives/blockHeader.js';
import { bytesToHex, hashToHex } from '../src/primitives/hex.js';
import { computeTxid, encodeTx } from '../src/primitives/tx.js';
import type { Tx } from '../src/primitives/types.js';
import { buildBranch, parentOfEntry, spendableCoinbases } from '../src/testing/chainFactory.js';
import { buildSpend, makeTestKey, testKeyAddress } from '../src/testing/txFactory.js';
import { openRestTestNode } from './fixtures/restTestNode.js';

const MINER = makeTestKey('rest-e2e/miner', 'p2wpkh');
const BOB = makeTestKey('rest-e2e/bob', 'p2wpkh');

type Message = Record<string, any>;

/** A websocket client that queues the JSON messages it receives and waits for one matching a predicate. */
class FeedClient {
  private readonly queue: Message[] = [];
  private waiter: { match: (m: Message) => boolean; resolve: (m: Message) => void } | undefined;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as Message;
      if (this.waiter?.match(msg)) {
        const { resolve } = this.waiter;
        this.waiter = undefined;
        resolve(msg);
      } else {
        this.queue.push(msg);
      }
    });
  }

  static open(url: string): Promise<FeedClient> {
    const socket = new WebSocket(url.replace(/^http/, 'ws') + '/api/v1/ws');
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new FeedClient(socket)));
      socket.once('error', reject);
    });
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The first queued or future message for which `match` holds (earlier non-matching ones are dropped). */
  next(match: (m: Message) => boolean, timeoutMs = 5_000): Promise<Message> {
    while (this.queue.length > 0) {
      const m = this.queue.shift()!;
      if (match(m)) return Promise.resolve(m);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error('timed out waiting for a websocket message'));
      }, timeoutMs);
      this.waiter = {
        match,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
    });
  }

  close(): void {
    this.socket.close();
  }
}

const getJson = async (url: string): Promise<any> => (await fetch(url)).json();

const postTx = async (url: string, tx: Tx): Promise<{ status: number; text: string }> => {
  const res = await fetch(`${url}/api/tx`, { method: 'POST', body: bytesToHex(encodeTx(tx)) });
  return { status: res.status, text: await res.text() };
};

test('websocket: cairn subscribe and mempool.space want receive blocks and mempool changes', async (t) => {
  const env = await openRestTestNode();
  t.after(() => env.close());
  const { node, url } = env;
  await env.mine(101, MINER);

  const cairn = await FeedClient.open(url);
  const space = await FeedClient.open(url);
  t.after(() => {
    cairn.close();
    space.close();
  });

  cairn.send({ action: 'subscribe', topics: ['blocks', 'mempool', 'no-such-topic'] });
  assert.deepEqual(await cairn.next((m) => 'subscribed' in m), { subscribed: ['blocks', 'mempool'] });
  cairn.send({ action: 'ping' });
  assert.deepEqual(await cairn.next((m) => 'pong' in m), { pong: true });
  cairn.send('not json');
  assert.match((await cairn.next((m) => 'error' in m)).error, /invalid JSON/);
  cairn.send({ action: 'dance' });
  assert.match((await cairn.next((m) => 'error' in m)).error, /unknown action/);
  // A 16 KB action nested 8,000 deep once overflowed the stack inside ws's event handler and stopped the node.
  cairn.send(`{"action":${'['.repeat(8000)}${']'.repeat(8000)}}`);
  assert.deepEqual(await cairn.next((m) => 'error' in m), { error: 'invalid JSON: nested deeper than 4 levels' });
  cairn.send({ action: { a: [1] } });
  assert.deepEqual(await cairn.next((m) => 'error' in m), { error: 'action must be a string' });
  cairn.send({ action: 'x'.repeat(10_000) });
  assert.deepEqual(await cairn.next((m) => 'error' in m), { error: `unknown action "${'x'.repeat(64)}"` });

  space.send({ action: 'want', data: ['blocks', 'stats', 'mempool-blocks'] });
  const snapshot = await space.next((m) => 'blocks' in m);
  assert.equal(snapshot.blocks.length, 8);
  assert.equal(snapshot.blocks[7].height, 101, 'snapshot blocks end at the tip');
  assert.equal(snapshot.mempoolInfo.size, 0);
  assert.deepEqual(snapshot['mempool-blocks'], []);
  assert.ok('fastestFee' in snapshot.fees);

  // A new mempool tx: cairn clients get the Esplora tx at once, and mempool statistics (throttled).
  const [coin] = spendableCoinbases(node.chain, MINER);
  const { tx } = buildSpend([coin!], { key: BOB, valueSats: 1_000_000n }, 2_000n);
  const txid = hashToHex(computeTxid(tx));
  assert.equal((await postTx(url, tx)).text, txid);
  const pushed = await cairn.next((m) => 'tx' in m);
  assert.equal(pushed.tx.txid, txid);
  assert.equal(pushed.tx.fee, 2_000);
  assert.deepEqual(pushed.tx.status, { confirmed: false });
  assert.equal(pushed.tx.vin[0].prevout.value, Number(coin!.output.value));
  const info = await cairn.next((m) => 'mempoolInfo' in m);
  assert.equal(info.mempoolInfo.size, 1);
  assert.equal(info.mempoolInfo.total_fee, 2_000 / 1e8);
  const stats = await space.next((m) => 'mempoolInfo' in m && !('block' in m));
  assert.equal(stats.mempoolInfo.size, 1);
  assert.equal(stats.transactions[0].txid, txid);
  assert.ok(stats.vBytesPerSecond > 0);

  // A new block: both get it; the confirmed tx leaves the mempool.
  const [block] = await env.mine(1, MINER);
  const hash = hashToHex(computeBlockHash(block!.header));
  const cairnBlock = await cairn.next((m) => 'block' in m);
  assert.equal(cairnBlock.block.id, hash);
  assert.equal(cairnBlock.block.height, 102);
  assert.equal(cairnBlock.block.tx_count, 2);
  assert.equal(cairnBlock.block.extras.totalFees, 2_000);
  assert.deepEqual((await cairn.next((m) => 'txRemoved' in m)).txRemoved, { txid, reason: 'block' });
  const spaceBlock = await space.next((m) => 'block' in m);
  assert.equal(spaceBlock.block.id, hash);
  assert.equal(spaceBlock.mempoolInfo.size, 0, 'stats clients get the mempool after the block');
  assert.equal(spaceBlock.da.nextRetargetHeight, 2016);
  assert.deepEqual(spaceBlock['mempool-blocks'], []);

  // init: the full snapshot.
  space.send({ action: 'init' });
  const init = await space.next((m) => 'da' in m && 'blocks' in m);
  assert.equal(init.blocks[init.blocks.length - 1].id, hash);

  // Unsubscribed clients get no pushes.
  cairn.send({ action: 'unsubscribe', topics: ['mempool', 'blocks'] });
  assert.deepEqual(await cairn.next((m) => 'subscribed' in m), { subscribed: [] });

  // A plain GET on the websocket path explains itself.
  const plain = await fetch(`${url}/api/v1/ws`);
  assert.equal(plain.status, 426);
});

test('REST after a reorg: the tx is unconfirmed again, the old block is stale, reorgs are counted', async (t) => {
  const env = await openRestTestNode();
  t.after(() => env.close());
  const { node, url, params } = env;
  await env.mine(101, MINER);
  const [coin] = spendableCoinbases(node.chain, MINER);
  const { tx } = buildSpend([coin!], { key: BOB, valueSats: 1_000_000n }, 2_000n);
  const txid = hashToHex(computeTxid(tx));
  assert.equal((await postTx(url, tx)).status, 200);
  const forkParent = node.chain.tip;
  const [mined] = await env.mine(1, MINER);
  const minedHash = hashToHex(computeBlockHash(mined!.header));
  const status = await getJson(`${url}/api/tx/${txid}/status`);
  assert.equal(status.block_hash, minedHash);

  // A longer branch without the tx.
  for (const block of buildBranch(params, parentOfEntry(forkParent), 2, (i) => ({ extraNonce: `fork-${i}`, coinbaseKey: MINER }))) {
    await node.submitBlock(block);
  }
  assert.equal(node.chain.height, forkParent.height + 2);
  // The node re-adds the disconnected txs from its tipChanged handler: wait for that update to finish.
  await node.mempool.whenReorgUpdatesDone();
  assert.deepEqual(await getJson(`${url}/api/tx/${txid}/status`), { confirmed: false });
  assert.deepEqual(await getJson(`${url}/api/block/${minedHash}/status`), { in_best_chain: false });
  const v1 = await getJson(`${url}/api/v1/block/${minedHash}`);
  assert.equal(v1.stale, true);
  assert.deepEqual(await getJson(`${url}/api/mempool/txids`), [txid]);
  const bobTxs = await getJson(`${url}/api/address/${testKeyAddress(BOB, params.bech32Hrp)}/txs`);
  assert.deepEqual(bobTxs.map((x: { txid: string }) => x.txid), [txid]);
  const metrics = await (await fetch(`${url}/metrics`)).text();
  assert.match(metrics, /^cairn_reorgs_total 1$/m);
  assert.match(metrics, /^cairn_chain_height 103$/m);
});
