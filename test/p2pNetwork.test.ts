/**
 * End-to-end tests of the p2p layer on real `cairn node` processes (regtest, loopback, ephemeral ports), driven as a
 * script would: ports and peer ids from `<datadir>/node.json`, JSON-RPC with the cookie, Esplora REST.
 *
 * Four nodes A, B, C, D are started once and linked in a ring with `addnode … add` (A→B, B→C, C→D, D→A), so the ring
 * splits into the groups {A, B} and {C, D} by removing the two cross links B→C and D→A. The subtests run in order on
 * the same processes:
 *   a. convergence: blocks generated on different nodes reach all four; a tx POSTed to A reaches every mempool and a
 *      block mined on C confirms it everywhere;
 *   b. partition and heal: both sides mine (C/D more blocks, A/B a tx of their own), heal with addnode: every node
 *      reaches C/D's tip (the heal time is a figure of bench/p2p.bench.ts), the UTXO digests agree, A/B's tx is back
 *      in their mempools and then mined;
 *   d. misbehaving peers: a fake libp2p peer in this process (src/testing/fakePeer) publishes a block with valid regtest PoW but a coinbase
 *      paying too much (bad-cb-amount), another sends an oversized headers request: A disconnects and bans each
 *      (listbanned, redial refused) while A and B keep relaying blocks;
 *   c. initial sync: A mines 2,000 more blocks carrying dozens of spends (B follows by gossip); a fresh node E started
 *      with `--connect A --connect B` syncs them, first from both, then from B alone (A off the network), then from A
 *      alone (B off) if anything is left; both served blocks (E's log), and E ends on the same tip with the same UTXO
 *      digest as A and B.
 */
import '../src/cli/shims.js';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { computeBlockSubsidy } from '../src/consensus/subsidy.js';
import { MAX_REQUEST_BYTES, protocolIds } from '../src/p2p/wire.js';
import { regtest } from '../src/params/networks.js';
import { encodeBlock } from '../src/primitives/block.js';
import { computeBlockHash } from '../src/primitives/blockHeader.js';
import { blockHashFromHex, bytesToHex, hashToHex, txidFromHex } from '../src/primitives/hex.js';
import { computeTxid, encodeTx } from '../src/primitives/tx.js';
import { buildBlock } from '../src/testing/blockBuilder.js';
import { FakePeer, genesisStatus } from '../src/testing/fakePeer.js';
import { NodeCluster, type NodeProcess } from '../src/testing/nodeCluster.js';
import { waitFor } from '../src/testing/waitFor.js';
import { buildSpend, makeTestKey, testKeyAddress, type SpendableCoin, type TestKey } from '../src/testing/txFactory.js';

const params = regtest;
const MINER = makeTestKey('e2e/p2p/miner', 'p2wpkh');
const PAYEE = makeTestKey('e2e/p2p/payee', 'p2tr');
const MINER_ADDRESS = testKeyAddress(MINER, params.bech32Hrp);
const IDS = protocolIds(params);
/** How long a change is given to spread over loopback (generous: the machine runs other suites too). */
const SPREAD_MS = 30_000;

const cluster = new NodeCluster('cairn-p2p-e2e-');
let A: NodeProcess;
let B: NodeProcess;
let C: NodeProcess;
let D: NodeProcess;
const usedCoins = new Set<string>();
const rogues: FakePeer[] = [];

before(async () => {
  [A, B, C, D] = await Promise.all([cluster.start('A'), cluster.start('B'), cluster.start('C'), cluster.start('D')]);
});

after(async () => {
  await Promise.all(rogues.map((r) => r.stop().catch(() => undefined)));
  await cluster.close();
});

// --- helpers -------------------------------------------------------------------------------------------------------

/** Waits until every node reports the same tip hash; returns it. */
async function converged(nodes: readonly NodeProcess[], timeoutMs = SPREAD_MS): Promise<string> {
  return waitFor(
    `${nodes.map((n) => n.name).join(',')} to converge on one tip`,
    async () => {
      const hashes = await Promise.all(nodes.map((n) => n.tipHash()));
      return hashes.every((h) => h === hashes[0]) ? hashes[0] : undefined;
    },
    timeoutMs,
  );
}

/** Waits until `node` has the tip `hash`. */
function hasTip(node: NodeProcess, hash: string, timeoutMs = SPREAD_MS): Promise<true> {
  return waitFor(`${node.name} to reach tip ${hash.slice(0, 16)}…`, async () => (await node.tipHash()) === hash, timeoutMs);
}

/** Waits until `node` lists exactly `peers` (by peer id) in getpeerinfo. */
function hasPeers(node: NodeProcess, peers: readonly NodeProcess[], timeoutMs = SPREAD_MS): Promise<true> {
  const want = peers.map((p) => p.peerId).sort();
  return waitFor(
    `${node.name} to have peers ${peers.map((p) => p.name).join(',') || '(none)'}`,
    async () => JSON.stringify((await node.peerIds()).sort()) === JSON.stringify(want),
    timeoutMs,
    100,
  );
}

/** Whether a txid is in the node's mempool. */
async function inMempool(node: NodeProcess, txid: string): Promise<boolean> {
  return (await node.mempoolTxids()).includes(txid);
}

/** The mature, not yet used coinbase coins of MINER on `node` (REST address index), oldest first. */
async function matureCoins(node: NodeProcess): Promise<SpendableCoin[]> {
  const tipHeight = Number((await node.rest('/blocks/tip/height')).text);
  const utxos = JSON.parse((await node.rest(`/address/${MINER_ADDRESS}/utxo`)).text) as {
    txid: string;
    vout: number;
    value: number;
    status: { confirmed: boolean; block_height?: number };
  }[];
  return utxos
    .filter((u) => u.status.confirmed && tipHeight + 1 - u.status.block_height! >= params.coinbaseMaturity)
    .filter((u) => !usedCoins.has(`${u.txid}:${u.vout}`))
    .sort((a, b) => a.status.block_height! - b.status.block_height!)
    .map((u) => ({ outpoint: { txid: txidFromHex(u.txid), index: u.vout }, output: { value: BigInt(u.value), scriptPubKey: MINER.scriptPubKey }, key: MINER }));
}

/** Builds a spend of `coin` paying a quarter of it to `to`, the rest minus the fee back to MINER; marks the coin used. */
function spend(coin: SpendableCoin, to: TestKey = PAYEE): ReturnType<typeof buildSpend> {
  usedCoins.add(`${hashToHex(coin.outpoint.txid)}:${coin.outpoint.index}`);
  return buildSpend([coin], { key: to, valueSats: coin.output.value / 4n }, 5_000n, { changeKey: MINER });
}

/** POSTs a tx to the node's REST API; returns its txid. */
async function postTx(node: NodeProcess, tx: Parameters<typeof encodeTx>[0]): Promise<string> {
  const r = await node.rest('/tx', { method: 'POST', body: bytesToHex(encodeTx(tx)) });
  assert.equal(r.status, 200, `POST /api/tx to ${node.name}: ${r.text}`);
  assert.equal(r.text, hashToHex(computeTxid(tx)));
  return r.text;
}

/** The UTXO digest (gettxoutsetinfo hash_serialized_3) and its height. */
async function utxoDigest(node: NodeProcess): Promise<{ height: number; bestblock: string; hash: string; txouts: number }> {
  const info = await node.rpc<{ height: number; bestblock: string; hash_serialized_3: string; txouts: number }>('gettxoutsetinfo');
  return { height: info.height, bestblock: info.bestblock, hash: info.hash_serialized_3, txouts: info.txouts };
}

// --- a. convergence ------------------------------------------------------------------------------------------------

test('a. four nodes in a ring converge on one tip; a tx sent to A reaches every mempool and is confirmed by a block mined on C', async (t) => {
  await A.rpc('addnode', [B.p2pAddr, 'add']);
  await B.rpc('addnode', [C.p2pAddr, 'add']);
  await C.rpc('addnode', [D.p2pAddr, 'add']);
  await D.rpc('addnode', [A.p2pAddr, 'add']);
  await Promise.all([hasPeers(A, [B, D]), hasPeers(B, [A, C]), hasPeers(C, [B, D]), hasPeers(D, [C, A])]);

  // 110 blocks on A (ten coinbases mature for the spends of later subtests), then a few on C, D and B.
  const t0 = performance.now();
  const onA = await A.generate(110, MINER_ADDRESS);
  assert.equal(await converged([A, B, C, D]), onA[109]);
  t.diagnostic(`110 blocks mined on A reached B, C, D in ${Math.round(performance.now() - t0)} ms (mining included)`);
  for (const [node, count] of [[C, 2], [D, 1], [B, 1]] as const) {
    const hashes = await node.generate(count, MINER_ADDRESS);
    assert.equal(await converged([A, B, C, D]), hashes[count - 1], `blocks mined on ${node.name} did not reach every node`);
  }
  for (const node of [A, B, C, D]) assert.equal(Number((await node.rest('/blocks/tip/height')).text), 114);

  // A transaction POSTed to A reaches every mempool through the tx topic.
  const [coin] = await matureCoins(A);
  const { tx } = spend(coin!);
  const t1 = performance.now();
  const txid = await postTx(A, tx);
  for (const node of [B, C, D]) await waitFor(`tx ${txid} in ${node.name}'s mempool`, () => inMempool(node, txid), SPREAD_MS);
  t.diagnostic(`tx relayed from A to B, C, D in ${Math.round(performance.now() - t1)} ms`);

  // A block mined on C confirms it; every node follows and drops it from its mempool.
  const [confirming] = await C.generate(1, MINER_ADDRESS);
  assert.equal(await converged([A, B, C, D]), confirming);
  for (const node of [A, B, C, D]) {
    await waitFor(`tx ${txid} out of ${node.name}'s mempool`, async () => !(await inMempool(node, txid)), SPREAD_MS);
    const status = JSON.parse((await node.rest(`/tx/${txid}/status`)).text) as { confirmed: boolean; block_hash: string };
    assert.deepEqual([status.confirmed, status.block_hash], [true, confirming], `tx status on ${node.name}`);
  }
});

// --- b. partition and heal -----------------------------------------------------------------------------------------

test('b. partition {A,B} | {C,D}: both sides mine, heal with addnode: every node on the most-work tip, UTXO digests agree, the losing side\'s tx returns', async (t) => {
  const forkTip = await converged([A, B, C, D]);
  // Cut the two cross links (B→C and D→A were dialed by B and D): remove them from the addnode lists, which also
  // disconnects, and disconnect explicitly in case the removal raced a redial.
  await B.rpc('addnode', [C.p2pAddr, 'remove']);
  await D.rpc('addnode', [A.p2pAddr, 'remove']);
  await B.rpc('disconnectnode', [C.peerId]).catch(() => undefined);
  await D.rpc('disconnectnode', [A.peerId]).catch(() => undefined);
  await Promise.all([hasPeers(A, [B]), hasPeers(B, [A]), hasPeers(C, [D]), hasPeers(D, [C])]);

  // The losing side {A,B}: a tx of its own, confirmed in the first of 2 blocks mined on A.
  const [loserCoin, winnerCoin] = await matureCoins(A);
  const loser = spend(loserCoin!);
  const loserTxid = await postTx(A, loser.tx);
  await waitFor(`losing-side tx in B's mempool`, () => inMempool(B, loserTxid), SPREAD_MS);
  const abHashes = await A.generate(2, MINER_ADDRESS);
  await hasTip(B, abHashes[1]!);
  // The winning side {C,D}: 4 blocks (more work: every regtest block has the same work), one of them with a tx.
  const winner = spend(winnerCoin!);
  const winnerTxid = await postTx(C, winner.tx);
  await waitFor(`winning-side tx in D's mempool`, () => inMempool(D, winnerTxid), SPREAD_MS);
  await C.generate(2, MINER_ADDRESS);
  const cdHashes = await D.generate(2, MINER_ADDRESS);
  const winningTip = cdHashes[1]!;
  await hasTip(C, winningTip);
  // Nothing crossed the partition.
  assert.equal(await A.tipHash(), abHashes[1]);
  assert.equal(await B.tipHash(), abHashes[1]);
  assert.notEqual(forkTip, winningTip);
  assert.equal((await A.rest(`/tx/${winnerTxid}/status`)).status, 404);

  // Heal: every node reaches C/D's tip (how fast is a figure of bench/p2p.bench.ts, not a pass/fail criterion here).
  const t0 = performance.now();
  await B.rpc('addnode', [C.p2pAddr, 'add']);
  await D.rpc('addnode', [A.p2pAddr, 'add']);
  await converged([A, B, C, D]);
  t.diagnostic(`healed: all four on the most-work tip ${Math.round(performance.now() - t0)} ms after addnode`);
  assert.equal(await A.tipHash(), winningTip);

  // One UTXO set everywhere.
  const digests = await Promise.all([A, B, C, D].map(utxoDigest));
  for (const d of digests) assert.deepEqual(d, digests[0]);
  assert.equal(digests[0]!.bestblock, winningTip);

  // The losing side's tx left the disconnected block for A's and B's mempools (C and D never saw it: gossip does not
  // re-announce a tx it already relayed), and the next block mined on B confirms it for everyone.
  for (const node of [A, B]) await waitFor(`losing-side tx back in ${node.name}'s mempool`, () => inMempool(node, loserTxid), SPREAD_MS);
  const [confirming] = await B.generate(1, MINER_ADDRESS);
  await converged([A, B, C, D]);
  for (const node of [A, B, C, D]) {
    const status = JSON.parse((await node.rest(`/tx/${loserTxid}/status`)).text) as { confirmed: boolean; block_hash: string };
    assert.deepEqual([status.confirmed, status.block_hash], [true, confirming], `losing-side tx on ${node.name}`);
    await waitFor(`losing-side tx out of ${node.name}'s mempool`, async () => !(await inMempool(node, loserTxid)), SPREAD_MS);
  }
});

// --- d. misbehaving peers ------------------------------------------------------------------------------------------

/** A fake libp2p peer (src/testing/fakePeer) answering status like a regtest node at genesis, on the block topic. */
async function startRogue(): Promise<FakePeer> {
  const rogue = await FakePeer.start({ params, status: genesisStatus(params, '/rogue/'), topics: [IDS.blockTopic] });
  rogues.push(rogue);
  return rogue;
}

/** Waits until `victim` lists the rogue as a peer that finished the status handshake. */
function rogueConnected(victim: NodeProcess, rogue: FakePeer): Promise<true> {
  return waitFor(`${victim.name} to list the rogue peer`, async () => (await victim.peerIds()).includes(rogue.peerId), SPREAD_MS, 100);
}

/** Waits until the victim has banned and dropped the rogue and refuses its redial; returns the ban reason and how the redial ended. */
async function bannedAndDropped(victim: NodeProcess, rogue: FakePeer): Promise<{ reason: string; redial: string }> {
  const id = rogue.peerId;
  const ban = await waitFor(
    `${victim.name} to ban ${id}`,
    async () => (await victim.rpc<{ address: string; ban_reason: string; banned_until: number }[]>('listbanned')).find((b) => b.address === id),
    SPREAD_MS,
    100,
  );
  assert.ok(ban.banned_until * 1000 > Date.now() + 23 * 3600_000, `ban lasts 24 h (until ${ban.banned_until})`);
  await waitFor(`${victim.name} to drop the rogue`, () => !rogue.isConnectedTo(victim.peerId), SPREAD_MS, 50);
  assert.ok(!(await victim.peerIds()).includes(id), 'the banned peer is still in getpeerinfo');
  // A redial is refused: either the dial fails, or the node closes the connection at once.
  let redial: Awaited<ReturnType<FakePeer['dial']>> | undefined;
  try {
    redial = await rogue.dial(victim.p2pAddr);
  } catch {
    redial = undefined;
  }
  if (redial !== undefined) await waitFor('the redial to be closed by the node', () => redial.status !== 'open', 10_000, 50);
  assert.ok(!(await victim.peerIds()).includes(id), 'the banned peer got back in');
  return { reason: ban.ban_reason, redial: redial === undefined ? 'dial failed' : 'connection closed by the node' };
}

test('d. a peer publishing an invalid block, and one sending an oversized request, are disconnected and banned; the others keep working', async (t) => {
  const bansBefore = await A.rpc<unknown[]>('listbanned');

  // (i) A block with valid regtest PoW on A's tip whose coinbase pays one sat too much.
  const rogue1 = await startRogue();
  await rogue1.dial(A.p2pAddr);
  await rogueConnected(A, rogue1);
  await waitFor('A to subscribe the rogue to the block topic', () => rogue1.subscribers(IDS.blockTopic).includes(A.peerId), SPREAD_MS);
  const tip = JSON.parse((await A.rest(`/block/${await A.tipHash()}`)).text) as { id: string; height: number; timestamp: number };
  const height = tip.height + 1;
  const bad = buildBlock(params, {
    height,
    prevBlock: blockHashFromHex(tip.id),
    time: tip.timestamp + 1,
    coinbaseOptions: { value: computeBlockSubsidy(height, params) + 1n, scriptPubKey: MINER.scriptPubKey },
  });
  const recipients = await rogue1.publish(IDS.blockTopic, encodeBlock(bad));
  assert.ok(recipients.includes(A.peerId), 'the rogue block was not sent to A');
  const ban1 = await bannedAndDropped(A, rogue1);
  assert.match(ban1.reason, /bad-cb-amount/);
  // Neither A nor (since A rejected it instead of forwarding it) B took the block.
  assert.equal(await A.tipHash(), tip.id, 'the invalid block became the tip');
  const badHash = hashToHex(computeBlockHash(bad.header));
  assert.equal((await B.rest(`/block/${badHash}`)).status, 404, 'B received the invalid block');
  t.diagnostic(`rogue 1 banned: ${ban1.reason}; redial: ${ban1.redial}`);

  // (ii) An oversized request on the headers protocol: a length-prefixed frame above MAX_REQUEST_BYTES.
  const rogue2 = await startRogue();
  await rogue2.dial(A.p2pAddr);
  await rogueConnected(A, rogue2);
  await rogue2.sendRawFrame(A.p2pAddr, IDS.headers, new Uint8Array(MAX_REQUEST_BYTES + 1024));
  const ban2 = await bannedAndDropped(A, rogue2);
  assert.match(ban2.reason, /oversized/);
  t.diagnostic(`rogue 2 banned: ${ban2.reason}; redial: ${ban2.redial}`);

  const bans = await A.rpc<{ address: string }[]>('listbanned');
  assert.deepEqual(
    bans.map((b) => b.address).sort(),
    [...bansBefore.map((b) => (b as { address: string }).address), rogue1.peerId, rogue2.peerId].sort(),
  );
  // The honest nodes were not touched and keep relaying: a block mined on A reaches B (and C, D).
  for (const node of [B, C, D]) assert.deepEqual(await node.rpc('listbanned'), [], `${node.name} banned someone`);
  assert.deepEqual((await A.peerIds()).sort(), [B.peerId, D.peerId].sort());
  const [next] = await A.generate(1, MINER_ADDRESS);
  await hasTip(B, next!);
  assert.equal(await converged([A, B, C, D]), next);
});

// --- c. initial sync of 2,000 blocks from two peers ----------------------------------------------------------------

test('c. a fresh node syncs 2,000 blocks with transactions from two peers (each dropping out for part of it); same tip and UTXO digest', async (t) => {
  // C and D are not needed any more: fewer processes, more CPU for the sync.
  await Promise.all([C.stop(), D.stop()]);
  await hasPeers(A, [B]);

  // 2,000 blocks mined on A in rounds of 50, with spends posted before each round (a mature coinbase, and a child
  // spending the parent's change while both are unconfirmed); B follows by gossip.
  const t0 = performance.now();
  const startHeight = Number((await A.rest('/blocks/tip/height')).text);
  const txids: string[] = [];
  for (let round = 0; round < 40; round++) {
    const coins = (await matureCoins(A)).slice(0, 1);
    for (const coin of coins) {
      const parent = spend(coin);
      txids.push(await postTx(A, parent.tx));
      const change = parent.created.find((c) => c.key === MINER)!;
      txids.push(await postTx(A, spend(change).tx));
    }
    await A.generate(50, MINER_ADDRESS);
  }
  const tip = await A.tip();
  assert.equal(tip.height, startHeight + 2000);
  await hasTip(B, tip.hash, 120_000);
  const mined = await Promise.all(txids.slice(-6).map(async (id) => JSON.parse((await A.rest(`/tx/${id}/status`)).text) as { confirmed: boolean }));
  assert.ok(mined.every((s) => s.confirmed));
  assert.ok(txids.length >= 40, `only ${txids.length} spends`);
  t.diagnostic(`A mined 2,000 blocks with ${txids.length} spends, B followed, in ${Math.round(performance.now() - t0)} ms`);

  // The fresh node E, connected to A and B, spreads its block requests over both. Each goes off the network
  // (setnetworkactive false) for part of the download: A once E has 200 blocks, then B (and A is back) 300 blocks
  // later, unless E got everything from B by then. E's log says how many blocks each peer served.
  const height = async (n: NodeProcess): Promise<number> => Number((await n.rest('/blocks/tip/height')).text);
  const t1 = performance.now();
  const E = await cluster.start('E', { connect: [A.p2pAddr, B.p2pAddr] });
  const t2 = performance.now();
  await waitFor('E to start syncing', async () => (await height(E)) >= 200, 120_000, 50);
  const aOffAt = await height(E);
  await A.rpc('setnetworkactive', [false]);
  await waitFor('E to sync 300 blocks from B alone', async () => (await height(E)) >= Math.min(aOffAt + 300, tip.height), 120_000, 50);
  const bOffAt = await height(E);
  await B.rpc('setnetworkactive', [false]);
  await A.rpc('setnetworkactive', [true]);
  await hasTip(E, tip.hash, 120_000);
  const syncMs = performance.now() - t2;
  await B.rpc('setnetworkactive', [true]);
  // The round that reached the tip logs its end a moment after the tip is visible over REST.
  const rounds = await waitFor('E to log the end of its block download', () => {
    const done = E.logEntries('block download round done');
    return done.some((r) => r.height === tip.height) ? done : undefined;
  }, SPREAD_MS);
  const served: Record<string, number> = {};
  for (const round of rounds) {
    for (const [peer, blocks] of Object.entries(round.blocksByPeer as Record<string, number>)) served[peer] = (served[peer] ?? 0) + blocks;
  }
  t.diagnostic(
    `E started in ${Math.round(t2 - t1)} ms and synced ${tip.height} blocks in ${Math.round(syncMs)} ms ` +
      `(${Math.round((tip.height * 1000) / syncMs)} blocks/s; A off at E height ${aOffAt}, B off and A back at ${bOffAt}; ` +
      `blocks from A ${served[A.peerId] ?? 0}, from B ${served[B.peerId] ?? 0})`,
  );
  assert.ok((served[A.peerId] ?? 0) > 0 && (served[B.peerId] ?? 0) > 0, `both peers served blocks: ${JSON.stringify(served)}`);
  // At least every block (a round cut short by a moment without peers drops what it had not connected yet).
  assert.ok((served[A.peerId] ?? 0) + (served[B.peerId] ?? 0) >= tip.height, 'every block came from A or B');

  await hasPeers(E, [A, B]);
  const [dE, dA, dB] = await Promise.all([utxoDigest(E), utxoDigest(A), utxoDigest(B)]);
  assert.deepEqual(dE, dA);
  assert.deepEqual(dE, dB);
  assert.equal(dE.bestblock, tip.hash);
  // A spend from the middle of the range is found on E with the same block as on A.
  const probe = txids[Math.floor(txids.length / 2)]!;
  assert.equal((await E.rest(`/tx/${probe}/status`)).text, (await A.rest(`/tx/${probe}/status`)).text);
});
