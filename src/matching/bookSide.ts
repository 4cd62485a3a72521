/**
 * One side (bids or asks) of the optimized book: its price levels in sorted order, plus an index from price in ticks
 * to level.
 *
 * Layout: a sorted list cut into chunks of at most 2 × CHUNK levels (`chunks`), ordered so the best level is the last
 * element of the last chunk — bids by ascending price, asks by descending price. Best level: O(1), and never empty.
 * A price's level: one IntKeyMap lookup. A level at a new price: a binary search over the chunks and a splice inside
 * one chunk, so at most 2 × CHUNK elements move however deep in the book it is; a new best level is a push.
 *
 * A level that empties below the best stays in place, empty, and is reused when an order comes back to its price:
 * prices churn around the touch, so most orders land on an existing level and change no structure at all. Empty
 * levels are dropped when they reach the top, and compacted away (O(levels), amortized O(1)) once there are more
 * than MAX_EMPTY_LEVELS of them and 8× the live ones, so memory stays proportional to the live levels (an empty
 * level is ~100 bytes). Whoever walks `chunks` skips levels with `orderCount === 0`.
 * PERF (bench stream, ~700 levels, GTC orders deep in the book): one flat array spliced on each level change moved
 * ~700 elements per new level and was the book's largest cost; chunks alone, removing levels eagerly, did the
 * structural work on every move; both together beat either. Compacting at 4× instead of 8× cost ~9%.
 * @see Grant Jenks' sortedcontainers (SortedList: a list of sorted sublists), for the layout
 */
import { IntKeyMap } from './intKeyMap.js';
import type { Side } from './matchCommand.js';
import { PriceLevel } from './priceLevel.js';

/** Half the largest chunk size: a chunk splits in two when it would exceed 2 × CHUNK levels. */
const CHUNK = 64;

/** Empty levels kept on a side before a compaction is considered (then: when they are also 8× the live ones). */
const MAX_EMPTY_LEVELS = 4096;

/** Recycled level objects kept at most per side. */
const MAX_FREE_LEVELS = 4096;

/** The price levels of one side. */
export class BookSide {
  /**
   * Sorted chunks of levels, best level last in the last chunk; no chunk is empty and the best level holds orders.
   * Read-only to callers, who walk it from the end (best) towards worse prices, skipping empty levels.
   */
  readonly chunks: PriceLevel[][] = [];
  private readonly byPrice = new IntKeyMap<PriceLevel>();
  private readonly freeLevels: PriceLevel[] = [];
  private readonly isBid: boolean;
  private liveCount = 0;
  private emptyCount = 0;

  constructor(readonly side: Side) {
    this.isBid = side === 'BUY';
  }

  /** The best level (highest bid, lowest ask), or undefined when the side is empty. */
  best(): PriceLevel | undefined {
    const chunks = this.chunks;
    const last = chunks[chunks.length - 1];
    return last === undefined ? undefined : last[last.length - 1];
  }

  /** The level at a price, if any order rests there. */
  get(priceTicks: number): PriceLevel | undefined {
    const level = this.byPrice.get(priceTicks);
    return level !== undefined && level.orderCount !== 0 ? level : undefined;
  }

  /** Number of levels holding orders. */
  get size(): number {
    return this.liveCount;
  }

  /** The level at a price, to append an order to (the caller appends at once, so it counts as live). */
  levelFor(priceTicks: number): PriceLevel {
    const existing = this.byPrice.get(priceTicks);
    if (existing !== undefined) {
      if (existing.orderCount === 0) {
        this.emptyCount--;
        this.liveCount++;
      }
      return existing;
    }
    const free = this.freeLevels.pop();
    const level = free === undefined ? new PriceLevel(priceTicks) : free.reset(priceTicks);
    this.byPrice.set(priceTicks, level);
    this.liveCount++;
    const chunks = this.chunks;
    const lastChunk = chunks[chunks.length - 1];
    if (lastChunk === undefined) {
      chunks.push([level]);
      return level;
    }
    // Fast path: a new best level (the common case when quotes improve).
    if (this.before(lastChunk[lastChunk.length - 1]!.priceTicks, priceTicks)) {
      lastChunk.push(level);
      if (lastChunk.length > 2 * CHUNK) this.split(chunks.length - 1);
      return level;
    }
    const c = this.chunkFor(priceTicks);
    const chunk = chunks[c]!;
    chunk.splice(this.indexIn(chunk, priceTicks), 0, level);
    if (chunk.length > 2 * CHUNK) this.split(c);
    return level;
  }

  /** Tells the side that a level's last order left it (its orderCount is 0). */
  emptied(level: PriceLevel): void {
    this.liveCount--;
    const chunks = this.chunks;
    let lastChunk = chunks[chunks.length - 1]!;
    if (lastChunk[lastChunk.length - 1] !== level) {
      this.emptyCount++;
      if (this.emptyCount > MAX_EMPTY_LEVELS && this.emptyCount > 8 * this.liveCount) this.compact();
      return;
    }
    // The best level emptied: drop it, and every empty level that now sits at the top.
    this.drop(lastChunk.pop()!);
    for (;;) {
      if (lastChunk.length === 0) {
        chunks.pop();
        if (chunks.length === 0) return;
        lastChunk = chunks[chunks.length - 1]!;
      }
      const top = lastChunk[lastChunk.length - 1]!;
      if (top.orderCount !== 0) return;
      this.drop(lastChunk.pop()!);
      this.emptyCount--;
    }
  }

  /**
   * Fills an empty side with non-empty levels given best first, in O(levels) (snapshot restore).
   * @throws Error when the side is not empty or the levels are not strictly ordered (internal error)
   */
  load(levelsBestFirst: readonly PriceLevel[]): void {
    if (this.chunks.length !== 0) throw new Error('BookSide.load: side not empty (internal error)');
    let prev: PriceLevel | undefined;
    for (let i = levelsBestFirst.length - 1; i >= 0; i--) {
      const level = levelsBestFirst[i]!;
      if (prev !== undefined && !this.before(prev.priceTicks, level.priceTicks)) {
        throw new Error('BookSide.load: levels out of order (internal error)');
      }
      prev = level;
      this.byPrice.set(level.priceTicks, level);
      this.liveCount++;
    }
    this.rechunk([...levelsBestFirst].reverse());
  }

  /** True while the empty levels kept are within the compaction bound (for internal-state checks). */
  emptyLevelsWithinBound(): boolean {
    return this.emptyCount <= Math.max(MAX_EMPTY_LEVELS, 8 * this.liveCount);
  }

  /** True when a level at price `a` sorts before (is worse than) one at price `b` on this side. */
  private before(a: number, b: number): boolean {
    return this.isBid ? a < b : a > b;
  }

  /** Index of the chunk a price belongs in: the first whose last level does not sort before it (or the last chunk). */
  private chunkFor(priceTicks: number): number {
    const chunks = this.chunks;
    let lo = 0;
    let hi = chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const chunk = chunks[mid]!;
      if (this.before(chunk[chunk.length - 1]!.priceTicks, priceTicks)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index in a chunk of the first level that sorts after `priceTicks` (where a level at that price goes). */
  private indexIn(chunk: PriceLevel[], priceTicks: number): number {
    let lo = 0;
    let hi = chunk.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.before(priceTicks, chunk[mid]!.priceTicks)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  private split(c: number): void {
    const chunk = this.chunks[c]!;
    this.chunks.splice(c + 1, 0, chunk.splice(CHUNK));
  }

  /** Forgets a level that left the list and recycles it. */
  private drop(level: PriceLevel): void {
    this.byPrice.delete(level.priceTicks);
    if (this.freeLevels.length < MAX_FREE_LEVELS) this.freeLevels.push(level);
  }

  /** Drops every empty level and re-cuts the chunks. */
  private compact(): void {
    const live: PriceLevel[] = [];
    for (const chunk of this.chunks) {
      for (const level of chunk) {
        if (level.orderCount !== 0) live.push(level);
        else this.drop(level);
      }
    }
    this.emptyCount = 0;
    this.rechunk(live);
  }

  /** Replaces the chunks with `sorted` (worst first) cut into chunks of CHUNK levels. */
  private rechunk(sorted: readonly PriceLevel[]): void {
    this.chunks.length = 0;
    for (let i = 0; i < sorted.length; i += CHUNK) this.chunks.push(sorted.slice(i, i + CHUNK));
  }
}
