/**
 * Codes of the exchange's thrown errors. Order-level and account-level outcomes (insufficient balance, an unknown
 * order) are not errors: they are rejected command results. These are for bad input at the engine's edge, bad
 * configuration, and storage that cannot be trusted:
 * - `BAD_COMMAND`: a command that is malformed (missing or mistyped fields); it is refused before it is sequenced.
 * - `BAD_CONFIG`: a markets/assets configuration that cannot work.
 * - `LOG_CORRUPT`: a command-log record in the middle of the log fails its checksum or the sequence has a gap.
 * - `LOG_FAILED`: appending to the command log failed; the engine stops taking commands.
 * - `BAD_SNAPSHOT`: a state snapshot that is malformed or describes an impossible state.
 * - `STATE_MISMATCH`: stored state that contradicts the configuration or itself (another network, a changed grid).
 * - `DATADIR_BUSY`: another live process owns the data dir.
 * - `CLOSED`: the engine was stopped; no more commands are taken.
 * - `BUSY`: too many commands wait for the log; the caller should retry later (Binance -1008 SERVER_BUSY).
 * - `BAD_QUERY`: a read query with bad parameters (limit out of range, unknown symbol or interval).
 */
export type ExchangeErrorCode =
  | 'BAD_COMMAND'
  | 'BAD_CONFIG'
  | 'LOG_CORRUPT'
  | 'LOG_FAILED'
  | 'BAD_SNAPSHOT'
  | 'STATE_MISMATCH'
  | 'DATADIR_BUSY'
  | 'CLOSED'
  | 'BUSY'
  | 'BAD_QUERY';

/**
 * An error of the exchange engine and its storage, with a typed `code` that callers branch on (never the message).
 * @see binance-spot-api-docs errors.md (the gateway maps BAD_COMMAND and BAD_QUERY to -11xx parameter errors)
 */
export class ExchangeError extends Error {
  override readonly name = 'ExchangeError';

  constructor(
    readonly code: ExchangeErrorCode,
    message: string,
  ) {
    super(message);
  }
}
