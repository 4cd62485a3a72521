import { SerialQueue } from '../async/serialQueue.js';
import { randomBytes } from 'node:crypto';
import { Counter, type Registry } from 'prom-client';
import type { MiningNode } from './miningNode.js';
import type { MiningInfoSource } from '../interfaces/miningInfo.js';
import { bitsToTarget, deriveTarget } from '../consensus/pow.js';
import type { Logger } from '../logging/logger.js';
import { decodeBlockHeader, encodeBlockHeader } from '../primitives/blockHeader.js';
import { hashToHex } from '../primitives/hex.js';
import type { Block } from '../primitives/types.js';
import type { BlockTemplate } from '../interfaces/blockTemplate.js';
import { solveBlockCpu } from './cpuSolver.js';
import { MinerPool, type FoundBlock } from './minerPool.js';
import { TemplateWatcher } from './templateWatcher.js';

/**
 * Targets met in fewer expected hashes than this (2^20: a quarter second for one core) are "trivial": regtest, and
 * devnet while ASERT has the difficulty at powLimit. Found blocks are paced on them (minBlockIntervalMs).
 */
export const TRIVIAL_WORK = 1n << 20n;
/** Blocks whose target needs at most this many expected hashes are solved on the calling thread (regtest: ~2). */
export const CPU_SOLVE_MAX_WORK = 1n << 14n;
/** Nonces the CPU path tries before handing the block to the miner pool. */
const CPU_SOLVE_NONCES = 1 << 20;
/** Default shortest time between two blocks this node mines on a trivial target, ms. */
export const DEFAULT_MIN_BLOCK_INTERVAL_MS = 1_000;
/** Default coinbase tag of blocks mined by the node. */
export const DEFAULT_COINBASE_TAG = '/cairn/';
/** How many recent jobs' blocks are kept, so the pool's late finds for replaced jobs can still be submitted. */
const JOBS_KEPT = 8;
const DEFAULT_HASH_RATE_LOG_MS = 60_000;
/** Wait before mining again after a worker failed, ms (no hot loop on a broken kernel). */
const ERROR_RETRY_MS = 1_000;

/** Expected hashes to meet `target`: 2^256 / (target + 1), as Core's GetBlockProof. */
export function expectedHashes(target: bigint): bigint {
  return (1n << 256n) / (target + 1n);
}

/** Options of the node's own miners (plain values; `cairn node --mine --miners N --mining-address A` maps onto them). */
export interface MiningControllerOptions {
  /** Miner worker threads (default 1). */
  readonly threads?: number;
  /** Output script the block reward is paid to (the mining address); required by start(). */
  readonly rewardScript?: Uint8Array;
  /** Text pushed in the coinbase scriptSig (default "/cairn/"). */
  readonly tag?: string;
  /**
   * Shortest time between two blocks found on a trivial target (TRIVIAL_WORK), ms; default 1,000. Keeps `--mine` on
   * regtest from submitting thousands of blocks a second. 0 = no pacing. Real-PoW targets are never paced.
   */
  readonly minBlockIntervalMs?: number;
  /** Shortest time between two mempool-driven template refreshes, ms (default 2,000). */
  readonly templateRefreshMs?: number;
  /** Interval of the hash-rate log line while mining, ms (default 60,000). */
  readonly hashRateLogIntervalMs?: number;
}

/** Collaborators of MiningController. */
export interface MiningControllerDeps {
  readonly node: MiningNode;
  /** Logger of module 'mining'. */
  readonly logger: Logger;
  /** Makes the miner pool on first use (default: a MinerPool with `threads` workers). */
  readonly createPool?: (threads: number) => MinerPool;
}

/** Work counters of the node's miners. */
export interface MiningStats {
  /** Blocks the miners found (including those the chain did not take). */
  readonly blocksFound: number;
  /** Found blocks that became the tip. */
  readonly blocksAccepted: number;
  /** Found blocks the chain did not connect (stale: side-chain/duplicate, or invalid). */
  readonly blocksRejected: number;
  /** Pool jobs started for background mining. */
  readonly jobs: number;
  /** Times the next job waited for minBlockIntervalMs after a find (pacing on a trivial target). */
  readonly pacedWaits: number;
}

/**
 * The node's own miners: a MinerPool (WebAssembly sha256d on worker threads) mining blocks built from the node's
 * BlockAssembler. Each job is a block paying `rewardScript` with an extra nonce (4 random bytes + a counter) in the
 * coinbase; a find goes through node.submitBlock, the same path as network blocks. The job is replaced on every new
 * tip and when the mempool gives a template with higher fees (TemplateWatcher), and rebuilt with the next extra
 * nonce when the pool exhausts the nonce space. On trivial targets found blocks are paced (minBlockIntervalMs).
 * Also solves single blocks for generatetoaddress (solveBlock): on the calling thread when the target is trivial,
 * else on the pool, pausing background mining meanwhile. The pool is created lazily, so a controller that never
 * mines nor solves a real-PoW block starts no thread.
 * @see Bitcoin Core node/miner.cpp, rpc/mining.cpp generateBlocks (the nonce and extra-nonce loop)
 */
export class MiningController implements MiningInfoSource {
  private readonly threads: number;
  private readonly tag: string;
  private readonly minBlockIntervalMs: number;
  private readonly hashRateLogIntervalMs: number;
  private readonly watcher: TemplateWatcher;
  private readonly extraNoncePrefix = new Uint8Array(randomBytes(4));
  private pool: MinerPool | undefined;
  private mining = false;
  private closed = false;
  private template: BlockTemplate | undefined;
  private readonly jobs = new Map<string, Block>();
  private jobSeq = 0;
  private extraNonce = 0;
  private solving = false;
  private readonly solveQueue = new SerialQueue();
  private lastFoundAtMs = Number.NEGATIVE_INFINITY;
  private pacingTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private hashRateTimer: NodeJS.Timeout | undefined;
  private counters = { blocksFound: 0, blocksAccepted: 0, blocksRejected: 0, jobs: 0, pacedWaits: 0 };

  /** @throws RangeError when threads is not a positive integer */
  constructor(
    private readonly options: MiningControllerOptions,
    private readonly deps: MiningControllerDeps,
  ) {
    const threads = options.threads ?? 1;
    if (!Number.isSafeInteger(threads) || threads < 1) throw new RangeError(`miner threads must be >= 1, got ${threads}`);
    this.threads = threads;
    this.tag = options.tag ?? DEFAULT_COINBASE_TAG;
    this.minBlockIntervalMs = options.minBlockIntervalMs ?? DEFAULT_MIN_BLOCK_INTERVAL_MS;
    this.hashRateLogIntervalMs = options.hashRateLogIntervalMs ?? DEFAULT_HASH_RATE_LOG_MS;
    this.watcher = new TemplateWatcher(
      options.templateRefreshMs !== undefined ? { refreshIntervalMs: options.templateRefreshMs } : {},
      deps.node,
    );
  }

  /** The local miners' hash rate, hashes per second (0 before the pool exists). */
  hashesPerSecond(): number {
    return this.pool?.hashRate() ?? 0;
  }

  /** Whether background mining is on (start() called, stop() not). */
  isMining(): boolean {
    return this.mining;
  }

  /** Work counters (a snapshot). */
  get stats(): MiningStats {
    return { ...this.counters };
  }

  /**
   * Starts background mining on the tip (idempotent).
   * @throws Error when no rewardScript was configured or the controller is closed
   * @throws Error when build/sha256d.wasm is missing (run `npm run build`)
   */
  start(): void {
    if (this.closed) throw new Error('MiningController is closed');
    if (this.options.rewardScript === undefined) throw new Error('mining needs a reward script (--mining-address)');
    if (this.mining) return;
    this.getPool();
    this.mining = true;
    this.deps.logger.info({ threads: this.threads }, 'mining started');
    this.watcher.start((update) => {
      this.template = update.template;
      this.deps.logger.debug({ height: update.template.height, reason: update.reason, fees: String(update.template.totalFees) }, 'new work');
      this.mineNext();
    });
    this.hashRateTimer = setInterval(() => {
      const { blocksFound, blocksAccepted } = this.counters;
      this.deps.logger.info({ hashesPerSecond: Math.round(this.hashesPerSecond()), blocksFound, blocksAccepted }, 'mining');
    }, this.hashRateLogIntervalMs);
    this.hashRateTimer.unref();
  }

  /** Stops background mining (the pool stays for solveBlock; idempotent). */
  stop(): void {
    if (!this.mining) return;
    this.mining = false;
    this.watcher.stop();
    for (const timer of [this.pacingTimer, this.retryTimer]) if (timer) clearTimeout(timer);
    if (this.hashRateTimer) clearInterval(this.hashRateTimer);
    this.pacingTimer = this.retryTimer = this.hashRateTimer = undefined;
    if (!this.solving) this.pool?.stopJob();
    this.jobs.clear();
    this.deps.logger.info(this.counters, 'mining stopped');
  }

  /** Stops mining and the pool's threads (idempotent). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.stop();
    this.closed = true;
    await this.pool?.close();
  }

  /**
   * Finds a nonce for `block` (generatetoaddress): from its current nonce to 2^32 − 1, on the calling thread when its
   * target is trivial (CPU_SOLVE_MAX_WORK), else on the miner pool (one solve at a time; background mining pauses).
   * Resolves with the solved block, or null when the nonce space ran out.
   * @throws Error when a miner worker fails during the solve or the controller is closed
   */
  solveBlock(block: Block): Promise<Block | null> {
    const { params } = this.deps.node;
    const target = deriveTarget(block.header.bits, params.powLimit) ?? bitsToTarget(block.header.bits).target;
    if (expectedHashes(target) <= CPU_SOLVE_MAX_WORK) {
      const solved = solveBlockCpu(block, params.powLimit, CPU_SOLVE_NONCES);
      if (solved !== null) return Promise.resolve(solved);
      const tried = block.header.nonce + CPU_SOLVE_NONCES;
      if (tried >= 2 ** 32) return Promise.resolve(null);
      block = { header: { ...block.header, nonce: tried }, txs: block.txs };
    }
    return this.solveQueue.run(() => this.solveOnPool(block, target));
  }

  private async solveOnPool(block: Block, target: bigint): Promise<Block | null> {
    if (this.closed) throw new Error('MiningController is closed');
    const pool = this.getPool();
    this.solving = true;
    const jobId = `solve-${++this.jobSeq}`;
    const offs: (() => void)[] = [];
    try {
      return await new Promise<Block | null>((resolve, reject) => {
        offs.push(
          pool.onFound((found) => {
            if (found.jobId === jobId) resolve({ header: { ...block.header, nonce: found.nonce }, txs: block.txs });
          }),
          pool.onExhausted((id) => {
            if (id === jobId) resolve(null);
          }),
          pool.onError((err) => reject(err)),
        );
        pool.startJob({ jobId, header80: encodeBlockHeader(block.header), target, startNonce: block.header.nonce });
      });
    } finally {
      for (const off of offs) off();
      this.solving = false;
      if (this.mining) this.mineNext();
    }
  }

  private getPool(): MinerPool {
    if (this.pool === undefined) {
      const pool = this.deps.createPool?.(this.threads) ?? new MinerPool({ threads: this.threads });
      pool.onFound((found) => void this.onFound(found));
      pool.onExhausted((jobId) => {
        if (this.jobs.has(jobId) && this.mining && !this.solving) this.mineNext();
      });
      pool.onError((err) => {
        this.deps.logger.error({ err }, 'miner worker failed');
        if (this.mining && !this.solving && this.retryTimer === undefined) {
          this.retryTimer = setTimeout(() => {
            this.retryTimer = undefined;
            this.mineNext();
          }, ERROR_RETRY_MS);
          this.retryTimer.unref();
        }
      });
      this.pool = pool;
    }
    return this.pool;
  }

  /** Starts a pool job on the current template with the next extra nonce, unless paused, paced or solving. */
  private mineNext(): void {
    const template = this.template;
    const rewardScript = this.options.rewardScript;
    if (!this.mining || this.solving || this.closed || template === undefined || rewardScript === undefined) return;
    const pool = this.getPool();
    if (this.minBlockIntervalMs > 0 && expectedHashes(template.target) < TRIVIAL_WORK) {
      const waitMs = this.lastFoundAtMs + this.minBlockIntervalMs - performance.now();
      if (waitMs > 0) {
        pool.stopJob();
        if (this.pacingTimer === undefined) this.counters.pacedWaits++;
        this.pacingTimer ??= setTimeout(() => {
          this.pacingTimer = undefined;
          this.mineNext();
        }, waitMs);
        return;
      }
    }
    const extraNonce = new Uint8Array(8);
    extraNonce.set(this.extraNoncePrefix, 0);
    new DataView(extraNonce.buffer).setUint32(4, this.extraNonce++ >>> 0);
    const timeSec = Math.max(template.minTimeSec, this.deps.node.nowSec());
    const block = this.deps.node.blockTemplates.buildBlock(template, { rewardScript, extraNonce, tag: this.tag }, timeSec);
    const jobId = `mine-${++this.jobSeq}`;
    this.jobs.set(jobId, block);
    if (this.jobs.size > JOBS_KEPT) this.jobs.delete(this.jobs.keys().next().value as string);
    this.counters.jobs++;
    pool.startJob({ jobId, header80: encodeBlockHeader(block.header), target: template.target });
  }

  private async onFound(found: FoundBlock): Promise<void> {
    const unsolved = this.jobs.get(found.jobId);
    // Solve jobs are answered by solveOnPool; a late find of background work while solving is dropped.
    if (unsolved === undefined || this.solving) return;
    this.jobs.delete(found.jobId);
    const block: Block = { header: decodeBlockHeader(found.header80), txs: unsolved.txs };
    this.counters.blocksFound++;
    this.lastFoundAtMs = performance.now();
    const log = this.deps.logger;
    try {
      const result = await this.deps.node.submitBlock(block);
      if (result.status === 'connected') {
        this.counters.blocksAccepted++;
        log.info({ height: this.deps.node.chain.height, hash: hashToHex(result.hash), txs: block.txs.length }, 'mined a block');
      } else {
        this.counters.blocksRejected++;
        log.warn({ hash: hashToHex(result.hash), status: result.status, reason: result.reason }, 'mined block not connected');
      }
    } catch (err) {
      this.counters.blocksRejected++;
      log.error({ err }, 'submitting a mined block failed');
    }
    // A connected block moved the tip, which already started new work; otherwise the pool is idle now.
    if (this.mining && !this.solving && this.pool?.currentJobId === undefined && this.pacingTimer === undefined) this.mineNext();
  }

  /**
   * Registers the miners' counters in a Prometheus registry: cairn_mining_blocks_found_total{result} (accepted |
   * rejected) and cairn_mining_jobs_total. (The hash rate is the node gauge cairn_hashrate_hashes_per_second.)
   */
  registerMetrics(registry: Registry): void {
    const stats = (): MiningStats => this.stats;
    new Counter({
      name: 'cairn_mining_blocks_found_total',
      help: "Blocks found by the node's own miners, by whether the chain connected them",
      labelNames: ['result'] as const,
      registers: [registry],
      collect() {
        this.reset();
        this.inc({ result: 'accepted' }, stats().blocksAccepted);
        this.inc({ result: 'rejected' }, stats().blocksRejected);
      },
    });
    new Counter({
      name: 'cairn_mining_jobs_total',
      help: "Jobs given to the node's miner pool",
      registers: [registry],
      collect() {
        this.reset();
        this.inc(stats().jobs);
      },
    });
  }
}
