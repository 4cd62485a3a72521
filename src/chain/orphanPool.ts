import { hashKey, type HashKey } from '../primitives/hashKey.js';
import type { Block, BlockHash } from '../primitives/types.js';

/** A block held until its parent arrives. */
export interface OrphanBlock {
  readonly block: Block;
  readonly hash: BlockHash;
  /** The parent the orphan waits for (its header's prevBlock). */
  readonly prevBlock: BlockHash;
  /** Serialized size with witnesses, bytes: what the pool's byte limit counts. */
  readonly sizeBytes: number;
}

/** Limits of an OrphanPool. */
export interface OrphanPoolLimits {
  /** Most orphans kept. */
  readonly maxBlocks: number;
  /** Most bytes (sum of sizeBytes) kept. */
  readonly maxBytes: number;
}

/**
 * Blocks whose parent is not yet known, keyed by hash and by parent, bounded by count and by bytes: adding beyond a
 * limit evicts the oldest orphans first (FIFO), so a peer flooding orphans cannot grow memory without bound.
 * Orphans passed the context-free checks (checkBlock) before entering; nothing else is known about them.
 * @see bcoin lib/blockchain/chain.js (orphan map by hash and by prev); Bitcoin Core's pre-headers-first mapOrphanBlocks
 */
export class OrphanPool {
  private readonly byHash = new Map<HashKey<BlockHash>, OrphanBlock>();
  private readonly byPrev = new Map<HashKey<BlockHash>, Set<HashKey<BlockHash>>>();
  private bytes = 0;

  /** @param limits count and byte bounds; a maxBlocks below 1 keeps nothing. */
  constructor(readonly limits: OrphanPoolLimits) {}

  /** Number of orphans held. */
  get size(): number {
    return this.byHash.size;
  }

  /** Sum of the orphans' sizes, bytes. */
  get sizeBytes(): number {
    return this.bytes;
  }

  /** Whether the block is held. */
  has(hash: BlockHash): boolean {
    return this.byHash.size > 0 && this.byHash.has(hashKey(hash));
  }

  /** The held orphan with this hash, or undefined. */
  get(hash: BlockHash): OrphanBlock | undefined {
    return this.byHash.get(hashKey(hash));
  }

  /**
   * Adds an orphan and evicts the oldest ones until both limits hold again. Returns false (and keeps nothing) when the
   * orphan alone exceeds the byte limit or is already held. Returns the evicted orphans' hashes otherwise.
   */
  add(orphan: OrphanBlock): { added: boolean; evicted: BlockHash[] } {
    const key = hashKey(orphan.hash);
    if (this.byHash.has(key) || orphan.sizeBytes > this.limits.maxBytes || this.limits.maxBlocks < 1) {
      return { added: false, evicted: [] };
    }
    this.byHash.set(key, orphan);
    const prevKey = hashKey(orphan.prevBlock);
    let siblings = this.byPrev.get(prevKey);
    if (siblings === undefined) this.byPrev.set(prevKey, (siblings = new Set()));
    siblings.add(key);
    this.bytes += orphan.sizeBytes;
    const evicted: BlockHash[] = [];
    // Map iteration order is insertion order: the first value is the oldest orphan.
    for (let oldest = this.oldest(); oldest !== undefined && this.overLimits(); oldest = this.oldest()) {
      this.removeByKey(hashKey(oldest.hash));
      evicted.push(oldest.hash);
    }
    return { added: true, evicted };
  }

  /** Removes an orphan; returns it, or undefined when it was not held. */
  remove(hash: BlockHash): OrphanBlock | undefined {
    return this.removeByKey(hashKey(hash));
  }

  /** Removes and returns the orphans whose parent is `prevBlock`, oldest first. */
  takeChildren(prevBlock: BlockHash): OrphanBlock[] {
    if (this.byPrev.size === 0) return [];
    const children = [...(this.byPrev.get(hashKey(prevBlock)) ?? [])];
    return children.map((key) => this.removeByKey(key)).filter((o): o is OrphanBlock => o !== undefined);
  }

  /**
   * The oldest ancestor held for an orphan: follows prevBlock through the pool while the parent is itself an orphan.
   * The parent of the returned orphan is the block to ask peers for (Core's GetOrphanRoot).
   */
  getRoot(hash: BlockHash): OrphanBlock | undefined {
    let orphan = this.byHash.get(hashKey(hash));
    const seen = new Set<OrphanBlock>();
    while (orphan !== undefined && !seen.has(orphan)) {
      seen.add(orphan);
      const parent = this.byHash.get(hashKey(orphan.prevBlock));
      if (parent === undefined) return orphan;
      orphan = parent;
    }
    return orphan;
  }

  /** Drops every orphan. */
  clear(): void {
    this.byHash.clear();
    this.byPrev.clear();
    this.bytes = 0;
  }

  private oldest(): OrphanBlock | undefined {
    return this.byHash.values().next().value;
  }

  private overLimits(): boolean {
    return this.byHash.size > this.limits.maxBlocks || this.bytes > this.limits.maxBytes;
  }

  private removeByKey(key: HashKey<BlockHash>): OrphanBlock | undefined {
    const orphan = this.byHash.get(key);
    if (orphan === undefined) return undefined;
    this.byHash.delete(key);
    this.bytes -= orphan.sizeBytes;
    const prevKey = hashKey(orphan.prevBlock);
    const siblings = this.byPrev.get(prevKey);
    siblings?.delete(key);
    if (siblings?.size === 0) this.byPrev.delete(prevKey);
    return orphan;
  }
}
