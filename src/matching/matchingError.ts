/**
 * Codes of the matching core's thrown errors. Order-level outcomes (a post-only order that would take, an unknown
 * order id) are not errors: they are `REJECTED` events. These are for bad configuration, bad decimal input at the
 * API edge and bad snapshots:
 * - `BAD_DECIMAL`: not a plain non-negative decimal string (`"12.50"`); the gateway answers Binance -1100.
 * - `OFF_GRID`: a valid decimal that is not a multiple of the tick or step size; Binance -1013 with `filter`.
 * - `OUT_OF_RANGE`: zero, or above the market's maximum price or quantity; Binance -1013 with `filter`.
 * - `BAD_MARKET_SPEC`: a market grid that cannot work (sizes not exact in base units, lots × ticks ≥ 2^53).
 * - `BAD_SNAPSHOT`: a book snapshot that is malformed or describes an impossible book (crossed, duplicate ids).
 */
export type MatchingErrorCode = 'BAD_DECIMAL' | 'OFF_GRID' | 'OUT_OF_RANGE' | 'BAD_MARKET_SPEC' | 'BAD_SNAPSHOT';

/** The Binance filter a price or quantity failed, for `OFF_GRID` and `OUT_OF_RANGE` errors. @see filters.md */
export type GridFilter = 'PRICE_FILTER' | 'LOT_SIZE';

/**
 * An error thrown by the matching core's pure helpers (decimal conversion, market grid, snapshot restore), with a
 * typed `code` and, for grid failures, the Binance filter that failed.
 * @see binance-spot-api-docs errors.md "Filter failures"
 */
export class MatchingError extends Error {
  override readonly name = 'MatchingError';

  constructor(
    /** What went wrong; callers branch on this, never on the message. */
    readonly code: MatchingErrorCode,
    /** Human-readable detail naming the offending value. */
    message: string,
    /** For OFF_GRID / OUT_OF_RANGE: the Binance filter the value failed. */
    readonly filter?: GridFilter,
  ) {
    super(message);
  }
}
