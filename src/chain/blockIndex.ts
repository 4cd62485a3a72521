import { MEDIAN_TIME_SPAN, computeMedianTimePast } from '../consensus/medianTimePast.js';
import { hashKey, type HashKey } from '../primitives/hashKey.js';
import type { BlockHash } from '../primitives/types.js';
import { BLOCK_FAILED_MASK, BlockStatus, type BlockIndexEntry } from '../interfaces/chainTypes.js';

/**
 * One block index entry in memory, linked into the tree of known headers.
 * @see Bitcoin Core chain.h CBlockIndex (pprev, nSequenceId, nChainTx != 0)
 */
export interface IndexNode {
  readonly entry: BlockIndexEntry;
  readonly parent: IndexNode | undefined;
  readonly children: IndexNode[];
  /** Arrival order for tie-breaks among equal chainWork: lower = seen earlier (0 = main chain loaded from disk). */
  sequenceId: number;
  /** The block and every ancestor have their data stored (Core's HaveNumChainTxs): it can be connected. */
  hasChainData: boolean;
}

/** Whether the entry is marked FAILED or FAILED_CHILD. */
export function isFailed(entry: BlockIndexEntry): boolean {
  return (entry.status & BLOCK_FAILED_MASK) !== 0;
}

/** Whether the entry's block data is stored. */
export function hasData(entry: BlockIndexEntry): boolean {
  return (entry.status & BlockStatus.HAVE_DATA) !== 0;
}

/**
 * The in-memory block index: every known header as an IndexNode keyed by its hash (hashKey), the tree links, and the
 * main chain as an array by height (Core's CChain). Pure bookkeeping: no storage, no validation.
 * PERF: lookups by hash and main-chain height are O(1); getAncestor walks parent links only until it reaches the main
 * chain, then indexes the array.
 * @see Bitcoin Core chain.h CChain, node/blockstorage.h BlockManager::m_block_index
 */
export class BlockIndex {
  private readonly nodes = new Map<HashKey<BlockHash>, IndexNode>();
  private readonly active: IndexNode[] = [];

  /** Number of entries. */
  get size(): number {
    return this.nodes.size;
  }

  /** The main-chain tip. @throws RangeError when the main chain is empty (before the genesis is set) */
  get tip(): IndexNode {
    const tip = this.active[this.active.length - 1];
    if (tip === undefined) throw new RangeError('the block index has no main chain');
    return tip;
  }

  /** Height of the main-chain tip (-1 when empty). */
  get height(): number {
    return this.active.length - 1;
  }

  /** The node of a block, or undefined. */
  get(hash: BlockHash): IndexNode | undefined {
    return this.nodes.get(hashKey(hash));
  }

  /** Every node, in insertion order. */
  values(): IterableIterator<IndexNode> {
    return this.nodes.values();
  }

  /**
   * Adds an entry under its parent (undefined only for the genesis). The node's hasChainData is the entry's HAVE_DATA
   * bit and the parent's hasChainData.
   * @throws RangeError when an entry with the same hash is already indexed (a caller bug)
   */
  add(entry: BlockIndexEntry, parent: IndexNode | undefined, sequenceId: number): IndexNode {
    const key = hashKey(entry.hash);
    if (this.nodes.has(key)) throw new RangeError(`block ${entry.hashHex} is already indexed`);
    const node: IndexNode = {
      entry,
      parent,
      children: [],
      sequenceId,
      hasChainData: hasData(entry) && (parent === undefined || parent.hasChainData),
    };
    this.nodes.set(key, node);
    parent?.children.push(node);
    return node;
  }

  /** Whether the node is on the main chain. */
  contains(node: IndexNode): boolean {
    return this.active[node.entry.height] === node;
  }

  /** The main-chain node at a height, or undefined above the tip. */
  atHeight(height: number): IndexNode | undefined {
    return Number.isInteger(height) && height >= 0 ? this.active[height] : undefined;
  }

  /** Makes `node` the main-chain tip, rewriting the main chain from the fork point with the old one upward. */
  setTip(node: IndexNode): void {
    this.active.length = node.entry.height + 1;
    for (let n: IndexNode | undefined = node; n !== undefined && this.active[n.entry.height] !== n; n = n.parent) {
      this.active[n.entry.height] = n;
    }
  }

  /** The ancestor of `node` at `height` (the node itself at its own height), or undefined when height is out of range. */
  getAncestor(node: IndexNode, height: number): IndexNode | undefined {
    if (!Number.isInteger(height) || height < 0 || height > node.entry.height) return undefined;
    let n: IndexNode | undefined = node;
    while (n !== undefined && n.entry.height > height) {
      if (this.active[n.entry.height] === n) return this.active[height];
      n = n.parent;
    }
    return n;
  }

  /** The last common ancestor of two nodes (Core's LastCommonAncestor). */
  findFork(a: IndexNode, b: IndexNode): IndexNode {
    let x: IndexNode | undefined = a;
    let y: IndexNode | undefined = b;
    if (x.entry.height > y.entry.height) x = this.getAncestor(x, y.entry.height);
    else if (y.entry.height > x.entry.height) y = this.getAncestor(y, x.entry.height);
    while (x !== undefined && y !== undefined && x !== y) {
      x = x.parent;
      y = y.parent;
    }
    // Every node descends from the genesis, so the walk meets at the latest there.
    if (x === undefined || x !== y) throw new RangeError('blocks without a common ancestor in the index');
    return x;
  }

  /**
   * Median-time-past at `node`: median of the times of the node and its up to 10 predecessors, seconds.
   * @see Bitcoin Core chain.h CBlockIndex::GetMedianTimePast
   */
  getMedianTimePast(node: IndexNode): number {
    const times: number[] = [];
    for (let n: IndexNode | undefined = node; n !== undefined && times.length < MEDIAN_TIME_SPAN; n = n.parent) {
      times.push(n.entry.header.time);
    }
    return computeMedianTimePast(times.reverse());
  }

  /**
   * Block locator from `node` (default the tip): the hashes of the node and of its ancestors going back 1 block at a
   * time for 10 blocks, then doubling the step, always ending with the genesis.
   * @see Bitcoin Core chain.cpp LocatorEntries / GetLocator
   */
  getLocator(node: IndexNode = this.tip): BlockHash[] {
    const hashes: BlockHash[] = [];
    let step = 1;
    let n: IndexNode | undefined = node;
    while (n !== undefined) {
      hashes.push(n.entry.hash);
      if (n.entry.height === 0) break;
      const height = Math.max(n.entry.height - step, 0);
      n = this.getAncestor(n, height);
      if (hashes.length > 10) step *= 2;
    }
    return hashes;
  }

  /** Nodes without children: the tips of every branch (the main tip included unless it has children). */
  leaves(): IndexNode[] {
    const out: IndexNode[] = [];
    for (const node of this.nodes.values()) if (node.children.length === 0) out.push(node);
    return out;
  }

  /** Every descendant of `node` (not the node), parents before children. */
  descendants(node: IndexNode): IndexNode[] {
    const out: IndexNode[] = [];
    const stack = [...node.children];
    while (stack.length > 0) {
      const n = stack.pop()!;
      out.push(n);
      stack.push(...n.children);
    }
    return out;
  }
}
