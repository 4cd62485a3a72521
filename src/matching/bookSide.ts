/**
 * One side (bids or asks) of the optimized book: price levels in an array sorted with the best level last, plus a
 * Map from price in ticks to level. Best level: O(1) (the last element, never empty). Finding a price's level: one
 * Map lookup.
 *
 * PERF: a level that empties in the middle of the array stays there, empty, and is reused when an order comes back
 * to its price — prices churn around the touch, so most new levels need no array splice at all. Empty levels are
 * dropped when they reach the end of the array, and compacted away (O(levels), amortized O(1)) once there are more
 * than 1,024 of them and 4× the live ones, so memory stays proportional to the live levels. (Compacting as soon as
 * they outnumber the live ones cost ~25% of throughput on the bench stream: levels were re-created and re-spliced.)
 * Whoever walks `levels` skips those with `orderCount === 0`.
 */
import type { Side } from './matchCommand.js';
import { PriceLevel } from './priceLevel.js';

/** Empty levels tolerated on a side before a compaction is considered (then: more than 4× the live levels). */
const MIN_EMPTY_BEFORE_COMPACT = 1024;

/** The levels of one side. */
export class BookSide {
  /** Levels sorted so the best is last: bids by ascending price, asks by descending price. The last is never empty. */
  readonly levels: PriceLevel[] = [];
  private readonly byPrice = new Map<number, PriceLevel>();
  private readonly isBid: boolean;
  private emptyCount = 0;

  constructor(readonly side: Side) {
    this.isBid = side === 'BUY';
  }

  /** The best level (highest bid, lowest ask), or undefined when the side is empty. */
  best(): PriceLevel | undefined {
    return this.levels[this.levels.length - 1];
  }

  /** The level at a price, if any order rests there. */
  get(priceTicks: number): PriceLevel | undefined {
    const level = this.byPrice.get(priceTicks);
    return level !== undefined && level.orderCount !== 0 ? level : undefined;
  }

  /** The level at a price, to append an order to: an existing (possibly empty) one, or a new one. */
  levelFor(priceTicks: number): PriceLevel {
    let level = this.byPrice.get(priceTicks);
    if (level !== undefined) {
      if (level.orderCount === 0) this.emptyCount--;
      return level;
    }
    level = new PriceLevel(priceTicks);
    this.byPrice.set(priceTicks, level);
    const levels = this.levels;
    const n = levels.length;
    // Fast path: a new best level (the common case when quotes improve).
    if (n === 0 || (this.isBid ? priceTicks > levels[n - 1]!.priceTicks : priceTicks < levels[n - 1]!.priceTicks)) {
      levels.push(level);
      return level;
    }
    levels.splice(this.insertionIndex(priceTicks), 0, level);
    return level;
  }

  /**
   * Fills an empty side with non-empty levels given best first, in O(levels) (snapshot restore; inserting them one
   * by one, worst last, would splice at the front every time).
   * @throws Error when the side is not empty or the levels are not strictly ordered (internal error)
   */
  load(levelsBestFirst: readonly PriceLevel[]): void {
    if (this.levels.length !== 0) throw new Error('BookSide.load: side not empty (internal error)');
    for (let i = levelsBestFirst.length - 1; i >= 0; i--) {
      const level = levelsBestFirst[i]!;
      const prev = this.levels[this.levels.length - 1];
      if (prev !== undefined && (this.isBid ? level.priceTicks <= prev.priceTicks : level.priceTicks >= prev.priceTicks)) {
        throw new Error('BookSide.load: levels out of order (internal error)');
      }
      this.levels.push(level);
      this.byPrice.set(level.priceTicks, level);
    }
  }

  /** Tells the side that a level's last order left it (its orderCount is 0). */
  emptied(level: PriceLevel): void {
    const levels = this.levels;
    if (levels[levels.length - 1] === level) {
      levels.pop();
      this.byPrice.delete(level.priceTicks);
      // Keep the invariant: the last level is a live one.
      while (levels.length !== 0 && levels[levels.length - 1]!.orderCount === 0) {
        this.byPrice.delete(levels.pop()!.priceTicks);
        this.emptyCount--;
      }
      return;
    }
    this.emptyCount++;
    if (this.emptyCount > MIN_EMPTY_BEFORE_COMPACT && this.emptyCount > 4 * (levels.length - this.emptyCount)) this.compact();
  }

  /** Number of levels with orders. */
  get size(): number {
    return this.levels.length - this.emptyCount;
  }

  /** True while the empty levels kept are within the compaction bound (memory proportional to live levels). */
  emptyLevelsWithinBound(): boolean {
    const live = this.levels.length - this.emptyCount;
    return this.emptyCount <= Math.max(MIN_EMPTY_BEFORE_COMPACT, 4 * live) + 1;
  }

  /** Drops every empty level. */
  private compact(): void {
    const levels = this.levels;
    let w = 0;
    for (let r = 0; r < levels.length; r++) {
      const level = levels[r]!;
      if (level.orderCount !== 0) levels[w++] = level;
      else this.byPrice.delete(level.priceTicks);
    }
    levels.length = w;
    this.emptyCount = 0;
  }

  /** Index of the first level ordered after `priceTicks` (bids: first price above; asks: first price below). */
  private insertionIndex(priceTicks: number): number {
    const levels = this.levels;
    let lo = 0;
    let hi = levels.length;
    if (this.isBid) {
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (levels[mid]!.priceTicks <= priceTicks) lo = mid + 1;
        else hi = mid;
      }
    } else {
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (levels[mid]!.priceTicks >= priceTicks) lo = mid + 1;
        else hi = mid;
      }
    }
    return lo;
  }
}
