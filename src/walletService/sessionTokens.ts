/**
 * Session tokens of the wallet service: JWTs (RFC 7519) signed with HMAC-SHA256 under the service's secret, carrying
 * the account id (`sub`), the username, issue and expiry times, the issuer and an audience naming the network, so a
 * token of one network's service is refused by another's. Verification pins the algorithm to HS256.
 * @see RFC 7519, RFC 8725 (JWT best current practices); jose SignJWT / jwtVerify
 */
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { ServiceError } from './serviceError.js';

/** Issuer claim of every token. */
export const TOKEN_ISSUER = 'cairn-wallet-service';
/** Default lifetime of a token, s (1 hour). */
export const DEFAULT_TOKEN_TTL_SEC = 3_600;

/** Who a verified token speaks for. */
export interface Session {
  readonly accountId: string;
  readonly username: string;
}

/** A fresh token and when it expires. */
export interface IssuedToken {
  readonly token: string;
  /** Expiry, seconds since the epoch. */
  readonly expiresAtSec: number;
}

/** Options of SessionTokens. */
export interface SessionTokensOptions {
  /** Network name, the token's audience is `cairn-wallet-service:<network>`. */
  readonly network: string;
  /** Lifetime of issued tokens, s (default 3,600). */
  readonly ttlSec?: number;
  /** Clock, seconds since the epoch (default Date.now). */
  readonly nowSec?: () => number;
}

/** Issues and verifies the service's HS256 session tokens under one secret (at least 32 bytes). */
export class SessionTokens {
  private readonly secret: Uint8Array;
  private readonly audience: string;
  private readonly ttlSec: number;
  private readonly nowSec: () => number;

  constructor(secret: Uint8Array, options: SessionTokensOptions) {
    if (secret.length < 32) throw new RangeError('the token secret must be at least 32 bytes');
    if (!Number.isInteger(options.ttlSec ?? 1) || (options.ttlSec ?? 1) < 1) throw new RangeError('ttlSec must be a positive integer');
    this.secret = secret;
    this.audience = `${TOKEN_ISSUER}:${options.network}`;
    this.ttlSec = options.ttlSec ?? DEFAULT_TOKEN_TTL_SEC;
    this.nowSec = options.nowSec ?? (() => Math.floor(Date.now() / 1000));
  }

  /** Signs a token for an account. */
  async issue(session: Session): Promise<IssuedToken> {
    const now = this.nowSec();
    const expiresAtSec = now + this.ttlSec;
    const token = await new SignJWT({ username: session.username })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(session.accountId)
      .setIssuer(TOKEN_ISSUER)
      .setAudience(this.audience)
      .setIssuedAt(now)
      .setExpirationTime(expiresAtSec)
      .sign(this.secret);
    return { token, expiresAtSec };
  }

  /**
   * Verifies a token's signature (HS256 only), issuer, audience and expiry; returns its session.
   * @throws ServiceError 401 unauthorized (malformed, forged, expired, or for another service)
   */
  async verify(token: string): Promise<Session> {
    try {
      const { payload } = await jwtVerify(token, this.secret, {
        algorithms: ['HS256'],
        issuer: TOKEN_ISSUER,
        audience: this.audience,
        currentDate: new Date(this.nowSec() * 1000),
        requiredClaims: ['sub', 'exp', 'iat'],
      });
      if (typeof payload.sub !== 'string' || typeof payload['username'] !== 'string') throw new ServiceError(401, 'unauthorized', 'the token has no account');
      return { accountId: payload.sub, username: payload['username'] };
    } catch (e) {
      if (e instanceof ServiceError) throw e;
      const why = e instanceof joseErrors.JWTExpired ? 'the token has expired; log in again' : 'the token is not valid';
      throw new ServiceError(401, 'unauthorized', why);
    }
  }
}
