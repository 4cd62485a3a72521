/**
 * Exact decimal strings ↔ scaled integers, for prices, quantities and amounts at the API edge. Never a float: the
 * digits go through consensus/amount's parseFixedPoint/formatFixedPoint, the one decimal codec of cairn.
 */
import { AmountError, formatFixedPoint, parseFixedPoint } from '../consensus/amount.js';
import { MatchingError } from './matchingError.js';

/** Longest decimal string accepted (Binance sends at most ~30 characters); bounds the work on hostile input. */
export const MAX_DECIMAL_LENGTH = 64;

const DECIMAL_RE = /^(\d+)(?:\.(\d+))?$/;

/**
 * An exact non-negative decimal: value = `digits` / 10^`scale`. Trailing fractional zeros are dropped, so each value
 * has one representation (`"1.50"` and `"1.5"` give `{digits: 15n, scale: 1}`).
 */
export interface Decimal {
  readonly digits: bigint;
  readonly scale: number;
}

/**
 * Parses a plain non-negative decimal string (`"0.01000000"`, `"42"`, `"3.5"`): digits, at most one point with
 * digits on both sides; no sign, exponent, spaces or thousands separators.
 * @throws MatchingError BAD_DECIMAL
 */
export function parseDecimal(text: string): Decimal {
  if (typeof text !== 'string' || text.length === 0 || text.length > MAX_DECIMAL_LENGTH) {
    throw new MatchingError('BAD_DECIMAL', `not a decimal string: ${describe(text)}`);
  }
  const m = DECIMAL_RE.exec(text);
  if (m === null) throw new MatchingError('BAD_DECIMAL', `not a plain decimal: ${describe(text)}`);
  const fraction = (m[2] ?? '').replace(/0+$/, '');
  return { digits: BigInt(m[1]! + fraction), scale: fraction.length };
}

/**
 * Parses a decimal amount into integer base units of an asset with `decimals` decimals (`"1.5"`, 8 → 150000000n).
 * @throws MatchingError BAD_DECIMAL (malformed) | OFF_GRID (more fractional digits than the asset has)
 */
export function parseUnits(text: string, decimals: number): bigint {
  parseDecimal(text); // the API edge's plain form: no sign, no exponent
  try {
    return parseFixedPoint(text, decimals);
  } catch (err) {
    if (err instanceof AmountError && err.code === 'amount-too-precise') {
      throw new MatchingError('OFF_GRID', `${describe(text)} has more than ${decimals} decimals`);
    }
    throw err;
  }
}

/**
 * Formats integer base units as a decimal string with exactly `decimals` fractional digits, Binance style
 * (150000000n, 8 → `"1.50000000"`). Negative amounts get a leading `-`.
 */
export function formatUnits(units: bigint, decimals: number): string {
  return formatFixedPoint(units, decimals);
}

/**
 * How many whole `step`s make `value`, exactly: `value / step` when it divides, otherwise `undefined`.
 * Precondition: step > 0.
 */
export function exactMultiple(value: Decimal, step: Decimal): bigint | undefined {
  // value/step = (v.digits / 10^v.scale) / (s.digits / 10^s.scale) = v.digits·10^s.scale / (s.digits·10^v.scale)
  const num = value.digits * 10n ** BigInt(step.scale);
  const den = step.digits * 10n ** BigInt(value.scale);
  return num % den === 0n ? num / den : undefined;
}

/** Formats `count` × `step` as a decimal string with the step's own number of decimals (`3n`, 0.01 → `"0.03"`). */
export function formatMultiple(count: bigint, step: Decimal): string {
  return formatUnits(count * step.digits, step.scale);
}

function describe(text: unknown): string {
  if (typeof text !== 'string') return typeof text;
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}
