import { hashKey, type HashKey } from '../../primitives/hashKey.js';
import type { Tx, Txid } from '../../primitives/types.js';

/** Most orphan transactions kept (Bitcoin Core's DEFAULT_MAX_ORPHAN_TRANSACTIONS). */
export const DEFAULT_MAX_ORPHAN_TXS = 100;
/** How long an orphan waits for its parents, ms (Core's ORPHAN_TX_EXPIRE_TIME: 20 minutes). */
export const DEFAULT_ORPHAN_EXPIRY_MS = 20 * 60 * 1000;

/** An orphan: a relayed tx whose parents were not known, and who sent it. */
export interface OrphanTx {
  readonly tx: Tx;
  readonly txid: Txid;
  /** libp2p peer id of the sender. */
  readonly fromPeer: string;
  readonly addedAtMs: number;
}

/**
 * Transactions relayed before their parents (gossip does not keep a sender's order across peers): kept, keyed by the
 * txids they spend, until a parent enters the mempool, then retried. Bounded in count (oldest evicted first) and in
 * time (expired after 20 minutes), so a peer cannot fill memory with txs whose parents never come.
 * @see Bitcoin Core txorphanage.cpp TxOrphanage
 */
export class TxOrphanage {
  private readonly byTxid = new Map<HashKey<Txid>, OrphanTx>();
  /** Parent txid → txids of orphans spending one of its outputs. */
  private readonly byParent = new Map<HashKey<Txid>, Set<HashKey<Txid>>>();

  constructor(
    private readonly maxTxs: number = DEFAULT_MAX_ORPHAN_TXS,
    private readonly expiryMs: number = DEFAULT_ORPHAN_EXPIRY_MS,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** Number of orphans held. */
  get size(): number {
    return this.byTxid.size;
  }

  /** Whether the orphan is held. */
  has(txid: Txid): boolean {
    return this.byTxid.has(hashKey(txid));
  }

  /** Keeps a tx whose inputs are missing; drops expired orphans and, past the limit, the oldest. */
  add(tx: Tx, txid: Txid, fromPeer: string): void {
    const key = hashKey(txid);
    if (this.byTxid.has(key)) return;
    this.expire();
    this.byTxid.set(key, { tx, txid, fromPeer, addedAtMs: this.nowMs() });
    for (const parent of parentsOf(tx)) {
      let children = this.byParent.get(parent);
      if (children === undefined) this.byParent.set(parent, (children = new Set()));
      children.add(key);
    }
    while (this.byTxid.size > this.maxTxs) {
      const oldest = this.byTxid.keys().next();
      if (oldest.done) break;
      this.remove(oldest.value);
    }
  }

  /** Removes and returns the orphans that spend an output of `parentTxid` (to be retried now that it is known). */
  takeChildrenOf(parentTxid: Txid): OrphanTx[] {
    const children = this.byParent.get(hashKey(parentTxid));
    if (children === undefined) return [];
    const out: OrphanTx[] = [];
    for (const key of [...children]) {
      const orphan = this.byTxid.get(key);
      if (orphan !== undefined) out.push(orphan);
      this.remove(key);
    }
    return out;
  }

  private expire(): void {
    const cutoff = this.nowMs() - this.expiryMs;
    for (const [key, orphan] of this.byTxid) {
      // Insertion order is age order: stop at the first one still young enough.
      if (orphan.addedAtMs > cutoff) break;
      this.remove(key);
    }
  }

  private remove(key: HashKey<Txid>): void {
    const orphan = this.byTxid.get(key);
    if (orphan === undefined) return;
    this.byTxid.delete(key);
    for (const parent of parentsOf(orphan.tx)) {
      const children = this.byParent.get(parent);
      children?.delete(key);
      if (children?.size === 0) this.byParent.delete(parent);
    }
  }
}

function parentsOf(tx: Tx): Set<HashKey<Txid>> {
  return new Set(tx.inputs.map((input) => hashKey(input.prevout.txid)));
}
