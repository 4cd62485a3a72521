/**
 * The mempool's policy knobs, a plain struct (the CLI maps flags onto it in node/). Fee rates are integer sat/kvB
 * (1000 sat/kvB = 1 sat/vB), sizes vbytes, times seconds.
 * @see Bitcoin Core kernel/mempool_options.h MemPoolOptions, kernel/mempool_limits.h MemPoolLimits
 */
export interface MempoolOptions {
  /** Lowest fee rate a tx must pay to enter, sat/kvB. Default 1000 (Core's -minrelaytxfee). */
  readonly minRelayFeeRateSatPerKvb: number;
  /**
   * Fee rate a replacement must add over what it evicts, and the step added to the rolling minimum fee after a
   * size-limit eviction, sat/kvB. Default 1000 (Core's -incrementalrelayfee).
   */
  readonly incrementalRelayFeeRateSatPerKvb: number;
  /** Fee rate that defines dust outputs, sat/kvB. Default 3000 (Core's -dustrelayfee). */
  readonly dustRelayFeeRateSatPerKvb: number;
  /** Largest standard tx weight, weight units. Default 400,000 (Core's MAX_STANDARD_TX_WEIGHT). */
  readonly maxStandardTxWeight: number;
  /**
   * Cap on the sum of the vsizes of all entries, vbytes. Default 300,000,000: Core's -maxmempool=300 (MB) in spirit,
   * but cairn caps the sum of vsizes, not the process memory the entries use (which is several times larger).
   */
  readonly maxSizeVbytes: number;
  /** Entries older than this are dropped with their descendants, seconds. Default 14 days (Core's -mempoolexpiry). */
  readonly expirySec: number;
  /** Most in-mempool ancestors a tx may have, itself included. Default 25 (Core's -limitancestorcount). */
  readonly ancestorCountLimit: number;
  /** Largest vsize of a tx with its in-mempool ancestors, vbytes. Default 101,000 (Core's -limitancestorsize 101 kvB). */
  readonly ancestorSizeLimitVbytes: number;
  /** Most in-mempool descendants any ancestor may reach, itself included. Default 25 (Core's -limitdescendantcount). */
  readonly descendantCountLimit: number;
  /** Largest vsize of a tx with its in-mempool descendants, vbytes. Default 101,000 (Core's -limitdescendantsize). */
  readonly descendantSizeLimitVbytes: number;
  /** Most transactions one replacement may evict (BIP-125 rule 5). Default 100 (Core's MAX_REPLACEMENT_CANDIDATES). */
  readonly maxReplacementEvictions: number;
}

/** The defaults of every MempoolOptions field (Bitcoin Core's, see each field). */
export const DEFAULT_MEMPOOL_OPTIONS: MempoolOptions = Object.freeze({
  minRelayFeeRateSatPerKvb: 1000,
  incrementalRelayFeeRateSatPerKvb: 1000,
  dustRelayFeeRateSatPerKvb: 3000,
  maxStandardTxWeight: 400_000,
  maxSizeVbytes: 300_000_000,
  expirySec: 14 * 24 * 60 * 60,
  ancestorCountLimit: 25,
  ancestorSizeLimitVbytes: 101_000,
  descendantCountLimit: 25,
  descendantSizeLimitVbytes: 101_000,
  maxReplacementEvictions: 100,
});
