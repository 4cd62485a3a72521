/**
 * Binance request parameters: the query string and an `application/x-www-form-urlencoded` (or JSON) body, read by
 * name with Binance's errors. Every route reads what it takes and then calls `done()`, which refuses parameters it
 * did not read (-1104), so a misspelt `timeInForce` is an error, not a silent default.
 * @see binance-spot-api-docs rest-api.md "General information on endpoints"
 */
import { GatewayError, illegalParam, invalidParam, missingParam } from './gatewayError.js';

/** Largest total size of the parameters, characters (Binance refuses long requests too). */
export const MAX_PARAMS_CHARS = 8_192;
const INT_RE = /^(0|[1-9]\d{0,15})$/;

/** The parameters of one request, read once each. */
export class RequestParams {
  private readonly values = new Map<string, string>();
  private readonly read = new Set<string>();

  /**
   * @param sources URL-encoded texts (query string, form body) and/or plain objects (a JSON body)
   * @throws GatewayError -1101 (a parameter sent twice) | -1100 (too long, or a non-string JSON value)
   */
  constructor(sources: ReadonlyArray<string | Readonly<Record<string, unknown>>>) {
    let total = 0;
    for (const src of sources) {
      if (typeof src === 'string') {
        total += src.length;
        if (total > MAX_PARAMS_CHARS) throw new GatewayError(400, -1101, 'Too many parameters sent for this endpoint.');
        if (src.includes('%') || src.includes('+')) {
          for (const [k, v] of new URLSearchParams(src)) this.add(k, v);
        } else {
          // PERF: nothing to decode (the usual signed request): split as URLSearchParams would — pairs on '&' (empty
          // ones skipped), the name before the first '=', the value after it ('' when there is none) — straight into
          // the map (no array per pair: ~10 short-lived arrays per signed order, 0.4 KB of the request's garbage).
          let start = 0;
          while (start <= src.length) {
            let end = src.indexOf('&', start);
            if (end < 0) end = src.length;
            if (end > start) {
              const eq = src.indexOf('=', start);
              if (eq < 0 || eq > end) this.add(src.slice(start, end), '');
              else this.add(src.slice(start, eq), src.slice(eq + 1, end));
            }
            start = end + 1;
          }
        }
      } else {
        // A JSON body is checked whole before any of it is taken (a bad value is -1100 even after a duplicate).
        const entries: Array<[string, string]> = [];
        for (const [k, v] of Object.entries(src)) {
          if (typeof v === 'number' || typeof v === 'boolean') entries.push([k, String(v)]);
          else if (typeof v === 'string') entries.push([k, v]);
          else throw illegalParam(k, 'a parameter must be a string or a number');
        }
        for (const [k, v] of entries) this.add(k, v);
      }
    }
  }

  /** Takes one parameter. @throws GatewayError -1101 when it was sent already */
  private add(k: string, v: string): void {
    if (this.values.has(k)) throw new GatewayError(400, -1101, `Duplicate values for parameter '${k}'.`);
    this.values.set(k, v);
  }

  /** The parameter's value as sent ('' when empty), without counting it as read (the auth check's look at `timestamp`). */
  peek(name: string): string | undefined {
    return this.values.get(name);
  }

  /** True when the parameter was sent (non-empty). */
  has(name: string): boolean {
    const v = this.values.get(name);
    return v !== undefined && v !== '';
  }

  /** An optional string parameter; checked against `re` when sent. @throws GatewayError -1100 */
  optString(name: string, re?: RegExp): string | undefined {
    this.read.add(name);
    const v = this.values.get(name);
    if (v === undefined || v === '') return undefined;
    if (re !== undefined && !re.test(v)) throw illegalParam(name);
    return v;
  }

  /** A mandatory string parameter. @throws GatewayError -1102 | -1100 */
  string(name: string, re?: RegExp): string {
    const v = this.optString(name, re);
    if (v === undefined) throw missingParam(name);
    return v;
  }

  /** An optional non-negative integer within [min, max]. @throws GatewayError -1100 (not an integer) | -1130 (out of range) */
  optInt(name: string, min: number, max: number): number | undefined {
    const v = this.optString(name);
    if (v === undefined) return undefined;
    if (!INT_RE.test(v)) throw illegalParam(name, 'must be an integer');
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min || n > max) throw invalidParam(name, `must be ${min}..${max}`);
    return n;
  }

  /** A mandatory integer. @throws GatewayError -1102 | -1100 | -1130 */
  int(name: string, min: number, max: number): number {
    const v = this.optInt(name, min, max);
    if (v === undefined) throw missingParam(name);
    return v;
  }

  /** An optional value of an enumeration; `error()` is thrown for others (e.g. -1117 for side), default -1130. */
  optEnum<T extends string>(name: string, values: readonly T[], error?: () => GatewayError): T | undefined {
    const v = this.optString(name);
    if (v === undefined) return undefined;
    if (!(values as readonly string[]).includes(v)) throw error !== undefined ? error() : invalidParam(name, `must be one of ${values.join(', ')}`);
    return v as T;
  }

  /** An optional boolean (`true`/`false`). @throws GatewayError -1130 */
  optBool(name: string): boolean | undefined {
    const v = this.optEnum(name, ['true', 'false', 'TRUE', 'FALSE']);
    return v === undefined ? undefined : v.toLowerCase() === 'true';
  }

  /** Marks parameters as read without using them (e.g. `signature`, handled by the auth hook). */
  ignore(...names: string[]): void {
    for (const n of names) this.read.add(n);
  }

  /** Refuses parameters no one read. @throws GatewayError -1104 */
  done(): void {
    for (const k of this.values.keys()) {
      if (!this.read.has(k)) throw new GatewayError(400, -1104, `Not all sent parameters were read; unknown parameter '${k}'.`);
    }
  }
}
