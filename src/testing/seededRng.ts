/**
 * A small deterministic pseudo-random generator for tests and test fixtures (sfc32, seeded from sha256 of a string):
 * the same seed gives the same sequence on every run and machine, so a failing randomized test is reproduced by
 * re-running it with the seed it printed. Not for anything that needs unpredictability.
 */
import { Sfc32 } from '../crypto/sfc32.js';

/**
 * Deterministic PRNG: Chris Doty-Humphrey's sfc32 on four 32-bit words taken from sha256(seed).
 * Draws are uniform enough for choosing test actions; they are not cryptographic.
 * @see https://pracrand.sourceforge.net/ (sfc32)
 */
export class SeededRng {
  private readonly core: Sfc32;

  /** Seeds the generator from any string (e.g. `${seed}/${tipHashHex}`). */
  constructor(seed: string) {
    this.core = new Sfc32(seed);
  }

  /** The next 32-bit unsigned integer. */
  nextUint32(): number {
    return this.core.nextUint32();
  }

  /** A float in [0, 1). */
  next(): number {
    return this.nextUint32() / 0x1_0000_0000;
  }

  /**
   * An integer in [min, max], both inclusive.
   * @throws RangeError when max < min or a bound is not a safe integer
   */
  int(min: number, max: number): number {
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max < min) {
      throw new RangeError(`SeededRng.int: bad range [${min}, ${max}]`);
    }
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability `p` (0..1). */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /**
   * One element of a non-empty array.
   * @throws RangeError on an empty array
   */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('SeededRng.pick: empty array');
    return items[this.int(0, items.length - 1)]!;
  }

  /** `n` pseudo-random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.nextUint32() & 0xff;
    return out;
  }
}
