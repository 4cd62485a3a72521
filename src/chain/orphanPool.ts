import type { Block } from '../primitives/types.js';

/** A block held until its parent arrives. */
export interface OrphanBlock {
  readonly block: Block;
  readonly hashHex: string;
  /** Display hex of the parent the orphan waits for. */
  readonly prevHex: string;
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
  private readonly byHash = new Map<string, OrphanBlock>();
  private readonly byPrev = new Map<string, Set<string>>();
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

  /** Whether the block (display hex) is held. */
  has(hashHex: string): boolean {
    return this.byHash.has(hashHex);
  }

  /** The held orphan with this hash (display hex), or undefined. */
  get(hashHex: string): OrphanBlock | undefined {
    return this.byHash.get(hashHex);
  }

  /**
   * Adds an orphan and evicts the oldest ones until both limits hold again. Returns false (and keeps nothing) when the
   * orphan alone exceeds the byte limit or is already held. Returns the evicted orphans' hashes otherwise.
   */
  add(orphan: OrphanBlock): { added: boolean; evicted: string[] } {
    if (this.byHash.has(orphan.hashHex) || orphan.sizeBytes > this.limits.maxBytes || this.limits.maxBlocks < 1) {
      return { added: false, evicted: [] };
    }
    this.byHash.set(orphan.hashHex, orphan);
    let siblings = this.byPrev.get(orphan.prevHex);
    if (siblings === undefined) this.byPrev.set(orphan.prevHex, (siblings = new Set()));
    siblings.add(orphan.hashHex);
    this.bytes += orphan.sizeBytes;
    const evicted: string[] = [];
    while (this.byHash.size > this.limits.maxBlocks || this.bytes > this.limits.maxBytes) {
      // Map iteration order is insertion order: the first key is the oldest orphan.
      const oldest = this.byHash.keys().next().value as string;
      this.remove(oldest);
      evicted.push(oldest);
    }
    return { added: true, evicted };
  }

  /** Removes an orphan; returns it, or undefined when it was not held. */
  remove(hashHex: string): OrphanBlock | undefined {
    const orphan = this.byHash.get(hashHex);
    if (orphan === undefined) return undefined;
    this.byHash.delete(hashHex);
    this.bytes -= orphan.sizeBytes;
    const siblings = this.byPrev.get(orphan.prevHex);
    siblings?.delete(hashHex);
    if (siblings?.size === 0) this.byPrev.delete(orphan.prevHex);
    return orphan;
  }

  /** Removes and returns the orphans whose parent is `prevHex`, oldest first. */
  takeChildren(prevHex: string): OrphanBlock[] {
    const children = [...(this.byPrev.get(prevHex) ?? [])];
    return children.map((h) => this.remove(h)).filter((o): o is OrphanBlock => o !== undefined);
  }

  /**
   * The hash of the oldest ancestor held for an orphan: follows prevHex through the pool while the parent is itself
   * an orphan. The parent of the returned orphan is the block to ask peers for (Core's GetOrphanRoot).
   */
  getRoot(hashHex: string): OrphanBlock | undefined {
    let orphan = this.byHash.get(hashHex);
    const seen = new Set<string>();
    while (orphan !== undefined && !seen.has(orphan.hashHex)) {
      seen.add(orphan.hashHex);
      const parent = this.byHash.get(orphan.prevHex);
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
}
