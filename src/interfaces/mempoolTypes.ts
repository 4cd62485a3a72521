/**
 * The mempool's data shapes that services share (mempool, API, p2p, mining, node): entries as others see them,
 * acceptance options and results, selection packages, and mempool events. Types and constants only: no I/O.
 */
import type { Sats, Tx, Txid, Wtxid } from '../primitives/types.js';

/**
 * A transaction in the mempool as other services see it: the tx, its ids, fee and size, entry time and height, and
 * its package statistics (counts, vsizes and fees of itself plus its in-mempool ancestors / descendants).
 * @see Bitcoin Core kernel/mempool_entry.h CTxMemPoolEntry
 */
export interface MempoolEntryView {
  readonly tx: Tx;
  readonly txid: Txid;
  /** txid as displayed (reversed hex), for logs and the APIs. */
  readonly txidHex: string;
  readonly wtxid: Wtxid;
  /** wtxid as displayed (reversed hex), for logs and the APIs. */
  readonly wtxidHex: string;
  /** Fee in sats. */
  readonly fee: Sats;
  /** Virtual size in vbytes. */
  readonly vsize: number;
  /** Weight in weight units. */
  readonly weight: number;
  /** Entry time, seconds since the epoch. */
  readonly timeSec: number;
  /** Chain tip height at entry. */
  readonly height: number;
  /** Own fee rate in sat/vB (display). */
  readonly feeRateSatPerVb: number;
  /** In-mempool ancestors plus itself. */
  readonly ancestorCount: number;
  /** Vsize of itself and its in-mempool ancestors, vbytes. */
  readonly ancestorSize: number;
  /** Fees of itself and its in-mempool ancestors, sats. */
  readonly ancestorFees: Sats;
  /** In-mempool descendants plus itself. */
  readonly descendantCount: number;
  /** Vsize of itself and its in-mempool descendants, vbytes. */
  readonly descendantSize: number;
  /** Fees of itself and its in-mempool descendants, sats. */
  readonly descendantFees: Sats;
}

/** Options of acceptTransaction. */
export interface AcceptTransactionOptions {
  /** Run every check, scripts included, but do not add the tx (Core's testmempoolaccept). */
  readonly testOnly?: boolean;
  /**
   * The caller's ceiling on the fee rate, sat/kvB: a tx paying more than ceil(rate × vsize / 1000) sats is refused
   * with `max-fee-exceeded` (a fee typed in the wrong unit would otherwise be lost to the miners). Undefined or 0:
   * no ceiling. sendrawtransaction and POST /api/tx pass 10,000,000 (0.10 coin/kvB) unless told otherwise.
   * @see Bitcoin Core MemPoolAccept::ATMPArgs m_client_maxfeerate, DEFAULT_MAX_RAW_TX_FEE_RATE
   */
  readonly maxFeeRateSatPerKvb?: bigint;
}

/** An accepted (or, with testOnly, acceptable) transaction. */
export interface MempoolAcceptResult {
  readonly txid: Txid;
  readonly wtxid: Wtxid;
  /** Fee in sats. */
  readonly fee: Sats;
  /** Virtual size, vbytes. */
  readonly vsize: number;
  /** Own fee rate, sat/vB (display). */
  readonly feeRateSatPerVb: number;
  /** Txids of the transactions it replaced (direct conflicts and their descendants); with testOnly, would replace. */
  readonly replaced: readonly Txid[];
}

/**
 * A set of transactions selected together by ancestor fee rate: a tx and its not yet selected ancestors, parents
 * first; `fee` and `vsize` are their sums.
 */
export interface AncestorPackage {
  readonly txids: readonly Txid[];
  readonly fee: Sats;
  readonly vsize: number;
}

/**
 * Why a transaction left the mempool: mined in a connected block, conflicting with a block tx, evicted by a
 * replacement, expired, evicted by the size cap, or invalid after a reorg.
 * @see Bitcoin Core kernel/mempool_removal_reason.h MemPoolRemovalReason
 */
export type MempoolRemovalReason = 'block' | 'conflict' | 'replaced' | 'expiry' | 'sizelimit' | 'reorg';

/** One transaction that left the mempool: its txid, why, and the entry as it was. */
export interface MempoolRemoval {
  readonly txid: Txid;
  readonly reason: MempoolRemovalReason;
  readonly entry: MempoolEntryView;
}

/**
 * The events a Mempool emits, by name: `added` once per accepted tx (after it is in the pool, statistics updated),
 * `removed` once per tx that leaves, after the pool is consistent again.
 * @see Bitcoin Core validationinterface.h TransactionAddedToMempool, TransactionRemovedFromMempool
 */
export interface MempoolEvents {
  added: MempoolEntryView;
  removed: MempoolRemoval;
}

/**
 * Height reported for coins created by mempool transactions (they are in no block yet).
 * @see Bitcoin Core txmempool.h MEMPOOL_HEIGHT
 */
export const MEMPOOL_HEIGHT = 0x7fffffff;
