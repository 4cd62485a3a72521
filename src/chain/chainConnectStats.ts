/**
 * Where the main thread's time went while a Chain processed blocks, by phase (milliseconds of performance.now()), with
 * the work done. For benchmarks and metrics: the phases are consecutive stretches of processBlock, so their sum is the
 * main thread's wall time in it. The script verifier's workers verify from the end of `beginMs` to the end of
 * `scriptsMs`; with an early connect (a block on the tip) that stretch includes `acceptMs`.
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
  /** Serializing the block (when it came decoded) and hashing its txs (txids, wtxids), once per block. */
  hashMs: number;
  /** Reading the coins the block spends (and those BIP-30 looks for) from the store. */
  coinsMs: number;
  /** Listing the script checks and handing them to the verifier (its workers start at the end of it). */
  beginMs: number;
  /** The connect rules (checkConnectBlock), while the workers verify. */
  rulesMs: number;
  /** Checkpointing the store's write-ahead log, then the SQLite writes of the block connect (not committed yet). */
  writeMs: number;
  /** Joining the script checks: the main thread's own share of them, then waiting for the workers. */
  scriptsMs: number;
  /** The SQLite commit (or rollback). */
  commitMs: number;
  /** Bookkeeping and events after the commit. */
  otherMs: number;
}

/** The timed phases of ChainConnectStats. */
export type ConnectPhase = 'acceptMs' | 'hashMs' | 'coinsMs' | 'beginMs' | 'rulesMs' | 'writeMs' | 'scriptsMs' | 'commitMs' | 'otherMs';

/** A zeroed ChainConnectStats. */
export function emptyChainConnectStats(): ChainConnectStats {
  return { blocks: 0, txs: 0, inputs: 0, acceptMs: 0, hashMs: 0, coinsMs: 0, beginMs: 0, rulesMs: 0, writeMs: 0, scriptsMs: 0, commitMs: 0, otherMs: 0 };
}

/**
 * A stopwatch that books consecutive stretches of the main thread's time into the phases of a ChainConnectStats:
 * restart() at the start of a timed stretch, then lap(phase) at the end of each phase.
 */
export class ConnectTimer {
  private last = performance.now();

  constructor(
    /** The stats the laps are added to. */
    readonly stats: ChainConnectStats,
  ) {}

  /** Starts the next lap now (the time since the previous lap is not booked). */
  restart(): void {
    this.last = performance.now();
  }

  /** Adds the time since the previous lap (or restart) to `phase`. */
  lap(phase: ConnectPhase): void {
    const now = performance.now();
    this.stats[phase] += now - this.last;
    this.last = now;
  }

  /** Counts one connected block with its txs and non-coinbase inputs. */
  countBlock(txs: number, inputs: number): void {
    this.stats.blocks++;
    this.stats.txs += txs;
    this.stats.inputs += inputs;
  }

  /** Zeroes the stats. */
  reset(): void {
    Object.assign(this.stats, emptyChainConnectStats());
  }
}
