import { TypedEmitter, type Listener } from '../async/typedEmitter.js';
import type { Logger } from '../logging/logger.js';
import type { MempoolEntry } from './mempoolEntry.js';

/**
 * Why a transaction left the mempool: mined in a connected block, conflicting with a block tx, evicted by a
 * replacement, expired, evicted by the size cap, or invalid after a reorg.
 * @see Bitcoin Core kernel/mempool_removal_reason.h MemPoolRemovalReason
 */
export type MempoolRemovalReason = 'block' | 'conflict' | 'replaced' | 'expiry' | 'sizelimit' | 'reorg';

/** One transaction that left the mempool: its txid (display hex), why, and the entry as it was. */
export interface MempoolRemoval {
  readonly txid: string;
  readonly reason: MempoolRemovalReason;
  readonly entry: MempoolEntry;
}

/**
 * The events a Mempool emits, by name: `added` once per accepted tx (after it is in the pool, statistics updated),
 * `removed` once per tx that leaves, after the pool is consistent again.
 * @see Bitcoin Core validationinterface.h TransactionAddedToMempool, TransactionRemovedFromMempool
 */
export interface MempoolEvents {
  added: MempoolEntry;
  removed: MempoolRemoval;
}

/** A listener of one mempool event. */
export type MempoolListener<K extends keyof MempoolEvents> = Listener<MempoolEvents, K>;

/** The mempool's emitter of MempoolEvents: a TypedEmitter whose listener errors are logged. */
export class MempoolEventEmitter extends TypedEmitter<MempoolEvents> {
  constructor(logger: Logger) {
    super((err, event) => logger.error({ err, event }, 'mempool event listener threw'));
  }
}
