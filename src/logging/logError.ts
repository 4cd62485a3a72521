/**
 * Machine-readable codes of LogError:
 * - `dir-busy`: another live process (or thread) owns the log dir or the collector's output dir (its lock file names
 *   it); two writers on one dir could lose lines, so the second refuses to start.
 * - `bad-query`: a log query option is malformed (unknown level, unreadable `--since`).
 */
export type LogErrorCode = 'dir-busy' | 'bad-query';

/** A failure of the log producer, the LogCollector or the log reader. */
export class LogError extends Error {
  override readonly name = 'LogError';

  constructor(
    /** Machine-readable code. */
    readonly code: LogErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
