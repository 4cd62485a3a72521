/**
 * The simulation's seeded pseudo-random source: sfc32 seeded from sha256 of a string, with the distributions the
 * network and the miners draw from. Same seed → same sequence on every run and machine, which is what makes a
 * scenario's results reproducible byte for byte. Not cryptographic.
 * @see https://pracrand.sourceforge.net/ (sfc32, Chris Doty-Humphrey)
 */
import { sha256 } from '../crypto/hash.js';

/**
 * Deterministic PRNG (sfc32) with uniform, exponential, normal and log-normal draws. Each component of a simulation
 * takes its own stream via `fork(label)`, so adding draws in one component does not shift the others.
 */
export class SimRng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** Seeds the generator from any string (e.g. `${scenarioSeed}/mining`). */
  constructor(readonly seed: string) {
    const h = sha256(new TextEncoder().encode(seed));
    const view = new DataView(h.buffer, h.byteOffset, h.byteLength);
    this.a = view.getUint32(0, true);
    this.b = view.getUint32(4, true);
    this.c = view.getUint32(8, true);
    this.d = view.getUint32(12, true);
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** An independent stream named `label`, seeded from this generator's seed (not from its current state). */
  fork(label: string): SimRng {
    return new SimRng(`${this.seed}/${label}`);
  }

  /** The next 32-bit unsigned integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
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
