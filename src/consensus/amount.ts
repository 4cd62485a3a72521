import { COIN, type Sats } from '../primitives/types.js';

export { COIN };

/** Decimals of a coin amount: 1 sat = 0.00000001 coin. */
export const COIN_DECIMALS = 8;

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

/** Why a decimal amount was refused. */
export type AmountErrorCode =
  /** Not a decimal number (letters, two dots, empty, a float's `Infinity`/`NaN`, …). */
  | 'amount-syntax'
  /** More decimals than the unit has (e.g. 9 decimals of a coin): it is not a whole number of base units. */
  | 'amount-too-precise'
  /** Below zero where only non-negative amounts are allowed. */
  | 'amount-negative'
  /** Above the allowed maximum (MAX_MONEY for coins). */
  | 'amount-out-of-range';

/** A decimal amount that cannot be represented exactly as the integer it stands for; `code` says why. */
export class AmountError extends Error {
  override readonly name = 'AmountError';

  constructor(
    readonly code: AmountErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** `[-]digits[.digits]` or `[-].digits`, then an optional exponent (`1e-8`, as a JSON number may print). */
const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,4}))?$/;

/**
 * Parses a decimal string into an integer count of units of 10^-decimals, exactly (never through a float): with
 * decimals 8, "1.5" → 150000000n and "1e-8" → 1n. Leading/trailing blanks are not accepted; trailing zeros beyond
 * `decimals` are ("0.100000000" is fine, "0.000000001" is not).
 * @throws AmountError amount-syntax | amount-too-precise
 * @see Bitcoin Core util/strencodings.cpp ParseFixedPoint
 */
export function parseFixedPoint(text: string, decimals: number): bigint {
  const m = DECIMAL.exec(text);
  const intDigits = m?.[2] ?? '';
  const fracDigits = m?.[3] ?? '';
  if (m === null || (intDigits === '' && fracDigits === '') || text.length > 100) {
    throw new AmountError('amount-syntax', `'${text.length > 40 ? `${text.slice(0, 40)}…` : text}' is not a decimal number`);
  }
  const exponent = m[4] === undefined ? 0 : Number(m[4]);
  // value = digits × 10^(exponent − fraction length); we need it × 10^decimals to be an integer.
  let digits = (intDigits + fracDigits).replace(/^0+(?=\d)/, '');
  let shift = decimals + exponent - fracDigits.length;
  if (shift < 0) {
    const dropped = digits.slice(Math.max(0, digits.length + shift));
    if (/[1-9]/.test(dropped) || (digits.length + shift < 0 && /[1-9]/.test(digits))) {
      throw new AmountError('amount-too-precise', `'${text}' has more than ${decimals} decimals`);
    }
    digits = digits.slice(0, Math.max(0, digits.length + shift));
    shift = 0;
  }
  if (digits.length + shift > 40) throw new AmountError('amount-syntax', `'${text}' is far too large`);
  const value = BigInt(digits === '' ? '0' : digits) * 10n ** BigInt(shift);
  return m[1] === '-' ? -value : value;
}

/**
 * Formats an integer count of units of 10^-decimals as a decimal string with exactly `decimals` decimals, or with
 * trailing zeros removed when `trim` (and no dot left for a whole number): formatFixedPoint(150000000n, 8) →
 * "1.50000000", with trim "1.5".
 */
export function formatFixedPoint(value: bigint, decimals: number, trim = false): string {
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const scale = 10n ** BigInt(decimals);
  let fraction = decimals === 0 ? '' : (abs % scale).toString().padStart(decimals, '0');
  if (trim) fraction = fraction.replace(/0+$/, '');
  return `${negative ? '-' : ''}${abs / scale}${fraction === '' ? '' : `.${fraction}`}`;
}

/** How parseCoins accepts an amount. */
export interface ParseCoinsOptions {
  /** Accept negative amounts (a balance change); default false: a negative amount is refused. */
  readonly allowNegative?: boolean;
  /** Accept zero; default true. */
  readonly allowZero?: boolean;
}

/**
 * Parses an amount of coins ("1.5", "0.00000001", "21000000", "1e-8") into sats, exactly: at most 8 decimals, at most
 * MAX_MONEY in magnitude. The one parser of coin amounts for the CLI, RPC, the wallet service and the devnet.
 * @throws AmountError amount-syntax | amount-too-precise | amount-negative | amount-out-of-range
 * @see Bitcoin Core rpc/util.cpp AmountFromValue (ParseFixedPoint with 8 decimals, then MoneyRange)
 */
export function parseCoins(text: string, options: ParseCoinsOptions = {}): Sats {
  const sats = parseFixedPoint(text, COIN_DECIMALS);
  if (sats < 0n && options.allowNegative !== true) throw new AmountError('amount-negative', `'${text}' is negative`);
  if (sats === 0n && options.allowZero === false) throw new AmountError('amount-out-of-range', 'the amount must be more than zero');
  if (sats > MAX_MONEY || sats < -MAX_MONEY) {
    throw new AmountError('amount-out-of-range', `'${text}' is more than the 21,000,000 coins that can exist`);
  }
  return sats;
}

/**
 * The exact sats of a JSON number of coins (a JSON-RPC amount such as 0.1): its shortest round-trip decimal text
 * (what the client most likely wrote) parsed by parseCoins. Refuses NaN and infinities.
 * @throws AmountError as parseCoins
 */
export function coinsFromNumber(value: number, options: ParseCoinsOptions = {}): Sats {
  if (!Number.isFinite(value)) throw new AmountError('amount-syntax', `${value} is not an amount`);
  return parseCoins(String(value), options);
}

/** How formatCoins prints an amount. */
export interface FormatCoinsOptions {
  /**
   * Decimals to show, 0..8 (default 8, Core's ValueFromAmount). Fewer decimals truncate toward zero, so a display never
   * shows more than the amount holds.
   */
  readonly decimals?: number;
  /** Drop trailing zeros (and the dot of a whole number); default false. */
  readonly trim?: boolean;
  /** Group the whole part in thousands with `,` (for tables and banners); default false. */
  readonly grouping?: boolean;
}

/**
 * Formats sats as coins, exactly: formatCoins(150000000n) → "1.50000000"; with `{ decimals: 2 }` → "1.50"; with
 * `{ trim: true }` → "1.5"; -141n → "-0.00000141". The one formatter of coin amounts (never through a float).
 * @see Bitcoin Core core_write.cpp ValueFromAmount
 */
export function formatCoins(sats: Sats, options: FormatCoinsOptions = {}): string {
  const decimals = options.decimals ?? COIN_DECIMALS;
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > COIN_DECIMALS) {
    throw new RangeError(`decimals must be an integer in 0..${COIN_DECIMALS}, got ${decimals}`);
  }
  const truncated = sats / 10n ** BigInt(COIN_DECIMALS - decimals);
  let text = formatFixedPoint(truncated, decimals, options.trim === true);
  if (options.grouping === true) text = text.replace(/^(-?)(\d+)/, (_, sign: string, whole: string) => sign + whole.replace(/\B(?=(\d{3})+$)/g, ','));
  return text;
}
