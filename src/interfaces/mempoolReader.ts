import type { Listener } from '../async/typedEmitter.js';
import type { Coin } from '../consensus/utxoView.js';
import type { MempoolOptions } from '../policy/mempoolOptions.js';
import type { Outpoint, Sats, Txid } from '../primitives/types.js';
import type { AncestorPackage, MempoolEntryView, MempoolEvents } from './mempoolTypes.js';

/**
 * What the node's interfaces read from the mempool: its entries and totals, spends of outputs, the coins its txs
 * create, selection packages, fee estimates, and its events. Read-only: transactions enter through
 * NodeContext.submitTransaction. Implemented by mempool/Mempool.
 * @see Bitcoin Core interfaces/chain.h (mempool queries), txmempool.h CTxMemPool
 */
export interface MempoolReader {
  /** The policy the mempool applies (min relay fee, size cap, …). */
  readonly options: MempoolOptions;
  /** Number of transactions. */
  readonly size: number;
  /** Sum of the transactions' vsizes, vbytes. */
  readonly totalVsize: number;
  /** Sum of the transactions' fees, sats. */
  readonly totalFees: Sats;
  /** Whether a tx (by txid) is in the mempool. */
  has(txid: Txid): boolean;
  /** The entry of a tx by txid, or undefined. */
  get(txid: Txid): MempoolEntryView | undefined;
  /** Every entry, in no particular order. */
  entries(): IterableIterator<MempoolEntryView>;
  /** The mempool tx spending the outpoint, or undefined. */
  getSpender(outpoint: Outpoint): MempoolEntryView | undefined;
  /** An unspent output of a mempool tx, as a coin at MEMPOOL_HEIGHT, or undefined. */
  getCoin(outpoint: Outpoint): Coin | undefined;
  /** Packages in block-template order (ancestor fee rate, highest first), parents first within each. */
  selectAncestorPackages(): AncestorPackage[];
  /** The lowest fee rate a tx can enter with now, sat/kvB (an integer; Core's mempoolminfee). */
  getMinimumFeeRateSatPerKvb(): number;
  /** Fee-rate estimates per confirmation target (blocks), sat/vB (see Mempool.estimateFeeRates). */
  estimateFeeRates(targets: readonly number[]): Map<number, number>;
  /** Subscribes to a mempool event; returns the unsubscribe function. */
  on<K extends keyof MempoolEvents>(event: K, listener: Listener<MempoolEvents, K>): () => void;
}
