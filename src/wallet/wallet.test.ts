import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { pino } from 'pino';
import { computeBlockSubsidy } from '../consensus/subsidy.js';
import { verifyInput } from '../consensus/verifyInput.js';
import { encodeSegwitAddress } from '../crypto/address.js';
import { sha256 } from '../crypto/hash.js';
import { feeForVsize } from '../policy/feeRate.js';
import { checkReplacementFeeRate, checkReplacementFees } from '../mempool/replacement.js';
import { COIN } from '../consensus/amount.js';
import { bytesToHex, txidFromHex } from '../primitives/hex.js';
import { getTxVsize } from '../primitives/tx.js';
import type { TestKey } from '../testing/txFactory.js';
import { openRestTestNode } from '../../test/fixtures/restTestNode.js';
import { HdAccount, mnemonicToWalletSeed } from './hdAccount.js';
import { createKeystore } from './keystore.js';
import { EsploraClient } from './nodeClient.js';
import { RBF_SEQUENCE } from './txBuilder.js';
import { Wallet } from './wallet.js';
import { isWalletError } from './walletError.js';

const MNEMONIC = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
const SEED = mnemonicToWalletSeed(MNEMONIC);

function minerKey(account: HdAccount, index: number): TestKey {
  const a = account.deriveAddress(0, index);
  return { kind: a.kind, privateKey: account.derivePrivateKey(0, index), publicKey: a.publicKey, scriptPubKey: a.scriptPubKey };
}

test('Wallet against a real cairn REST node: discovery, balances, send with P2WPKH and P2TR inputs, bump fee, confirm', async (t) => {
  const env = await openRestTestNode();
  const dir = mkdtempSync(join(tmpdir(), 'cairn-wallet-'));
  t.after(async () => {
    await env.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const params = env.params;
  const client = new EsploraClient({ baseUrl: `${env.url}/api` });
  const logLines: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) });
  const wallet = Wallet.fromMnemonic(MNEMONIC, '', { params }, { client, logger });
  const p2wpkh = HdAccount.fromSeed(SEED, params, 'p2wpkh');
  const p2tr = HdAccount.fromSeed(SEED, params, 'p2tr');
  const payee = HdAccount.fromSeed(sha256(new TextEncoder().encode('payee')), params, 'p2wpkh').deriveAddress(0, 0);
  const outsider = HdAccount.fromSeed(sha256(new TextEncoder().encode('outsider miner')), params, 'p2wpkh');

  // Block 1 pays P2TR receive address 2 (0 and 1 never used: discovery must look past them), blocks 2..101 P2WPKH 0.
  await env.mine(1, minerKey(p2tr, 2));
  await env.mine(100, minerKey(p2wpkh, 0));
  const subsidy = (h: number) => computeBlockSubsidy(h, params);

  const summary = await wallet.sync();
  assert.deepEqual(summary, { tipHeight: 101, txCount: 101, utxoCount: 101 });
  // At tip 101 the coinbases of heights 1 and 2 are 100 deep for the next block: spendable; 3..101 immature.
  let immature = 0n;
  for (let h = 3; h <= 101; h++) immature += subsidy(h);
  assert.deepEqual(wallet.getBalance(), { confirmed: subsidy(1) + subsidy(2), unconfirmed: 0n, immature });
  assert.equal(wallet.newAddress(), p2wpkh.deriveAddress(0, 1).address);
  assert.equal(wallet.newAddress(), p2wpkh.deriveAddress(0, 2).address);

  const amount = 60n * COIN; // more than either mature coin: both are spent
  let sent: Awaited<ReturnType<Wallet['send']>> | undefined;
  await t.test('send: both kinds of input, signed validly, change to a fresh change address, RBF, locktime = tip', async () => {
    const payment = await wallet.send({ to: payee.address, amountSats: amount, feeRateSatPerVb: 2 });
    sent = payment;
    assert.ok(env.node.mempool.has(txidFromHex(payment.txid)), 'in the node\'s mempool');
    const prevouts = payment.inputs.map((c) => c.output);
    payment.tx.inputs.forEach((input, i) => {
      assert.ok(verifyInput(payment.tx, i, prevouts).valid, `input ${i}`);
      assert.equal(input.sequence, RBF_SEQUENCE);
    });
    assert.deepEqual(new Set(payment.inputs.map((c) => c.address.kind)), new Set(['p2wpkh', 'p2tr']));
    assert.equal(payment.tx.locktime, 101);
    assert.ok(payment.feeSats >= feeForVsize(2000, getTxVsize(payment.tx)));
    assert.ok(payment.changeIndex >= 0);
    assert.deepEqual(payment.tx.outputs[payment.changeIndex]!.scriptPubKey, p2wpkh.deriveAddress(1, 0).scriptPubKey);
    assert.equal(payment.tx.outputs[1 - payment.changeIndex]!.value, amount);
    assert.equal(payment.changeSats, subsidy(1) + subsidy(2) - amount - payment.feeSats);
    // Right after the broadcast (before any sync) the wallet already counts the change as pending.
    assert.deepEqual(wallet.getBalance(), { confirmed: 0n, unconfirmed: payment.changeSats, immature });
    await wallet.sync();
    assert.deepEqual(wallet.getBalance(), { confirmed: 0n, unconfirmed: payment.changeSats, immature });
    const [latest] = wallet.getHistory();
    assert.equal(latest!.txid, payment.txid);
    assert.equal(latest!.netSats, -(amount + payment.feeSats));
    assert.equal(latest!.feeSats, payment.feeSats);
    assert.equal(latest!.status.confirmed, false);

    // The next payment may spend the unconfirmed own change (created, signed, not broadcast).
    const next = await wallet.createPayment({ to: payee.address, amountSats: COIN, feeRateSatPerVb: 1 });
    assert.equal(bytesToHex(next.tx.inputs[0]!.prevout.txid.slice().reverse()), payment.txid);
    assert.equal(next.inputs[0]!.output.value, payment.changeSats);

  });

  await t.test('bumpFee: the replacement evicts the original and meets BIP-125 rules 3, 4 and 6', async () => {
    const original = sent;
    assert.ok(original !== undefined, 'needs the payment of the previous step');
    {
      const bump = await wallet.bumpFee(original.txid, 10);
      assert.equal(bump.replacesTxid, original.txid);
      assert.ok(env.node.mempool.has(txidFromHex(bump.txid)));
      assert.ok(!env.node.mempool.has(txidFromHex(original.txid)), 'the original was replaced');
      bump.tx.inputs.forEach((_, i) => assert.ok(verifyInput(bump.tx, i, bump.inputs.map((c) => c.output)).valid));
      checkReplacementFees(bump.txid, bump.feeSats, bump.vsize, original.feeSats, 1000);
      checkReplacementFeeRate(bump.txid, bump.feeSats, bump.vsize, [{ txidHex: original.txid, fee: original.feeSats, vsize: getTxVsize(original.tx) }]);
      assert.ok(bump.feeSats >= feeForVsize(10_000, bump.vsize));
      assert.equal(bump.tx.outputs.find((o) => o.value === amount)?.value, amount, 'the payment is kept');
      assert.equal(bump.changeSats, original.changeSats - (bump.feeSats - original.feeSats), 'the change paid the extra fee');

      // Mined by someone else: the replacement confirms and the coinbase of height 3 matures.
      await env.mine(1, minerKey(outsider, 0));
      await wallet.sync();
      assert.deepEqual(wallet.getBalance(), { confirmed: bump.changeSats + subsidy(3), unconfirmed: 0n, immature: immature - subsidy(3) });
      const history = wallet.getHistory();
      assert.ok(!history.some((h) => h.txid === original.txid), 'the replaced tx is gone from the history');
      const confirmed = history.find((h) => h.txid === bump.txid)!;
      assert.deepEqual(confirmed.status.confirmed && confirmed.status.blockHeight, 102);
      await assert.rejects(wallet.bumpFee(bump.txid, 20), (e) => isWalletError(e, 'tx-confirmed'));
    }
  });

  await t.test('payment errors: insufficient funds with the shortfall, foreign or unspendable addresses, fee below min relay', async () => {
    await assert.rejects(wallet.createPayment({ to: payee.address, amountSats: 1000n * COIN, feeRateSatPerVb: 1 }), (e) => {
      assert.ok(isWalletError(e, 'insufficient-funds'));
      assert.ok(e.shortfallSats! > 1000n * COIN - wallet.getBalance().confirmed - wallet.getBalance().unconfirmed);
      return true;
    });
    await assert.rejects(wallet.createPayment({ to: 'bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu', amountSats: COIN }), (e) => isWalletError(e, 'bad-address'));
    const p2wsh = encodeSegwitAddress(params.bech32Hrp, 0, new Uint8Array(32).fill(7));
    await assert.rejects(wallet.createPayment({ to: p2wsh, amountSats: COIN }), (e) => isWalletError(e, 'bad-address'));
    await assert.rejects(wallet.createPayment({ to: payee.address, amountSats: COIN, feeRateSatPerVb: 0.5 }), (e) => isWalletError(e, 'bad-fee-rate'));
    await assert.rejects(wallet.createPayment({ to: payee.address, amountSats: 100n }), (e) => isWalletError(e, 'dust-output'));
    // No fee rate given: the node's estimate, never below 1 sat/vB.
    const estimated = await wallet.createPayment({ to: payee.address, amountSats: COIN });
    assert.ok(estimated.feeRateSatPerVb >= 1);
  });

  await t.test('a wallet opened from a keystore of the same mnemonic sees the same coins; a wrong password is refused', async () => {
    const path = join(dir, 'wallet.json');
    await createKeystore(path, { params, password: 'pw', mnemonic: MNEMONIC, scrypt: { N: 1024, r: 8, p: 1 } });
    await assert.rejects(Wallet.open(path, 'nope', {}, { client }), (e) => isWalletError(e, 'wrong-password'));
    const reopened = await Wallet.open(path, 'pw', {}, { client });
    await reopened.sync();
    assert.deepEqual(reopened.getBalance(), wallet.getBalance());
    assert.deepEqual(reopened.getExtendedPublicKeys(), wallet.getExtendedPublicKeys());
  });

  await t.test('no secret is ever logged or printed', () => {
    assert.ok(logLines.some((l) => l.includes('wallet synced')) && logLines.some((l) => l.includes('wallet broadcast')));
    const secrets = [
      MNEMONIC.split(' ').slice(0, 3).join(' '),
      bytesToHex(SEED),
      p2wpkh.exportExtendedPrivateKey(),
      p2tr.exportExtendedPrivateKey(),
      bytesToHex(p2wpkh.derivePrivateKey(0, 0)),
      bytesToHex(p2tr.derivePrivateKey(0, 2)),
      bytesToHex(p2wpkh.derivePrivateKey(1, 0)),
    ];
    for (const shown of [logLines.join('\n'), inspect(wallet, { depth: 10 }), JSON.stringify(wallet)]) {
      for (const s of secrets) assert.ok(!shown.includes(s), 'a secret was printed');
    }
  });
});

test('Wallet fee ceilings: above 10,000 sat/vB or maxTxFeeSats a payment or bump is refused unless allowHighFee', async (t) => {
  const env = await openRestTestNode();
  t.after(() => env.close());
  const params = env.params;
  const client = new EsploraClient({ baseUrl: `${env.url}/api` });
  const wallet = Wallet.fromMnemonic(MNEMONIC, '', { params, maxTxFeeSats: 1_000_000n }, { client });
  const p2wpkh = HdAccount.fromSeed(SEED, params, 'p2wpkh');
  const payee = HdAccount.fromSeed(sha256(new TextEncoder().encode('payee')), params, 'p2wpkh').deriveAddress(0, 0).address;
  await env.mine(102, minerKey(p2wpkh, 0));
  const refused = (reason: RegExp) => (e: unknown) => isWalletError(e, 'fee-too-high') && reason.test(e.message) && e.feeSats !== undefined;

  // The rate ceiling (10,000 sat/vB): 10,001 sat/vB is refused before anything is broadcast.
  await assert.rejects(
    wallet.send({ to: payee, amountSats: 100_000n, feeRateSatPerVb: 10_001 }),
    refused(/^the fee of \d+ sats \(10001 sat\/vB\) is above the ceiling of 10000 sat\/vB \(\d+ sats for \d+ vB\): refused as a likely mistake$/),
  );
  await assert.rejects(wallet.createPayment({ to: payee, amountSats: 100_000n, feeRateSatPerVb: 10_001 }), refused(/ceiling of 10000 sat\/vB/));
  // The absolute ceiling (maxTxFeeSats, here 0.01 coin): 9,000 sat/vB is under the rate ceiling but over 1,000,000 sats.
  await assert.rejects(wallet.send({ to: payee, amountSats: 100_000n, feeRateSatPerVb: 9_000 }), refused(/ceiling of 1000000 sats per transaction/));
  assert.equal(env.node.mempool.size, 0);

  // Under the ceilings it goes. A bump to 20,000 sat/vB is refused without allowHighFee, then made with it, through
  // the node's own ceiling (0.10 coin/kvB).
  const cheap = await wallet.send({ to: payee, amountSats: 100_000n, feeRateSatPerVb: 5_000 });
  assert.ok(cheap.feeSats <= 1_000_000n && cheap.feeRateSatPerVb >= 5_000);
  await assert.rejects(wallet.bumpFee(cheap.txid, 20_000), refused(/ceiling of 10000 sat\/vB/));
  assert.ok(env.node.mempool.has(txidFromHex(cheap.txid)), 'the original stays');
  const bump = await wallet.bumpFee(cheap.txid, 20_000, { allowHighFee: true });
  assert.equal(bump.replacesTxid, cheap.txid);
  assert.ok(env.node.mempool.has(txidFromHex(bump.txid)) && !env.node.mempool.has(txidFromHex(cheap.txid)));
  assert.ok(bump.feeRateSatPerVb >= 20_000);
  const dear = await wallet.send({ to: payee, amountSats: 100_000n, feeRateSatPerVb: 50_000, allowHighFee: true });
  assert.ok(dear.feeRateSatPerVb >= 50_000, `rate ${dear.feeRateSatPerVb}`);
  assert.equal(env.node.mempool.get(txidFromHex(dear.txid))?.fee, dear.feeSats);
});
