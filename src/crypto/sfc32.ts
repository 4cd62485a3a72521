/**
 * sfc32 (Chris Doty-Humphrey's "small fast chaotic" generator) seeded from sha256 of a string: the one deterministic
 * pseudo-random core under the simulation's streams (sim/simRng.ts) and the tests' fixtures (testing/seededRng.ts).
 * The same seed gives the same sequence on every run and machine. NOT cryptographic: it lives here only beside the
 * sha256 that seeds it.
 * @see https://pracrand.sourceforge.net/ (sfc32)
 */
import { sha256 } from './hash.js';

/** The sfc32 state machine: four 32-bit words from sha256(seed), 12 warm-up rounds as the reference does. */
export class Sfc32 {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** Seeds the generator from any string. */
  constructor(seed: string) {
    const h = sha256(new TextEncoder().encode(seed));
    const view = new DataView(h.buffer, h.byteOffset, h.byteLength);
    this.a = view.getUint32(0, true);
    this.b = view.getUint32(4, true);
    this.c = view.getUint32(8, true);
    this.d = view.getUint32(12, true);
    // Warm-up rounds, as the sfc32 reference does, so close seeds diverge at once.
    for (let i = 0; i < 12; i++) this.nextUint32();
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
}
