/**
 * Machine-readable codes of ChainError (internal failures, never a peer's fault):
 * - `corrupt`: the stored block index or chain state contradicts itself (missing parent, tip not indexed, chainWork
 *   mismatch, block data or undo data missing for a block that must have it).
 * - `wrong-network`: the store was opened with another network's params than the chain.
 * - `script-verifier-failed`: the script verifier threw or rejected (e.g. a worker crashed); the block is NOT marked
 *   invalid and is retried on the next processBlock.
 * - `closed`: the chain was closed.
 */
export type ChainErrorCode = 'corrupt' | 'wrong-network' | 'script-verifier-failed' | 'closed';

/**
 * An internal failure of the chain (as opposed to an invalid block, which processBlock reports as a result).
 * `cause` carries the underlying error when there is one.
 */
export class ChainError extends Error {
  override readonly name = 'ChainError';

  constructor(
    /** Machine-readable code. */
    readonly code: ChainErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
  }
}
