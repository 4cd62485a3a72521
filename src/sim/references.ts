/**
 * The published results the experiments are checked against, as pure functions, and the Monte Carlo confidence
 * intervals the simulated figures carry.
 */

/**
 * Stale (orphan) rate of a block interval T with propagation delay τ: 1 − e^(−τ/T), the chance that another block is
 * found while one propagates.
 * @see Decker & Wattenhofer, "Information Propagation in the Bitcoin Network" (2013); Gervais et al., CCS 2016
 */
export function staleRateApprox(delaySec: number, blockIntervalSec: number): number {
  return 1 - Math.exp(-delaySec / blockIntervalSec);
}

/**
 * Gavin Andresen's bitcoin_miningsim figures (10 equal miners connected in a ring, 600 s blocks): orphan rate by
 * one-hop latency, in seconds → fraction.
 * @see https://github.com/gavinandresen/bitcoin_miningsim (README: 0.1984 % at 1 s, 3.224 % at 20 s)
 */
export const ANDRESEN_ORPHAN_RATE: Readonly<Record<number, number>> = Object.freeze({ 1: 0.001984, 20: 0.03224 });

/**
 * The whitepaper's probability that an attacker with hash share q ever catches up after the merchant waited z
 * confirmations: 1 − Σ_{k=0..z} Poisson(k; λ = z·q/p)·(1 − (q/p)^(z−k)). Approximates the attacker's progress by a
 * Poisson law of the honest chain's expected time.
 * @see Satoshi Nakamoto, "Bitcoin: A Peer-to-Peer Electronic Cash System" (2008), section 11
 */
export function nakamotoAttackSuccess(q: number, z: number): number {
  const p = 1 - q;
  if (q >= p) return 1;
  const lambda = z * (q / p);
  let sum = 1;
  let poisson = Math.exp(-lambda);
  for (let k = 0; k <= z; k++) {
    if (k > 0) poisson *= lambda / k;
    sum -= poisson * (1 - (q / p) ** (z - k));
  }
  return sum;
}

/**
 * Rosenfeld's exact probability of a successful double spend: the attacker's blocks while the honest network finds z
 * are negative binomial, and the attacker has pre-mined one block: 1 − Σ_{m=0..z} C(m+z−1, m)(p^z q^m − p^m q^z)
 * for z ≥ 1 (1 for z = 0 or q ≥ p).
 * @see Meni Rosenfeld, "Analysis of Hashrate-Based Double Spending" (2014), section 5
 */
export function rosenfeldAttackSuccess(q: number, z: number): number {
  const p = 1 - q;
  if (z === 0 || q >= p) return 1;
  let sum = 1;
  let binom = 1; // C(m+z−1, m) for m = 0
  for (let m = 0; m <= z; m++) {
    if (m > 0) binom = (binom * (m + z - 1)) / m;
    sum -= binom * (p ** z * q ** m - p ** m * q ** z);
  }
  return sum;
}

/**
 * The selfish pool's relative revenue (share of main-chain blocks) for hash share α and tie share γ:
 * [α(1−α)²(4α + γ(1−2α)) − α³] / [1 − α(1 + (2−α)α)].
 * @see Eyal & Sirer, "Majority is not Enough" (FC 2014), equation (8)
 */
export function selfishRevenue(alpha: number, gamma: number): number {
  const a = alpha;
  return (a * (1 - a) ** 2 * (4 * a + gamma * (1 - 2 * a)) - a ** 3) / (1 - a * (1 + (2 - a) * a));
}

/** The hash share above which selfish mining pays: (1 − γ)/(3 − 2γ) (1/3 at γ = 0). @see Eyal & Sirer 2014, Observation 1 */
export function selfishThreshold(gamma: number): number {
  return (1 - gamma) / (3 - 2 * gamma);
}

/** A point estimate with a confidence interval. */
export interface Estimate {
  readonly value: number;
  readonly lo: number;
  readonly hi: number;
}

/** z of a two-sided normal interval at the given confidence (0.95 → 1.96, 0.99 → 2.576). */
export function zScore(confidence: number): number {
  if (confidence >= 0.99) return 2.5758;
  if (confidence >= 0.95) return 1.96;
  return 1.6449;
}

/**
 * Wilson score interval of a binomial proportion (successes out of n independent trials).
 * @see E. B. Wilson, "Probable inference…", JASA 1927
 */
export function wilson(successes: number, n: number, confidence = 0.95): Estimate {
  if (n === 0) return { value: 0, lo: 0, hi: 1 };
  const z = zScore(confidence);
  const phat = successes / n;
  const denom = 1 + (z * z) / n;
  const centre = (phat + (z * z) / (2 * n)) / denom;
  const half = (z * Math.sqrt((phat * (1 - phat)) / n + (z * z) / (4 * n * n))) / denom;
  return { value: phat, lo: Math.max(0, centre - half), hi: Math.min(1, centre + half) };
}

/**
 * Mean and normal-approximation interval of independent replications (or batch means of one long run, for
 * correlated series such as a chain's blocks). With fewer than 2 values the interval is the value itself.
 */
export function meanInterval(values: readonly number[], confidence = 0.95): Estimate {
  const n = values.length;
  if (n === 0) return { value: 0, lo: 0, hi: 0 };
  const mean = values.reduce((s, v) => s + v, 0) / n;
  if (n < 2) return { value: mean, lo: mean, hi: mean };
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1);
  // Student t would be wider for few batches; 10+ batches keep the normal approximation close.
  const half = zScore(confidence) * Math.sqrt(variance / n) * (n < 10 ? 1.15 : 1);
  return { value: mean, lo: mean - half, hi: mean + half };
}

/** Rounds to 6 significant digits, so result files are short and the same on every machine. */
export function round6(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(6)) : x;
}
