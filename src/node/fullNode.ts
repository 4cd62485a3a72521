import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { MiningInfoSource, NetworkInfoSource, NodeContext } from '../api/nodeContext.js';
import { Chain, type ChainOptions, type ProcessBlockResult } from '../chain/chain.js';
import { WorkerPoolScriptVerifier } from '../chain/workerPoolScriptVerifier.js';
import { createLogger, moduleLogger, type Logger, type LogLevel } from '../logging/logger.js';
import { Mempool, type AcceptTransactionOptions, type MempoolAcceptResult } from '../mempool/mempool.js';
import type { MempoolOptions } from '../mempool/mempoolOptions.js';
import { BlockAssembler, type BlockAssemblerOptions } from '../mining/blockAssembler.js';
import { solveBlockCpu } from '../mining/cpuSolver.js';
import type { ChainParams } from '../params/chainParams.js';
import { SqliteChainStore } from '../storage/sqliteChainStore.js';
import type { Block, Tx } from '../primitives/types.js';

/** How often the node drops expired mempool transactions, ms. */
const MEMPOOL_EXPIRY_INTERVAL_MS = 60_000;

/**
 * Options of a full node: plain values the CLI maps its flags onto.
 */
export interface FullNodeOptions {
  readonly params: ChainParams;
  /** Data directory: the chain database (chain.sqlite) and logs live here. Created if missing. */
  readonly datadir: string;
  /** Log level of the node's logger when the node creates it (default 'info'). */
  readonly logLevel?: LogLevel;
  /** Name of this node, added to every log line as `node` (e.g. `node2` in a devnet). */
  readonly nodeName?: string;
  /** Threads that check signatures (default: all cores). */
  readonly scriptThreads?: number;
  readonly chain?: ChainOptions;
  readonly mempool?: Partial<MempoolOptions>;
  readonly blockAssembler?: BlockAssemblerOptions;
}

/** Optional collaborators (tests inject a clock or a logger). */
export interface FullNodeDeps {
  /** Current time, seconds since the epoch (default: the system clock). */
  readonly nowSec?: () => number;
  /** Root logger (default: rotating NDJSON in <datadir>/logs/, see RotatingLogDestination). */
  readonly logger?: Logger;
}

/**
 * The composition root of a cairn node: opens the chain store, the script verifier, the Chain, the Mempool and the
 * BlockAssembler, and wires the chain's events to the mempool (confirmed and conflicting txs leave it; txs of
 * disconnected blocks come back after a reorg). Blocks from miners and from the network enter through the same path,
 * submitBlock. The mempool and the chain share one script verifier, so signatures checked on mempool entry are not
 * checked again when the block arrives (script cache by wtxid).
 * @see Bitcoin Core node/kernel_notifications.cpp, init.cpp; bcoin lib/node/fullnode.js
 */
export class FullNode implements NodeContext {
  private expiryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Unix time the node opened, seconds. */
  readonly startedAtSec: number;
  /** Peers and addresses; reports no peers until the p2p layer replaces it. */
  network: NetworkInfoSource = { peers: () => [], localAddresses: () => [] };
  /** Local miners; reports no mining until a miner pool replaces it. */
  mining: MiningInfoSource = { hashesPerSecond: () => 0, isMining: () => false };
  private readonly shutdownListeners: (() => void)[] = [];

  private constructor(
    readonly params: ChainParams,
    readonly logger: Logger,
    readonly store: SqliteChainStore,
    readonly scriptVerifier: WorkerPoolScriptVerifier,
    readonly chain: Chain,
    readonly mempool: Mempool,
    readonly blockAssembler: BlockAssembler,
    private readonly ownsLogger: boolean,
    readonly nowSec: () => number,
  ) {
    this.startedAtSec = nowSec();
  }

  /** Registers what to run when an interface (the `stop` RPC) asks the node to shut down. */
  onShutdownRequest(listener: () => void): void {
    this.shutdownListeners.push(listener);
  }

  /** Asks the process that owns the node to shut it down (the owner registered with onShutdownRequest). */
  requestShutdown(): void {
    for (const listener of this.shutdownListeners) listener();
  }

  /** Opens (or creates) the node's state in options.datadir and wires its services. */
  static async open(options: FullNodeOptions, deps: FullNodeDeps = {}): Promise<FullNode> {
    const { params } = options;
    mkdirSync(options.datadir, { recursive: true });
    const nowSec = deps.nowSec ?? ((): number => Math.floor(Date.now() / 1000));
    const ownsLogger = deps.logger === undefined;
    const root =
      deps.logger ??
      createLogger({ level: options.logLevel ?? 'info', logDir: join(options.datadir, 'logs'), base: { network: params.name, ...(options.nodeName !== undefined ? { node: options.nodeName } : {}) } });
    const store = SqliteChainStore.open(join(options.datadir, 'chain.sqlite'), params);
    const scriptVerifier = WorkerPoolScriptVerifier.create({
      ...(options.scriptThreads !== undefined ? { threads: options.scriptThreads } : {}),
    });
    let chain: Chain;
    try {
      chain = await Chain.open(options.chain ?? {}, {
        params,
        store,
        scriptVerifier,
        logger: moduleLogger(root, 'chain'),
        nowSec,
      });
    } catch (err) {
      await scriptVerifier.close();
      store.close();
      throw err;
    }
    const mempool = new Mempool(options.mempool ?? {}, {
      params,
      getCoin: (outpoint) => chain.getCoin(outpoint),
      tipHeight: () => chain.height,
      tipMedianTimePast: () => chain.getMedianTimePast(chain.tip),
      nowSec,
      scriptVerifier,
      logger: moduleLogger(root, 'mempool'),
    });
    const blockAssembler = new BlockAssembler(options.blockAssembler ?? {}, {
      params,
      tip: () => chain.tip,
      nextBits: () => chain.getNextBits(chain.tip),
      tipMedianTimePast: () => chain.getMedianTimePast(chain.tip),
      nowSec,
      mempool,
    });
    const node = new FullNode(params, root, store, scriptVerifier, chain, mempool, blockAssembler, ownsLogger, nowSec);
    node.wire();
    return node;
  }

  private wire(): void {
    const log = moduleLogger(this.logger, 'node');
    this.chain.on('blockConnected', ({ block, entry }) => {
      this.mempool.removeForBlock(block, entry.height);
    });
    this.chain.on('tipChanged', ({ tip, reorgDepth, disconnectedTxs }) => {
      log.info({ height: tip.height, hash: tip.hashHex, reorgDepth }, 'new tip');
      if (reorgDepth > 0 || disconnectedTxs.length > 0) {
        this.mempool.addDisconnectedTxs(disconnectedTxs).catch((err: unknown) => {
          log.error({ err }, 'failed to re-add transactions of disconnected blocks');
        });
      }
    });
    this.expiryTimer = setInterval(() => this.mempool.expire(), MEMPOOL_EXPIRY_INTERVAL_MS);
    this.expiryTimer.unref();
  }

  /**
   * Finds a nonce for a block: on the calling thread with the CPU solver (regtest: a try or two). The node command
   * replaces this with its WebAssembly miner pool for real-PoW networks.
   */
  solveBlock: (block: Block) => Promise<Block | null> = (block) => Promise.resolve(solveBlockCpu(block, this.params.powLimit));

  /** Submits a block found by a miner or received from a peer: the same validation path for both. */
  submitBlock(block: Block): Promise<ProcessBlockResult> {
    return this.chain.processBlock(block);
  }

  /** Submits a transaction to the mempool. @throws VerifyError with Core's reject reason */
  submitTransaction(tx: Tx, options?: AcceptTransactionOptions): Promise<MempoolAcceptResult> {
    return this.mempool.acceptTransaction(tx, options);
  }

  /** Stops timers, waits for queued chain work, stops worker threads and closes the database (idempotent). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    await this.chain.close();
    await this.scriptVerifier.close();
    this.store.close();
    if (this.ownsLogger) this.logger.flush();
  }
}
