/**
 * Amount formatting for the UI with the node's own fixed-point rules (src/consensus/amount.ts): sats are integers,
 * turned into bigint before any arithmetic, never a float. Services send sats as JSON numbers (exact below 2^53).
 */
import { COIN_DECIMALS, formatFixedPoint, parseFixedPoint } from '../../src/consensus/amount.js';

/** The coin's ticker shown beside amounts. */
export const COIN_SYMBOL = 'CRN';

/** Sats (JSON number or bigint) as coins with all 8 decimals, e.g. 1.50000000. @throws RangeError on a non-integer */
export function formatSats(sats: number | bigint, trim = false): string {
  return formatFixedPoint(typeof sats === 'bigint' ? sats : BigInt(sats), COIN_DECIMALS, trim);
}

/** Signed sats with an explicit + for incoming amounts. */
export function formatSignedSats(sats: number): string {
  const s = formatSats(sats);
  return sats > 0 ? `+${s}` : s;
}

/**
 * Coins typed by a person (e.g. "0.5") as sats. @throws AmountError (code bad-format / too-many-decimals / …) with a
 * message to show
 */
export function parseCoinsInput(text: string): bigint {
  return parseFixedPoint(text.trim(), COIN_DECIMALS);
}

/** A hash rate in H/s with a unit (kH/s, MH/s, …), 3 significant figures (display only, not money). */
export function formatHashRate(hps: number): string {
  const units = ['H/s', 'kH/s', 'MH/s', 'GH/s', 'TH/s', 'PH/s', 'EH/s'];
  let v = hps;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toPrecision(3)} ${units[i]}`;
}

/** "1 confirmation", "2,016 confirmations": a count of confirmations with its noun in the right number. */
export function confirmationsText(n: number): string {
  return `${formatCount(n)} confirmation${n === 1 ? '' : 's'}`;
}

/** A count with thousands separators in the viewer's locale. */
export function formatCount(n: number): string {
  return n.toLocaleString();
}

/** A Unix time (seconds) in the viewer's time zone, with the zone's short name. */
export function formatTime(sec: number): string {
  // dateStyle/timeStyle cannot be combined with timeZoneName: spell the fields out.
  return new Date(sec * 1000).toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    timeZoneName: 'short',
  });
}

/** "12 s ago", "3 min ago", … from a Unix time (seconds). */
export function formatAgo(sec: number, nowMs = Date.now()): string {
  const d = Math.max(0, Math.round(nowMs / 1000 - sec));
  if (d < 60) return `${d} s ago`;
  if (d < 3600) return `${Math.floor(d / 60)} min ago`;
  if (d < 86400) return `${Math.floor(d / 3600)} h ago`;
  return `${Math.floor(d / 86400)} d ago`;
}

/** A duration in ms as "2 h 5 min" / "40 s". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

/** A long hash shortened to its ends for narrow cells. */
export function shortHash(h: string, keep = 8): string {
  return h.length <= keep * 2 + 1 ? h : `${h.slice(0, keep)}…${h.slice(-keep)}`;
}
