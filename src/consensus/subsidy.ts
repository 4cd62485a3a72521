import type { Sats } from '../primitives/types.js';

/** Subsidy schedule inputs taken from the chain params. */
export interface SubsidyParams {
  /** Subsidy before any halving, sats (Bitcoin: 5,000,000,000). */
  readonly initialSubsidy: bigint;
  /** Blocks between halvings (Bitcoin: 210,000). */
  readonly halvingInterval: number;
}

/**
 * The newly minted amount a coinbase at `height` may claim, in sats: initialSubsidy shifted right once per completed
 * halving interval, and zero from the 64th halving on (where Core's int64 shift would be undefined).
 * @param height block height, integer >= 0
 * @throws RangeError when height is negative or not an integer (a caller bug)
 * @see Bitcoin Core validation.cpp GetBlockSubsidy
 */
export function computeBlockSubsidy(height: number, params: SubsidyParams): Sats {
  if (!Number.isSafeInteger(height) || height < 0) throw new RangeError(`height must be a non-negative integer, got ${height}`);
  const halvings = Math.floor(height / params.halvingInterval);
  if (halvings >= 64) return 0n;
  return params.initialSubsidy >> BigInt(halvings);
}
