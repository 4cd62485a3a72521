/**
 * The phases of processBlock, in the order a block on the tip goes through them:
 * - `accept`: checkBlock, the contextual checks, storing the block data (and the rest of processBlock before connecting);
 * - `hash`: serializing the block (when it came decoded) and hashing its txs, once per block;
 * - `coins`: reading the coins the block spends (and those BIP-30 looks for) from the store;
 * - `begin`: listing the script checks and handing them to the verifier (its workers start at the end of it);
 * - `rules`: the connect rules (checkConnectBlock), while the workers verify;
 * - `write`: checkpointing the store's write-ahead log, then the SQLite writes of the connect (not committed yet);
 * - `scripts`: joining the script checks: the main thread's own share of them, then waiting for the workers;
 * - `commit`: the SQLite commit (or rollback);
 * - `other`: bookkeeping and events after the commit.
 * With a block that extends the tip, `accept` comes after `rules` (the connect starts early), so the workers verify
 * from the end of `begin` to the end of `scripts`.
 */
export type ConnectPhase = 'accept' | 'hash' | 'coins' | 'begin' | 'rules' | 'write' | 'scripts' | 'commit' | 'other';

/** Every ConnectPhase, in order. */
export const CONNECT_PHASES: readonly ConnectPhase[] = Object.freeze([
  'accept',
  'hash',
  'coins',
  'begin',
  'rules',
  'write',
  'scripts',
  'commit',
  'other',
]);

/**
 * Where the time went while a Chain processed blocks, by phase, with the work done. For benchmarks and metrics: the
 * phases are consecutive stretches of processBlock on the main thread, so the sum of `wallMs` is the main thread's
 * wall time in it; `cpuMs` is the CPU time the whole process (every thread: the script workers too) used meanwhile.
 * With InlineScriptVerifier the process runs on one thread, so `cpuMs` is exactly the main thread's work per phase,
 * whatever else runs on the machine.
 */
export interface ChainConnectStats {
  /** Blocks connected. */
  blocks: number;
  /** Transactions of those blocks, coinbases included. */
  txs: number;
  /** Non-coinbase inputs of those blocks. */
  inputs: number;
  /** Main-thread wall time per phase, ms (performance.now()). */
  readonly wallMs: Record<ConnectPhase, number>;
  /** CPU time of the process per phase, user + system, ms (process.cpuUsage()). */
  readonly cpuMs: Record<ConnectPhase, number>;
}

function zeroPhases(): Record<ConnectPhase, number> {
  return { accept: 0, hash: 0, coins: 0, begin: 0, rules: 0, write: 0, scripts: 0, commit: 0, other: 0 };
}

/** A zeroed ChainConnectStats. */
export function emptyChainConnectStats(): ChainConnectStats {
  return { blocks: 0, txs: 0, inputs: 0, wallMs: zeroPhases(), cpuMs: zeroPhases() };
}

/** A deep copy of the stats. */
export function copyChainConnectStats(stats: ChainConnectStats): ChainConnectStats {
  return { ...stats, wallMs: { ...stats.wallMs }, cpuMs: { ...stats.cpuMs } };
}

/** Adds `more` into `sum`. */
export function addChainConnectStats(sum: ChainConnectStats, more: ChainConnectStats): void {
  sum.blocks += more.blocks;
  sum.txs += more.txs;
  sum.inputs += more.inputs;
  for (const phase of CONNECT_PHASES) {
    sum.wallMs[phase] += more.wallMs[phase];
    sum.cpuMs[phase] += more.cpuMs[phase];
  }
}

/** Process CPU time (user + system, every thread), ms. */
function processCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * A stopwatch that books consecutive stretches of the main thread's time into the phases of a ChainConnectStats:
 * restart() at the start of a timed stretch, then lap(phase) at the end of each phase.
 * PERF: a lap reads two clocks (about a microsecond); a block takes about ten laps.
 */
export class ConnectTimer {
  private lastWallMs = performance.now();
  private lastCpuMs = processCpuMs();

  constructor(
    /** The stats the laps are added to. */
    readonly stats: ChainConnectStats,
  ) {}

  /** Starts the next lap now (the time since the previous lap is not booked). */
  restart(): void {
    this.lastWallMs = performance.now();
    this.lastCpuMs = processCpuMs();
  }

  /** Adds the time since the previous lap (or restart) to `phase`. */
  lap(phase: ConnectPhase): void {
    const wallMs = performance.now();
    const cpuMs = processCpuMs();
    this.stats.wallMs[phase] += wallMs - this.lastWallMs;
    this.stats.cpuMs[phase] += cpuMs - this.lastCpuMs;
    this.lastWallMs = wallMs;
    this.lastCpuMs = cpuMs;
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
