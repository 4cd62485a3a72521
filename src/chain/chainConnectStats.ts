/**
 * Where the main thread's time went while a Chain connected blocks, by phase (milliseconds of performance.now()),
 * with the work done. For benchmarks and metrics: the phases are consecutive stretches of processBlock, so their sum
 * is the main thread's wall time; worker threads verify scripts during `overlapMs` and `scriptsMs`.
 */
export interface ChainConnectStats {
  /** Blocks connected. */
  blocks: number;
  /** Transactions of those blocks, coinbases included. */
  txs: number;
  /** Non-coinbase inputs of those blocks. */
  inputs: number;
  /** processBlock before connecting: checkBlock, the contextual checks, storing the block data. */
  acceptMs: number;
  /** Hashing the txs, reading the spent coins, checkTxInputs and the UTXO diff, until the scripts go to the verifier. */
  utxoMs: number;
  /**
   * Non-script work after the scripts went to the verifier, while its workers verify: BIP-30 lookups, the coinbase
   * amount, and (when the verifier can be joined synchronously) the SQLite writes of the block, not yet committed.
   */
  overlapMs: number;
  /** Joining the script checks: the main thread's own share of them, then waiting for the workers. */
  scriptsMs: number;
  /** The SQLite commit; with a verifier joined asynchronously, the writes and the commit. */
  commitMs: number;
  /** Bookkeeping and events after the commit. */
  otherMs: number;
}

/** A zeroed ChainConnectStats. */
export function emptyChainConnectStats(): ChainConnectStats {
  return { blocks: 0, txs: 0, inputs: 0, acceptMs: 0, utxoMs: 0, overlapMs: 0, scriptsMs: 0, commitMs: 0, otherMs: 0 };
}
