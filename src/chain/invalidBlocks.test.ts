/**
 * The invalid-block catalogue, in the spirit of btcd's fullblocktests: for each consensus rule, a block on the tip that
 * breaks only that rule is refused with Bitcoin Core's reject reason, and the chain state (tip and UTXO set digest)
 * is unchanged. Runs on regtest with a real SQLite store and real signed transactions.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { computeBlockSubsidy } from '../consensus/subsidy.js';
import { checkProofOfWork } from '../consensus/pow.js';
import type { Coin } from '../consensus/utxoView.js';
import { silentLogger } from '../logging/logger.js';
import { regtest } from '../params/networks.js';
import { computeBlockHash } from '../primitives/blockHeader.js';
import { bytesEqual, hexToBytes } from '../primitives/hex.js';
import { outpointKey } from '../primitives/outpoint.js';
import { computeTxid } from '../primitives/tx.js';
import type { Block, Outpoint, Tx, TxIn, Txid } from '../primitives/types.js';
import type { ChainStore } from '../storage/chainStore.js';
import { BlockStatus } from '../interfaces/chainTypes.js';
import { SqliteChainStore } from '../storage/sqliteChainStore.js';
import { buildBlock, buildCoinbase, solveBlock } from '../testing/blockBuilder.js';
import {
  buildChildBlock,
  computeFees,
  MINER_KEY,
  mineBlocks,
  openTestChain,
  parentOfEntry,
  spendableCoinbases,
  TEST_NOW_SEC,
  type ChildBlockSpec,
  type TestChain,
} from '../testing/chainFactory.js';
import { buildSignedTx, buildSpend, coinsOf, makeTestKey, type SpendableCoin } from '../testing/txFactory.js';
import { Chain } from './chain.js';
import type { ProcessBlockResult } from '../interfaces/chainTypes.js';
import { InlineScriptVerifier } from './inlineScriptVerifier.js';
import { decodeTxid } from '../primitives/identity.js';

const alice = makeTestKey('alice');
const bob = makeTestKey('bob', 'p2tr');

describe('invalid-block catalogue: each broken rule is refused with Core\'s reason and changes nothing', () => {
  let tc: TestChain;
  let now = TEST_NOW_SEC;
  /** Labels of the rules refused so far, and the reasons they were refused with. */
  const catalogue: string[] = [];
  const reasons = new Set<string>();
  const invalidEvents: string[] = [];
  /** A P2TR coin of bob and a coinbase spent in the fixture block (for the across-blocks double spend). */
  let bobCoin: SpendableCoin;
  let spentCoinbase: SpendableCoin;

  before(async () => {
    tc = await openTestChain({ nowSec: () => now });
    tc.chain.on('blockInvalid', (e) => invalidEvents.push(e.reason));
    await mineBlocks(tc.chain, 110);
    spentCoinbase = spendableCoinbases(tc.chain)[0]!;
    const toBob = buildSpend([spentCoinbase], { key: bob, valueSats: 10_00000000n }, 10_000n, { changeKey: MINER_KEY });
    bobCoin = toBob.created[0]!;
    await mineBlocks(tc.chain, 1, { txs: [toBob.tx] });
    assert.equal(tc.chain.height, 111);
  });

  after(async () => {
    await tc.destroy();
  });

  /** The n-th mature, unspent coinbase coin of the miner (the fixture spent the first one). */
  const coin = (n: number): SpendableCoin => spendableCoinbases(tc.chain)[n]!;

  /** A block on the tip; its coinbase claims the fees the txs pay unless told otherwise. */
  const next = (spec: ChildBlockSpec = {}): Block =>
    buildChildBlock(regtest, parentOfEntry(tc.chain.tip), { fees: computeFees(tc.chain, spec.txs ?? []), ...spec });

  const snapshot = (): { tip: string; digest: unknown } => ({ tip: tc.chain.tip.hashHex, digest: tc.chain.computeUtxoDigest() });

  /** Submits `block`, expects it refused with `reason` and the chain state unchanged; records the rule. */
  async function expectInvalid(block: Block, reason: string, label = reason): Promise<ProcessBlockResult> {
    const before = snapshot();
    const events = invalidEvents.length;
    const result = await tc.chain.processBlock(block);
    assert.equal(result.status, 'invalid', `${label}: ${JSON.stringify(result)}`);
    assert.equal(result.reason, reason, `${label}: detail ${result.detail ?? ''}`);
    assert.equal(typeof result.score, 'number');
    assert.deepEqual(snapshot(), before, `${label}: chain state changed`);
    if (reason !== 'duplicate-invalid') assert.equal(invalidEvents.at(events), reason, `${label}: blockInvalid event`);
    catalogue.push(label);
    reasons.add(reason);
    return result;
  }

  /** Re-signs nothing: changes output 0's value after signing, so the signature no longer matches. */
  const forge = (tx: Tx): Tx => ({ ...tx, outputs: [{ ...tx.outputs[0]!, value: tx.outputs[0]!.value + 1n }, ...tx.outputs.slice(1)] });

  it('high-hash: the header hash is above the target of its bits', async () => {
    let block = next();
    let nonce = block.header.nonce;
    while (checkProofOfWork(computeBlockHash({ ...block.header, nonce }), block.header.bits, regtest.powLimit)) nonce++;
    block = { ...block, header: { ...block.header, nonce } };
    await expectInvalid(block, 'high-hash');
  });

  it('bad-diffbits: valid proof of work for bits other than regtest\'s fixed bits', async () => {
    await expectInvalid(next({ bits: 0x2000ffff }), 'bad-diffbits');
  });

  it('bad-txnmrklroot: the header commits to other transactions', async () => {
    const a = buildSpend([coin(0)], { key: alice, valueSats: 1_000n }, 1_000n).tx;
    const b = buildSpend([coin(1)], { key: alice, valueSats: 1_000n }, 1_000n).tx;
    const honest = next({ txs: [a] });
    const swapped = solveBlock({ ...honest, txs: [honest.txs[0]!, b] }, regtest);
    await expectInvalid(swapped, 'bad-txnmrklroot');
  });

  it('bad-txns-duplicate: CVE-2012-2459 (last tx repeated, same hash as the honest block, which then connects)', async () => {
    const a = buildSpend([coin(0)], { key: alice, valueSats: 1_000n }, 1_000n).tx;
    const b = buildSpend([coin(1)], { key: alice, valueSats: 1_000n }, 1_000n).tx;
    const honest = next({ txs: [a, b] });
    const mutated: Block = { ...honest, txs: [...honest.txs, b] };
    assert.deepEqual(computeBlockHash(mutated.header), computeBlockHash(honest.header));
    await expectInvalid(mutated, 'bad-txns-duplicate');
    // A mutated block says nothing about its header: the honest block with the same hash is not refused.
    assert.equal((await tc.chain.processBlock(honest)).status, 'connected');
  });

  it('bad-witness-merkle-match: a witness changed after the commitment (same hash as the honest block)', async () => {
    const a = buildSpend([coin(0)], { key: alice, valueSats: 1_000n }, 1_000n).tx;
    const honest = next({ txs: [a] });
    const input = a.inputs[0]!;
    const sig = Uint8Array.from(input.witness[0]!);
    sig[sig.length - 2] = sig[sig.length - 2]! ^ 1;
    const malleated: Tx = { ...a, inputs: [{ ...input, witness: [sig, input.witness[1]!] }] };
    const block: Block = { ...honest, txs: [honest.txs[0]!, malleated] };
    assert.deepEqual(computeBlockHash(block.header), computeBlockHash(honest.header));
    await expectInvalid(block, 'bad-witness-merkle-match');
    assert.equal((await tc.chain.processBlock(honest)).status, 'connected');
  });

  it('unexpected-witness: witness data without a commitment', async () => {
    const a = buildSpend([coin(0)], { key: alice, valueSats: 1_000n }, 1_000n).tx;
    const block = buildBlock(regtest, {
      height: tc.chain.height + 1,
      prevBlock: tc.chain.tip.hash,
      time: tc.chain.tip.header.time + 600,
      txs: [a],
      witnessCommitment: false,
      coinbaseOptions: { scriptPubKey: MINER_KEY.scriptPubKey },
    });
    await expectInvalid(block, 'unexpected-witness');
  });

  it('bad-cb-multiple: a second coinbase', async () => {
    const second = buildCoinbase({ height: tc.chain.height + 1, value: 1n, extraNonce: Uint8Array.of(7) });
    await expectInvalid(next({ txs: [second] }), 'bad-cb-multiple');
  });

  it('bad-txns-inputs-duplicate: one tx spends the same outpoint twice', async () => {
    const c = coin(0);
    const tx = buildSignedTx([c, c], [{ value: 1_000n, scriptPubKey: alice.scriptPubKey }]);
    await expectInvalid(next({ txs: [tx] }), 'bad-txns-inputs-duplicate');
  });

  it('bad-txns-vout-script: an output script that is not P2WPKH, P2TR or OP_RETURN (here P2PKH)', async () => {
    const p2pkh = hexToBytes('76a914' + '11'.repeat(20) + '88ac');
    const tx = buildSignedTx([coin(0)], [{ value: 1_000n, scriptPubKey: p2pkh }]);
    await expectInvalid(next({ txs: [tx] }), 'bad-txns-vout-script');
  });

  it('bad-blk-length: stripped size over 1,000,000 bytes', async () => {
    const fat = (c: SpendableCoin): Tx => {
      const tx = buildSignedTx([c], [{ value: 1_000n, scriptPubKey: alice.scriptPubKey }]);
      const input: TxIn = { ...tx.inputs[0]!, scriptSig: new Uint8Array(600_000) };
      return { ...tx, inputs: [input] };
    };
    await expectInvalid(next({ txs: [fat(coin(0)), fat(coin(1))] }), 'bad-blk-length');
  });

  it('bad-blk-weight: weight over 4,000,000 through witness data', async () => {
    const tx = buildSignedTx([coin(0)], [{ value: 1_000n, scriptPubKey: alice.scriptPubKey }]);
    const heavy: Tx = { ...tx, inputs: [{ ...tx.inputs[0]!, witness: [new Uint8Array(4_000_001)] }] };
    await expectInvalid(next({ txs: [heavy] }), 'bad-blk-weight');
  });

  it('time-too-old: time equal to the median-time-past', async () => {
    await expectInvalid(next({ time: tc.chain.getMedianTimePast(tc.chain.tip) }), 'time-too-old');
  });

  it('time-too-new: more than 2 hours ahead of the clock (not cached: connects once the clock catches up)', async () => {
    const block = next({ time: now + regtest.maxFutureBlockTimeSec + 1 });
    const r = await expectInvalid(block, 'time-too-new');
    assert.equal(r.score, 0, 'not the sender\'s fault');
    assert.equal(tc.chain.getEntry(computeBlockHash(block.header)), undefined, 'nothing stored');
    now += 1_000_000;
    assert.equal((await tc.chain.processBlock(block)).status, 'connected');
  });

  it('bad-cb-height: the coinbase does not start with the BIP-34 height push', async () => {
    const height = tc.chain.height + 1;
    const wrong = buildCoinbase({ height: height + 1, value: computeBlockSubsidy(height, regtest) });
    await expectInvalid(next({ coinbase: wrong }), 'bad-cb-height', 'bad-cb-height (height + 1)');
    // The right number, but not minimally pushed (Core compares with CScript() << height).
    const cb = buildCoinbase({ height, value: computeBlockSubsidy(height, regtest) });
    const minimal = cb.inputs[0]!.scriptSig;
    const size = minimal[0]!;
    assert.ok(size >= 1 && size <= 4, 'heights above 16 take a direct push of 1..4 bytes');
    // The same number with a redundant zero byte: a valid script number, but not CScript() << height.
    const padded = Uint8Array.of(size + 1, ...minimal.subarray(1, 1 + size), 0, 0);
    const nonMinimal: Tx = { ...cb, inputs: [{ ...cb.inputs[0]!, scriptSig: padded }] };
    const block = next({ coinbase: nonMinimal });
    await expectInvalid(block, 'bad-cb-height', 'bad-cb-height (non-minimal push)');
    // The block is now known invalid; its child is refused as bad-prevblk and a resend as duplicate-invalid.
    assert.ok((tc.chain.getEntry(computeBlockHash(block.header))!.status & BlockStatus.FAILED) !== 0);
    const child = buildChildBlock(regtest, { hash: computeBlockHash(block.header), height, header: block.header });
    await expectInvalid(child, 'bad-prevblk');
    await expectInvalid(block, 'duplicate-invalid');
  });

  it('bad-txns-nonfinal: height lock at the block height, and time lock at the median-time-past', async () => {
    const height = tc.chain.height + 1;
    const byHeight = buildSignedTx([coin(0)], [{ value: 1_000n, scriptPubKey: alice.scriptPubKey }], { locktime: height });
    await expectInvalid(next({ txs: [byHeight] }), 'bad-txns-nonfinal', 'bad-txns-nonfinal (height lock)');
    const mtp = tc.chain.getMedianTimePast(tc.chain.tip);
    const byTime = buildSignedTx([coin(0)], [{ value: 1_000n, scriptPubKey: alice.scriptPubKey }], { locktime: mtp });
    await expectInvalid(next({ txs: [byTime] }), 'bad-txns-nonfinal', 'bad-txns-nonfinal (time lock, BIP-113)');
  });

  it('bad-txns-inputs-missingorspent: double spend inside the block, across blocks, and an unknown prevout', async () => {
    const c = coin(0);
    const one = buildSpend([c], { key: alice, valueSats: 1_000n }, 1_000n).tx;
    const two = buildSpend([c], { key: bob, valueSats: 2_000n }, 1_000n).tx;
    await expectInvalid(next({ txs: [one, two] }), 'bad-txns-inputs-missingorspent', 'bad-txns-inputs-missingorspent (in block)');
    const again = buildSpend([spentCoinbase], { key: alice, valueSats: 1_000n }, 1_000n).tx;
    await expectInvalid(next({ txs: [again] }), 'bad-txns-inputs-missingorspent', 'bad-txns-inputs-missingorspent (across blocks)');
    const ghost: SpendableCoin = { ...c, outpoint: { txid: decodeTxid(new Uint8Array(32).fill(0x42)), index: 0 } };
    const missing = buildSpend([ghost], { key: alice, valueSats: 1_000n }, 1_000n).tx;
    await expectInvalid(next({ txs: [missing] }), 'bad-txns-inputs-missingorspent', 'bad-txns-inputs-missingorspent (unknown)');
    // A spend of an output created LATER in the same block is missing too (inputs come from earlier txs only).
    const parent = buildSpend([coin(1)], { key: alice, valueSats: 5_000n }, 1_000n);
    const childTx = buildSpend([parent.created[0]!], { key: bob, valueSats: 1_000n }, 1_000n).tx;
    await expectInvalid(next({ txs: [childTx, parent.tx] }), 'bad-txns-inputs-missingorspent', 'bad-txns-inputs-missingorspent (order)');
  });

  it('bad-txns-premature-spend-of-coinbase: a coinbase 99 blocks deep', async () => {
    const height = tc.chain.height + 1;
    const young = tc.chain.getBlock(tc.chain.getEntryByHeight(height - 99)!.hash)!;
    const [c] = coinsOf(young.txs[0]!, MINER_KEY);
    const tx = buildSpend([c!], { key: alice, valueSats: 1_000n }, 1_000n).tx;
    await expectInvalid(next({ txs: [tx], fees: 0n }), 'bad-txns-premature-spend-of-coinbase');
    // Boundary: the coinbase one block older (100 deep) may be spent.
    const old = tc.chain.getBlock(tc.chain.getEntryByHeight(height - 100)!.hash)!;
    const [o] = coinsOf(old.txs[0]!, MINER_KEY);
    assert.equal(tc.chain.getCoin(o!.outpoint)?.height, height - 100);
    const ok = buildSpend([o!], { key: alice, valueSats: 1_000n }, 1_000n).tx;
    assert.equal((await tc.chain.processBlock(next({ txs: [ok] }))).status, 'connected');
  });

  it('bad-txns-in-belowout: outputs worth more than the inputs (properly signed)', async () => {
    const c = coin(0);
    const tx = buildSignedTx([c], [{ value: c.output.value + 1n, scriptPubKey: alice.scriptPubKey }]);
    await expectInvalid(next({ txs: [tx] }), 'bad-txns-in-belowout');
  });

  it('bad-cb-amount: the coinbase claims one sat more than subsidy + fees', async () => {
    const tx = buildSpend([coin(0)], { key: alice, valueSats: 1_000n }, 7_000n).tx;
    const limit = computeBlockSubsidy(tc.chain.height + 1, regtest) + 7_000n;
    await expectInvalid(
      next({ txs: [tx], coinbaseOutputs: [{ value: limit + 1n, scriptPubKey: MINER_KEY.scriptPubKey }] }),
      'bad-cb-amount',
    );
    // Boundary: exactly subsidy + fees connects.
    const exact = next({ txs: [tx], coinbaseOutputs: [{ value: limit, scriptPubKey: MINER_KEY.scriptPubKey }] });
    assert.equal((await tc.chain.processBlock(exact)).status, 'connected');
  });

  it('mandatory-script-verify-flag-failed: bad ECDSA (P2WPKH) and bad Schnorr (P2TR key path) signatures', async () => {
    const ecdsa = forge(buildSpend([coin(0)], { key: alice, valueSats: 1_000n }, 1_000n).tx);
    await expectInvalid(next({ txs: [ecdsa] }), 'mandatory-script-verify-flag-failed (sig-nullfail)');
    const schnorr = forge(buildSpend([bobCoin], { key: alice, valueSats: 1_000n }, 1_000n).tx);
    await expectInvalid(next({ txs: [schnorr] }), 'mandatory-script-verify-flag-failed (schnorr-sig)');
    // Also when the bad tx comes after valid ones, and the block is marked failed (it is fully committed).
    const good = buildSpend([coin(1)], { key: alice, valueSats: 1_000n }, 1_000n).tx;
    const block = next({ txs: [good, ecdsa] });
    const r = await expectInvalid(block, 'mandatory-script-verify-flag-failed (sig-nullfail)', 'mandatory-script-verify-flag-failed (2nd tx)');
    assert.match(r.detail ?? '', /^tx 2 /);
    assert.ok((tc.chain.getEntry(computeBlockHash(block.header))!.status & BlockStatus.FAILED) !== 0);
  });

  it('a valid block with boundary lock times still connects after all refusals', async () => {
    const height = tc.chain.height + 1;
    const mtp = tc.chain.getMedianTimePast(tc.chain.tip);
    const a = buildSignedTx([coin(0)], [{ value: 1_000n, scriptPubKey: alice.scriptPubKey }], { locktime: height - 1 });
    const b = buildSignedTx([coin(1)], [{ value: 1_000n, scriptPubKey: alice.scriptPubKey }], { locktime: mtp - 1 });
    // A final sequence makes any lock time final.
    const c = buildSignedTx([coin(2)], [{ value: 1_000n, scriptPubKey: alice.scriptPubKey }], {
      locktime: 0xffffffff,
      sequence: 0xffffffff,
    });
    const r = await tc.chain.processBlock(next({ txs: [a, b, c] }));
    assert.equal(r.status, 'connected', JSON.stringify(r));
  });

  it('bad-txns-BIP30: an output that would overwrite an unspent coin (simulated: unreachable under BIP-34)', async (t) => {
    // With BIP-34 from genesis no two txs can share a txid without spending the same coins, so the store is made to
    // report an unspent coin at the new coinbase's first outpoint.
    const store = SqliteChainStore.openMemory(regtest);
    t.after(() => store.close());
    let fake: Outpoint | undefined;
    const fakeCoin: Coin = { output: { value: 1n, scriptPubKey: MINER_KEY.scriptPubKey }, height: 1, isCoinbase: true };
    const lying = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'getCoins') {
          return (outpoints: readonly Outpoint[]) =>
            target.getCoins(outpoints).map((c, i) => (fake && outpointKey(outpoints[i]!) === outpointKey(fake) ? fakeCoin : c));
        }
        if (prop === 'findTxidsWithCoins') {
          // Consistent with getCoins: the fake coin's txid has a coin.
          return (txids: readonly Txid[]) => {
            const found = target.findTxidsWithCoins(txids);
            const i = fake === undefined ? -1 : txids.findIndex((txid) => bytesEqual(txid, fake!.txid));
            return i >= 0 && !found.includes(i) ? [...found, i].sort((x, y) => x - y) : found;
          };
        }
        const value: unknown = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    }) as ChainStore;
    const chain = await Chain.open({}, {
      params: regtest,
      store: lying,
      scriptVerifier: new InlineScriptVerifier(),
      logger: silentLogger(),
      nowSec: () => TEST_NOW_SEC,
    });
    await mineBlocks(chain, 1);
    const block = buildChildBlock(regtest, parentOfEntry(chain.tip));
    fake = { txid: computeTxid(block.txs[0]!), index: 0 };
    const digest = chain.computeUtxoDigest();
    const r = await chain.processBlock(block);
    assert.equal(r.status, 'invalid');
    assert.equal(r.reason, 'bad-txns-BIP30');
    assert.equal(chain.height, 1);
    assert.deepEqual(chain.computeUtxoDigest(), digest);
    catalogue.push('bad-txns-BIP30 (simulated)');
    reasons.add('bad-txns-BIP30');
  });

  it('reports the catalogue', (t) => {
    const labels = new Set(catalogue);
    assert.equal(labels.size, catalogue.length, 'each rule once');
    t.diagnostic(`[catalogue] ${catalogue.length} invalid-block rules rejected (${reasons.size} distinct reasons): ${catalogue.join(', ')}`);
    assert.ok(catalogue.length >= 25, `catalogue has ${catalogue.length} entries`);
  });
});
