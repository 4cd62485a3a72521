import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { siblingWorkerUrl, spawnWorker } from '../workers/spawnWorker.js';
import type { MinerJobMessage, MinerRequest, MinerResponse, MinerWorkerData } from './minerMessages.js';
import { loadSha256dModule, NONCE_SPACE, type WasmModule } from './sha256dKernel.js';

/** Default nonces per kernel call: ~65 ms at 4 MH/s, the longest a new job or a stop waits. */
export const DEFAULT_CHUNK_NONCES = 1 << 18;
/** How many replaced jobs' headers are kept for late finds. */
const REPLACED_JOBS_KEPT = 4;
/** Default span over which hashRate() averages, ms. */
export const DEFAULT_HASH_RATE_WINDOW_MS = 5_000;

/** Options of MinerPool (plain values; node/ maps CLI flags such as `--miners N` onto them). */
export interface MinerPoolOptions {
  /** Worker threads, each running one kernel; default os.availableParallelism(). */
  readonly threads?: number;
  /** Nonces per kernel call (a power of two is best); default 2^18. */
  readonly chunkNonces?: number;
  /** Span of hashRate()'s average, ms; default 5,000. */
  readonly hashRateWindowMs?: number;
  /** Worker script to run instead of minerWorker (it must speak MinerRequest/MinerResponse); for tests. */
  readonly workerUrl?: URL;
}

/** A header to mine: the 80 serialized bytes (the nonce bytes are overwritten) and the target it must meet. */
export interface MinerJob {
  /** Chosen by the caller (a Stratum job id, a template id); found/exhausted events carry it back. */
  readonly jobId: string;
  readonly header80: Uint8Array;
  /** 0 <= target < 2^256; a header meets it when sha256d(header), read as a little-endian number, is <= target. */
  readonly target: bigint;
  /** First nonce to scan; default 0. */
  readonly startNonce?: number;
  /** End of the nonces to scan (exclusive), at most 2^32; default 2^32. [startNonce, endNonce) is split among the workers. */
  readonly endNonce?: number;
}

/** A nonce that makes the job's header meet its target. */
export interface FoundBlock {
  readonly jobId: string;
  readonly nonce: number;
  /** The job's header with the nonce written at bytes 76..79 (little-endian). */
  readonly header80: Uint8Array;
}

/** Work counters of the pool. */
export interface MinerPoolStats {
  /** Nonces hashed since the pool was made. */
  readonly hashes: number;
  /** hashRate() at the time of the snapshot, hashes/s. */
  readonly hashesPerSecond: number;
  readonly workers: number;
  /** The job being mined, if any. */
  readonly jobId: string | undefined;
  readonly blocksFound: number;
}

interface WorkerSlot {
  worker: Worker | undefined;
  /** Whether this worker still scans the current job. */
  busy: boolean;
}

interface CurrentJob {
  readonly job: MinerJob;
  /** Set once a block was found or every worker exhausted its range: the job is over. */
  done: boolean;
}

/** One progress report: time (ms, performance.now()) and the hashes it adds. */
interface RateSample {
  readonly atMs: number;
  readonly hashes: number;
}

type Listener<T> = (value: T) => void;

function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/**
 * The miner: N worker threads, each running the WebAssembly sha256d kernel (Sha256dKernel) on its share of the
 * nonce space. startJob() splits [0, 2^32) (or the job's own range) into N equal ranges (worker i from i * 2^32 / N),
 * which the workers scan in chunks of `chunkNonces`, reporting hash counts after each; a new job replaces the current
 * one and a stop takes effect within one chunk. The first found nonce ends the job on every worker and is reported to
 * onFound listeners; a nonce found for a job already replaced is still reported, with its jobId, for the caller to
 * judge. When all workers finish their ranges without a block, onExhausted listeners are told, so the caller rolls
 * the extra nonce or the time and starts a new job.
 * Workers start with the first job and are unref'd while idle (an idle pool does not keep the process alive).
 * PERF: the kernel does 4-5 M hashes/s per core on the 2-core reference VM; bench/miner.bench.ts measures the
 * scaling from 1 to 2 workers.
 * @see Bitcoin Core rpc/mining.cpp GenerateBlock (the nonce loop this replaces); Stratum V1 mining.notify (jobs)
 */
export class MinerPool {
  /** Worker threads. */
  readonly threads: number;
  /** Nonces per kernel call. */
  readonly chunkNonces: number;
  /** Span of hashRate()'s average, ms. */
  readonly hashRateWindowMs: number;
  private readonly module: WasmModule;
  private readonly workerUrl: URL;
  private readonly slots: WorkerSlot[];
  private readonly foundListeners = new Set<Listener<FoundBlock>>();
  private readonly exhaustedListeners = new Set<Listener<string>>();
  private readonly errorListeners = new Set<Listener<Error>>();
  private readonly samples: RateSample[] = [];
  /** When the first job started (ms), so a young pool's rate is not averaged over time it did not mine. */
  private firstJobAtMs: number | undefined;
  private current: CurrentJob | undefined;
  /** Headers of the last few jobs that startJob replaced, by jobId, so their late finds can still be reported. */
  private readonly replacedHeaders = new Map<string, Uint8Array>();
  private totalHashes = 0;
  private blocksFound = 0;
  private closing: Promise<void> | undefined;

  /**
   * Makes a pool and compiles the kernel; no thread starts before the first job.
   * @throws RangeError when threads or chunkNonces are not positive integers (chunkNonces at most 2^32)
   * @throws Error when build/sha256d.wasm is missing (run `npm run build`)
   */
  constructor(options: MinerPoolOptions = {}) {
    const threads = options.threads ?? availableParallelism();
    if (!Number.isSafeInteger(threads) || threads < 1) throw new RangeError(`threads must be >= 1, got ${threads}`);
    const chunkNonces = options.chunkNonces ?? DEFAULT_CHUNK_NONCES;
    if (!Number.isSafeInteger(chunkNonces) || chunkNonces < 1 || chunkNonces > NONCE_SPACE) {
      throw new RangeError(`chunkNonces must be in [1, 2^32], got ${chunkNonces}`);
    }
    const windowMs = options.hashRateWindowMs ?? DEFAULT_HASH_RATE_WINDOW_MS;
    if (!(windowMs > 0)) throw new RangeError(`hashRateWindowMs must be > 0, got ${windowMs}`);
    this.threads = threads;
    this.chunkNonces = chunkNonces;
    this.hashRateWindowMs = windowMs;
    this.module = loadSha256dModule();
    this.workerUrl = options.workerUrl ?? siblingWorkerUrl(import.meta.url, 'minerWorker');
    this.slots = Array.from({ length: threads }, () => ({ worker: undefined, busy: false }));
  }

  /** Same as the constructor (the form the composition root uses). */
  static create(options: MinerPoolOptions = {}): MinerPool {
    return new MinerPool(options);
  }

  /** The job being mined, or undefined when idle (none started, stopped, found or exhausted). */
  get currentJobId(): string | undefined {
    return this.current !== undefined && !this.current.done ? this.current.job.jobId : undefined;
  }

  /**
   * Starts mining `job` on every worker, replacing the current job (workers switch within one chunk).
   * @throws RangeError when the header is not 80 bytes, the target is outside [0, 2^256) or the nonce range is invalid
   * @throws Error when the pool is closed
   */
  startJob(job: MinerJob): void {
    if (this.closing !== undefined) throw new Error('MinerPool is closed');
    if (job.header80.length !== 80) throw new RangeError(`a block header is 80 bytes, got ${job.header80.length}`);
    if (job.target < 0n || job.target >= 1n << 256n) throw new RangeError(`target out of 256-bit range: ${job.target}`);
    const first = job.startNonce ?? 0;
    const end = job.endNonce ?? NONCE_SPACE;
    if (!Number.isSafeInteger(first) || !Number.isSafeInteger(end) || first < 0 || end > NONCE_SPACE || first > end) {
      throw new RangeError(`nonce range [${first}, ${end}) is not within [0, 2^32)`);
    }
    const header80 = job.header80.slice();
    const previous = this.current;
    if (previous !== undefined && !previous.done && previous.job.jobId !== job.jobId) {
      this.replacedHeaders.delete(previous.job.jobId);
      this.replacedHeaders.set(previous.job.jobId, previous.job.header80);
      if (this.replacedHeaders.size > REPLACED_JOBS_KEPT) {
        this.replacedHeaders.delete(this.replacedHeaders.keys().next().value as string);
      }
    }
    this.current = { job: { ...job, header80 }, done: false };
    this.firstJobAtMs ??= performance.now();
    this.slots.forEach((slot, i) => {
      const worker = slot.worker ?? this.spawn(slot);
      const message: MinerJobMessage = {
        type: 'job',
        jobId: job.jobId,
        header80,
        target: job.target,
        startNonce: first + Math.floor((i * (end - first)) / this.threads),
        endNonce: first + Math.floor(((i + 1) * (end - first)) / this.threads),
      };
      slot.busy = true;
      worker.ref();
      worker.postMessage(message);
    });
  }

  /** Stops the current job on every worker (within one chunk); found/exhausted are not reported for it afterwards. */
  stopJob(): void {
    const job = this.current;
    if (job === undefined) return;
    this.current = undefined;
    this.replacedHeaders.clear();
    this.endJob(job);
  }

  /** Calls `listener` with each found block; returns a function that removes it. */
  onFound(listener: Listener<FoundBlock>): () => void {
    this.foundListeners.add(listener);
    return () => this.foundListeners.delete(listener);
  }

  /** Calls `listener` with the jobId when every worker scanned its whole range without a block. */
  onExhausted(listener: Listener<string>): () => void {
    this.exhaustedListeners.add(listener);
    return () => this.exhaustedListeners.delete(listener);
  }

  /** Calls `listener` when a worker fails (it is replaced at the next job). */
  onError(listener: Listener<Error>): () => void {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  /**
   * Hashes per second over the last hashRateWindowMs (or since mining started, if later), from the workers' progress
   * reports (one per chunk, so the figure lags by up to a chunk).
   */
  hashRate(nowMs = performance.now()): number {
    const windowStart = Math.max(nowMs - this.hashRateWindowMs, this.firstJobAtMs ?? nowMs);
    while (this.samples.length > 0 && this.samples[0]!.atMs <= nowMs - this.hashRateWindowMs) this.samples.shift();
    let hashes = 0;
    for (const s of this.samples) if (s.atMs > windowStart) hashes += s.hashes;
    const spanMs = nowMs - windowStart;
    return spanMs > 0 ? (hashes * 1000) / spanMs : 0;
  }

  /** Work counters (a snapshot). */
  get stats(): MinerPoolStats {
    return {
      hashes: this.totalHashes,
      hashesPerSecond: this.hashRate(),
      workers: this.slots.filter((s) => s.worker !== undefined).length,
      jobId: this.currentJobId,
      blocksFound: this.blocksFound,
    };
  }

  /** Stops every worker thread and drops the listeners. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.current = undefined;
      const terminations: Promise<number>[] = [];
      for (const slot of this.slots) {
        const worker = slot.worker;
        slot.worker = undefined;
        slot.busy = false;
        if (worker !== undefined) terminations.push(worker.terminate());
      }
      await Promise.allSettled(terminations);
      this.replacedHeaders.clear();
      this.foundListeners.clear();
      this.exhaustedListeners.clear();
      this.errorListeners.clear();
    })();
    return this.closing;
  }

  private spawn(slot: WorkerSlot): Worker {
    const workerData: MinerWorkerData = { module: this.module, chunkNonces: this.chunkNonces };
    const worker = spawnWorker(this.workerUrl, { workerData });
    slot.worker = worker;
    worker.on('message', (response: MinerResponse) => this.onMessage(slot, response));
    worker.on('error', (e) => this.fail(slot, worker, new Error(`miner worker failed: ${toError(e).message}`)));
    worker.on('exit', (code) => {
      if (slot.worker === worker) this.fail(slot, worker, new Error(`miner worker exited with code ${code}`));
    });
    return worker;
  }

  private onMessage(slot: WorkerSlot, response: MinerResponse): void {
    const job = this.current;
    const isCurrent = job !== undefined && !job.done && 'jobId' in response && response.jobId === job.job.jobId;
    switch (response.type) {
      case 'progress': {
        this.totalHashes += response.hashes;
        this.samples.push({ atMs: performance.now(), hashes: response.hashes });
        return;
      }
      case 'found': {
        // A nonce of a replaced job is reported too (its header may still be a valid block); a stopped job's is not.
        const header = isCurrent ? job.job.header80 : this.replacedHeaders.get(response.jobId);
        if (header === undefined) return;
        const header80 = header.slice();
        new DataView(header80.buffer).setUint32(76, response.nonce, true);
        this.blocksFound++;
        if (isCurrent) this.endJob(job);
        else this.replacedHeaders.delete(response.jobId);
        for (const listener of this.foundListeners) listener({ jobId: response.jobId, nonce: response.nonce, header80 });
        return;
      }
      case 'exhausted': {
        if (!isCurrent) return;
        slot.busy = false;
        slot.worker?.unref();
        if (this.slots.every((s) => !s.busy)) {
          job.done = true;
          for (const listener of this.exhaustedListeners) listener(job.job.jobId);
        }
        return;
      }
      case 'error': {
        const worker = slot.worker;
        if (worker !== undefined) this.fail(slot, worker, new Error(`miner worker: ${response.message}`));
        return;
      }
    }
  }

  /** Ends `job` on every worker: a stop message (workers drop it within one chunk) and the workers unref'd. */
  private endJob(job: CurrentJob): void {
    job.done = true;
    const stop: MinerRequest = { type: 'stop', jobId: job.job.jobId };
    for (const slot of this.slots) {
      slot.busy = false;
      slot.worker?.postMessage(stop);
      slot.worker?.unref();
    }
  }

  /** Drops a failed worker (it is replaced at the next job) and tells the onError listeners. */
  private fail(slot: WorkerSlot, worker: Worker, error: Error): void {
    if (slot.worker === worker) {
      slot.worker = undefined;
      slot.busy = false;
    }
    void worker.terminate();
    for (const listener of this.errorListeners) listener(error);
  }
}
