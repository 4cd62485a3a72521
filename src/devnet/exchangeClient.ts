/**
 * A small client of the exchange gateway for the devnet's demo traders: cairn's account routes under /v1/ (JSON,
 * Bearer token) and Binance's SIGNED spot routes (parameters in the query string, `timestamp`, HMAC-SHA256 of the
 * query string with the API secret as `signature`, the key in `X-MBX-APIKEY` — Binance spot API "SIGNED endpoint
 * security"). Answers that are not 2xx become ExchangeApiError with Binance's `{code, msg}`.
 */
import { createHmac } from 'node:crypto';

/** A refusal or failure of a gateway call. */
export class ExchangeApiError extends Error {
  constructor(
    /** HTTP status (0 when no answer came: refused connection, timeout). */
    readonly status: number,
    /** Binance error code from the body (e.g. -2010 order rejected, -1013 filter), 0 when the body had none. */
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'ExchangeApiError';
  }
}

/** Time a call may take before it counts as failed, ms. */
const CALL_TIMEOUT_MS = 10_000;

/** HMAC-SHA256 hex of `payload` with `secret`: a SIGNED request's `signature` (Binance spot API). */
export function signQuery(payload: string, secret: string): string {
  return createHmac('sha256', secret).update(payload).digest('hex');
}

async function call(method: string, url: string, headers: Record<string, string>, body?: unknown): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    });
  } catch (err) {
    throw new ExchangeApiError(0, 0, `${method} ${url}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const e = (parsed ?? {}) as { code?: unknown; msg?: unknown };
    throw new ExchangeApiError(res.status, typeof e.code === 'number' ? e.code : 0, `${method} ${new URL(url).pathname}: HTTP ${res.status} ${typeof e.msg === 'string' ? e.msg : text.slice(0, 200)}`);
  }
  return parsed;
}

/** The gateway of one exchange, at `baseUrl` (`http://host:port`, no trailing slash). */
export class ExchangeClient {
  constructor(readonly baseUrl: string) {}

  /** A /v1/ JSON route with an optional login token or admin header. @throws ExchangeApiError */
  account(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, auth: { token?: string; adminToken?: string } = {}): Promise<unknown> {
    const headers: Record<string, string> = {};
    if (auth.token !== undefined) headers.authorization = `Bearer ${auth.token}`;
    if (auth.adminToken !== undefined) headers['x-cairn-admin-token'] = auth.adminToken;
    return call(method, `${this.baseUrl}${path}`, headers, body);
  }

  /** A public /api/v3/ route. @throws ExchangeApiError */
  public(path: string, params: Record<string, string> = {}): Promise<unknown> {
    const q = new URLSearchParams(params).toString();
    return call('GET', `${this.baseUrl}${path}${q === '' ? '' : `?${q}`}`, {});
  }

  /**
   * A SIGNED /api/v3/ route: `params` plus timestamp in the query string, signed with the API secret.
   * @throws ExchangeApiError
   */
  signed(method: 'GET' | 'POST' | 'DELETE', path: string, params: Record<string, string>, key: { apiKey: string; secretKey: string }): Promise<unknown> {
    const q = new URLSearchParams({ ...params, timestamp: String(Date.now()) }).toString();
    return call(method, `${this.baseUrl}${path}?${q}&signature=${signQuery(q, key.secretKey)}`, { 'x-mbx-apikey': key.apiKey });
  }
}
