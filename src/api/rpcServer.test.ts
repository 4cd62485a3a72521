/**
 * JSON-RPC server against an in-process regtest FullNode: every method with real chain and mempool data, Core's
 * envelope (ids, batches, JSON-RPC 1.0 vs 2.0 statuses), auth (cookie, user/password, refusals) and error codes.
 * Expected values come from the node's own state, from hashes computed here with node:crypto, from the values the
 * test chose (fees, amounts), or from Bitcoin Core's documented formats and constants.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { computeMerkleRoot } from '../consensus/merkle.js';
import { silentLogger } from '../logging/logger.js';
import { solveBlockCpu } from '../mining/cpuSolver.js';
import { createNodeContext, FullNode } from '../node/fullNode.js';
import type { NodeContext } from '../interfaces/nodeContext.js';
import { regtest, test } from '../params/networks.js';
import { encodeBlock } from '../primitives/block.js';
import { blockHashFromHex, bytesToHex, hashToHex, hexToBytes } from '../primitives/hex.js';
import { computeTxid, encodeTx } from '../primitives/tx.js';
import type { Block, Tx } from '../primitives/types.js';
import { buildCoinbase } from '../testing/blockBuilder.js';
import { spendableCoinbases } from '../testing/chainFactory.js';
import { buildSpend, makeTestKey, testKeyAddress } from '../testing/txFactory.js';
import { waitFor } from '../testing/waitFor.js';
import { MAX_JSON_DEPTH } from './jsonShape.js';
import { MAX_BATCH_REQUESTS, startRpcServer, type RpcServer } from './rpcServer.js';
import { decodeBlockHash } from '../primitives/identity.js';

const NOW = 2_000_000_000;
const MINER = makeTestKey('rpc/miner', 'p2wpkh');
const ALICE = makeTestKey('rpc/alice', 'p2tr');
const MINER_ADDRESS = testKeyAddress(MINER, regtest.bech32Hrp);

/** sha256d, computed here with node:crypto. */
function sha256d(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(createHash('sha256').update(bytes).digest()).digest();
}

/** Display hex of sha256d (reversed), e.g. a block hash from its 80 header bytes. */
function displayHash(bytes: Uint8Array): string {
  return Buffer.from(sha256d(bytes)).reverse().toString('hex');
}

interface Reply {
  status: number;
  text: string;
  body: any;
  headers: Headers;
}

describe('JSON-RPC server on a regtest node', () => {
  let datadir: string;
  let node: FullNode;
  let context: NodeContext;
  let server: RpcServer;
  let cookie: string;
  let shutdownRequests = 0;

  async function post(body: string, userPass: string | null = cookie, url = server.url): Promise<Reply> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (userPass !== null) headers['authorization'] = `Basic ${Buffer.from(userPass).toString('base64')}`;
    const res = await fetch(url, { method: 'POST', headers, body });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: res.status, text, body: parsed, headers: res.headers };
  }

  /** Calls a method (legacy JSON-RPC 1.0 envelope) and returns the whole reply. */
  function call(method: string, params: unknown = [], id: unknown = 1): Promise<Reply> {
    return post(JSON.stringify({ jsonrpc: '1.0', id, method, params }));
  }

  /** Calls a method that must succeed and returns its result. */
  async function result(method: string, params: unknown = []): Promise<any> {
    const reply = await call(method, params);
    assert.equal(reply.status, 200, `${method}: ${reply.text}`);
    assert.equal(reply.body.error, null);
    return reply.body.result;
  }

  /** Calls a method that must fail and returns its error object, checking the HTTP status. */
  async function rpcError(method: string, params: unknown, status = 500): Promise<{ code: number; message: string }> {
    const reply = await call(method, params);
    assert.equal(reply.status, status, `${method}: ${reply.text}`);
    assert.equal(reply.body.result, null);
    return reply.body.error;
  }

  before(async () => {
    datadir = mkdtempSync(join(tmpdir(), 'cairn-rpc-'));
    node = await FullNode.open({ params: regtest, datadir, scriptThreads: 1 }, { nowSec: () => NOW, logger: silentLogger() });
    context = createNodeContext(node, { requestShutdown: () => shutdownRequests++ });
    server = await startRpcServer({ port: 0, datadir }, { node: context, logger: silentLogger() });
    cookie = readFileSync(join(datadir, '.cookie'), 'utf8');
  });

  after(async () => {
    await server?.close();
    await node?.close();
    rmSync(datadir, { recursive: true, force: true });
  });

  it('writes a 0600 cookie and refuses requests without valid credentials', async () => {
    assert.match(cookie, /^__cookie__:[0-9a-f]{64}$/);
    assert.equal(statSync(join(datadir, '.cookie')).mode & 0o777, 0o600);
    assert.equal(server.cookiePath, join(datadir, '.cookie'));

    const none = await post(JSON.stringify({ method: 'getblockcount' }), null);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Basic realm="jsonrpc"');
    assert.equal(none.text, '');

    const wrong = await post(JSON.stringify({ method: 'getblockcount' }), '__cookie__:' + '0'.repeat(64));
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('www-authenticate'), 'Basic realm="jsonrpc"');

    const notBasic = await fetch(server.url, { method: 'POST', headers: { authorization: `Bearer ${cookie}` }, body: '{}' });
    assert.equal(notBasic.status, 401);

    assert.equal(await result('getblockcount'), 0);
  });

  it('user/password auth: accepts them, refuses the cookie of another server, writes no cookie', async () => {
    const otherDir = mkdtempSync(join(tmpdir(), 'cairn-rpc-pw-'));
    const pwServer = await startRpcServer(
      { port: 0, datadir: otherDir, rpcUser: 'alice', rpcPassword: 's3cret:with:colons' },
      { node: context, logger: silentLogger() },
    );
    try {
      assert.equal(pwServer.cookiePath, undefined);
      assert.equal(existsSync(join(otherDir, '.cookie')), false);
      const body = JSON.stringify({ id: 'x', method: 'getblockcount', params: [] });
      const ok = await post(body, 'alice:s3cret:with:colons', pwServer.url);
      assert.equal(ok.status, 200);
      assert.deepEqual(ok.body, { result: 0, error: null, id: 'x' });
      assert.equal((await post(body, 'alice:wrong', pwServer.url)).status, 401);
      assert.equal((await post(body, cookie, pwServer.url)).status, 401);
    } finally {
      await pwServer.close();
      rmSync(otherDir, { recursive: true, force: true });
    }
  });

  it('generatetoaddress mines 110 blocks paying the address; chain queries agree with the node', async () => {
    const hashes: string[] = await result('generatetoaddress', [110, MINER_ADDRESS]);
    assert.equal(hashes.length, 110);
    assert.equal(node.chain.height, 110);
    assert.equal(await result('getblockcount'), 110);
    assert.equal(await result('getbestblockhash'), hashes[109]);
    assert.equal(await result('getblockhash', [110]), hashes[109]);
    assert.equal(await result('getblockhash', [0]), regtest.genesisHashHex);
    hashes.forEach((h, i) => assert.equal(node.chain.getEntryByHeight(i + 1)?.hashHex, h));

    // getblock 0: the raw block; its first 80 bytes hash (sha256d here) to the block hash.
    const raw: string = await result('getblock', [hashes[4], 0]);
    assert.equal(displayHash(hexToBytes(raw.slice(0, 160))), hashes[4]);
    assert.equal(raw, bytesToHex(node.chain.getRawBlock(blockHashFromHex(hashes[4]!))!));

    // getblock 1: header fields with chain context, txids.
    const b1 = await result('getblock', [hashes[4]]);
    assert.equal(b1.hash, hashes[4]);
    assert.equal(b1.height, 5);
    assert.equal(b1.confirmations, 106);
    assert.equal(b1.previousblockhash, hashes[3]);
    assert.equal(b1.nextblockhash, hashes[5]);
    assert.equal(b1.nTx, 1);
    assert.equal(b1.tx.length, 1);
    assert.equal(b1.size, raw.length / 2);
    assert.equal(b1.bits, '207fffff');
    assert.equal(b1.chainwork, node.chain.getEntry(blockHashFromHex(hashes[4]!))!.chainWork.toString(16).padStart(64, '0'));
    assert.equal(b1.mediantime, node.chain.getMedianTimePast(node.chain.getEntry(blockHashFromHex(hashes[4]!))!));
    // The coinbase has no witness here (no witness txs, no commitment): txid = sha256d of its bytes.
    const b2 = await result('getblock', [hashes[4], 2]);
    assert.equal(b2.tx[0].txid, b1.tx[0]);
    assert.equal(displayHash(hexToBytes(b2.tx[0].hex)), b1.tx[0]);
    assert.equal(b2.tx[0].vout[0].scriptPubKey.address, MINER_ADDRESS);
    assert.equal(b2.tx[0].vout[0].scriptPubKey.hex, bytesToHex(MINER.scriptPubKey));
    assert.equal(b2.tx[0].fee, undefined, 'a coinbase has no fee');
    // Amounts print with 8 decimals, as Core's ValueFromAmount.
    assert.match((await call('getblock', [hashes[4], 2])).text, /"value":50\.00000000,/);
    // verbosity as a boolean (Core accepts it): false = 0.
    assert.equal(await result('getblock', [hashes[4], false]), raw);

    // getblockheader: 80 bytes that hash to the block hash; verbose has the same header fields as getblock.
    const headerHex: string = await result('getblockheader', [hashes[4], false]);
    assert.equal(headerHex, raw.slice(0, 160));
    const header = await result('getblockheader', [hashes[4]]);
    for (const key of ['hash', 'confirmations', 'height', 'version', 'merkleroot', 'time', 'nonce', 'bits', 'chainwork', 'nTx', 'previousblockhash', 'nextblockhash']) {
      assert.deepEqual(header[key], b1[key], key);
    }
    const genesis = await result('getblockheader', [regtest.genesisHashHex]);
    assert.equal(genesis.previousblockhash, undefined, 'the genesis has no parent');
    assert.equal(genesis.height, 0);

    const tips = await result('getchaintips');
    assert.deepEqual(tips, [{ height: 110, hash: hashes[109], branchlen: 0, status: 'active' }]);
    // Core's regtest difficulty for bits 0x207fffff, printed with UniValue's 16 significant digits.
    assert.equal((await call('getdifficulty')).text, '{"result":4.656542373906925e-10,"error":null,"id":1}\n');
  });

  it('getblockchaininfo, gettxoutsetinfo, getmininginfo, getnetworkhashps describe the chain', async () => {
    const tip = node.chain.tip;
    const info = await result('getblockchaininfo');
    assert.equal(info.chain, 'regtest');
    assert.equal(info.blocks, 110);
    assert.equal(info.headers, 110);
    assert.equal(info.bestblockhash, tip.hashHex);
    assert.equal(info.difficulty, 4.656542373906925e-10);
    assert.equal(info.time, tip.header.time);
    assert.equal(info.mediantime, node.chain.getMedianTimePast(tip));
    assert.equal(info.verificationprogress, 1);
    assert.equal(info.initialblockdownload, false);
    assert.match(info.chainwork, /^[0-9a-f]{64}$/);
    assert.equal(BigInt('0x' + info.chainwork), tip.chainWork);
    assert.ok(info.size_on_disk > 0);
    assert.equal(info.pruned, false);
    assert.deepEqual(info.warnings, []);

    const utxo = await result('gettxoutsetinfo');
    const digest = node.chain.computeUtxoDigest();
    assert.equal(utxo.height, 110);
    assert.equal(utxo.bestblock, tip.hashHex);
    assert.equal(utxo.txouts, 110, 'one coinbase output per block (the genesis coinbase is unspendable)');
    assert.equal(utxo.hash_serialized_3, digest.hashSerialized);
    assert.match((await call('gettxoutsetinfo')).text, /"total_amount":5500\.00000000/);
    assert.equal((await result('gettxoutsetinfo', ['none'])).hash_serialized_3, undefined);
    assert.equal((await rpcError('gettxoutsetinfo', ['sha1'])).code, -8);
    assert.equal((await rpcError('gettxoutsetinfo', ['hash_serialized_3', 5])).code, -8);

    const mining = await result('getmininginfo');
    assert.equal(mining.blocks, 110);
    assert.equal(mining.chain, 'regtest');
    assert.equal(mining.pooledtx, 0);
    assert.equal(mining.difficulty, 4.656542373906925e-10);
    assert.equal(typeof mining.networkhashps, 'number');

    // Core's formula over the last 10 blocks, computed here from the block index.
    const start = node.chain.getEntryByHeight(100)!;
    const times = Array.from({ length: 11 }, (_, i) => node.chain.getEntryByHeight(100 + i)!.header.time);
    const spread = Math.max(...times) - Math.min(...times);
    assert.ok(spread > 0, 'block times differ in the window');
    const expected = Number(tip.chainWork - start.chainWork) / spread;
    // Core prints doubles with 16 significant digits.
    assert.equal(await result('getnetworkhashps', [10]), Number(expected.toPrecision(16)));
    assert.equal(await result('getnetworkhashps', [120, 0]), 0, 'the genesis alone has no rate');
    assert.equal((await rpcError('getnetworkhashps', [0])).code, -8);
    assert.equal((await rpcError('getnetworkhashps', [10, 111])).message, 'Block does not exist at specified height');
  });

  let spendTx: Tx;
  let spendTxid: string;
  let childTx: Tx;
  let childTxid: string;

  it('a spend goes through sendrawtransaction into the mempool, visible to every mempool method', async () => {
    const [coin, second] = spendableCoinbases(node.chain, MINER);
    assert.ok(coin && second, 'mature coinbases pay the miner');
    const spend = buildSpend([coin], { key: ALICE, valueSats: 10_000_000n }, 5_000n);
    spendTx = spend.tx;
    spendTxid = hashToHex(computeTxid(spendTx));
    const hex = bytesToHex(encodeTx(spendTx));

    // decoderawtransaction before sending: txid and outputs as built.
    const decoded = await result('decoderawtransaction', [hex]);
    assert.equal(decoded.txid, spendTxid);
    assert.equal(decoded.vin[0].txid, hashToHex(coin.outpoint.txid));
    assert.equal(decoded.vout[0].scriptPubKey.address, testKeyAddress(ALICE, regtest.bech32Hrp));
    assert.match((await call('decoderawtransaction', [hex])).text, /"value":0\.10000000,/);

    // testmempoolaccept: allowed, with the fee we chose.
    const [test] = await result('testmempoolaccept', [[hex]]);
    assert.equal(test.txid, spendTxid);
    assert.equal(test.allowed, true);
    assert.equal(test.vsize, decoded.vsize);
    assert.match((await call('testmempoolaccept', [[hex]])).text, /"base":0\.00005000/);
    // A maxfeerate below the tx's rate refuses it.
    const [tooDear] = await result('testmempoolaccept', [[hex], 0.00001]);
    assert.equal(tooDear.allowed, false);
    assert.equal(tooDear['reject-reason'], 'max-fee-exceeded');
    assert.equal(node.mempool.size, 0, 'testmempoolaccept adds nothing');

    // sendrawtransaction's maxfeerate (Core's BroadcastTransaction): over it, -25 and nothing enters the mempool.
    assert.deepEqual(await rpcError('sendrawtransaction', [hex, 0.00001]), {
      code: -25,
      message: 'Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)',
    });
    assert.deepEqual(await rpcError('sendrawtransaction', [hex, 1]), { code: -8, message: 'Fee rates larger than or equal to 1BTC/kvB are not accepted' });
    assert.equal(node.mempool.size, 0);
    assert.equal(await result('sendrawtransaction', [hex]), spendTxid);
    assert.equal(await result('sendrawtransaction', [hex]), spendTxid, 'resending a mempool tx answers its txid');
    assert.deepEqual(await result('getrawmempool'), [spendTxid]);
    const withSequence = await result('getrawmempool', [false, true]);
    assert.deepEqual(withSequence.txids, [spendTxid]);
    assert.ok(withSequence.mempool_sequence >= 1);
    assert.equal((await rpcError('getrawmempool', [true, true])).code, -8);

    const entry = await result('getmempoolentry', [spendTxid]);
    assert.equal(entry.vsize, decoded.vsize);
    assert.equal(entry.weight, decoded.weight);
    assert.equal(entry.time, NOW);
    assert.equal(entry.height, 110);
    assert.equal(entry.wtxid, decoded.hash);
    assert.equal(entry.ancestorcount, 1);
    assert.equal(entry.descendantcount, 1);
    assert.deepEqual(entry.depends, []);
    assert.deepEqual(entry.spentby, []);
    assert.equal(entry['bip125-replaceable'], true);
    assert.equal(entry.unbroadcast, false);
    const entryText = (await call('getmempoolentry', [spendTxid])).text;
    assert.match(entryText, /"fees":\{"base":0\.00005000,"modified":0\.00005000,"ancestor":0\.00005000,"descendant":0\.00005000\}/);
    assert.deepEqual((await result('getrawmempool', [true]))[spendTxid], entry);

    const pool = await result('getmempoolinfo');
    assert.equal(pool.loaded, true);
    assert.equal(pool.size, 1);
    assert.equal(pool.bytes, decoded.vsize);
    assert.match((await call('getmempoolinfo')).text, /"total_fee":0\.00005000,.*"minrelaytxfee":0\.00001000/);

    // A child spending ALICE's new P2TR output: the two entries point at each other.
    const child = buildSpend([spend.created[0]!], { key: MINER, valueSats: 9_000_000n }, 3_000n);
    childTx = child.tx;
    childTxid = await result('sendrawtransaction', [bytesToHex(encodeTx(childTx))]);
    assert.equal(childTxid, hashToHex(computeTxid(childTx)));
    const childEntry = await result('getmempoolentry', [childTxid]);
    assert.deepEqual(childEntry.depends, [spendTxid]);
    assert.equal(childEntry.ancestorcount, 2);
    assert.match((await call('getmempoolentry', [childTxid])).text, /"ancestor":0\.00008000/);
    assert.deepEqual((await result('getmempoolentry', [spendTxid])).spentby, [childTxid]);
    assert.equal((await result('getmempoolentry', [spendTxid])).descendantcount, 2);
    assert.deepEqual(new Set(await result('getrawmempool')), new Set([spendTxid, childTxid]));

    // The same coin again: already in the mempool by txid (Core: txn-already-in-mempool).
    const [again] = await result('testmempoolaccept', [[hex]]);
    assert.equal(again.allowed, false);
    assert.equal(again['reject-reason'], 'txn-already-in-mempool');
    // A conflicting spend paying the same fee is refused with Core's RBF reason and code -26.
    const conflict = buildSpend([coin], { key: ALICE, valueSats: 20_000_000n }, 5_000n).tx;
    const refused = await rpcError('sendrawtransaction', [bytesToHex(encodeTx(conflict))]);
    assert.equal(refused.code, -26);
    assert.match(refused.message, /^insufficient fee/);

    // gettxout: the spent coinbase is gone with the mempool, present without; the new output has 0 confirmations.
    assert.equal(await result('gettxout', [hashToHex(coin.outpoint.txid), 0]), null);
    const confirmed = await result('gettxout', [hashToHex(coin.outpoint.txid), 0, false]);
    assert.equal(confirmed.coinbase, true);
    assert.equal(confirmed.confirmations, 110 - 1 + 1);
    assert.equal(confirmed.bestblock, node.chain.tip.hashHex);
    assert.equal(confirmed.scriptPubKey.address, MINER_ADDRESS);
    assert.equal(await result('gettxout', [spendTxid, 0]), null, 'spent by the child in the mempool');
    const pending = await result('gettxout', [spendTxid, 1]);
    assert.equal(pending.confirmations, 0);
    assert.equal(pending.coinbase, false);
    assert.match((await call('gettxout', [spendTxid, 1])).text, /"value":49\.89995000/);
    assert.equal(await result('gettxout', [spendTxid, 7]), null);

    // getrawtransaction from the mempool: no block fields.
    assert.equal(await result('getrawtransaction', [spendTxid]), hex);
    const verbose = await result('getrawtransaction', [spendTxid, true]);
    assert.equal(verbose.hex, hex);
    assert.equal(verbose.blockhash, undefined);

    // estimatesmartfee: the mempool is shallow, so the floor: Core's default min relay fee, 1000 sat/kvB.
    const estimate = (await call('estimatesmartfee', [6])).text;
    assert.match(estimate, /"result":\{"feerate":0\.00001000,"blocks":6\}/);
    assert.equal((await rpcError('estimatesmartfee', [0])).message, 'Invalid conf_target, must be between 1 and 1008');
    assert.equal((await rpcError('estimatesmartfee', [6, 'cheap'])).code, -8);
  });

  it('getblocktemplate carries the tx; generatetoaddress confirms it; getrawtransaction shows the block', async () => {
    const template = await result('getblocktemplate', [{ rules: ['segwit'] }]);
    assert.equal(template.height, 111);
    assert.equal(template.previousblockhash, node.chain.tip.hashHex);
    assert.equal(template.transactions.length, 2);
    const [t, c] = template.transactions;
    assert.equal(t.txid, spendTxid);
    assert.equal(t.data, bytesToHex(encodeTx(spendTx)));
    assert.equal(t.fee, 5000);
    assert.deepEqual(t.depends, []);
    assert.equal(t.sigops, 1, 'one P2WPKH input');
    assert.equal(c.txid, childTxid);
    assert.deepEqual(c.depends, [1], 'BIP-22: 1-based index of the parent in the list');
    assert.equal(c.fee, 3000);
    assert.equal(c.sigops, 0, 'a P2TR key-path input');
    assert.equal(template.coinbasevalue, 50 * 100_000_000 + 5000 + 3000);
    assert.equal(template.bits, '207fffff');
    assert.equal(BigInt('0x' + template.target), regtest.powLimit);
    assert.equal(template.noncerange, '00000000ffffffff');
    assert.deepEqual(template.mutable, ['time', 'transactions', 'prevblock']);
    assert.equal(template.mintime, node.chain.getMedianTimePast(node.chain.tip) + 1);
    assert.equal(template.weightlimit, 4_000_000);
    assert.match(template.default_witness_commitment, /^6a24aa21a9ed[0-9a-f]{64}$/);
    assert.equal(template.longpollid.slice(0, 64), node.chain.tip.hashHex);
    const mining = await result('getmininginfo');
    assert.equal(mining.currentblocktx, 2);
    assert.equal(mining.pooledtx, 2);

    const [blockHash] = await result('generatetoaddress', [1, MINER_ADDRESS]);
    assert.equal(node.mempool.size, 0);
    const tx = await result('getrawtransaction', [spendTxid, 1]);
    assert.equal(tx.blockhash, blockHash);
    assert.equal(tx.confirmations, 1);
    assert.equal(tx.time, node.chain.tip.header.time);
    assert.equal(tx.blocktime, node.chain.tip.header.time);
    const withPrevout = await result('getrawtransaction', [spendTxid, 2]);
    assert.equal(withPrevout.vin[0].prevout.generated, true);
    assert.equal(withPrevout.vin[0].prevout.scriptPubKey.address, MINER_ADDRESS);
    assert.match((await call('getrawtransaction', [spendTxid, 2])).text, /"fee":0\.00005000/);
    const inBlock = await result('getrawtransaction', [spendTxid, 1, blockHash]);
    assert.equal(inBlock.in_active_chain, true);
    const block = await result('getblock', [blockHash, 2]);
    assert.equal(block.tx[1].txid, spendTxid);
    assert.equal(block.tx[2].txid, childTxid);
    assert.match((await call('getblock', [blockHash, 2])).text, /"fee":0\.00005000/);
    const block3 = await result('getblock', [blockHash, 3]);
    assert.equal(block3.tx[1].vin[0].prevout.height, 1);

    const already = await rpcError('sendrawtransaction', [bytesToHex(encodeTx(spendTx))]);
    assert.deepEqual(already, { code: -27, message: 'Transaction outputs already in utxo set' });
    assert.deepEqual(await rpcError('getrawtransaction', [spendTxid, 0, node.chain.getEntryByHeight(3)!.hashHex]), {
      code: -5,
      message: 'No such transaction found in the provided block. Use gettransaction for wallet transactions.',
    });
  });

  /** A block built here from a getblocktemplate result: coinbase, witness commitment, merkle root, nonce. */
  function blockFromTemplate(template: any, tag: number): Block {
    const coinbase = buildCoinbase({
      height: template.height,
      extraNonce: Uint8Array.of(tag),
      outputs: [
        { value: BigInt(template.coinbasevalue), scriptPubKey: MINER.scriptPubKey },
        ...(template.default_witness_commitment ? [{ value: 0n, scriptPubKey: hexToBytes(template.default_witness_commitment) }] : []),
      ],
    });
    const txs: Tx[] = [coinbase];
    const txids = [computeTxid(coinbase), ...template.transactions.map((t: any) => hexToBytes(t.txid).reverse())];
    return {
      header: {
        version: template.version,
        prevBlock: blockHashFromHex(template.previousblockhash),
        merkleRoot: computeMerkleRoot(txids).root,
        time: template.curtime,
        bits: parseInt(template.bits, 16),
        nonce: 0,
      },
      txs,
    };
  }

  it('getblocktemplate → solve → submitblock: null, then duplicate; corrupted blocks get Core reject reasons', async () => {
    assert.deepEqual(await rpcError('getblocktemplate', []), {
      code: -8,
      message: 'getblocktemplate must be called with the segwit rule set (call with {"rules": ["segwit"]})',
    });
    assert.equal((await rpcError('getblocktemplate', [{ rules: ['segwit'], mode: 'proposal' }])).code, -8);
    const template = await result('getblocktemplate', [{ rules: ['segwit'] }]);
    assert.equal(template.transactions.length, 0);

    const solved = solveBlockCpu(blockFromTemplate(template, 1), regtest.powLimit)!;
    const hex = bytesToHex(encodeBlock(solved));
    assert.equal(await result('submitblock', [hex]), null);
    assert.equal(await result('getbestblockhash'), displayHash(hexToBytes(hex.slice(0, 160))));
    assert.equal(await result('submitblock', [hex]), 'duplicate');

    const next = await result('getblocktemplate', [{ rules: ['segwit'] }]);
    const good = solveBlockCpu(blockFromTemplate(next, 2), regtest.powLimit)!;
    const badMerkle: Block = { ...good, header: { ...good.header, merkleRoot: new Uint8Array(32) } };
    const solvedBadMerkle = solveBlockCpu(badMerkle, regtest.powLimit)!;
    assert.equal(await result('submitblock', [bytesToHex(encodeBlock(solvedBadMerkle))]), 'bad-txnmrklroot');
    // A nonce whose hash misses the target (regtest: about one nonce in two).
    let nonce = 0;
    while (solveBlockCpu({ ...good, header: { ...good.header, nonce } }, regtest.powLimit, 1) !== null) nonce++;
    assert.equal(await result('submitblock', [bytesToHex(encodeBlock({ ...good, header: { ...good.header, nonce } }))]), 'high-hash');
    // A block on an unknown parent is held, not connected.
    const orphan = solveBlockCpu({ ...good, header: { ...good.header, prevBlock: decodeBlockHash(new Uint8Array(32).fill(7)) } }, regtest.powLimit)!;
    assert.equal(await result('submitblock', [bytesToHex(encodeBlock(orphan))]), 'inconclusive');

    assert.deepEqual(await rpcError('submitblock', ['00ff']), { code: -22, message: 'Block decode failed' });
    assert.equal(await result('submitblock', [bytesToHex(encodeBlock(good))]), null);
  });

  it('getblocktemplate longpoll answers when the tip changes', async () => {
    const template = await result('getblocktemplate', [{ rules: ['segwit'] }]);
    const waiting = result('getblocktemplate', [{ rules: ['segwit'], longpollid: template.longpollid }]);
    let answered = false;
    void waiting.then(() => (answered = true));
    // The positive signal that the longpoll is in place: getrpcinfo lists it among the active commands.
    const info = await waitFor('the longpoll among the active commands', async () => {
        const r = await result('getrpcinfo');
        return r.active_commands.some((c: { method: string }) => c.method === 'getblocktemplate') ? r : undefined;
      }, 10_000);
    assert.deepEqual(info.active_commands.map((c: { method: string }) => c.method).sort(), ['getblocktemplate', 'getrpcinfo']);
    assert.ok(info.active_commands.every((c: { duration: number }) => Number.isInteger(c.duration) && c.duration >= 0));
    assert.equal(answered, false, 'no change yet: still waiting');
    const [hash] = await result('generatetoaddress', [1, MINER_ADDRESS]);
    const fresh = await waiting;
    assert.equal(fresh.previousblockhash, hash);
    // A longpollid for an older tip answers at once.
    assert.equal((await result('getblocktemplate', [{ rules: ['segwit'], longpollid: template.longpollid }])).previousblockhash, hash);
  });

  it('network, util and control methods', async () => {
    assert.deepEqual(await result('getpeerinfo'), []);
    assert.equal(await result('getconnectioncount'), 0);
    const net = await result('getnetworkinfo');
    assert.equal(net.subversion, '/cairn:0.1.0/');
    assert.equal(net.connections, 0);
    assert.deepEqual(net.localaddresses, []);
    assert.match((await call('getnetworkinfo')).text, /"relayfee":0\.00001000,"incrementalfee":0\.00001000/);

    const valid = await result('validateaddress', [MINER_ADDRESS]);
    assert.deepEqual(valid, {
      isvalid: true,
      address: MINER_ADDRESS,
      scriptPubKey: bytesToHex(MINER.scriptPubKey),
      isscript: false,
      iswitness: true,
      witness_version: 0,
      witness_program: bytesToHex(MINER.scriptPubKey.subarray(2)),
    });
    const taproot = await result('validateaddress', [testKeyAddress(ALICE, regtest.bech32Hrp)]);
    assert.equal(taproot.witness_version, 1);
    assert.equal(taproot.isscript, true);
    // BIP-173's example mainnet address: valid bech32, wrong network for regtest.
    const foreign = await result('validateaddress', ['bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4']);
    assert.deepEqual(foreign, {
      isvalid: false,
      error_locations: [],
      error: `Invalid or unsupported prefix for Segwit (Bech32) address (expected ${regtest.bech32Hrp}, got bc).`,
    });
    assert.equal((await result('validateaddress', ['not an address'])).isvalid, false);
    const badChecksum = MINER_ADDRESS.slice(0, -1) + (MINER_ADDRESS.endsWith('q') ? 'p' : 'q');
    assert.equal((await result('validateaddress', [badChecksum])).error, 'Invalid Bech32 checksum');

    assert.equal(await result('uptime'), 0, 'the fixed clock has not moved since the node opened');

    const help: string = await result('help');
    assert.match(help, /^== Blockchain ==\n/);
    for (const method of [
      'getblockchaininfo', 'getblockcount', 'getbestblockhash', 'getblockhash', 'getblock', 'getblockheader', 'getchaintips',
      'getdifficulty', 'getrawtransaction', 'decoderawtransaction', 'sendrawtransaction', 'testmempoolaccept',
      'getmempoolinfo', 'getrawmempool', 'getmempoolentry', 'gettxout', 'gettxoutsetinfo', 'getblocktemplate',
      'submitblock', 'getmininginfo', 'getnetworkhashps', 'generatetoaddress', 'getpeerinfo', 'getconnectioncount',
      'getnetworkinfo', 'validateaddress', 'estimatesmartfee', 'uptime', 'help', 'stop',
    ]) {
      assert.match(help, new RegExp(`^${method}\\b`, 'm'), method);
    }
    assert.match(help, /^getblock "blockhash" \( verbosity \)$/m);
    const one: string = await result('help', ['getblockhash']);
    assert.match(one, /^getblockhash height\n\nReturns hash of block in best-block-chain at height provided\.\n\nArguments:\n1\. height +\(numeric, required\) The height index/);
    assert.equal(await result('help', ['nosuchmethod']), 'help: unknown command: nosuchmethod');

    assert.equal(await result('stop'), 'cairn server stopping');
    await new Promise((r) => setImmediate(r));
    assert.equal(shutdownRequests, 1);
  });

  it('errors: Core codes, messages and HTTP statuses', async () => {
    const unknown = await call('nosuchmethod');
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.body, { result: null, error: { code: -32601, message: 'Method not found' }, id: 1 });
    // JSON-RPC 2.0: errors come with HTTP 200 and without the null member.
    const v2 = await post(JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'nosuchmethod' }));
    assert.equal(v2.status, 200);
    assert.deepEqual(v2.body, { jsonrpc: '2.0', error: { code: -32601, message: 'Method not found' }, id: 7 });
    const v2ok = await post(JSON.stringify({ jsonrpc: '2.0', id: 'a', method: 'getblockcount' }));
    assert.deepEqual(v2ok.body, { jsonrpc: '2.0', result: node.chain.height, id: 'a' });
    // A 2.0 notification (no id) gets no body.
    const notification = await post(JSON.stringify({ jsonrpc: '2.0', method: 'getblockcount' }));
    assert.equal(notification.status, 204);

    const parse = await post('{not json');
    assert.equal(parse.status, 500);
    assert.deepEqual(parse.body, { result: null, error: { code: -32700, message: 'Parse error' } });
    const noMethod = await post(JSON.stringify({ id: 3, params: [] }));
    assert.equal(noMethod.status, 400);
    assert.deepEqual(noMethod.body.error, { code: -32600, message: 'Missing method' });
    assert.equal(noMethod.body.id, 3);
    assert.equal((await post('42')).body.error.code, -32700);
    assert.equal((await fetch(server.url, { headers: { authorization: `Basic ${Buffer.from(cookie).toString('base64')}` } })).status, 405);

    assert.deepEqual(await rpcError('getblockhash', [99_999]), { code: -8, message: 'Block height out of range' });
    const typeError = await rpcError('getblockhash', ['1']);
    assert.equal(typeError.code, -3);
    assert.equal(typeError.message, 'Wrong type passed:\n{\n    "Position 1 (height)": "JSON value of type string is not of expected type number"\n}');
    const count = await rpcError('getblockhash', []);
    assert.equal(count.code, -1);
    assert.match(count.message, /^getblockhash height\n/);
    assert.equal((await rpcError('getblockcount', [1])).code, -1);

    assert.deepEqual(await rpcError('getblock', ['00'.repeat(32)]), { code: -5, message: 'Block not found' });
    assert.deepEqual(await rpcError('getblock', ['xyz']), { code: -8, message: "blockhash must be of length 64 (not 3, for 'xyz')" });
    assert.deepEqual(await rpcError('getblock', ['zz'.repeat(32)]), { code: -8, message: `blockhash must be hexadecimal string (not '${'zz'.repeat(32)}')` });
    assert.deepEqual(await rpcError('getrawtransaction', ['11'.repeat(32)]), {
      code: -5,
      message: 'No such mempool or blockchain transaction. Use gettransaction for wallet transactions.',
    });
    assert.deepEqual(await rpcError('getmempoolentry', ['11'.repeat(32)]), { code: -5, message: 'Transaction not in mempool' });
    assert.deepEqual(await rpcError('sendrawtransaction', ['zz']), {
      code: -22,
      message: 'TX decode failed. Make sure the tx has at least one input.',
    });
    assert.deepEqual(await rpcError('decoderawtransaction', ['0100']), { code: -22, message: 'TX decode failed' });
    assert.deepEqual(await rpcError('generatetoaddress', [1, 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4']), {
      code: -5,
      message: 'Error: Invalid address',
    });
    assert.equal((await rpcError('testmempoolaccept', [[]])).message, 'Array must contain between 1 and 25 transactions.');
  });

  it('named parameters and batches', async () => {
    assert.equal(await result('getblockhash', { height: 0 }), regtest.genesisHashHex);
    const tipHash = node.chain.tip.hashHex;
    assert.equal(await result('getblock', { blockhash: tipHash, verbosity: 0 }), await result('getblock', [tipHash, 0]));
    // The alias of Core's "verbosity|verbose".
    assert.equal((await result('getblock', { blockhash: tipHash, verbose: 1 })).hash, tipHash);
    // A hole before a given named argument is null (the default).
    assert.equal((await result('gettxoutsetinfo', { use_index: true })).height, node.chain.height);
    assert.deepEqual(await rpcError('getblockhash', { height: 0, depth: 1 }), { code: -8, message: 'Unknown named parameter depth' });

    const batch = await post(
      JSON.stringify([
        { id: 1, method: 'getblockcount' },
        { id: 2, method: 'nosuchmethod' },
        { jsonrpc: '2.0', method: 'getblockcount' },
        { id: 3, method: 'getblockhash', params: [0] },
        'junk',
      ]),
    );
    assert.equal(batch.status, 200);
    assert.deepEqual(batch.body, [
      { result: node.chain.height, error: null, id: 1 },
      { result: null, error: { code: -32601, message: 'Method not found' }, id: 2 },
      { result: regtest.genesisHashHex, error: null, id: 3 },
      { result: null, error: { code: -32600, message: 'Invalid Request object' } },
    ]);
    const empty = await post('[]');
    assert.equal(empty.status, 200);
    assert.deepEqual(empty.body, []);
  });

  it('refuses abuse with JSON-RPC errors that say why: deep nesting, non-scalar ids, oversized batches', async () => {
    const parseError = (message: string) => ({ result: null, error: { code: -32700, message } });
    const tooDeep = parseError(`Parse error: JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
    // An id nested 10,000 deep used to answer 500 "Cannot read properties of undefined (reading 'v2')".
    const deepId = await post(`{"id":${'['.repeat(10_000)}${']'.repeat(10_000)},"method":"getblockcount"}`);
    assert.equal(deepId.status, 500);
    assert.deepEqual(deepId.body, tooDeep);
    // Inside a batch it used to answer 500 "Maximum call stack size exceeded".
    const deepInBatch = await post(`[{"id":${'['.repeat(10_000)}${']'.repeat(10_000)},"method":"getblockcount"}]`);
    assert.deepEqual(deepInBatch.body, tooDeep);
    assert.deepEqual((await post(`${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`)).body, tooDeep);
    // Brackets inside strings are data, not nesting.
    assert.deepEqual((await post(JSON.stringify({ id: '['.repeat(10_000), method: 'getblockcount' }))).body, {
      result: node.chain.height,
      error: null,
      id: '['.repeat(10_000),
    });

    // Ids must be a number, a string or null (JSON-RPC 2.0 §4); the error reply carries id null.
    const invalidId = { code: -32600, message: 'Invalid Request object: id must be a number, a string or null' };
    for (const id of [{ a: 1 }, [1], true, `${'['.repeat(500)}${']'.repeat(500)}`]) {
      const body = typeof id === 'string' ? `{"id":${id},"method":"getblockcount"}` : JSON.stringify({ id, method: 'getblockcount' });
      const reply = await post(body);
      assert.equal(reply.status, 400, `id ${body.slice(0, 20)}`);
      assert.deepEqual(reply.body, { result: null, error: invalidId, id: null });
    }
    const v2BadId = await post(JSON.stringify([{ jsonrpc: '2.0', id: { a: 1 }, method: 'getblockcount' }, { id: null, method: 'getblockcount' }]));
    assert.deepEqual(v2BadId.body, [
      { jsonrpc: '2.0', error: invalidId, id: null },
      { result: node.chain.height, error: null, id: null },
    ]);

    // A batch over the cap is refused whole, before any of it runs; at the cap it runs.
    const stopsBefore = shutdownRequests;
    const atCap = await post(JSON.stringify(Array.from({ length: MAX_BATCH_REQUESTS }, (_, i) => ({ id: i, method: 'getblockcount' }))));
    assert.equal(atCap.status, 200);
    assert.equal(atCap.body.length, MAX_BATCH_REQUESTS);
    assert.deepEqual(atCap.body[MAX_BATCH_REQUESTS - 1], { result: node.chain.height, error: null, id: MAX_BATCH_REQUESTS - 1 });
    const overCap = await post(JSON.stringify(Array.from({ length: MAX_BATCH_REQUESTS + 1 }, () => ({ method: 'stop' }))));
    assert.equal(overCap.status, 400);
    assert.deepEqual(overCap.body, {
      result: null,
      error: { code: -32600, message: `Batch of ${MAX_BATCH_REQUESTS + 1} requests is over the limit of ${MAX_BATCH_REQUESTS} requests per batch; split it` },
    });
    const zeros = await post(`[${Array(2_000_000).fill('0').join(',')}]`);
    assert.equal(zeros.status, 400);
    assert.match(zeros.body.error.message, /^Batch of 2000000 requests is over the limit of 1000/);
    assert.equal(shutdownRequests, stopsBefore, 'no stop in the refused batch ran');
  });

  it('refuses a request without valid credentials before reading its body', async () => {
    // Headers announce a 32 MB body that never comes: only a server that answers before reading it can reply.
    const exchange = (method: string, headers = ''): Promise<string> =>
      new Promise((resolve, reject) => {
        const head = `${method} / HTTP/1.1\r\nHost: x\r\n${headers}Content-Length: 32000000\r\n\r\n`;
        const socket = connect(server.port, '127.0.0.1', () => socket.write(head));
        let text = '';
        socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
      });
    const none = await exchange('POST');
    assert.match(none, /^HTTP\/1\.1 401 /);
    assert.match(none, /\r\nwww-authenticate: Basic realm="jsonrpc"\r\n/i);
    assert.match(none, /\r\nconnection: close\r\n/i);
    const wrong = await exchange('POST', `Authorization: Basic ${Buffer.from('__cookie__:wrong').toString('base64')}\r\n`);
    assert.match(wrong, /^HTTP\/1\.1 401 /);
    // Other methods answer 405 at once, whatever their body, as Core's.
    const put = await exchange('PUT');
    assert.match(put, /^HTTP\/1\.1 405 /);
    assert.match(put, /JSONRPC server handles only POST requests$/);
  });

  it('generatetoaddress is refused where mining on demand is not allowed; the old tip means initial download', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-rpc-test-'));
    const testNode = await FullNode.open({ params: test, datadir: dir, scriptThreads: 1 }, { nowSec: () => NOW, logger: silentLogger() });
    const s = await startRpcServer({ port: 0, datadir: dir }, { node: createNodeContext(testNode), logger: silentLogger() });
    try {
      const body = JSON.stringify({ id: 1, method: 'generatetoaddress', params: [1, testKeyAddress(MINER, test.bech32Hrp)] });
      const reply = await post(body, readFileSync(join(dir, '.cookie'), 'utf8'), s.url);
      assert.equal(reply.status, 404);
      assert.equal(reply.body.error.code, -32601);
      assert.match(reply.body.error.message, /not available on test/);
      const info = await post(JSON.stringify({ id: 2, method: 'getblockchaininfo' }), readFileSync(join(dir, '.cookie'), 'utf8'), s.url);
      assert.equal(info.body.result.chain, 'test');
      assert.equal(info.body.result.initialblockdownload, true, 'the genesis is far older than 24 hours at NOW');
    } finally {
      await s.close();
      await testNode.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('close() deletes the cookie', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-rpc-close-'));
    try {
      const s = await startRpcServer({ port: 0, datadir: dir, bodyLimitBytes: 1000 }, { node: context, logger: silentLogger() });
      assert.equal(existsSync(join(dir, '.cookie')), true);
      const big = JSON.stringify({ id: 1, method: 'decoderawtransaction', params: ['00'.repeat(1000)] });
      assert.equal((await post(big, readFileSync(join(dir, '.cookie'), 'utf8'), s.url)).status, 413, 'body over the limit');
      await s.close();
      assert.equal(existsSync(join(dir, '.cookie')), false);
      await s.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
