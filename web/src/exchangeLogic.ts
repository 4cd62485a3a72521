/**
 * The trading pages' pure logic, testable under Node: exact decimal arithmetic on the exchange's decimal strings
 * (bigint via src/matching/decimal.ts, never a float for money), the order form's "% of balance" quantity, and a local
 * order book kept from a depth snapshot plus `@depth` diff events by Binance's procedure (binance-spot-api-docs
 * web-socket-streams.md "How to manage a local order book correctly").
 */
import { formatUnits, parseDecimal, parseUnits } from '../../src/matching/decimal.js';

/** The exchangeInfo fields of a market the UI reads. */
export interface MarketInfo {
  readonly symbol: string;
  readonly displayName?: string;
  readonly status: string;
  readonly baseAsset: string;
  readonly quoteAsset: string;
  readonly baseAssetPrecision: number;
  readonly quoteAssetPrecision: number;
  readonly orderTypes: readonly string[];
  readonly filters: readonly { filterType: string; tickSize?: string; stepSize?: string; minQty?: string; minNotional?: string }[];
}

/** Number of fractional digits of a step such as "0.0001" (4) or "1" (0). */
export function decimalsOf(step: string): number {
  return parseDecimal(step).scale;
}

/** The price tick and quantity step of a market (defaults when a filter is missing: the asset precisions). */
export function gridOf(m: MarketInfo): { tickSize: string; stepSize: string; priceDecimals: number; qtyDecimals: number } {
  const tick = m.filters.find((f) => f.filterType === 'PRICE_FILTER')?.tickSize ?? `0.${'0'.repeat(m.quoteAssetPrecision - 1)}1`;
  const step = m.filters.find((f) => f.filterType === 'LOT_SIZE')?.stepSize ?? `0.${'0'.repeat(m.baseAssetPrecision - 1)}1`;
  return { tickSize: tick, stepSize: step, priceDecimals: decimalsOf(tick), qtyDecimals: decimalsOf(step) };
}

/** Each asset's display precision from exchangeInfo (base and quote precisions of the markets that list it). */
export function assetPrecisions(markets: readonly MarketInfo[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of markets) {
    out.set(m.baseAsset, m.baseAssetPrecision);
    out.set(m.quoteAsset, m.quoteAssetPrecision);
  }
  return out;
}

/**
 * Re-formats a decimal string to exactly `decimals` fractional digits (exact; extra digits, which the exchange never
 * sends beyond an asset's precision, are cut, not rounded). A string that is not a plain decimal is returned as is.
 */
export function formatDecimal(text: string, decimals: number): string {
  const neg = text.startsWith('-');
  const body = neg ? text.slice(1) : text;
  const m = /^(\d+)(?:\.(\d*))?$/.exec(body);
  if (m === null) return text;
  const frac = (m[2] ?? '').slice(0, decimals).padEnd(decimals, '0');
  const int = m[1]!.replace(/^0+(?=\d)/, '');
  const out = decimals > 0 ? `${int}.${frac}` : int;
  return neg && /[1-9]/.test(out) ? `-${out}` : out;
}

/** Compares two plain decimal strings exactly: -1, 0 or 1. */
export function compareDecimal(a: string, b: string): number {
  const da = parseDecimal(a);
  const db = parseDecimal(b);
  const scale = Math.max(da.scale, db.scale);
  const x = da.digits * 10n ** BigInt(scale - da.scale);
  const y = db.digits * 10n ** BigInt(scale - db.scale);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * The order quantity for "`percent` % of my balance", rounded down to the market's step (never more than the balance):
 * a sell spends `percent` % of the free base asset; a buy spends `percent` % of the free quote asset at `price`.
 * Returns undefined when the price is missing or zero for a buy. Exact: all in bigint units.
 * @throws MatchingError BAD_DECIMAL on a malformed balance or price
 */
export function quantityForPercent(args: { side: 'BUY' | 'SELL'; percent: number; freeBase: string; freeQuote: string; price: string | undefined; stepSize: string; quoteDecimals: number }): string | undefined {
  const step = parseDecimal(args.stepSize);
  const pct = BigInt(Math.round(args.percent));
  let lots: bigint; // quantity in steps
  if (args.side === 'SELL') {
    // lots = base·pct/100 / step = base.digits·pct·10^ss / (100·10^bs·step.digits)
    const base = parseDecimal(args.freeBase);
    lots = (base.digits * pct * 10n ** BigInt(step.scale)) / (100n * 10n ** BigInt(base.scale) * step.digits);
  } else {
    if (args.price === undefined || args.price === '') return undefined;
    const price = parseDecimal(args.price);
    if (price.digits === 0n) return undefined;
    const quote = parseUnits(formatDecimal(args.freeQuote, args.quoteDecimals), args.quoteDecimals);
    // qty = quote·pct/100 / price; lots = qty / step. With q = quote/10^qd, p = price.digits/10^ps, s = step.digits/10^ss:
    // lots = quote·pct·10^ps·10^ss / (100·10^qd·price.digits·step.digits)
    const num = quote * pct * 10n ** BigInt(price.scale) * 10n ** BigInt(step.scale);
    const den = 100n * 10n ** BigInt(args.quoteDecimals) * price.digits * step.digits;
    lots = num / den;
  }
  return formatUnits(lots * step.digits, step.scale);
}

/** price × quantity, exact, formatted to `decimals` (cut). */
export function notional(price: string, quantity: string, decimals: number): string {
  const p = parseDecimal(price);
  const q = parseDecimal(quantity);
  const raw = formatUnits(p.digits * q.digits, p.scale + q.scale);
  return formatDecimal(raw, decimals);
}

/** A price level: [price, quantity] as the exchange's decimal strings. */
export type Level = readonly [string, string];

/** A `@depth` diff event (Binance `depthUpdate`). */
export interface DepthDiff {
  readonly U: number;
  readonly u: number;
  readonly b: readonly Level[];
  readonly a: readonly Level[];
}

/** A `/api/v3/depth` snapshot. */
export interface DepthSnapshot {
  readonly lastUpdateId: number;
  readonly bids: readonly Level[];
  readonly asks: readonly Level[];
}

/** What LocalBook.applyDiff decided about one event. */
export type DiffOutcome = 'buffered' | 'dropped' | 'applied' | 'gap';

/**
 * A local order book by Binance's procedure: buffer diff events until the snapshot arrives; drop events with
 * `u` ≤ the snapshot's lastUpdateId; the first applied event must have U ≤ lastUpdateId + 1 ≤ u; every later event's
 * U must be the previous u + 1, otherwise there is a gap (`'gap'`: fetch a new snapshot and call reset()). A level
 * with quantity 0 is removed. Prices are keyed by their exact decimal value.
 */
export class LocalBook {
  private readonly bids = new Map<string, string>();
  private readonly asks = new Map<string, string>();
  private buffer: DepthDiff[] = [];
  private lastId: number | undefined;
  private first = true;

  /** Forgets everything (after a gap or a reconnect); events are buffered again until the next snapshot. */
  reset(): void {
    this.bids.clear();
    this.asks.clear();
    this.buffer = [];
    this.lastId = undefined;
    this.first = true;
  }

  /** True once a snapshot is loaded. */
  get ready(): boolean {
    return this.lastId !== undefined;
  }

  /** Loads a snapshot, then replays the buffered events. Returns 'gap' when the buffer does not join the snapshot. */
  loadSnapshot(s: DepthSnapshot): 'applied' | 'gap' {
    this.bids.clear();
    this.asks.clear();
    for (const [p, q] of s.bids) this.bids.set(key(p), q);
    for (const [p, q] of s.asks) this.asks.set(key(p), q);
    this.lastId = s.lastUpdateId;
    this.first = true;
    const buffered = this.buffer;
    this.buffer = [];
    for (const e of buffered) if (this.applyDiff(e) === 'gap') return 'gap';
    return 'applied';
  }

  /** Applies (or buffers, or drops) one diff event. */
  applyDiff(e: DepthDiff): DiffOutcome {
    if (this.lastId === undefined) {
      this.buffer.push(e);
      // Bounded: a snapshot that never comes must not grow memory without end.
      if (this.buffer.length > 1000) this.buffer.shift();
      return 'buffered';
    }
    if (e.u <= this.lastId) return 'dropped';
    if (this.first ? !(e.U <= this.lastId + 1 && this.lastId + 1 <= e.u) : e.U !== this.lastId + 1) return 'gap';
    this.first = false;
    for (const [p, q] of e.b) set(this.bids, p, q);
    for (const [p, q] of e.a) set(this.asks, p, q);
    this.lastId = e.u;
    return 'applied';
  }

  /** The best `n` levels each side: bids highest first, asks lowest first. */
  top(n: number): { bids: Level[]; asks: Level[] } {
    return { bids: sorted(this.bids, true).slice(0, n), asks: sorted(this.asks, false).slice(0, n) };
  }
}

function key(price: string): string {
  // One key per exact value: "100.50" and "100.5" are the same level.
  const d = parseDecimal(price);
  return formatUnits(d.digits, d.scale);
}

function set(side: Map<string, string>, price: string, qty: string): void {
  if (parseDecimal(qty).digits === 0n) side.delete(key(price));
  else side.set(key(price), qty);
}

function sorted(side: Map<string, string>, descending: boolean): Level[] {
  const rows = [...side.entries()] as [string, string][];
  rows.sort((a, b) => (descending ? compareDecimal(b[0], a[0]) : compareDecimal(a[0], b[0])));
  return rows;
}
