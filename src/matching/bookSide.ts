/**
 * One side (bids or asks) of the optimized book: the active price levels in a sorted array with the best level
 * last, plus a Map from price in ticks to level. Best level: O(1). Finding a price's level: one Map lookup. A new or
 * emptied level: binary search and splice, O(levels) in the worst case but a short move near the top of the book,
 * where most levels come and go.
 */
import type { Side } from './matchCommand.js';
import { PriceLevel } from './priceLevel.js';

/** The active levels of one side. */
export class BookSide {
  /** Levels sorted so the best is last: bids by ascending price, asks by descending price. */
  readonly levels: PriceLevel[] = [];
  private readonly byPrice = new Map<number, PriceLevel>();
  private readonly isBid: boolean;

  constructor(readonly side: Side) {
    this.isBid = side === 'BUY';
  }

  /** The best level (highest bid, lowest ask), or undefined when the side is empty. */
  best(): PriceLevel | undefined {
    return this.levels[this.levels.length - 1];
  }

  /** The level at a price, if any order rests there. */
  get(priceTicks: number): PriceLevel | undefined {
    return this.byPrice.get(priceTicks);
  }

  /** The level at a price, created (empty) if none. */
  levelFor(priceTicks: number): PriceLevel {
    let level = this.byPrice.get(priceTicks);
    if (level !== undefined) return level;
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

  /** Removes an (empty) level. */
  remove(level: PriceLevel): void {
    this.byPrice.delete(level.priceTicks);
    const levels = this.levels;
    if (levels[levels.length - 1] === level) {
      levels.pop();
      return;
    }
    const i = this.insertionIndex(level.priceTicks) - 1;
    if (levels[i] !== level) throw new Error(`BookSide: level ${level.priceTicks} not found (internal error)`);
    levels.splice(i, 1);
  }

  /** Number of active levels. */
  get size(): number {
    return this.levels.length;
  }

  /** Index of the first level worse-ordered after `priceTicks` (bids: first price above; asks: first price below). */
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
