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
export type MempoolListener<K extends keyof MempoolEvents> = (payload: MempoolEvents[K]) => void;

/**
 * A tiny typed emitter for MempoolEvents. Listeners run synchronously in registration order; a listener that throws
 * is logged and does not disturb the mempool or the other listeners.
 */
export class MempoolEventEmitter {
  private readonly listeners: { [K in keyof MempoolEvents]: Set<MempoolListener<K>> } = {
    added: new Set(),
    removed: new Set(),
  };

  constructor(private readonly logger: Logger) {}

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof MempoolEvents>(event: K, listener: MempoolListener<K>): () => void {
    this.listeners[event].add(listener);
    return () => this.off(event, listener);
  }

  /** Removes a listener (no-op when it is not registered). */
  off<K extends keyof MempoolEvents>(event: K, listener: MempoolListener<K>): void {
    this.listeners[event].delete(listener);
  }

  /** Calls every listener of `event` with `payload`, logging (not rethrowing) listener errors. */
  emit<K extends keyof MempoolEvents>(event: K, payload: MempoolEvents[K]): void {
    for (const listener of [...this.listeners[event]]) {
      try {
        listener(payload);
      } catch (err) {
        this.logger.error({ err, event }, 'mempool event listener threw');
      }
    }
  }
}
