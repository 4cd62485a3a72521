/**
 * The gateway's errors in Binance's shape: an HTTP status and a body `{code, msg}` with Binance's numeric codes.
 * Codes used: -1000 unknown (never with internal detail), -1003 too many requests (429), -1013 filter failure (naming
 * the filter), -1014 unsupported order combination, -1021 timestamp outside recvWindow, -1022 bad signature,
 * -1099 not found/authenticated (cairn: bad credentials), -1100 illegal characters, -1101 too many/duplicate
 * parameters, -1102 mandatory parameter missing or malformed, -1104 not all parameters read, -1106 parameter sent
 * when not required, -1111 precision over the maximum, -1115 invalid timeInForce, -1116 invalid orderType, -1117
 * invalid side, -1120 invalid interval, -1121 invalid symbol, -1125 invalid listenKey, -1130 invalid data, -2010 new
 * order rejected, -2011 cancel rejected, -2013 no such order, -2014 bad API-key format, -2015 invalid API key or
 * permissions.
 * @see binance-spot-api-docs errors.md
 */

/** A refused request: HTTP status + Binance code + message. */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';

  constructor(
    /** HTTP status (400 bad request, 401 auth, 403 forbidden, 404, 409 conflict, 429 rate limit, 503 busy). */
    readonly statusCode: number,
    /** Binance error code (negative). */
    readonly code: number,
    /** Binance's message, with specifics. */
    readonly msg: string,
  ) {
    super(msg);
  }

  /** The JSON body: `{code, msg}`. */
  toBody(): { code: number; msg: string } {
    return { code: this.code, msg: this.msg };
  }
}

/** -1102: a mandatory parameter was not sent, was empty or malformed. */
export function missingParam(name: string): GatewayError {
  return new GatewayError(400, -1102, `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`);
}

/** -1100: illegal characters in a parameter. */
export function illegalParam(name: string, why = ''): GatewayError {
  return new GatewayError(400, -1100, `Illegal characters found in parameter '${name}'${why !== '' ? `; ${why}` : ''}.`);
}

/** -1130: invalid data sent for a parameter. */
export function invalidParam(name: string, why: string): GatewayError {
  return new GatewayError(400, -1130, `Invalid data sent for a parameter '${name}': ${why}.`);
}

/** -1121: invalid symbol. */
export function invalidSymbol(): GatewayError {
  return new GatewayError(400, -1121, 'Invalid symbol.');
}

/** -2015 (401): no key, an unknown key, or a bad token. */
export function unauthorized(why: string): GatewayError {
  return new GatewayError(401, -2015, `Invalid API-key, IP, or permissions for action: ${why}.`);
}
