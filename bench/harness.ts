/**
 * Tiny benchmark harness: runs a function repeatedly for a fixed wall-clock budget and reports operations per second.
 * Benchmarks print figures and same-run ratios; they never decide a test.
 */
export interface BenchResult {
  readonly name: string;
  readonly ops: number;
  readonly seconds: number;
  readonly opsPerSec: number;
}

/**
 * Calls `fn(batch)` (which must perform `batch` operations) until `seconds` have passed, after a short warm-up.
 */
export function measure(name: string, fn: (batch: number) => void, seconds = 2, batch = 1000): BenchResult {
  const warmupEnd = performance.now() + 200;
  while (performance.now() < warmupEnd) fn(batch);
  let ops = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  let now = start;
  while (now < end) {
    fn(batch);
    ops += batch;
    now = performance.now();
  }
  const elapsed = (now - start) / 1000;
  return { name, ops, seconds: elapsed, opsPerSec: ops / elapsed };
}

/** Formats a rate with thousands separators. */
export function formatRate(opsPerSec: number, unit: string): string {
  return `${Math.round(opsPerSec).toLocaleString('en-US')} ${unit}/s`;
}
