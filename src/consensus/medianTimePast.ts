/** How many of the latest block times the median-time-past covers. @see Bitcoin Core chain.h CBlockIndex::nMedianTimeSpan */
export const MEDIAN_TIME_SPAN = 11;

/**
 * Median-time-past: the median of the last (up to) 11 block times, in seconds. Takes the times oldest first and uses
 * only the last 11; with an even count it picks the upper middle element after sorting, as Core does.
 * A new block's time must be greater than the MTP of its predecessors; nLockTime is judged against it (BIP-113).
 * @param timesSec block times in seconds, oldest first, at least one
 * @throws RangeError when timesSec is empty (a caller bug: every block has at least itself)
 * @see Bitcoin Core chain.h CBlockIndex::GetMedianTimePast
 */
export function computeMedianTimePast(timesSec: readonly number[]): number {
  if (timesSec.length === 0) throw new RangeError('median-time-past needs at least one block time');
  const window = timesSec.slice(-MEDIAN_TIME_SPAN).sort((a, b) => a - b);
  return window[Math.floor(window.length / 2)] as number;
}
