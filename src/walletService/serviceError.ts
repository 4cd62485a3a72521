/**
 * The error every wallet-service route answers with: an HTTP status, a machine-readable `code` and a message for
 * people; the server sends it as JSON `{error, reason: code, ...details}`. Messages never carry secrets.
 * Reasons: `bad-request` (400: schema, address, amount, fee rate), `unauthorized` (401: no, bad or expired token; wrong
 * credentials), `forbidden` (403: another account's wallet), `faucet-disabled` (403: not devnet or regtest),
 * `not-found` (404), `username-taken` (409), `idempotency-in-progress` (409), `idempotency-key-reused` (422: same key,
 * other body), `insufficient-funds` (422), `tx-rejected` (422: the node refused the transaction), `rate-limited` (429),
 * `faucet-empty` (503), `node-unavailable` (503), `node-error` (502), `internal` (500).
 */
export class ServiceError extends Error {
  override readonly name = 'ServiceError';

  constructor(
    /** HTTP status code (the property name Fastify reads). */
    readonly statusCode: number,
    /** Machine-readable code (sent as the JSON field `reason`). */
    readonly code: string,
    message: string,
    /** Extra JSON fields of the error body (e.g. `shortfallSats`). */
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }

  /** The JSON body the server answers with. */
  toBody(): Record<string, unknown> {
    return { error: this.message, reason: this.code, ...this.details };
  }
}
