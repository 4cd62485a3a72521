/**
 * An HTTP failure with the status code and the plain-text reason the REST API answers with, as Esplora does:
 * 400 for malformed input ("Invalid hex string", "Invalid address: …"), 404 for unknown objects ("Block not found",
 * "Transaction not found"), 429 when the rate limit is hit. The REST server's error handler turns it into a
 * `text/plain` response; `statusCode` is the property name Fastify reads.
 * @see Blockstream electrs src/rest.rs HttpError
 */
export class HttpError extends Error {
  override readonly name = 'HttpError';

  constructor(
    /** HTTP status code, 400..599. */
    readonly statusCode: number,
    /** Plain-text reason sent as the response body. */
    message: string,
  ) {
    super(message);
  }
}
