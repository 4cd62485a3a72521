/**
 * The simulation's seeded pseudo-random source: sfc32 seeded from sha256 of a string, with the distributions the
 * network and the miners draw from. Same seed → same sequence on every run and machine, which is what makes a
 * scenario's results reproducible byte for byte. Not cryptographic.
 * @see https://pracrand.sourceforge.net/ (sfc32, Chris Doty-Humphrey)
 */
import { Sfc32 } from '../crypto/sfc32.js';

/**
 * Deterministic PRNG (sfc32) with uniform, exponential, normal and log-normal draws. Each component of a simulation
 * takes its own stream via `fork(label)`, so adding draws in one component does not shift the others.
 */
export class SimRng {
  private readonly core: Sfc32;

  /** Seeds the generator from any string (e.g. `${scenarioSeed}/mining`). */
  constructor(readonly seed: string) {
    this.core = new Sfc32(seed);
  }

  /** An independent stream named `label`, seeded from this generator's seed (not from its current state). */
  fork(label: string): SimRng {
    return new SimRng(`${this.seed}/${label}`);
  }

  /** The next 32-bit unsigned integer. */
  nextUint32(): number {
    return this.core.nextUint32();
  }

  /** A float in [0, 1) with 53 random bits. */
  next(): number {
    return (this.nextUint32() * 0x20_0000 + (this.nextUint32() >>> 11)) / 2 ** 53;
  }

  /**
   * An integer in [min, max], both inclusive.
   * @throws RangeError when max < min or a bound is not a safe integer
   */
  int(min: number, max: number): number {
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max < min) throw new RangeError(`SimRng.int: bad range [${min}, ${max}]`);
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** An exponential draw with the given mean (inverse transform; never 0 or Infinity). */
  exponential(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }

  /** A standard normal draw (Box–Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Fisher–Yates shuffle of a copy of `items`. */
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
}
