import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyInput } from '../consensus/verifyInput.js';
import { sha256 } from '../crypto/hash.js';
import { bytesToHex, hashToHex, hexToBytes, txidFromHex } from '../primitives/hex.js';
import { computeTxid, decodeTx, encodeTx } from '../primitives/tx.js';
import type { TestKey } from '../testing/txFactory.js';
import { openRestTestNode } from '../../test/fixtures/restTestNode.js';
import { HdAccount, mnemonicToWalletSeed } from './hdAccount.js';
import { EsploraClient, parseEsploraTx } from './nodeClient.js';
import { buildPayment, makeWalletCoin, signTransaction } from './txBuilder.js';
import { isWalletError } from './walletError.js';
import { decodeTxid } from '../primitives/identity.js';

const SEED = mnemonicToWalletSeed('abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about');

/** The miner fixture wants a TestKey; only its scriptPubKey is used. */
function minerKeyOf(account: HdAccount, index: number): TestKey {
  const a = account.deriveAddress(0, index);
  return { kind: a.kind, privateKey: account.derivePrivateKey(0, index), publicKey: a.publicKey, scriptPubKey: a.scriptPubKey };
}

test('EsploraClient against a real cairn REST node: paged history, UTXOs, broadcast of a wallet tx, mempool, outspends', async (t) => {
  const env = await openRestTestNode();
  t.after(() => env.close());
  const client = new EsploraClient({ baseUrl: `${env.url}/api` });
  const account = HdAccount.fromSeed(SEED, env.params, 'p2wpkh');
  const receive = account.deriveAddress(0, 0);
  await env.mine(101, minerKeyOf(account, 0));

  assert.equal(await client.getTipHeight(), 101);
  // 101 coinbase txs: more than four pages of 25, so the client follows /txs/chain/:last_seen_txid.
  const history = await client.getAddressTxs(receive.address);
  assert.equal(history.length, 101);
  assert.equal(new Set(history.map((h) => h.txid)).size, 101);
  assert.ok(history.every((h) => h.status.confirmed && h.vin[0]!.isCoinbase));
  const heights = history.map((h) => h.status.blockHeight!);
  assert.deepEqual(heights, [...heights].sort((a, b) => b - a), 'newest first');
  assert.equal(heights.at(-1), 1);

  const utxos = await client.getAddressUtxos(receive.address);
  assert.equal(utxos.length, 101);
  // The oldest coinbase (height 1) is mature at tip 101: spend it with a wallet-built, wallet-signed tx.
  const oldest = history.at(-1)!;
  const coinUtxo = utxos.find((u) => u.txid === oldest.txid)!;
  assert.equal(coinUtxo.value, oldest.vout[coinUtxo.vout]!.value);
  const coin = makeWalletCoin({ txid: txidFromHex(coinUtxo.txid), index: coinUtxo.vout }, oldest.vout[coinUtxo.vout]!, receive, { height: 1, isCoinbase: true });
  const payee = HdAccount.fromSeed(sha256(new TextEncoder().encode('payee')), env.params, 'p2tr').deriveAddress(0, 0);
  const unsigned = buildPayment({
    outputs: [{ value: 1_000_000n, scriptPubKey: payee.scriptPubKey }],
    coins: [coin],
    feeRateSatPerKvb: 2000,
    changeAddress: account.deriveAddress(1, 0),
    locktime: 101,
  });
  const signed = signTransaction(unsigned.tx, unsigned.inputs, (a) => account.derivePrivateKey(a.chain, a.index));
  assert.ok(verifyInput(signed, 0, [coin.output]).valid);
  const txid = await client.broadcast(bytesToHex(encodeTx(signed)));
  assert.equal(txid, hashToHex(computeTxid(signed)));
  assert.ok(env.node.mempool.has(txidFromHex(txid)), 'the tx is in the node\'s mempool');

  const fetched = await client.getTx(txid);
  assert.equal(fetched.status.confirmed, false);
  assert.equal(fetched.feeSats, unsigned.feeSats);
  assert.deepEqual(fetched.vin[0]!.prevout, coin.output);
  assert.deepEqual(decodeTx(hexToBytes(await client.getTxHex(txid))), signed);
  const outspends = await client.getOutspends(oldest.txid);
  assert.deepEqual(outspends[coinUtxo.vout], { spent: true, txid, vin: 0, status: { confirmed: false } });
  // The payee sees it as an unconfirmed tx and an unconfirmed UTXO; the spent coinbase left the payer's UTXOs.
  const payeeTxs = await client.getAddressTxs(payee.address);
  assert.deepEqual(payeeTxs.map((x) => x.txid), [txid]);
  assert.deepEqual((await client.getAddressUtxos(payee.address)).map((u) => [u.txid, u.value, u.status.confirmed]), [[txid, 1_000_000n, false]]);
  assert.equal((await client.getAddressUtxos(receive.address)).length, 100);

  const estimates = await client.getFeeEstimates();
  assert.ok(estimates.size > 0);
  for (const [target, rate] of estimates) assert.ok(target >= 1 && rate >= 0);
});

test('EsploraClient errors: 404 → not-found, refused broadcast → http-error with the node\'s reason, no server, timeout, junk', async (t) => {
  const env = await openRestTestNode();
  t.after(() => env.close());
  const client = new EsploraClient({ baseUrl: `${env.url}/api/` });
  await assert.rejects(client.getTx('00'.repeat(32)), (e) => isWalletError(e, 'not-found') && e.httpStatus === 404 && /Transaction not found/.test(e.message));
  await assert.rejects(client.broadcast('zz'), (e) => isWalletError(e, 'http-error') && e.httpStatus === 400 && /TX decode failed/.test(e.message));
  // A well-formed tx spending a coin that does not exist: the node's reject reason reaches the caller.
  const account = HdAccount.fromSeed(SEED, env.params, 'p2wpkh');
  const ghost = makeWalletCoin({ txid: decodeTxid(sha256(Uint8Array.of(1))), index: 0 }, { value: 100_000n, scriptPubKey: account.deriveAddress(0, 0).scriptPubKey }, account.deriveAddress(0, 0));
  const u = buildPayment({ outputs: [{ value: 50_000n, scriptPubKey: account.deriveAddress(0, 1).scriptPubKey }], coins: [ghost], feeRateSatPerKvb: 1000, changeAddress: account.deriveAddress(1, 0), locktime: 0 });
  const tx = signTransaction(u.tx, u.inputs, (a) => account.derivePrivateKey(a.chain, a.index));
  await assert.rejects(client.broadcast(bytesToHex(encodeTx(tx))), (e) => isWalletError(e, 'http-error') && /missing-inputs|missingorspent/.test(e.message));

  // Nothing listening.
  const closed: Server = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  await assert.rejects(new EsploraClient({ baseUrl: `http://127.0.0.1:${port}/api` }).getTipHeight(), (e) => isWalletError(e, 'network-error'));

  // A server that never answers.
  const silent = createServer(() => undefined);
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  t.after(() => {
    silent.closeAllConnections();
    silent.close();
  });
  const silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/api`;
  await assert.rejects(new EsploraClient({ baseUrl: silentUrl, timeoutMs: 200 }).getTipHeight(), (e) => isWalletError(e, 'timeout'));

  // Bodies of the wrong shape.
  const junk = (body: string) => new EsploraClient({ baseUrl: 'http://x/api', fetch: async () => new Response(body, { status: 200 }) });
  await assert.rejects(junk('not json').getFeeEstimates(), (e) => isWalletError(e, 'bad-response'));
  await assert.rejects(junk('{"txid": 5}').getTx('00'.repeat(32)), (e) => isWalletError(e, 'bad-response'));
  await assert.rejects(junk('[{"txid":"' + '0'.repeat(64) + '","vout":0,"value":-1,"status":{"confirmed":false}}]').getAddressUtxos('a'), (e) => isWalletError(e, 'bad-response'));
  await assert.rejects(junk('abc').getTipHeight(), (e) => isWalletError(e, 'bad-response'));
  await assert.rejects(junk('not a txid').broadcast('00'), (e) => isWalletError(e, 'bad-response'));
  assert.throws(() => parseEsploraTx({ txid: '0'.repeat(64), version: 2, locktime: 0, vin: {}, vout: [], weight: 0, fee: 0, status: { confirmed: false } }), (e) => isWalletError(e, 'bad-response'));
});
