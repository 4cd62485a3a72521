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

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; relative error below 1e-13). */
function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const y = x - 1;
  let a = c[0]!;
  const t = y + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (y + i);
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(a);
}

/** P(X ≤ k) for X ~ Binomial(n, p), summed in log space (exact enough for n up to millions). */
export function binomialCdf(k: number, n: number, p: number): number {
  if (k < 0) return 0;
  if (k >= n || p <= 0) return 1;
  if (p >= 1) return 0;
  const lnC = logGamma(n + 1);
  let sum = 0;
  for (let i = 0; i <= k; i++) sum += Math.exp(lnC - logGamma(i + 1) - logGamma(n - i + 1) + i * Math.log(p) + (n - i) * Math.log1p(-p));
  return Math.min(1, sum);
}

/**
 * Clopper–Pearson ("exact") interval of a binomial proportion: the p whose binomial tails put the observed count at
 * (1 − confidence)/2 each side, found by bisection. Conservative (coverage at least the confidence), and right for
 * rare events, where Wilson's lower bound with one or two successes sits far above the truth it should cover
 * (one success in 1,000: Wilson [0.00018, 0.0056], exact [0.000025, 0.0056]).
 * @see C. J. Clopper and E. S. Pearson, Biometrika 26 (1934); Brown, Cai & DasGupta, Statistical Science 16 (2001)
 */
export function clopperPearson(successes: number, n: number, confidence = 0.95): Estimate {
  if (n === 0) return { value: 0, lo: 0, hi: 1 };
  const tail = (1 - confidence) / 2;
  const solve = (f: (p: number) => number): number => {
    // f is increasing in p; find f(p) = tail.
    let lo = 0;
    let hi = 1;
    for (let i = 0; i < 60; i++) {
      const mid = (lo + hi) / 2;
      if (f(mid) < tail) lo = mid;
      else hi = mid;
    }
    return (lo + hi) / 2;
  };
  // lower: P(X ≥ x | p) = tail; upper: P(X ≤ x | p) = tail.
  const lo = successes === 0 ? 0 : solve((p) => 1 - binomialCdf(successes - 1, n, p));
  // 2·tail − P(X ≤ x | p) increases with p and equals tail where P(X ≤ x | p) = tail.
  const hi = successes === n ? 1 : solve((p) => 2 * tail - binomialCdf(successes, n, p));
  return { value: successes / n, lo, hi };
}

/** Two-sided 95 % Student t quantiles t(0.975, df) for df = 1..30. */
const T95 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101,
  2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];
/** Two-sided 99 % Student t quantiles t(0.995, df) for df = 1..30. */
const T99 = [
  63.657, 9.925, 5.841, 4.604, 4.032, 3.707, 3.499, 3.355, 3.25, 3.169, 3.106, 3.055, 3.012, 2.977, 2.947, 2.921, 2.898, 2.878,
  2.861, 2.845, 2.831, 2.819, 2.807, 2.797, 2.787, 2.779, 2.771, 2.763, 2.756, 2.75,
];
/** Two-sided 90 % Student t quantiles t(0.95, df) for df = 1..30. */
const T90 = [
  6.314, 2.92, 2.353, 2.132, 2.015, 1.943, 1.895, 1.86, 1.833, 1.812, 1.796, 1.782, 1.771, 1.761, 1.753, 1.746, 1.74, 1.734,
  1.729, 1.725, 1.721, 1.717, 1.714, 1.711, 1.708, 1.706, 1.703, 1.701, 1.699, 1.697,
];

/**
 * The two-sided Student t quantile for `df` degrees of freedom at the confidence zScore rounds to (0.99, 0.95 or
 * 0.90); the normal z beyond 30 degrees of freedom.
 */
export function tScore(confidence: number, df: number): number {
  const table = confidence >= 0.99 ? T99 : confidence >= 0.95 ? T95 : T90;
  return df >= 1 && df <= 30 ? table[Math.floor(df) - 1]! : zScore(confidence);
}

/**
 * Mean and Student t interval of independent replications (or batch means of one long run, for correlated series
 * such as a chain's blocks): mean ± t(n−1)·s/√n. With fewer than 2 values the interval is the value itself.
 */
export function meanInterval(values: readonly number[], confidence = 0.95): Estimate {
  const n = values.length;
  if (n === 0) return { value: 0, lo: 0, hi: 0 };
  const mean = values.reduce((s, v) => s + v, 0) / n;
  if (n < 2) return { value: mean, lo: mean, hi: mean };
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1);
  const half = tScore(confidence, n - 1) * Math.sqrt(variance / n);
  return { value: mean, lo: mean - half, hi: mean + half };
}

/** Rounds to 6 significant digits, so result files are short and the same on every machine. */
export function round6(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(6)) : x;
}
