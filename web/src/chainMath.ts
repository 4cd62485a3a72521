/**
 * Display-only chain figures from block headers: the expected hashes of a block from its compact `bits` (Bitcoin's
 * work = 2^256 / (target + 1), in bigint) and the network hash rate over recent blocks = Σ work / elapsed time.
 */

/** The target of compact bits (Bitcoin's SetCompact; negative/overflow encodings give 0). */
export function targetFromBits(bits: number): bigint {
  const exponent = bits >>> 24;
  const mantissa = BigInt(bits & 0x007fffff);
  if ((bits & 0x00800000) !== 0) return 0n;
  return exponent <= 3 ? mantissa >> BigInt(8 * (3 - exponent)) : mantissa << BigInt(8 * (exponent - 3));
}

/** Expected hashes to find a block at `bits`: 2^256 / (target + 1). */
export function workFromBits(bits: number): bigint {
  return (1n << 256n) / (targetFromBits(bits) + 1n);
}

/**
 * Hash rate (H/s) over consecutive blocks, newest first: the work of all but the oldest divided by the time between
 * the oldest and the newest. Undefined with fewer than 2 blocks or no time elapsed.
 */
export function estimateHashRate(blocks: readonly { timestamp: number; bits?: number | undefined }[]): number | undefined {
  if (blocks.length < 2) return undefined;
  const newest = blocks[0]!;
  const oldest = blocks[blocks.length - 1]!;
  const seconds = newest.timestamp - oldest.timestamp;
  if (seconds <= 0) return undefined;
  let work = 0n;
  for (const b of blocks.slice(0, -1)) {
    if (b.bits === undefined) return undefined;
    work += workFromBits(b.bits);
  }
  return Number(work) / seconds;
}

/** Average seconds between consecutive blocks (newest first); undefined with fewer than 2. */
export function averageBlockSeconds(blocks: readonly { timestamp: number }[]): number | undefined {
  if (blocks.length < 2) return undefined;
  const s = blocks[0]!.timestamp - blocks[blocks.length - 1]!.timestamp;
  return s / (blocks.length - 1);
}
