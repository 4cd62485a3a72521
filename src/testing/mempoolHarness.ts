/**
 * Shared fixture of the mempool tests: a Mempool over a real UtxoView (the confirmed coins), a controllable tip and
 * clock, the real InlineScriptVerifier, and helpers that build real signed txs (src/testing/txFactory.ts) and
 * connect/disconnect blocks. Its self-test is src/mempool/mempoolHarness.test.ts.
 */
import assert from 'node:assert/strict';
import { InlineScriptVerifier } from '../chain/workerPoolScriptVerifier.js';
import { UtxoView, type Coin, type UtxoEntry } from '../consensus/utxoView.js';
import { sha256 } from '../crypto/hash.js';
import { silentLogger } from '../logging/logger.js';
import type { ChainParams } from '../params/chainParams.js';
import { regtest } from '../params/networks.js';
import { hashToHex } from '../primitives/hex.js';
import { NULL_OUTPOINT } from '../primitives/outpoint.js';
import { NULL_BLOCK_HASH } from '../primitives/blockHeader.js';
import { decodeTxid } from '../primitives/identity.js';
import { computeTxid, getTxVsize, isCoinbase } from '../primitives/tx.js';
import type { Block, Sats, Tx, TxOut } from '../primitives/types.js';
import { buildSignedTx, makeTestKey, type BuildTxOptions, type SpendableCoin, type TestKey } from './txFactory.js';
import { Mempool } from '../mempool/mempool.js';
import type { MempoolRemovalReason } from '../interfaces/mempoolTypes.js';
import type { MempoolOptions } from '../policy/mempoolOptions.js';

export const ALICE: TestKey = makeTestKey('mempool/alice', 'p2wpkh');
export const BOB: TestKey = makeTestKey('mempool/bob', 'p2tr');

/** Starting tip of every harness: height, median-time-past and clock. */
export const START_HEIGHT = 1000;
export const START_MTP = 1_800_000_000;
export const START_NOW = 1_800_003_600;

/** A block the harness connected, with what it spent (to disconnect it again). */
export interface ConnectedBlock {
  readonly block: Block;
  readonly height: number;
  readonly spent: readonly UtxoEntry[];
}

export interface Harness {
  readonly mempool: Mempool;
  readonly view: UtxoView;
  readonly verifier: InlineScriptVerifier;
  /** Mutable tip and clock the mempool's deps read. */
  readonly state: { tipHeight: number; mtp: number; now: number };
  /** Txids of `added` events, in order. */
  readonly added: string[];
  /** `removed` events, in order. */
  readonly removed: { txid: string; reason: MempoolRemovalReason }[];
  /** Adds a confirmed coin of `valueSats` paying to `key` (default ALICE) and returns it. */
  fund(valueSats: Sats, options?: { key?: TestKey; coinbase?: boolean; height?: number }): SpendableCoin;
  /** Applies the txs (after a generated coinbase) to the view as the next block and calls removeForBlock. */
  connect(txs: readonly Tx[]): ConnectedBlock;
  /** Undoes the last connected block in the view and lowers the tip (does not touch the mempool). */
  disconnect(connected: ConnectedBlock): void;
}

let fundCounter = 0;

/** A harness with fresh state; `params` overrides regtest fields. */
export function makeHarness(options: Partial<MempoolOptions> = {}, params: Partial<ChainParams> = {}): Harness {
  const view = new UtxoView();
  const state = { tipHeight: START_HEIGHT, mtp: START_MTP, now: START_NOW };
  const verifier = new InlineScriptVerifier();
  const mempool = new Mempool(options, {
    params: { ...regtest, ...params },
    getCoin: (op) => view.getCoin(op),
    tipHeight: () => state.tipHeight,
    tipMedianTimePast: () => state.mtp,
    nowSec: () => state.now,
    scriptVerifier: verifier,
    logger: silentLogger(),
  });
  const added: string[] = [];
  const removed: { txid: string; reason: MempoolRemovalReason }[] = [];
  mempool.on('added', (e) => added.push(e.txidHex));
  mempool.on('removed', (r) => removed.push({ txid: hashToHex(r.txid), reason: r.reason }));

  return {
    mempool,
    view,
    verifier,
    state,
    added,
    removed,
    fund(valueSats, opts = {}) {
      const key = opts.key ?? ALICE;
      const txid = decodeTxid(sha256(new TextEncoder().encode(`mempool-fund/${fundCounter++}`)));
      const output: TxOut = { value: valueSats, scriptPubKey: key.scriptPubKey };
      const coin: Coin = { output, height: opts.height ?? START_HEIGHT - 10, isCoinbase: opts.coinbase ?? false };
      view.addCoin({ txid, index: 0 }, coin);
      return { outpoint: { txid, index: 0 }, output, key };
    },
    connect(txs) {
      const height = state.tipHeight + 1;
      const coinbase: Tx = {
        version: 2,
        inputs: [{ prevout: NULL_OUTPOINT, scriptSig: Uint8Array.of(0x02, height & 0xff, height >> 8), sequence: 0xffffffff, witness: [] }],
        outputs: [{ value: 50_000n, scriptPubKey: ALICE.scriptPubKey }],
        locktime: 0,
      };
      const block: Block = {
        header: { version: 0x20000000, prevBlock: NULL_BLOCK_HASH, merkleRoot: new Uint8Array(32), time: state.mtp, bits: 0x207fffff, nonce: 0 },
        txs: [coinbase, ...txs],
      };
      const spent: UtxoEntry[] = [];
      for (const tx of block.txs) {
        if (!isCoinbase(tx)) {
          for (const input of tx.inputs) {
            const coin = view.spendCoin(input.prevout);
            assert.ok(coin, 'block tx spends a coin of the view');
            spent.push({ outpoint: input.prevout, coin });
          }
        }
        view.addTxOutputs(tx, height);
      }
      state.tipHeight = height;
      mempool.removeForBlock(block, height);
      return { block, height, spent };
    },
    disconnect(connected) {
      // Undo tx by tx, last first, so a coin created and spent inside the block ends up absent.
      let next = connected.spent.length;
      for (const tx of [...connected.block.txs].reverse()) {
        const txid = computeTxid(tx);
        tx.outputs.forEach((_, index) => view.spendCoin({ txid, index }));
        if (isCoinbase(tx)) continue;
        next -= tx.inputs.length;
        for (const { outpoint, coin } of connected.spent.slice(next, next + tx.inputs.length)) view.addCoin(outpoint, coin);
      }
      state.tipHeight = connected.height - 1;
    },
  };
}

/** A signed tx spending `coins` to `outputs` (key, value), and the coins it creates. */
export function spend(
  coins: readonly SpendableCoin[],
  outputs: readonly { key: TestKey; value: Sats }[],
  options: BuildTxOptions = {},
): { tx: Tx; coins: SpendableCoin[] } {
  const outs = outputs.map((o) => ({ value: o.value, scriptPubKey: o.key.scriptPubKey }));
  const tx = buildSignedTx(coins, outs, options);
  const txid = computeTxid(tx);
  return { tx, coins: outputs.map((o, index) => ({ outpoint: { txid, index }, output: outs[index]!, key: o.key })) };
}

/** A signed tx spending `coins` to one output (to `key`, default the first coin's) that leaves exactly `feeSats`. */
export function pay(
  coins: readonly SpendableCoin[],
  feeSats: Sats,
  options: BuildTxOptions & { key?: TestKey } = {},
): { tx: Tx; coin: SpendableCoin } {
  const total = coins.reduce((s, c) => s + c.output.value, 0n);
  const r = spend(coins, [{ key: options.key ?? coins[0]!.key, value: total - feeSats }], options);
  return { tx: r.tx, coin: r.coins[0]! };
}

/**
 * Like pay, but the fee is computed from the signed tx's own vsize: `feeFor(vsize)` sats. Signatures can change
 * the vsize by a byte, so it rebuilds until the fee matches the final vsize.
 */
export function payAtVsize(
  coins: readonly SpendableCoin[],
  feeFor: (vsize: number) => Sats,
  options: BuildTxOptions & { key?: TestKey } = {},
): { tx: Tx; coin: SpendableCoin; fee: Sats; vsize: number } {
  let fee = feeFor(150);
  for (let i = 0; i < 5; i++) {
    const r = pay(coins, fee, options);
    const vsize = getTxVsize(r.tx);
    if (feeFor(vsize) === fee) return { ...r, fee, vsize };
    fee = feeFor(vsize);
  }
  throw new Error('payAtVsize: fee did not settle');
}

/** A tx paying `rateSatPerVb` (integer) on its own vsize. */
export function payAtRate(
  coins: readonly SpendableCoin[],
  rateSatPerVb: number,
  options: BuildTxOptions & { key?: TestKey } = {},
): { tx: Tx; coin: SpendableCoin; fee: Sats; vsize: number } {
  return payAtVsize(coins, (v) => BigInt(v * rateSatPerVb), options);
}

/** The txid of a tx as displayed hex (what the mempool reports). */
export function txidOf(tx: Tx): string {
  return hashToHex(computeTxid(tx));
}
