import { bitsToTarget, hashToBigInt } from '../consensus/pow.js';
import { sha256d } from '../crypto/hash.js';
import type { Logger } from '../logging/logger.js';
import { silentLogger } from '../logging/logger.js';
import { encodeBlockHeader } from '../primitives/blockHeader.js';
import { hashToHex } from '../primitives/hex.js';
import { MinerPool, type FoundBlock } from './minerPool.js';
import { StratumClient, type StratumClientOptions, type StratumSubscription } from './stratumClient.js';
import { buildStratumHeader, difficultyToTarget, targetToDifficulty, u32ToStratumHex, type StratumJob } from './stratumProtocol.js';
import { formatHashRate } from './hashRate.js';

/** Default interval between hash-rate lines, ms. */
export const DEFAULT_MINER_STATUS_INTERVAL_MS = 5_000;
/** Stratum jobs kept for shares found on a job the server has since replaced without clean_jobs. */
const JOBS_KEPT = 8;
const NONCE_SPACE = 2 ** 32;

/** Options of the Stratum miner (`cairn miner --stratum host:port --threads N --user A`). */
export interface StratumMinerOptions extends StratumClientOptions {
  /** Miner worker threads. */
  readonly threads: number;
  /** Interval of the hash-rate line, ms (default 5,000; 0 = none). */
  readonly statusIntervalMs?: number;
}

/** Collaborators of the Stratum miner. */
export interface StratumMinerDeps {
  /** Writes one user-facing line (the CLI: standard output). */
  readonly print: (line: string) => void;
  readonly logger?: Logger;
  /** Makes the pool (tests); default new MinerPool({threads}). */
  readonly createPool?: (threads: number) => MinerPool;
}

/** Counters of the Stratum miner. */
export interface StratumMinerStats {
  readonly accepted: number;
  readonly rejected: number;
  /** Accepted shares that also met the job's block target. */
  readonly blocks: number;
  readonly hashesPerSecond: number;
}

/** What a pool job is mining: the Stratum job and the extranonce2/time of its header. */
interface Work {
  readonly job: StratumJob;
  readonly extranonce2: Uint8Array;
  readonly extranonce2Value: number;
  readonly time: number;
}

/**
 * An external miner for a Stratum V1 server: a StratumClient feeding a MinerPool. For each job it builds the header
 * (coinbase = coinb1 || en1 || en2 || coinb2, merkle root from the branch, Stratum's byte orders reversed back; see
 * stratumProtocol.ts) and mines it against the SHARE target (mining.set_difficulty); each find is submitted with
 * mining.submit and mining goes on from the next nonce. When the nonce space is exhausted, extranonce2 is rolled. A new
 * job replaces the old one at once. Prints a line per accepted/rejected share and the hash rate every
 * statusIntervalMs; reconnects (the client's back-off) when the server goes away.
 */
export class StratumMiner {
  private readonly client: StratumClient;
  private readonly pool: MinerPool;
  private readonly logger: Logger;
  private readonly jobs = new Map<string, StratumJob>();
  private readonly work = new Map<string, Work>();
  private subscription: StratumSubscription | undefined;
  private difficulty = 1;
  private current: StratumJob | undefined;
  private poolJobSeq = 0;
  private statusTimer: NodeJS.Timeout | undefined;
  private counters = { accepted: 0, rejected: 0, blocks: 0 };
  private stopping: Promise<void> | undefined;
  private readonly finished: Promise<string | null>;
  private finish!: (error: string | null) => void;

  /**
   * @throws RangeError when threads is not a positive integer
   * @throws Error when build/sha256d.wasm is missing (run `npm run build`)
   */
  constructor(
    private readonly options: StratumMinerOptions,
    private readonly deps: StratumMinerDeps,
  ) {
    this.logger = deps.logger ?? silentLogger();
    this.pool = deps.createPool?.(options.threads) ?? new MinerPool({ threads: options.threads });
    this.client = new StratumClient(options, this.logger);
    this.finished = new Promise((resolve) => (this.finish = resolve));
  }

  /** Resolves when the miner stops: null after stop(), or the reason it gave up (the server refused the username). */
  get done(): Promise<string | null> {
    return this.finished;
  }

  /** Counters (a snapshot). */
  get stats(): StratumMinerStats {
    return { ...this.counters, hashesPerSecond: this.pool.hashRate() };
  }

  /** Connects and mines until stop(). */
  start(): void {
    const { print } = this.deps;
    this.pool.onFound((found) => void this.onFound(found));
    this.pool.onExhausted((jobId) => this.onExhausted(jobId));
    this.pool.onError((err) => print(`miner worker failed: ${err.message}`));
    this.client.on((event) => {
      switch (event.type) {
        case 'connected':
          print(`connected to ${this.options.host}:${this.options.port}`);
          return;
        case 'subscribed':
          this.subscription = event.subscription;
          if (this.current !== undefined && this.pool.currentJobId === undefined) this.mine(this.current, 0, 0);
          return;
        case 'authorized':
          print(`authorized as ${this.options.user}`);
          return;
        case 'unauthorized':
          print(`the server refused ${this.options.user}: ${event.message}`);
          void this.stop(`unauthorized: ${event.message}`);
          return;
        case 'difficulty':
          this.difficulty = event.difficulty;
          print(`share difficulty ${event.difficulty}`);
          return;
        case 'job':
          this.onJob(event.job);
          return;
        case 'disconnected':
          this.pool.stopJob();
          this.current = undefined;
          this.subscription = undefined;
          this.jobs.clear();
          if (event.retryInMs !== null) print(`disconnected (${event.reason}); reconnecting in ${event.retryInMs / 1000} s`);
          return;
      }
    });
    const intervalMs = this.options.statusIntervalMs ?? DEFAULT_MINER_STATUS_INTERVAL_MS;
    if (intervalMs > 0) {
      this.statusTimer = setInterval(() => {
        const { accepted, rejected, blocks, hashesPerSecond } = this.stats;
        print(`hashrate ${formatHashRate(hashesPerSecond)} | shares accepted ${accepted} rejected ${rejected} | blocks ${blocks}`);
      }, intervalMs);
    }
    this.client.start();
  }

  /** Stops mining, disconnects and stops the worker threads (idempotent). `why` is what `done` resolves with. */
  stop(why: string | null = null): Promise<void> {
    this.stopping ??= (async () => {
      if (this.statusTimer) clearInterval(this.statusTimer);
      await this.client.close();
      await this.pool.close();
      this.finish(why);
    })();
    return this.stopping;
  }

  private onJob(job: StratumJob): void {
    if (job.cleanJobs) this.jobs.clear();
    this.jobs.set(job.jobId, job);
    if (this.jobs.size > JOBS_KEPT) this.jobs.delete(this.jobs.keys().next().value as string);
    this.current = job;
    this.logger.debug({ jobId: job.jobId, clean: job.cleanJobs }, 'new job');
    this.mine(job, 0, 0);
  }

  /** Starts a pool job on `job` with extranonce2 = `extranonce2Value` from `startNonce`. */
  private mine(job: StratumJob, extranonce2Value: number, startNonce: number): void {
    const subscription = this.subscription;
    if (subscription === undefined || this.stopping !== undefined) return;
    const size = subscription.extranonce2Size;
    if (size < 6 && extranonce2Value >= 2 ** (8 * size)) {
      this.deps.print(`extranonce2 space of job ${job.jobId} exhausted; waiting for a new job`);
      return;
    }
    const extranonce2 = new Uint8Array(size);
    let v = extranonce2Value;
    for (let i = size - 1; i >= 0 && v > 0; i--, v = Math.floor(v / 256)) extranonce2[i] = v % 256;
    const header = buildStratumHeader(job, subscription.extranonce1, extranonce2, job.time, 0);
    const jobId = `${++this.poolJobSeq}`;
    this.work.set(jobId, { job, extranonce2, extranonce2Value, time: job.time });
    // The pool reports late finds for at most a few replaced jobs; older work entries are of no use.
    if (this.work.size > JOBS_KEPT) this.work.delete(this.work.keys().next().value as string);
    this.pool.startJob({ jobId, header80: encodeBlockHeader(header), target: difficultyToTarget(this.difficulty), startNonce });
  }

  private onExhausted(poolJobId: string): void {
    const work = this.work.get(poolJobId);
    if (work === undefined || work.job !== this.current) return;
    this.mine(work.job, work.extranonce2Value + 1, 0);
  }

  private async onFound(found: FoundBlock): Promise<void> {
    const work = this.work.get(found.jobId);
    if (work === undefined) return;
    const { job } = work;
    // Mining goes on from the next nonce at once; the share is submitted meanwhile.
    if (job === this.current && this.pool.currentJobId === undefined) {
      if (found.nonce + 1 < NONCE_SPACE) this.mine(job, work.extranonce2Value, found.nonce + 1);
      else this.mine(job, work.extranonce2Value + 1, 0);
    }
    if (!this.jobs.has(job.jobId)) return; // the job was cleaned (new tip): the share would be stale
    const hash = sha256d(found.header80);
    const isBlock = hashToBigInt(hash) <= bitsToTarget(job.bits).target;
    try {
      const result = await this.client.submit(job.jobId, work.extranonce2, u32ToStratumHex(work.time), u32ToStratumHex(found.nonce));
      if (result.accepted) {
        this.counters.accepted++;
        if (isBlock) this.counters.blocks++;
        this.deps.print(
          `share accepted: job ${job.jobId} nonce ${u32ToStratumHex(found.nonce)} hash ${hashToHex(hash).slice(0, 24)}…` +
            ` (difficulty ${formatDifficulty(targetToDifficulty(hashToBigInt(hash)))})${isBlock ? ' — BLOCK' : ''}`,
        );
      } else {
        this.counters.rejected++;
        this.deps.print(`share rejected: job ${job.jobId}: ${result.error?.[1] ?? 'rejected'} (${result.error?.[0] ?? '?'})`);
      }
    } catch (err) {
      this.counters.rejected++;
      this.deps.print(`share not submitted: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

function formatDifficulty(d: number): string {
  return d >= 1 ? d.toFixed(2) : d.toPrecision(3);
}
