/**
 * Machine-readable codes of StorageError:
 * - `wrong-network`: the store was created for another network (its genesis hash differs from the params').
 * - `schema-version`: the store's schema version is not the one this code reads.
 * - `not-initialized`: a read-only open found no cairn schema in the file.
 * - `corrupt`: stored bytes do not decode (block, header, undo data) or a row the chain state implies is missing.
 * - `bad-undo`: undo data to store is out of range (height outside 0..2^31-1, value outside int64).
 * - `bad-update`: a connect/disconnect update does not fit the store (parent is not the tip, the block is not the tip,
 *   hash/txids/undo do not match the block, genesis already recorded, …).
 * - `missing-coin`: the update spends or removes an outpoint that is not in the UTXO set.
 * - `coin-exists`: the update creates or restores a coin at an outpoint that already holds one.
 * - `not-found`: a block index entry to update does not exist.
 * - `bad-argument`: a query argument is out of range (negative limit, …).
 */
export type StorageErrorCode =
  | 'wrong-network'
  | 'schema-version'
  | 'not-initialized'
  | 'corrupt'
  | 'bad-undo'
  | 'bad-update'
  | 'missing-coin'
  | 'coin-exists'
  | 'not-found'
  | 'bad-argument';

/**
 * A storage-level failure of the chain store: a store of another network, a corrupt or inconsistent database, or an
 * update that would make the chain state inconsistent (the enclosing SQLite transaction is then rolled back).
 * `code` is machine-readable (see StorageErrorCode); `cause` carries the underlying error when there is one.
 */
export class StorageError extends Error {
  override readonly name = 'StorageError';

  constructor(
    /** Machine-readable code. */
    readonly code: StorageErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
  }
}
