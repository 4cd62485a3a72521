/**
 * checkConnectBlock and its BlockCoinView on a real SQLite store: the rules in Core's order over the coins as read,
 * the net changes and undo data of a block, and the script checks listed before the rules run.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Coin } from '../consensus/utxoView.js';
import { regtest } from '../params/networks.js';
import { encodeBlock } from '../primitives/block.js';
import { bytesEqual } from '../primitives/hex.js';
import { outpointKey } from '../primitives/outpoint.js';
import type { Block, Outpoint } from '../primitives/types.js';
import {
  buildChildBlock,
  computeFees,
  MINER_KEY,
  mineBlocks,
  openTestChain,
  parentOfEntry,
  spendableCoinbases,
  type TestChain,
} from '../testing/chainFactory.js';
import { buildSpend, makeTestKey, type SpendableCoin } from '../testing/txFactory.js';
import { BlockCoinView } from './blockCoinView.js';
import { computeBlockTxHashes } from './blockTxHashes.js';
import { blockScriptChecks, checkConnectBlock, type ConnectBlockOutcome } from './connectBlock.js';
import type { ScriptCheckJob } from '../interfaces/scriptVerifier.js';
import { decodeTxid } from '../primitives/identity.js';

const alice = makeTestKey('connect/alice');
const bob = makeTestKey('connect/bob', 'p2tr');

describe('checkConnectBlock over a BlockCoinView', () => {
  let tc: TestChain;
  let coins: SpendableCoin[];

  before(async () => {
    tc = await openTestChain();
    await mineBlocks(tc.chain, 104);
    coins = spendableCoinbases(tc.chain);
    assert.equal(coins.length, 5, "coinbases of heights 1..5 are mature for a block at height 105");
  });

  after(async () => {
    await tc.destroy();
  });

  /** A block on the tip whose coinbase claims the fees of `txs` (plus `extraFee` sats). */
  const blockOf = (txs: Block['txs'], extraFee = 0n): Block =>
    buildChildBlock(regtest, parentOfEntry(tc.chain.tip), { txs, fees: computeFees(tc.chain, txs) + extraFee });

  /** Reads the block's view from the store (through `readCoins` when given), lists its script checks, runs the rules. */
  function connect(
    block: Block,
    readCoins: (outpoints: readonly Outpoint[]) => readonly (Coin | undefined)[] = (o) => tc.store.getCoins(o),
  ): { checks: ScriptCheckJob[] | undefined; outcome: ConnectBlockOutcome } {
    const hashes = computeBlockTxHashes(block, encodeBlock(block));
    const view = BlockCoinView.read(block, hashes.txids, readCoins);
    const target = { block, height: tc.chain.height + 1, hashes };
    const checks = blockScriptChecks(target, view);
    return { checks, outcome: checkConnectBlock(target, view, regtest) };
  }

  const reasonOf = (outcome: ConnectBlockOutcome): string => (outcome.ok ? 'ok' : `${outcome.error.code} @ ${outcome.error.detail ?? ''}`);

  it('a chain of spends inside the block: the net changes leave out the coin made and spent inside; the undo data keeps it', () => {
    const a = buildSpend([coins[0]!], { key: alice, valueSats: 10_00000000n }, 10_000n, { changeKey: MINER_KEY });
    const b = buildSpend([a.created[0]!], { key: bob, valueSats: 4_00000000n }, 5_000n);
    const block = blockOf([a.tx, b.tx]);
    const { checks, outcome } = connect(block);
    assert.ok(outcome.ok, reasonOf(outcome));
    const { spent, created, undo, fees } = outcome.changes;
    assert.deepEqual(spent, [coins[0]!.outpoint]);
    const has = (list: readonly Outpoint[], o: Outpoint): boolean => list.some((x) => bytesEqual(x.txid, o.txid) && x.index === o.index);
    const createdOutpoints = created.map((r) => r.outpoint);
    assert.equal(has(createdOutpoints, a.created[0]!.outpoint), false, 'made and spent inside the block');
    assert.ok(has(createdOutpoints, a.created[1]!.outpoint), "a's change stays");
    for (const c of b.created) assert.ok(has(createdOutpoints, c.outpoint));
    assert.deepEqual(
      undo.map((c) => c.output),
      [coins[0]!.output, a.created[0]!.output],
    );
    assert.equal(undo[1]!.height, tc.chain.height + 1);
    assert.equal(fees, 15_000n);
    // Script checks: one per non-coinbase tx, with the spent outputs, the in-block one included.
    assert.deepEqual(
      checks?.map((c) => c.prevouts),
      [[coins[0]!.output], [a.created[0]!.output]],
    );
  });

  it('an input that spends a later tx of the block: listed for the script checks (order-free), refused by the rules', () => {
    const a = buildSpend([coins[1]!], { key: alice, valueSats: 10_00000000n }, 10_000n);
    const b = buildSpend([a.created[0]!], { key: bob, valueSats: 4_00000000n }, 5_000n);
    const { checks, outcome } = connect(blockOf([b.tx, a.tx]));
    assert.equal(checks?.length, 2);
    assert.match(reasonOf(outcome), /^bad-txns-inputs-missingorspent @ tx 1 /);
  });

  it('an input that spends an output nobody can see: no script checks at all, refused by the rules', () => {
    const ghost: SpendableCoin = { ...coins[1]!, outpoint: { txid: decodeTxid(new Uint8Array(32).fill(3)), index: 1 } };
    const good = buildSpend([coins[1]!], { key: alice, valueSats: 1_000n }, 1_000n).tx;
    const bad = buildSpend([ghost], { key: alice, valueSats: 1_000n }, 1_000n).tx;
    const { checks, outcome } = connect(blockOf([good, bad]));
    assert.equal(checks, undefined);
    assert.match(reasonOf(outcome), /^bad-txns-inputs-missingorspent @ tx 2 /);
  });

  it('a coin spent twice inside the block: the second spend is refused (both are listed for the script checks)', () => {
    const first = buildSpend([coins[2]!], { key: alice, valueSats: 1_000n }, 1_000n).tx;
    const second = buildSpend([coins[2]!], { key: bob, valueSats: 2_000n }, 1_000n).tx;
    const { checks, outcome } = connect(blockOf([first, second]));
    assert.equal(checks?.length, 2);
    assert.match(reasonOf(outcome), /^bad-txns-inputs-missingorspent @ tx 2 /);
  });

  it('the coinbase claiming one sat more than subsidy + fees is refused once every input passed', () => {
    const spend = buildSpend([coins[3]!], { key: alice, valueSats: 1_000n }, 7_000n).tx;
    const { outcome } = connect(blockOf([spend], 1n));
    assert.match(reasonOf(outcome), /^bad-cb-amount @ coinbase pays too much/);
    assert.equal(connect(blockOf([spend])).outcome.ok, true);
  });

  it('BIP-30 comes first, as in Core: a set holding a coin at the coinbase outpoint outranks a missing input', () => {
    // Unreachable under BIP-34 (in force from genesis): the set is made to hold such a coin at the read.
    const ghost: SpendableCoin = { ...coins[3]!, outpoint: { txid: decodeTxid(new Uint8Array(32).fill(4)), index: 0 } };
    const bad = buildSpend([ghost], { key: alice, valueSats: 1_000n }, 1_000n).tx;
    const block = blockOf([bad]);
    const coinbaseTxid = computeBlockTxHashes(block).txids[0]!;
    const occupied: Coin = { output: { value: 1n, scriptPubKey: MINER_KEY.scriptPubKey }, height: 1, isCoinbase: true };
    const { outcome } = connect(block, (outpoints) =>
      tc.store.getCoins(outpoints).map((coin, n) => (bytesEqual(outpoints[n]!.txid, coinbaseTxid) && outpoints[n]!.index === 0 ? occupied : coin)),
    );
    assert.match(reasonOf(outcome), /^bad-txns-BIP30 @ tx 0 \([0-9a-f]{64}\): tried to overwrite transaction output 0$/);
  });

  it('readInputs then readOwnOutputs (the pipeline, with the script checks handed over between) read what read reads', () => {
    const a = buildSpend([coins[0]!], { key: alice, valueSats: 10_00000000n }, 10_000n, { changeKey: MINER_KEY });
    const b = buildSpend([a.created[0]!], { key: bob, valueSats: 4_00000000n }, 5_000n);
    const block = blockOf([a.tx, b.tx]);
    const { txids } = computeBlockTxHashes(block);
    const asked: Outpoint[][] = [];
    const readCoins = (outpoints: readonly Outpoint[]): (Coin | undefined)[] => {
      asked.push([...outpoints]);
      return tc.store.getCoins(outpoints);
    };
    const split = BlockCoinView.readInputs(block, txids, readCoins);
    // The first read asks for the input's coin only (b spends a's output inside the block); no BIP-30 check yet.
    assert.equal(asked.length, 1);
    assert.deepEqual(asked[0], [coins[0]!.outpoint]);
    assert.deepEqual(split.prevoutsOf(2), [a.created[0]!.output]);
    assert.throws(() => split.findOverwrittenOutput(0), RangeError);
    split.readOwnOutputs(readCoins);
    assert.throws(() => split.readOwnOutputs(readCoins), RangeError);
    // The second read: every spendable output of the block, none of them a prevout of the first.
    assert.equal(asked[1]!.length, block.txs.reduce((n, tx) => n + tx.outputs.filter((o) => o.scriptPubKey[0] !== 0x6a).length, 0));
    const whole = BlockCoinView.read(block, txids, (o) => tc.store.getCoins(o));
    const target = { block, height: tc.chain.height + 1, hashes: computeBlockTxHashes(block, encodeBlock(block)) };
    assert.deepEqual(checkConnectBlock(target, split, regtest), checkConnectBlock(target, whole, regtest));
  });

  it('readOwnOutputs with txidsWithCoins reads only the outputs of the txs it names, and finds the same overwritten outputs', () => {
    const a = buildSpend([coins[0]!], { key: alice, valueSats: 10_00000000n }, 10_000n, { changeKey: MINER_KEY });
    const b = buildSpend([coins[1]!], { key: bob, valueSats: 4_00000000n }, 5_000n, { changeKey: MINER_KEY });
    const block = blockOf([a.tx, b.tx]);
    const { txids } = computeBlockTxHashes(block);
    // The set is made to hold a coin at b's second output (unreachable under BIP-34).
    const occupied: Coin = { output: { value: 1n, scriptPubKey: MINER_KEY.scriptPubKey }, height: 1, isCoinbase: false };
    const lying = (outpoints: readonly Outpoint[]): (Coin | undefined)[] =>
      tc.store.getCoins(outpoints).map((coin, n) => (bytesEqual(outpoints[n]!.txid, txids[2]!) && outpoints[n]!.index === 1 ? occupied : coin));
    const asked: Outpoint[][] = [];
    const probed: (readonly Uint8Array[])[] = [];
    const view = BlockCoinView.readInputs(block, txids, lying);
    view.readOwnOutputs(
      (outpoints) => {
        asked.push([...outpoints]);
        return lying(outpoints);
      },
      (ids) => {
        probed.push(ids);
        return [2];
      },
    );
    assert.deepEqual(probed, [txids], 'every txid of the block is probed once');
    assert.deepEqual(asked, [b.tx.outputs.map((_, index) => ({ txid: txids[2]!, index }))], "only b's outputs are read");
    const plain = BlockCoinView.read(block, txids, lying);
    for (const i of [0, 1, 2]) assert.equal(view.findOverwrittenOutput(i), plain.findOverwrittenOutput(i), `tx ${i}`);
    assert.equal(view.findOverwrittenOutput(2), 1);
    // No txid with a coin: nothing more is read, and nothing is overwritten.
    const none = BlockCoinView.readInputs(block, txids, lying);
    none.readOwnOutputs(() => assert.fail('no output is read when no txid has a coin'), () => []);
    assert.equal(none.findOverwrittenOutput(2), -1);
  });

  it('prefetchInputCoins (before the txids are known) reads every input prevout, in-block ones too; readInputs then keeps what it would read', () => {
    const a = buildSpend([coins[0]!], { key: alice, valueSats: 10_00000000n }, 10_000n, { changeKey: MINER_KEY });
    const b = buildSpend([a.created[0]!], { key: bob, valueSats: 4_00000000n }, 5_000n);
    const block = blockOf([a.tx, b.tx]);
    const { txids } = computeBlockTxHashes(block);
    const asked: Outpoint[][] = [];
    const prefetched = BlockCoinView.prefetchInputCoins(block, (outpoints) => {
      asked.push([...outpoints]);
      // A coin of the set at the in-block prevout (a duplicate txid): readInputs must not take it for b's input.
      const ghost: Coin = { output: { value: 1n, scriptPubKey: MINER_KEY.scriptPubKey }, height: 1, isCoinbase: false };
      return tc.store.getCoins(outpoints).map((coin, n) => (n === 1 ? ghost : coin));
    });
    assert.deepEqual(asked, [[coins[0]!.outpoint, a.created[0]!.outpoint]]);
    assert.deepEqual(prefetched.inputKeys, [outpointKey(coins[0]!.outpoint), outpointKey(a.created[0]!.outpoint)], 'every input key, in block order');
    const view = BlockCoinView.readInputs(block, txids, () => assert.fail('nothing is read with prefetched coins'), prefetched);
    view.readOwnOutputs((o) => tc.store.getCoins(o));
    const plain = BlockCoinView.read(block, txids, (o) => tc.store.getCoins(o));
    assert.deepEqual(view.prevoutsOf(1), plain.prevoutsOf(1));
    assert.deepEqual(view.prevoutsOf(2), [a.created[0]!.output]);
    const target = { block, height: tc.chain.height + 1, hashes: computeBlockTxHashes(block, encodeBlock(block)) };
    assert.deepEqual(checkConnectBlock(target, view, regtest), checkConnectBlock(target, plain, regtest));
    assert.throws(() => BlockCoinView.readInputs(blockOf([a.tx]), txids, (o) => tc.store.getCoins(o), prefetched), RangeError);
  });
});
