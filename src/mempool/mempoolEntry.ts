import { hashKey, type HashKey } from '../primitives/hashKey.js';
import { hashToHex } from '../primitives/hex.js';
import type { Sats, Tx, Txid, Wtxid } from '../primitives/types.js';
import type { MempoolEntryView } from '../interfaces/mempoolTypes.js';
import { feeRateSatPerVb } from '../policy/feeRate.js';

/** What the mempool knows about one transaction when it enters: everything but the package statistics. */
export interface MempoolEntryInit {
  readonly tx: Tx;
  readonly txid: Txid;
  readonly wtxid: Wtxid;
  /** Inputs minus outputs, sats. */
  readonly fee: Sats;
  /** BIP-141 virtual size, vbytes. */
  readonly vsize: number;
  /** BIP-141 weight, weight units. */
  readonly weight: number;
  /** When it entered the mempool, seconds since the epoch. */
  readonly timeSec: number;
  /** Chain tip height when it entered. */
  readonly height: number;
  /** Entry order in this mempool (ties in eviction and selection order go by it). */
  readonly sequence: number;
}

/**
 * A transaction in the mempool with its fee, size and package statistics: counts, vsizes and fees of itself plus
 * all its in-mempool ancestors, and of itself plus all its in-mempool descendants. The statistics include the entry
 * itself (a lone tx has ancestorCount = descendantCount = 1) and are kept up to date by the Mempool, the only
 * caller of the update methods.
 * @see Bitcoin Core kernel/mempool_entry.h CTxMemPoolEntry
 */
export class MempoolEntry implements MempoolEntryView {
  readonly tx: Tx;
  readonly txid: Txid;
  /** txid as displayed (reversed hex), for logs and the APIs. */
  readonly txidHex: string;
  /** The txid's map key (hashKey), made once: the mempool's indexes are keyed by it. */
  readonly txidKey: HashKey<Txid>;
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
  /** Entry order in the mempool. */
  readonly sequence: number;

  private ancCount = 1;
  private ancSize: number;
  private ancFees: Sats;
  private descCount = 1;
  private descSize: number;
  private descFees: Sats;

  constructor(init: MempoolEntryInit) {
    this.tx = init.tx;
    this.txid = init.txid;
    this.txidHex = hashToHex(init.txid);
    this.txidKey = hashKey(init.txid);
    this.wtxid = init.wtxid;
    this.wtxidHex = hashToHex(init.wtxid);
    this.fee = init.fee;
    this.vsize = init.vsize;
    this.weight = init.weight;
    this.timeSec = init.timeSec;
    this.height = init.height;
    this.sequence = init.sequence;
    this.ancSize = init.vsize;
    this.ancFees = init.fee;
    this.descSize = init.vsize;
    this.descFees = init.fee;
  }

  /** Own fee rate in sat/vB, for display; policy code compares rates with compareFeeRates. */
  get feeRateSatPerVb(): number {
    return feeRateSatPerVb(this.fee, this.vsize);
  }

  /** Number of in-mempool ancestors plus one (itself). */
  get ancestorCount(): number {
    return this.ancCount;
  }

  /** Sum of the vsizes of itself and its in-mempool ancestors, vbytes. */
  get ancestorSize(): number {
    return this.ancSize;
  }

  /** Sum of the fees of itself and its in-mempool ancestors, sats. */
  get ancestorFees(): Sats {
    return this.ancFees;
  }

  /** Number of in-mempool descendants plus one (itself). */
  get descendantCount(): number {
    return this.descCount;
  }

  /** Sum of the vsizes of itself and its in-mempool descendants, vbytes. */
  get descendantSize(): number {
    return this.descSize;
  }

  /** Sum of the fees of itself and its in-mempool descendants, sats. */
  get descendantFees(): Sats {
    return this.descFees;
  }

  /** Fee rate of itself with its ancestors, sat/vB (display). */
  get ancestorFeeRateSatPerVb(): number {
    return feeRateSatPerVb(this.ancFees, this.ancSize);
  }

  /** Fee rate of itself with its descendants, sat/vB (display). */
  get descendantFeeRateSatPerVb(): number {
    return feeRateSatPerVb(this.descFees, this.descSize);
  }

  /**
   * Adds deltas to the ancestor statistics (an ancestor entered or left). Mempool-internal.
   * @see Bitcoin Core CTxMemPoolEntry::UpdateAncestorState
   */
  updateAncestorState(sizeDelta: number, feeDelta: Sats, countDelta: number): void {
    this.ancSize += sizeDelta;
    this.ancFees += feeDelta;
    this.ancCount += countDelta;
  }

  /**
   * Adds deltas to the descendant statistics (a descendant entered or left). Mempool-internal.
   * @see Bitcoin Core CTxMemPoolEntry::UpdateDescendantState
   */
  updateDescendantState(sizeDelta: number, feeDelta: Sats, countDelta: number): void {
    this.descSize += sizeDelta;
    this.descFees += feeDelta;
    this.descCount += countDelta;
  }
}
