/**
 * A deterministic chain workload for crash and soak tests. From a seed and the chain's current tip it plans the next
 * step: extend the tip by one block carrying several real signed spends (of mature coinbases and of earlier outputs,
 * including outputs created earlier in the same block), or build a longer competing branch from a few blocks back
 * whose blocks spend the coins of the fork point differently, so feeding it makes the chain reorganise through undo
 * data. The plan depends only on the seed and the stored chain, so a process killed at any instant and restarted on
 * the same store resumes the same workload (rebuilding identical blocks where it had stopped).
 *
 * Typical use (the crash test's driver process does this in a loop):
 *   const step = planWorkloadStep({ chain, store }, { seed: '7' });
 *   for (const block of step.blocks) await chain.processBlock(block);
 */
import type { Chain } from '../chain/chain.js';
import type { Coin } from '../consensus/utxoView.js';
import { bytesToHex } from '../primitives/hex.js';
import { outpointKey, type OutpointKey } from '../primitives/outpoint.js';
import { computeTxid } from '../primitives/tx.js';
import type { Block, Outpoint, Sats, Tx, TxOut } from '../primitives/types.js';
import type { ChainIndexReader } from '../interfaces/chainIndexReader.js';
import { buildChildBlock, MINER_KEY, parentOf, parentOfEntry, type BlockParent } from './chainFactory.js';
import { SeededRng } from './seededRng.js';
import { buildSignedTx, makeTestKey, type SpendableCoin, type TestKey } from './txFactory.js';

/** The keys the workload pays to and spends from: the miner key (coinbases) and three others, one of them P2TR. */
export const WORKLOAD_KEYS: readonly TestKey[] = Object.freeze([
  MINER_KEY,
  makeTestKey('workload-0'),
  makeTestKey('workload-1', 'p2tr'),
  makeTestKey('workload-2'),
]);

/** Default deepest reorg the workload plans (blocks disconnected). */
export const DEFAULT_MAX_REORG_DEPTH = 8;

/** Options of planWorkloadStep. */
export interface WorkloadOptions {
  /** Any string; the same seed on the same chain state gives the same step. */
  readonly seed: string;
  /** Deepest reorg planned, in blocks disconnected; default DEFAULT_MAX_REORG_DEPTH (8). */
  readonly maxReorgDepth?: number;
  /** Chance (0..1) that a step is a reorg once coinbases have matured; default 0.2. */
  readonly reorgChance?: number;
  /** Most spends per block; default 6 (at least 2 when coins allow). */
  readonly maxTxsPerBlock?: number;
  /** Keys spent from and paid to; default WORKLOAD_KEYS. Coinbases always pay MINER_KEY, which must be among them. */
  readonly keys?: readonly TestKey[];
}

/**
 * The next step of the workload:
 * - `extend`: one block on the tip, at `height`;
 * - `reorg`: `blocks` build a branch on the main-chain block at `forkHeight`; it is `depth` + 1 or + 2 blocks long,
 *   so (all blocks having equal work on regtest) its last block overtakes the tip after `depth` disconnects.
 */
export type WorkloadStep =
  | { readonly kind: 'extend'; readonly height: number; readonly blocks: readonly Block[] }
  | { readonly kind: 'reorg'; readonly forkHeight: number; readonly depth: number; readonly blocks: readonly Block[] };

/** What the workload reads: the chain (tip, main-chain blocks, undo data) and the address index. */
export interface WorkloadSource {
  readonly chain: Chain;
  readonly chainIndex: ChainIndexReader;
}

/** A coin of the workload's keys, with the height and coinbase flag that decide when it may be spent. */
export interface WalletCoin extends SpendableCoin {
  readonly height: number;
  readonly isCoinbase: boolean;
}

/**
 * The coins paying to `keys` in the main chain's UTXO set as it was at `height` (<= the tip height): the current
 * coins created at or below it, plus the coins created at or below it that main-chain blocks above it spent (read
 * from their undo data). Keyed by outpointKey.
 * @throws RangeError when `height` is above the tip or a main-chain block above it lacks data or undo data
 */
export function walletCoinsAt(source: WorkloadSource, keys: readonly TestKey[], height: number): Map<OutpointKey, WalletCoin> {
  const { chain, chainIndex } = source;
  if (height > chain.height) throw new RangeError(`walletCoinsAt: height ${height} is above the tip ${chain.height}`);
  const byScript = new Map(keys.map((k) => [bytesToHex(k.scriptPubKey), k]));
  const coins = new Map<OutpointKey, WalletCoin>();
  const add = (outpoint: Outpoint, coin: Coin): void => {
    const key = byScript.get(bytesToHex(coin.output.scriptPubKey));
    if (key === undefined || coin.height > height) return;
    coins.set(outpointKey(outpoint), { outpoint, output: coin.output, key, height: coin.height, isCoinbase: coin.isCoinbase });
  };
  for (const key of keys) for (const { outpoint, coin } of chainIndex.getAddressUtxos(key.scriptPubKey)) add(outpoint, coin);
  for (let h = height + 1; h <= chain.height; h++) {
    const entry = chain.getEntryByHeight(h)!;
    const block = chain.getBlock(entry.hash);
    const undo = chain.getBlockUndo(entry.hash);
    if (block === undefined || undo === undefined) throw new RangeError(`walletCoinsAt: no block or undo data at height ${h}`);
    let u = 0;
    for (const tx of block.txs.slice(1)) for (const input of tx.inputs) add(input.prevout, undo[u++]!);
  }
  return coins;
}

/** Fee of a workload spend: 200 sats plus 150 per input (cairn has no consensus minimum; this keeps fees non-zero). */
function feeFor(inputs: number): Sats {
  return 200n + 150n * BigInt(inputs);
}

/** Smallest output value the workload creates (above Bitcoin's 546-sat P2WPKH dust limit). */
const MIN_OUTPUT_SATS = 1_000n;

/**
 * Builds one block on `parent` with up to `maxTxs` signed spends drawn from `wallet` (the coins of the keys at the
 * parent), and updates `wallet` to the coins after the block: spent ones removed, created ones (and the coinbase)
 * added. Spends may use outputs created earlier in the same block; some carry an OP_RETURN output.
 */
export function buildWorkloadBlock(
  source: WorkloadSource,
  parent: BlockParent,
  wallet: Map<OutpointKey, WalletCoin>,
  rng: SeededRng,
  keys: readonly TestKey[],
  maxTxs: number,
): Block {
  const params = source.chain.chainParams;
  const height = parent.height + 1;
  const pool = [...wallet.entries()]
    .filter(([, c]) => !c.isCoinbase || height - c.height >= params.coinbaseMaturity)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, c]) => c);
  const txs: Tx[] = [];
  let fees = 0n;
  const txCount = pool.length === 0 ? 0 : rng.int(Math.min(2, maxTxs), maxTxs);
  for (let t = 0; t < txCount && pool.length > 0; t++) {
    const inputs: WalletCoin[] = [];
    const nIn = rng.int(1, Math.min(3, pool.length));
    for (let i = 0; i < nIn; i++) inputs.push(pool.splice(rng.int(0, pool.length - 1), 1)[0]!);
    const total = inputs.reduce((s, c) => s + c.output.value, 0n);
    const fee = feeFor(inputs.length);
    if (total < fee + MIN_OUTPUT_SATS) continue; // too small to spend: leave it for good
    let nOut = rng.int(1, 3);
    let remaining = total - fee;
    if (remaining < MIN_OUTPUT_SATS * 4n * BigInt(nOut)) nOut = 1;
    const outs: { output: TxOut; key: TestKey | undefined }[] = [];
    for (let o = 0; o < nOut; o++) {
      const key = rng.pick(keys);
      const value = o === nOut - 1 ? remaining : (remaining * BigInt(rng.int(10, 60))) / 100n;
      remaining -= value;
      outs.push({ output: { value, scriptPubKey: key.scriptPubKey }, key });
    }
    if (rng.chance(0.1)) {
      const data = rng.bytes(rng.int(0, 40));
      outs.splice(rng.int(0, outs.length), 0, { output: { value: 0n, scriptPubKey: Uint8Array.of(0x6a, data.length, ...data) }, key: undefined });
    }
    const tx = buildSignedTx(inputs, outs.map((o) => o.output));
    txs.push(tx);
    fees += fee;
    const txid = computeTxid(tx);
    for (const c of inputs) wallet.delete(outpointKey(c.outpoint));
    outs.forEach(({ output, key }, index) => {
      if (key === undefined) return;
      const coin: WalletCoin = { outpoint: { txid, index }, output, key, height, isCoinbase: false };
      wallet.set(outpointKey(coin.outpoint), coin);
      pool.push(coin);
    });
  }
  const block = buildChildBlock(params, parent, { txs, fees, extraNonce: rng.bytes(8) });
  const coinbase = block.txs[0]!;
  const coinbaseTxid = computeTxid(coinbase);
  coinbase.outputs.forEach((output, index) => {
    if (bytesToHex(output.scriptPubKey) !== bytesToHex(MINER_KEY.scriptPubKey)) return;
    const coin: WalletCoin = { outpoint: { txid: coinbaseTxid, index }, output, key: MINER_KEY, height, isCoinbase: true };
    wallet.set(outpointKey(coin.outpoint), coin);
  });
  return block;
}

/**
 * Plans the next workload step from the chain's tip: a PRNG seeded with `${seed}/${tip hash}` decides between
 * extending the tip and (once coinbases have matured, with probability reorgChance) a competing branch from 1 to
 * maxReorgDepth blocks back, then builds the blocks. Does not submit them.
 */
export function planWorkloadStep(source: WorkloadSource, options: WorkloadOptions): WorkloadStep {
  const { chain } = source;
  const params = chain.chainParams;
  const keys = options.keys ?? WORKLOAD_KEYS;
  const maxTxs = options.maxTxsPerBlock ?? 6;
  const tip = chain.tip;
  const rng = new SeededRng(`${options.seed}/${tip.hashHex}`);
  const maxDepth = Math.min(options.maxReorgDepth ?? DEFAULT_MAX_REORG_DEPTH, tip.height - 1);
  if (tip.height > params.coinbaseMaturity && maxDepth >= 1 && rng.chance(options.reorgChance ?? 0.2)) {
    const depth = rng.int(1, maxDepth);
    const forkHeight = tip.height - depth;
    const wallet = walletCoinsAt(source, keys, forkHeight);
    const length = depth + rng.int(1, 2);
    const blocks: Block[] = [];
    let parent = parentOfEntry(chain.getEntryByHeight(forkHeight)!);
    for (let i = 0; i < length; i++) {
      const block = buildWorkloadBlock(source, parent, wallet, rng, keys, maxTxs);
      blocks.push(block);
      parent = parentOf(block, parent.height + 1);
    }
    return { kind: 'reorg', forkHeight, depth, blocks };
  }
  const wallet = walletCoinsAt(source, keys, tip.height);
  return { kind: 'extend', height: tip.height + 1, blocks: [buildWorkloadBlock(source, parentOfEntry(tip), wallet, rng, keys, maxTxs)] };
}
