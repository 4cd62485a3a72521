/**
 * Who a private request speaks for: an API key with an HMAC-SHA256 signature (Binance SIGNED endpoints: header
 * `X-MBX-APIKEY`, parameters `timestamp`, optional `recvWindow` ≤ 60,000 ms, and `signature` = hex HMAC-SHA256 of the
 * query string concatenated with the body, without the signature itself), or a JWT bearer token (HS256, jose) from
 * `POST /v1/login`, for the web UI. Tokens carry the user id (`sub`), issuer `cairn-exchange` and audience
 * `cairn-exchange:<network>`.
 * @see binance-spot-api-docs rest-api.md "SIGNED (TRADE and USER_DATA) Endpoint security", "Timing security";
 *   RFC 7519, RFC 8725
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { AccountStore, ApiKeyPermission } from './accountStore.js';
import { GatewayError, unauthorized } from './gatewayError.js';

/** Issuer claim of the gateway's tokens. */
export const TOKEN_ISSUER = 'cairn-exchange';
/** Default recvWindow, ms (Binance's). */
export const DEFAULT_RECV_WINDOW_MS = 5_000;
/** Largest recvWindow, ms (Binance's). */
export const MAX_RECV_WINDOW_MS = 60_000;
/** How far ahead of the server's clock a timestamp may be, ms (Binance: 1,000). */
export const MAX_CLOCK_AHEAD_MS = 1_000;

/** The authenticated caller of a private request. */
export interface Caller {
  readonly userId: number;
  /** How it authenticated. */
  readonly via: 'apiKey' | 'token';
  /** The API key (for per-key rate limits), or '' for a token. */
  readonly apiKey: string;
  /** Tokens may do everything their user may. */
  readonly permission: ApiKeyPermission;
}

/** Issues and verifies the gateway's session tokens. */
export class GatewayTokens {
  private readonly audience: string;

  constructor(
    private readonly secret: Uint8Array,
    network: string,
    private readonly ttlSec: number,
  ) {
    if (secret.length < 32) throw new RangeError('the token secret must be at least 32 bytes');
    this.audience = `${TOKEN_ISSUER}:${network}`;
  }

  /** Signs a token for a user; `expiresAtSec` in seconds since the epoch. */
  async issue(userId: number, username: string, nowMs: number): Promise<{ token: string; expiresAtSec: number }> {
    const now = Math.floor(nowMs / 1000);
    const expiresAtSec = now + this.ttlSec;
    const token = await new SignJWT({ username })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(String(userId))
      .setIssuer(TOKEN_ISSUER)
      .setAudience(this.audience)
      .setIssuedAt(now)
      .setExpirationTime(expiresAtSec)
      .sign(this.secret);
    return { token, expiresAtSec };
  }

  /** Verifies a token (HS256 only, issuer, audience, expiry); returns the user id. @throws GatewayError 401 -2015 */
  async verify(token: string): Promise<number> {
    try {
      const { payload } = await jwtVerify(token, this.secret, { algorithms: ['HS256'], issuer: TOKEN_ISSUER, audience: this.audience, requiredClaims: ['sub', 'exp'] });
      const userId = Number(payload.sub);
      if (!Number.isSafeInteger(userId) || userId < 1) throw unauthorized('the token has no user');
      return userId;
    } catch (err) {
      if (err instanceof GatewayError) throw err;
      throw unauthorized(err instanceof joseErrors.JWTExpired ? 'the token has expired; log in again' : 'the token is not valid');
    }
  }
}

const SIGNATURE_RE = /(^|&)signature=([^&]*)/;
/** What an API key may look like (Binance answers -2014 to others). */
const API_KEY_RE = /^[A-Za-z0-9]{1,128}$/;

/** The signature's value and the text it signs (query + body, the `signature` pair removed). */
export function splitSignature(query: string, body: string): { signature: string | undefined; payload: string } {
  let signature: string | undefined;
  const strip = (text: string): string => {
    const m = SIGNATURE_RE.exec(text);
    if (m === null) return text;
    signature = decodeURIComponent(m[2]!);
    const rest = text.slice(0, m.index) + text.slice(m.index + m[0].length);
    return m[1] === '' && rest.startsWith('&') ? rest.slice(1) : rest;
  };
  const q = strip(query);
  const b = strip(body);
  return { signature, payload: q + b };
}

/**
 * Checks a SIGNED request: the key is live, the signature matches, the timestamp is inside recvWindow.
 * @throws GatewayError -2014 (malformed key) | -2015 (unknown key) | -1102 (no signature/timestamp) | -1022 (bad
 *   signature) | -1021 (timestamp outside recvWindow) | -1130 (recvWindow out of range)
 */
export function checkSignedRequest(
  store: AccountStore,
  req: { apiKey: string; query: string; body: string; timestamp: string | undefined; recvWindow: string | undefined },
  nowMs: number,
): Caller {
  // PERF: the live key is looked up first; only a miss needs the format check that tells -2014 from -2015 (every
  // stored key is 64 letters and digits, accountStore.ts, so a hit always has the format).
  const key = store.liveKey(req.apiKey);
  if (key === undefined) {
    if (!API_KEY_RE.test(req.apiKey)) throw new GatewayError(401, -2014, 'API-key format invalid.');
    throw unauthorized('unknown or revoked API key');
  }
  const { signature, payload } = splitSignature(req.query, req.body);
  if (signature === undefined || signature === '') throw new GatewayError(400, -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.");
  // 64 hex digits exactly: hex decoding stops at the first pair that is not hex, so 64 characters give 32 bytes only
  // when all are hex digits (what /^[0-9a-fA-F]{64}$/ checked, without a regular expression run per request).
  const given = signature.length === 64 ? Buffer.from(signature, 'hex') : undefined;
  if (given === undefined || given.length !== 32) throw new GatewayError(400, -1022, 'Signature for this request is not valid.');
  const expected = createHmac('sha256', key.secret).update(payload).digest();
  if (!timingSafeEqual(expected, given)) throw new GatewayError(400, -1022, 'Signature for this request is not valid.');
  if (req.timestamp === undefined || !/^\d{1,16}$/.test(req.timestamp)) throw new GatewayError(400, -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.");
  let recvWindow = DEFAULT_RECV_WINDOW_MS;
  if (req.recvWindow !== undefined) {
    if (!/^\d{1,6}$/.test(req.recvWindow) || Number(req.recvWindow) < 1 || Number(req.recvWindow) > MAX_RECV_WINDOW_MS) {
      throw new GatewayError(400, -1130, `Invalid data sent for a parameter 'recvWindow': must be 1..${MAX_RECV_WINDOW_MS}.`);
    }
    recvWindow = Number(req.recvWindow);
  }
  const ts = Number(req.timestamp);
  if (ts >= nowMs + MAX_CLOCK_AHEAD_MS || nowMs - ts > recvWindow) {
    throw new GatewayError(400, -1021, "Timestamp for this request is outside of the recvWindow.");
  }
  return { userId: key.userId, via: 'apiKey', apiKey: req.apiKey, permission: key.permission };
}
