import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyMerkleBranch } from '../consensus/merkle.js';
import { encodeBlockHeader } from '../primitives/blockHeader.js';
import { bytesEqual, bytesToHex, hashToHex, hexToHash } from '../primitives/hex.js';
import { computeTxid, encodeTx, getTxSize, getTxVsize, getTxWeight } from '../primitives/tx.js';
import type { Block, Tx } from '../primitives/types.js';
import { spendableCoinbases } from '../testing/chainFactory.js';
import { buildSpend, makeTestKey, testKeyAddress, type SpendableCoin } from '../testing/txFactory.js';
import { openRestTestNode, type RestTestNode } from '../../test/fixtures/restTestNode.js';
import { DEFAULT_UTXOS_LIMIT } from './rest/addressRoutes.js';
import { MAX_TX_HEX_BODY } from './rest/txRoutes.js';

const MINER = makeTestKey('rest/miner', 'p2wpkh');
const ALICE = makeTestKey('rest/alice', 'p2tr');
const FEE = 5_000n;
const SEND = 10_000_000n;

interface Reply {
  status: number;
  text: string;
  type: string | null;
  headers: Headers;
  bytes: Uint8Array;
}

async function request(base: string, path: string, init?: RequestInit): Promise<Reply> {
  const res = await fetch(base + path, init);
  const bytes = new Uint8Array(await res.arrayBuffer());
  return { status: res.status, text: new TextDecoder().decode(bytes), type: res.headers.get('content-type'), headers: res.headers, bytes };
}

/** GET that must answer 200; returns the parsed JSON. */
async function getJson<T = any>(base: string, path: string): Promise<T> {
  const r = await request(base, path);
  assert.equal(r.status, 200, `${path}: ${r.status} ${r.text}`);
  assert.match(r.type ?? '', /application\/json/, path);
  return JSON.parse(r.text) as T;
}

/** GET that must answer 200 text/plain; returns the body. */
async function getText(base: string, path: string): Promise<string> {
  const r = await request(base, path);
  assert.equal(r.status, 200, `${path}: ${r.status} ${r.text}`);
  assert.match(r.type ?? '', /text\/plain/, path);
  return r.text;
}

async function expectStatus(base: string, path: string, status: number, reason: RegExp, init?: RequestInit): Promise<void> {
  const r = await request(base, path, init);
  assert.equal(r.status, status, `${path}: ${r.text}`);
  assert.match(r.type ?? '', /text\/plain/, `${path} error body is plain text`);
  assert.match(r.text, reason, path);
}

const postTx = (base: string, tx: Tx): Promise<Reply> =>
  request(base, '/api/tx', { method: 'POST', body: bytesToHex(encodeTx(tx)), headers: { 'content-type': 'text/plain' } });

/** Every route of the REST API, as the OpenAPI document must list it. */
const ROUTES: readonly [string, string][] = [
  ['get', '/api/blocks/tip/height'], ['get', '/api/blocks/tip/hash'], ['get', '/api/blocks'], ['get', '/api/blocks/{start_height}'],
  ['get', '/api/block/{hash}'], ['get', '/api/block/{hash}/status'], ['get', '/api/block/{hash}/txs'],
  ['get', '/api/block/{hash}/txs/{start}'], ['get', '/api/block/{hash}/txids'], ['get', '/api/block/{hash}/txid/{index}'],
  ['get', '/api/block/{hash}/raw'], ['get', '/api/block/{hash}/header'], ['get', '/api/block-height/{height}'],
  ['get', '/api/tx/{txid}'], ['get', '/api/tx/{txid}/status'], ['get', '/api/tx/{txid}/hex'], ['get', '/api/tx/{txid}/raw'],
  ['get', '/api/tx/{txid}/outspends'], ['get', '/api/tx/{txid}/outspend/{vout}'], ['get', '/api/tx/{txid}/merkle-proof'],
  ['post', '/api/tx'], ['get', '/api/address/{address}'], ['get', '/api/address/{address}/txs'],
  ['get', '/api/address/{address}/txs/chain'], ['get', '/api/address/{address}/txs/chain/{last_seen_txid}'],
  ['get', '/api/address/{address}/txs/mempool'], ['get', '/api/address/{address}/utxo'], ['get', '/api/mempool'],
  ['get', '/api/mempool/txids'], ['get', '/api/mempool/recent'], ['get', '/api/fee-estimates'],
  ['get', '/api/v1/fees/recommended'], ['get', '/api/v1/fees/mempool-blocks'], ['get', '/api/v1/blocks'],
  ['get', '/api/v1/blocks/{height}'], ['get', '/api/v1/block/{hash}'], ['get', '/api/v1/difficulty-adjustment'],
  ['get', '/api/v1/ws'],
];

test('REST API: Esplora routes over a regtest node, from mempool to confirmation', async (t) => {
  const env: RestTestNode = await openRestTestNode();
  t.after(() => env.close());
  const { node, url, params } = env;
  const minerAddress = testKeyAddress(MINER, params.bech32Hrp);
  const aliceAddress = testKeyAddress(ALICE, params.bech32Hrp);
  await env.mine(110, MINER);

  const coins: SpendableCoin[] = spendableCoinbases(node.chain, MINER);
  assert.ok(coins.length >= 3, 'three mature coinbases');
  const spends = coins.slice(0, 3).map((coin) => buildSpend([coin], { key: ALICE, valueSats: SEND }, FEE).tx);
  const [tx] = spends as [Tx, Tx, Tx];
  const txid = hashToHex(computeTxid(tx));
  const coinbaseTxid = hashToHex(coins[0]!.outpoint.txid);

  await t.test('POST /api/tx accepts a signed spend and answers its txid', async () => {
    const r = await postTx(url, tx);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.text, txid);
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
    assert.ok(node.mempool.has(computeTxid(tx)));
    // A tx already in the mempool is not an error (Core's BroadcastTransaction).
    assert.equal((await postTx(url, tx)).text, txid);
  });

  await t.test('GET /api/tx/:txid of a mempool tx: prevouts, fee, unconfirmed status', async () => {
    const json = await getJson(url, `/api/tx/${txid}`);
    assert.equal(json.txid, txid);
    assert.equal(json.version, tx.version);
    assert.equal(json.locktime, tx.locktime);
    assert.equal(json.fee, Number(FEE));
    assert.equal(json.size, getTxSize(tx));
    assert.equal(json.weight, getTxWeight(tx));
    assert.deepEqual(json.status, { confirmed: false });
    const [vin] = json.vin;
    assert.equal(vin.txid, coinbaseTxid);
    assert.equal(vin.vout, 0);
    assert.equal(vin.is_coinbase, false);
    assert.equal(vin.sequence, tx.inputs[0]!.sequence);
    assert.equal(vin.scriptsig, '');
    assert.deepEqual(vin.witness, tx.inputs[0]!.witness.map((w) => bytesToHex(w)));
    assert.equal(vin.prevout.value, Number(coins[0]!.output.value));
    assert.equal(vin.prevout.scriptpubkey, bytesToHex(MINER.scriptPubKey));
    assert.equal(vin.prevout.scriptpubkey_type, 'v0_p2wpkh');
    assert.equal(vin.prevout.scriptpubkey_address, minerAddress);
    assert.equal(vin.prevout.scriptpubkey_asm, `OP_0 OP_PUSHBYTES_20 ${bytesToHex(MINER.scriptPubKey.subarray(2))}`);
    assert.deepEqual(json.vout[0], {
      scriptpubkey: bytesToHex(ALICE.scriptPubKey),
      scriptpubkey_asm: `OP_PUSHNUM_1 OP_PUSHBYTES_32 ${bytesToHex(ALICE.scriptPubKey.subarray(2))}`,
      scriptpubkey_type: 'v1_p2tr',
      scriptpubkey_address: aliceAddress,
      value: Number(SEND),
    });
    assert.deepEqual(await getJson(url, `/api/tx/${txid}/status`), { confirmed: false });
    assert.equal(await getText(url, `/api/tx/${txid}/hex`), bytesToHex(encodeTx(tx)));
    const raw = await request(url, `/api/tx/${txid}/raw`);
    assert.equal(raw.type, 'application/octet-stream');
    assert.ok(bytesEqual(raw.bytes, encodeTx(tx)));
    // The coinbase it spends shows the mempool spender; the new outputs are unspent.
    assert.deepEqual(await getJson(url, `/api/tx/${coinbaseTxid}/outspends`), [{ spent: true, txid, vin: 0, status: { confirmed: false } }]);
    assert.deepEqual(await getJson(url, `/api/tx/${txid}/outspends`), tx.outputs.map(() => ({ spent: false })));
    assert.deepEqual(await getJson(url, `/api/tx/${txid}/outspend/0`), { spent: false });
    await expectStatus(url, `/api/tx/${txid}/merkle-proof`, 404, /not confirmed/);
  });

  await t.test('mempool routes and the address mempool views', async () => {
    const vsize = getTxVsize(tx);
    assert.deepEqual(await getJson(url, '/api/mempool'), {
      count: 1,
      vsize,
      total_fee: Number(FEE),
      fee_histogram: [[Number(FEE) / vsize, vsize]],
    });
    assert.deepEqual(await getJson(url, '/api/mempool/txids'), [txid]);
    const value = Number(tx.outputs.reduce((s, o) => s + o.value, 0n));
    assert.deepEqual(await getJson(url, '/api/mempool/recent'), [{ txid, fee: Number(FEE), vsize, value }]);
    const aliceMempool = await getJson(url, `/api/address/${aliceAddress}/txs/mempool`);
    assert.deepEqual(aliceMempool.map((x: { txid: string }) => x.txid), [txid]);
    const alice = await getJson(url, `/api/address/${aliceAddress}`);
    assert.deepEqual(alice, {
      address: aliceAddress,
      chain_stats: { funded_txo_count: 0, funded_txo_sum: 0, spent_txo_count: 0, spent_txo_sum: 0, tx_count: 0 },
      mempool_stats: { funded_txo_count: 1, funded_txo_sum: Number(SEND), spent_txo_count: 0, spent_txo_sum: 0, tx_count: 1 },
    });
    const miner = await getJson(url, `/api/address/${minerAddress}`);
    assert.equal(miner.mempool_stats.spent_txo_count, 1, 'the miner coin spent in the mempool');
    assert.equal(miner.mempool_stats.spent_txo_sum, Number(coins[0]!.output.value));
    assert.equal(miner.mempool_stats.funded_txo_count, 1, 'the change back to the miner');
    assert.deepEqual(await getJson(url, `/api/address/${aliceAddress}/utxo`), [
      { txid, vout: 0, status: { confirmed: false }, value: Number(SEND) },
    ]);
    // The miner's coinbase spent in the mempool is no longer listed as unspent.
    const minerUtxos = await getJson<{ txid: string; vout: number }[]>(url, `/api/address/${minerAddress}/utxo`);
    assert.ok(!minerUtxos.some((u) => u.txid === coinbaseTxid && u.vout === 0));
    assert.ok(minerUtxos.some((u) => u.txid === txid && u.vout === 1), 'mempool change output listed');
    const firstPage = await getJson(url, `/api/address/${minerAddress}/txs`);
    assert.equal(firstPage[0].txid, txid, 'mempool txs come first');
    assert.equal(firstPage.length, 1 + 25);
  });

  await t.test('POST /api/tx rejects with 400 and the reject reason', async () => {
    for (const other of spends.slice(1)) assert.equal((await postTx(url, other)).status, 200);
    // A double spend of the first coinbase paying less fee: Core's RBF rule.
    const conflict = buildSpend([coins[0]!], { key: MINER, valueSats: SEND }, FEE - 1_000n).tx;
    const r = await postTx(url, conflict);
    assert.equal(r.status, 400);
    assert.match(r.text, /^sendrawtransaction RPC error: \{"code":-26,"message":"insufficient fee/);
    await expectStatus(url, '/api/tx', 400, /"code":-22.*TX decode failed/, { method: 'POST', body: 'zz' });
    await expectStatus(url, '/api/tx', 400, /TX decode failed/, { method: 'POST', body: '0200' });
    // curl -d sends application/x-www-form-urlencoded: still parsed as hex.
    const form = await request(url, '/api/tx', {
      method: 'POST',
      body: bytesToHex(encodeTx(tx)),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(form.text, txid);
  });

  await t.test('fee routes', async () => {
    const fees = await getJson(url, '/api/v1/fees/recommended');
    assert.deepEqual(Object.keys(fees).sort(), ['economyFee', 'fastestFee', 'halfHourFee', 'hourFee', 'minimumFee']);
    const minRelay = node.mempool.options.minRelayFeeRateSatPerKvb / 1000;
    assert.equal(fees.minimumFee, minRelay);
    assert.ok(fees.fastestFee >= fees.halfHourFee && fees.halfHourFee >= fees.hourFee && fees.hourFee >= fees.economyFee);
    assert.ok(fees.economyFee >= fees.minimumFee);
    const estimates = await getJson(url, '/api/fee-estimates');
    assert.deepEqual(Object.keys(estimates).map(Number).sort((a, b) => a - b), [...Array.from({ length: 25 }, (_, i) => i + 1), 144, 504, 1008]);
    // Three small txs fill far less than a block: every target falls back to the floor.
    assert.ok(Object.values(estimates).every((v) => v === minRelay));
    const blocks = await getJson(url, '/api/v1/fees/mempool-blocks');
    assert.equal(blocks.length, 1);
    assert.equal(blocks[0].nTx, 3);
    assert.equal(blocks[0].totalFees, 3 * Number(FEE));
    assert.equal(blocks[0].blockVSize, spends.reduce((s, x) => s + getTxVsize(x), 0));
  });

  const [confirming] = (await env.mine(1, MINER)) as [Block];
  const tip = node.chain.tip;

  await t.test('confirmed tx: status, prevouts from undo data, merkle proof, outspends', async () => {
    assert.equal(tip.height, 111);
    assert.equal(confirming.txs.length, 4);
    const status = { confirmed: true, block_height: 111, block_hash: tip.hashHex, block_time: confirming.header.time };
    assert.deepEqual(await getJson(url, `/api/tx/${txid}/status`), status);
    const json = await getJson(url, `/api/tx/${txid}`);
    assert.deepEqual(json.status, status);
    assert.equal(json.fee, Number(FEE));
    assert.equal(json.vin[0].prevout.value, Number(coins[0]!.output.value));
    assert.equal(json.vin[0].prevout.scriptpubkey_address, minerAddress);

    const proof = await getJson(url, `/api/tx/${txid}/merkle-proof`);
    assert.equal(proof.block_height, 111);
    const position = confirming.txs.findIndex((x) => hashToHex(computeTxid(x)) === txid);
    assert.equal(proof.pos, position);
    assert.ok(
      verifyMerkleBranch(computeTxid(tx), proof.merkle.map((h: string) => hexToHash(h)), proof.pos, confirming.header.merkleRoot),
      'the proof hashes up to the header merkle root',
    );
    assert.deepEqual(await getJson(url, `/api/tx/${coinbaseTxid}/outspends`), [{ spent: true, txid, vin: 0, status }]);
    assert.deepEqual(await getJson(url, `/api/tx/${coinbaseTxid}/outspend/0`), { spent: true, txid, vin: 0, status });
    const coinbase = await getJson(url, `/api/tx/${hashToHex(computeTxid(confirming.txs[0]!))}`);
    assert.equal(coinbase.vin[0].is_coinbase, true);
    assert.equal(coinbase.vin[0].prevout, null);
    assert.equal(coinbase.vin[0].txid, '0'.repeat(64));
    assert.equal(coinbase.vin[0].vout, 0xffffffff);
    assert.equal(coinbase.fee, 0);
    assert.deepEqual(await getJson(url, '/api/mempool/txids'), []);
  });

  await t.test('block routes', async () => {
    const hash = tip.hashHex;
    assert.equal(await getText(url, '/api/blocks/tip/height'), '111');
    assert.equal(await getText(url, '/api/blocks/tip/hash'), hash);
    assert.equal(await getText(url, '/api/block-height/111'), hash);
    const block = await getJson(url, `/api/block/${hash}`);
    assert.deepEqual(block, {
      id: hash,
      height: 111,
      version: confirming.header.version,
      timestamp: confirming.header.time,
      tx_count: 4,
      size: tip.sizeBytes,
      weight: tip.weight,
      merkle_root: hashToHex(confirming.header.merkleRoot),
      previousblockhash: hashToHex(confirming.header.prevBlock),
      mediantime: node.chain.getMedianTimePast(tip),
      nonce: confirming.header.nonce,
      bits: confirming.header.bits,
      difficulty: block.difficulty,
    });
    // regtest powLimit bits 0x207fffff: Core's GetDifficulty gives 4.656542373906925e-10.
    assert.ok(Math.abs(block.difficulty - 4.656542373906925e-10) < 1e-20);
    assert.deepEqual(await getJson(url, `/api/block/${hash}/status`), { in_best_chain: true, height: 111, next_best: null });
    assert.deepEqual(await getJson(url, `/api/block/${hashToHex(confirming.header.prevBlock)}/status`), {
      in_best_chain: true,
      height: 110,
      next_best: hash,
    });
    const txids = confirming.txs.map((x) => hashToHex(computeTxid(x)));
    assert.deepEqual(await getJson(url, `/api/block/${hash}/txids`), txids);
    assert.equal(await getText(url, `/api/block/${hash}/txid/2`), txids[2]);
    const txs = await getJson(url, `/api/block/${hash}/txs`);
    assert.deepEqual(txs.map((x: { txid: string }) => x.txid), txids);
    assert.deepEqual(await getJson(url, `/api/block/${hash}/txs/0`), txs);
    assert.equal(txs[1].fee, Number(FEE));
    await expectStatus(url, `/api/block/${hash}/txs/3`, 400, /multipication of 25/);
    await expectStatus(url, `/api/block/${hash}/txs/25`, 400, /out of range/);
    await expectStatus(url, `/api/block/${hash}/txid/9`, 404, /not found/);
    const raw = await request(url, `/api/block/${hash}/raw`);
    assert.equal(raw.type, 'application/octet-stream');
    assert.ok(bytesEqual(raw.bytes, node.chain.getRawBlock(tip.hash)!));
    assert.equal(await getText(url, `/api/block/${hash}/header`), bytesToHex(encodeBlockHeader(confirming.header)));

    const list = await getJson(url, '/api/blocks');
    assert.deepEqual(list.map((b: { height: number }) => b.height), [111, 110, 109, 108, 107, 106, 105, 104, 103, 102]);
    assert.deepEqual(list[0], block);
    const low = await getJson(url, '/api/blocks/5');
    assert.deepEqual(low.map((b: { height: number }) => b.height), [5, 4, 3, 2, 1, 0]);
    assert.equal(low[5].previousblockhash, null, 'the genesis has previousblockhash null, as Esplora');
    assert.equal(low[5].id, params.genesisHashHex);
  });

  await t.test('mempool.space v1 block list, block and difficulty adjustment', async () => {
    const v1 = await getJson(url, '/api/v1/blocks/111');
    assert.equal(v1.length, 10);
    assert.deepEqual(v1.map((b: { height: number }) => b.height), [111, 110, 109, 108, 107, 106, 105, 104, 103, 102]);
    const [top] = v1;
    assert.equal(top.id, tip.hashHex);
    assert.equal(top.stale, false);
    assert.equal(top.extras.totalFees, 3 * Number(FEE));
    assert.equal(top.extras.reward, Number(confirming.txs[0]!.outputs.reduce((s, o) => s + o.value, 0n)));
    assert.equal(top.extras.reward, 50 * 100_000_000 + 3 * Number(FEE));
    assert.equal(top.extras.totalInputs, 3);
    assert.equal(top.extras.totalOutputs, confirming.txs.reduce((s, x) => s + x.outputs.length, 0));
    assert.equal(top.extras.segwitTotalTxs, 3);
    assert.equal(top.extras.header, bytesToHex(encodeBlockHeader(confirming.header)));
    assert.equal(top.extras.coinbaseAddress, minerAddress);
    const rates = spends.map((x) => Number(FEE) / getTxVsize(x)).sort((a, b) => a - b);
    assert.equal(top.extras.medianFee, rates[1]);
    assert.deepEqual(await getJson(url, '/api/v1/blocks'), v1);
    assert.deepEqual(await getJson(url, `/api/v1/block/${tip.hashHex}`), top);

    const da = await getJson(url, '/api/v1/difficulty-adjustment');
    // regtest has no retargeting: a virtual 2,016-block epoch that never changes the difficulty.
    assert.equal(da.remainingBlocks, 2016 - 111);
    assert.equal(da.nextRetargetHeight, 2016);
    assert.equal(da.progressPercent, (111 / 2016) * 100);
    assert.equal(da.difficultyChange, 0);
    assert.equal(da.previousRetarget, 0);
    assert.equal(da.timeOffset, 0);
    assert.equal(da.previousTime, params.genesis.header.time);
    for (const key of ['estimatedRetargetDate', 'remainingTime', 'timeAvg', 'adjustedTimeAvg', 'expectedBlocks']) {
      assert.equal(typeof da[key], 'number', key);
    }
  });

  await t.test('address routes after confirmation: stats, history paging, utxos', async () => {
    // Expected values computed from the main chain's blocks, independently of the address index.
    const fundedOutpoints = new Map<string, number>();
    const blocks = Array.from({ length: tip.height }, (_, i) => node.chain.getBlock(node.chain.getEntryByHeight(i + 1)!.hash)!);
    for (const block of blocks) {
      for (const x of block.txs) {
        const id = hashToHex(computeTxid(x));
        x.outputs.forEach((o, i) => {
          if (bytesEqual(o.scriptPubKey, MINER.scriptPubKey)) fundedOutpoints.set(`${id}:${i}`, Number(o.value));
        });
      }
    }
    const history: string[] = [];
    let spentCount = 0;
    let spentSum = 0;
    for (const block of [...blocks].reverse()) {
      for (const x of [...block.txs].reverse()) {
        const id = hashToHex(computeTxid(x));
        const pays = x.outputs.some((o) => bytesEqual(o.scriptPubKey, MINER.scriptPubKey));
        const spendsFrom = x.inputs.filter((i) => fundedOutpoints.has(`${hashToHex(i.prevout.txid)}:${i.prevout.index}`));
        for (const i of spendsFrom) {
          spentCount++;
          spentSum += fundedOutpoints.get(`${hashToHex(i.prevout.txid)}:${i.prevout.index}`)!;
        }
        if (pays || spendsFrom.length > 0) history.push(id);
      }
    }
    const fundedSum = [...fundedOutpoints.values()].reduce((a, b) => a + b, 0);
    const stats = await getJson(url, `/api/address/${minerAddress}`);
    assert.deepEqual(stats.chain_stats, {
      funded_txo_count: fundedOutpoints.size,
      funded_txo_sum: fundedSum,
      spent_txo_count: spentCount,
      spent_txo_sum: spentSum,
      tx_count: history.length,
    });
    assert.equal(stats.mempool_stats.tx_count, 0);

    const first = await getJson(url, `/api/address/${minerAddress}/txs`);
    assert.deepEqual(first.map((x: { txid: string }) => x.txid), history.slice(0, 25));
    assert.deepEqual(await getJson(url, `/api/address/${minerAddress}/txs/chain`), first);
    const walked: string[] = first.map((x: { txid: string }) => x.txid);
    for (;;) {
      const page = await getJson(url, `/api/address/${minerAddress}/txs/chain/${walked[walked.length - 1]}`);
      if (page.length === 0) break;
      assert.ok(page.length <= 25);
      walked.push(...page.map((x: { txid: string }) => x.txid));
    }
    assert.deepEqual(walked, history, 'paging walks the whole history, newest first');
    assert.deepEqual(await getJson(url, `/api/address/${minerAddress}/txs/mempool`), []);

    const aliceUtxos = await getJson<{ txid: string; vout: number; value: number; status: { confirmed: boolean; block_height: number } }[]>(
      url,
      `/api/address/${aliceAddress}/utxo`,
    );
    assert.deepEqual(
      aliceUtxos.map((u) => u.txid).sort(),
      spends.map((s) => hashToHex(computeTxid(s))).sort(),
    );
    assert.ok(aliceUtxos.every((u) => u.vout === 0 && u.value === Number(SEND) && u.status.confirmed && u.status.block_height === 111));
    const alice = await getJson(url, `/api/address/${aliceAddress}`);
    assert.deepEqual(alice.chain_stats, { funded_txo_count: 3, funded_txo_sum: 3 * Number(SEND), spent_txo_count: 0, spent_txo_sum: 0, tx_count: 3 });
  });

  await t.test('malformed input answers 400, unknown objects 404, with plain-text reasons', async () => {
    const zeros = '0'.repeat(64);
    await expectStatus(url, '/api/tx/1234', 400, /^Invalid hex string$/);
    await expectStatus(url, `/api/tx/${'g'.repeat(64)}`, 400, /^Invalid hex string$/);
    await expectStatus(url, `/api/tx/${zeros}`, 404, /^Transaction not found$/);
    await expectStatus(url, `/api/tx/${zeros}/hex`, 404, /^Transaction not found$/);
    await expectStatus(url, `/api/tx/${zeros}/status`, 404, /^Transaction not found$/);
    await expectStatus(url, `/api/tx/${zeros}/merkle-proof`, 404, /not found/);
    await expectStatus(url, `/api/tx/${txid}/outspend/7`, 404, /not found/);
    await expectStatus(url, `/api/tx/${txid}/outspend/x`, 400, /Invalid vout/);
    await expectStatus(url, `/api/block/${zeros}`, 404, /^Block not found$/);
    await expectStatus(url, '/api/block/xyz/txs', 400, /^Invalid hex string$/);
    await expectStatus(url, '/api/block-height/999', 404, /^Block not found$/);
    await expectStatus(url, '/api/block-height/-1', 400, /Invalid height/);
    await expectStatus(url, '/api/blocks/abc', 400, /Invalid height/);
    await expectStatus(url, '/api/v1/blocks/abc', 400, /Invalid height/);
    await expectStatus(url, '/api/address/notanaddress', 400, /^Invalid address/);
    // A valid address of another network (Bitcoin's bc1 HRP).
    await expectStatus(url, `/api/address/${testKeyAddress(ALICE, 'bc')}`, 400, /^Invalid address: wrong-hrp/);
    await expectStatus(url, `/api/address/${aliceAddress}/txs/chain/zz`, 400, /Invalid hex string/);
    assert.deepEqual(await getJson(url, `/api/address/${aliceAddress}/txs/chain/${zeros}`), []);
    await expectStatus(url, '/api/nope', 404, /Not found/);
    // Errors from the router and the HTTP parser are plain text too (they were Fastify's JSON).
    const badUrl = await request(url, '/api/tx/%');
    assert.deepEqual([badUrl.status, badUrl.type, badUrl.text], [400, 'text/plain', 'Invalid URL encoding']);
    const longUrl = await request(url, `/api/address/${'q'.repeat(100_000)}`);
    assert.deepEqual([longUrl.status, longUrl.type, longUrl.text], [431, 'text/plain', 'Request Header Fields Too Large']);
    // A body over the limit is refused before it is decoded.
    const huge = await request(url, '/api/tx', { method: 'POST', body: 'a'.repeat(MAX_TX_HEX_BODY + 1) });
    assert.deepEqual([huge.status, huge.type], [413, 'text/plain']);
    assert.match(huge.text, /too large/);
    await expectStatus(url, '/api/tx', 400, /"code":-22.*TX decode failed/, { method: 'POST', body: '['.repeat(100_001) });
  });

  await t.test('OpenAPI document lists every route with its schemas', async () => {
    const doc = await getJson(url, '/api/openapi.json');
    assert.match(doc.openapi, /^3\./);
    for (const [method, path] of ROUTES) {
      const op = doc.paths[path]?.[method];
      assert.ok(op, `${method.toUpperCase()} ${path} is documented`);
      assert.ok(op.responses, `${path} has responses`);
      if (path.includes('{')) assert.ok(op.parameters?.length > 0, `${path} documents its path parameters`);
    }
    const txOk = doc.paths['/api/tx/{txid}'].get.responses['200'].content['application/json'].schema;
    assert.ok(txOk.properties.vin && txOk.properties.status && txOk.properties.fee, 'the tx response schema has Esplora fields');
    assert.ok(doc.paths['/api/tx'].post.requestBody, 'POST /api/tx documents its body');
  });

  await t.test('/metrics: node gauges, chain counters, request counter, process metrics', async () => {
    const text = await getText(url, '/metrics');
    const value = (name: string): number => {
      const line = text.split('\n').find((l) => l.startsWith(`${name} `));
      assert.ok(line, `${name} present`);
      return Number(line.split(' ')[1]);
    };
    assert.equal(value('cairn_chain_height'), 111);
    assert.equal(value('cairn_chain_tip_timestamp_seconds'), confirming.header.time);
    assert.equal(value('cairn_mempool_transactions'), 0);
    assert.equal(value('cairn_mempool_vsize_bytes'), 0);
    assert.equal(value('cairn_mempool_fees_sats'), 0);
    assert.equal(value('cairn_peers'), 0);
    assert.equal(value('cairn_hashrate_hashes_per_second'), 0);
    assert.equal(value('cairn_blocks_connected_total'), 111, 'every block connected since the server started');
    assert.equal(value('cairn_reorgs_total'), 0);
    assert.match(text, /cairn_http_requests_total\{route="\/api\/tx\/:txid",status="200"\} \d+/);
    assert.match(text, /cairn_http_requests_total\{route="\/api\/tx",status="400"\} \d+/);
    assert.match(text, /cairn_http_requests_total\{route="unmatched",status="404"\} 1/);
    assert.ok(value('process_resident_memory_bytes') > 0);
    assert.match(text, /# TYPE nodejs_eventloop_lag_seconds gauge/);
  });
});

test('REST API: the rate limit answers 429 with a plain-text reason', async (t) => {
  const env = await openRestTestNode({ rest: { rateLimit: { max: 3, timeWindowMs: 60_000 } } });
  t.after(() => env.close());
  for (let i = 0; i < 3; i++) assert.equal((await request(env.url, '/api/blocks/tip/height')).status, 200);
  const r = await request(env.url, '/api/blocks/tip/height');
  assert.equal(r.status, 429);
  assert.match(r.type ?? '', /text\/plain/);
  assert.match(r.text, /Too many requests/);
  assert.ok(Number(r.headers.get('retry-after')) > 0, 'Retry-After header');
  assert.equal(r.headers.get('access-control-allow-origin'), '*');
});

test('REST API: rate limit off sustains a burst; CORS preflight', async (t) => {
  const env = await openRestTestNode({ rest: { rateLimit: false } });
  t.after(() => env.close());
  const statuses = await Promise.all(Array.from({ length: 200 }, () => request(env.url, '/api/blocks/tip/hash')));
  assert.ok(statuses.every((r) => r.status === 200 && r.text === env.params.genesisHashHex));
  const pre = await request(env.url, '/api/tx', { method: 'OPTIONS', headers: { origin: 'http://example.test', 'access-control-request-method': 'POST' } });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), '*');
  assert.match(pre.headers.get('access-control-allow-methods') ?? '', /POST/);
});

test('REST API: POST /api/tx refuses absurd fees above maxfeerate (default 0.10 coin/kvB) unless raised', async (t) => {
  const env = await openRestTestNode();
  t.after(() => env.close());
  await env.mine(102, MINER);
  const [first, second] = spendableCoinbases(env.node.chain, MINER);
  // 0.02 coin of fee on a ~110 vB payment: about 18,000 sat/vB, above the 10,000 sat/vB default ceiling.
  const dear = buildSpend([first!], { key: ALICE, valueSats: SEND }, 2_000_000n).tx;
  const dearRate = (2_000_000 * 1000) / getTxVsize(dear);
  assert.ok(dearRate > 10_000_000, `test tx pays ${dearRate} sat/kvB`);
  const refused = await postTx(env.url, dear);
  assert.equal(refused.status, 400);
  assert.equal(refused.text, 'sendrawtransaction RPC error: {"code":-25,"message":"Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)"}');
  assert.equal(env.node.mempool.size, 0);

  const post = (tx: Tx, query: string): Promise<Reply> =>
    request(env.url, `/api/tx?${query}`, { method: 'POST', body: bytesToHex(encodeTx(tx)) });
  await expectStatus(env.url, '/api/tx?maxfeerate=abc', 400, /^sendrawtransaction RPC error: \{"code":-3,"message":"maxfeerate: Invalid amount"\}$/, {
    method: 'POST',
    body: bytesToHex(encodeTx(dear)),
  });
  assert.match((await post(dear, 'maxfeerate=1')).text, /"code":-8,"message":"maxfeerate: Fee rates larger than or equal to 1BTC\/kvB are not accepted"/);
  // A ceiling that allows 1 sat less than the fee still refuses it; one at its rate accepts it.
  const underRate = Math.floor(((2_000_000 - 1) * 1000) / getTxVsize(dear)) / 1e8;
  assert.match((await post(dear, `maxfeerate=${underRate.toFixed(8)}`)).text, /"code":-25/);
  const accepted = await post(dear, `maxfeerate=${(Math.ceil(dearRate) / 1e8).toFixed(8)}`);
  assert.deepEqual([accepted.status, accepted.text], [200, hashToHex(computeTxid(dear))]);
  // 0 lifts the ceiling, as Core's maxfeerate=0.
  const dearer = buildSpend([second!], { key: ALICE, valueSats: SEND }, 50_000_000n).tx;
  assert.equal((await post(dearer, 'maxfeerate=0')).text, hashToHex(computeTxid(dearer)));
  assert.equal(env.node.mempool.size, 2);
});

test('REST API: /address/:a/utxo lists up to the limit of confirmed outputs and answers 400 beyond it; the summary stays', async (t) => {
  assert.equal(DEFAULT_UTXOS_LIMIT, 500, "electrs's --utxos-limit default");
  const env = await openRestTestNode({ rest: { utxosLimit: 3 } });
  t.after(() => env.close());
  const address = testKeyAddress(ALICE, env.params.bech32Hrp);
  const blocks = await env.mine(3, ALICE);
  const listed = await getJson<{ txid: string; vout: number; value: number }[]>(env.url, `/api/address/${address}/utxo`);
  assert.deepEqual(
    listed.map((u) => `${u.txid}:${u.vout}`),
    blocks.map((b) => `${hashToHex(computeTxid(b.txs[0]!))}:0`),
    'oldest first',
  );
  await env.mine(1, ALICE);
  const refused = await request(env.url, `/api/address/${address}/utxo`);
  assert.equal(refused.status, 400);
  assert.match(refused.type ?? '', /text\/plain/);
  assert.equal(refused.text, 'Too many unspent transaction outputs (>3). Contact support to raise limits.');
  // The other address routes are not limited by it.
  const summary = await getJson(env.url, `/api/address/${address}`);
  assert.equal(summary.chain_stats.funded_txo_count, 4);
  assert.equal(summary.chain_stats.tx_count, 4);
  assert.equal((await getJson<unknown[]>(env.url, `/api/address/${address}/txs`)).length, 4);
});
