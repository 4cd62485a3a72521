import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeContext } from '../interfaces/nodeContext.js';
import type { MiningInfoSource } from '../interfaces/miningInfo.js';
import type { NetworkInfoSource } from '../interfaces/networkInfo.js';
import { Chain, type ChainOptions } from '../chain/chain.js';
import type { BlockTemplateSource } from '../interfaces/blockTemplate.js';
import type { ChainIndexReader } from '../interfaces/chainIndexReader.js';
import type { ProcessBlockResult } from '../interfaces/chainTypes.js';
import { WorkerPoolScriptVerifier } from '../chain/workerPoolScriptVerifier.js';
import { createLogger, moduleLogger, type Logger, type LogLevel } from '../logging/logger.js';
import { Mempool } from '../mempool/mempool.js';
import type { AcceptTransactionOptions, MempoolAcceptResult } from '../interfaces/mempoolTypes.js';
import type { MempoolOptions } from '../policy/mempoolOptions.js';
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
 * The core of a cairn node: opens the chain store (with its Esplora indexes), the script verifier, the Chain, the
 * Mempool and the BlockAssembler, and wires the chain's events to the mempool (confirmed and conflicting txs leave it;
 * txs of disconnected blocks come back after a reorg). Blocks from miners and from the network enter through the same
 * path, submitBlock. The mempool and the chain share one script verifier, so signatures checked on mempool entry are
 * not checked again when the block arrives (script cache by wtxid). The interfaces (RPC, REST, Stratum) see it through
 * a NodeContext that node/runNode builds once with createNodeContext.
 * @see Bitcoin Core node/kernel_notifications.cpp, init.cpp; bcoin lib/node/fullnode.js
 */
export class FullNode {
  private expiryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Unix time the node opened, seconds. */
  readonly startedAtSec: number;

  private constructor(
    readonly params: ChainParams,
    readonly logger: Logger,
    readonly store: SqliteChainStore,
    readonly scriptVerifier: WorkerPoolScriptVerifier,
    readonly chain: Chain,
    readonly mempool: Mempool,
    readonly blockTemplates: BlockAssembler,
    private readonly ownsLogger: boolean,
    readonly nowSec: () => number,
  ) {
    this.startedAtSec = nowSec();
  }

  /** The Esplora indexes the store keeps with every block (tx locations, spends, address histories). */
  get chainIndex(): ChainIndexReader {
    return this.store.chainIndex;
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
    const storeLogger = moduleLogger(root, 'store');
    // log: a schema upgrade on open (a version 1 store gains its address stats) reports its progress.
    const store = SqliteChainStore.open(join(options.datadir, 'chain.sqlite'), params, { log: (message) => storeLogger.info(message) });
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

/** The parts of a NodeContext that do not come from the FullNode itself; each has a default for tests and tools. */
export interface NodeContextParts {
  /** Peers and network admin (default: no peers, no networking). */
  readonly network?: NetworkInfoSource;
  /** The node's miners (default: not mining). */
  readonly mining?: MiningInfoSource;
  /** Nonce search for generatetoaddress (default: the CPU solver on the calling thread, enough for regtest). */
  readonly solveBlock?: (block: Block) => Promise<Block | null>;
  /** What the `stop` RPC does (default: nothing). */
  readonly requestShutdown?: () => void;
}

/** A NodeContext that reports no peers: the node runs without p2p. */
const NO_NETWORK: NetworkInfoSource = Object.freeze({ peers: () => [], localAddresses: () => [] });
/** A MiningInfoSource of a node without miners. */
const NO_MINING: MiningInfoSource = Object.freeze({ hashesPerSecond: () => 0, isMining: () => false });

/**
 * The NodeContext the node's interfaces see: the FullNode's chain, mempool, indexes and templates as read-only views,
 * its submit paths, and the parts the composition root adds (network, miners, solver, shutdown). Built once; nothing
 * is patched afterwards.
 */
export function createNodeContext(node: FullNode, parts: NodeContextParts = {}): NodeContext {
  const solveBlock = parts.solveBlock ?? ((block: Block) => Promise.resolve(solveBlockCpu(block, node.params.powLimit)));
  const requestShutdown = parts.requestShutdown ?? ((): void => undefined);
  return Object.freeze({
    params: node.params,
    chain: node.chain,
    mempool: node.mempool,
    chainIndex: node.chainIndex,
    blockTemplates: node.blockTemplates satisfies BlockTemplateSource,
    startedAtSec: node.startedAtSec,
    network: parts.network ?? NO_NETWORK,
    mining: parts.mining ?? NO_MINING,
    submitBlock: (block: Block): Promise<ProcessBlockResult> => node.submitBlock(block),
    submitTransaction: (tx: Tx, options?: AcceptTransactionOptions): Promise<MempoolAcceptResult> => node.submitTransaction(tx, options),
    solveBlock,
    nowSec: () => node.nowSec(),
    requestShutdown,
  });
}
