import type { Sats } from '../primitives/types.js';

/** Base units per coin: 1 coin = 100,000,000 sats. @see Bitcoin Core consensus/amount.h COIN */
export const COIN: Sats = 100_000_000n;

/**
 * The largest amount any single value or sum may hold: 21,000,000 coins in sats (2.1e15), as in Bitcoin.
 * A sanity bound for overflow checks, not the actual supply.
 * @see Bitcoin Core consensus/amount.h MAX_MONEY
 */
export const MAX_MONEY: Sats = 21_000_000n * COIN;

/**
 * True when the amount (sats) lies in [0, MAX_MONEY].
 * @see Bitcoin Core consensus/amount.h MoneyRange
 */
export function moneyRange(value: Sats): boolean {
  return value >= 0n && value <= MAX_MONEY;
}
