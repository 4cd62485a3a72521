import type { ScriptError } from '../consensus/rejectReason.js';
import { siblingWorkerUrl, workerScript, type WorkerScript } from '../workers/spawnWorker.js';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { encodeTx } from '../primitives/tx.js';
import {
  createInlineSession,
  finishScriptCheck,
  selectUncachedJobs,
  wholeJobsWork,
  type ScriptVerifierStats,
} from './inlineScriptVerifier.js';
import { DEFAULT_SCRIPT_CACHE_SIZE, ScriptCache } from './scriptCache.js';
import { verifyInput } from '../consensus/verifyInput.js';
import { hashBlockTxsInline } from './blockTxHashes.js';
import { createSharedTxHashBatch, finishTxHashes, TX_SPAN_FIELDS, type SharedTxHashBatch } from './txHashBatch.js';
import {
  cancelSharedScriptCheckBatch,
  CONTROL_DONE,
  claimScriptChecks,
  allocateSharedScriptCheckBatch,
  encodedScriptCheckChunkSize,
  publishScriptCheckChunk,
  encodeScriptCheckChunk,
  cutScriptCheckChunks,
  taperedChunkSizes,
  readSharedScriptCheckResults,
  verifyScriptCheckWork,
  type ScriptCheckFailure,
  type ScriptCheckRequest,
  type ScriptCheckResponse,
  type SharedScriptCheckBatch,
} from './scriptCheckChunk.js';
import type { ScriptCheckJob, ScriptCheckResult, ScriptCheckSession, ScriptVerifier } from '../interfaces/scriptVerifier.js';
import type { TxOut, Wtxid } from '../primitives/types.js';

export { InlineScriptVerifier, type InlineScriptVerifierOptions, type ScriptVerifierStats } from './inlineScriptVerifier.js';

/** Default input count from which a batch goes to the worker threads; smaller batches are verified inline. */
export const DEFAULT_PARALLEL_THRESHOLD_INPUTS = 16;
/**
 * A parallel batch is cut into chunks of 1 / (this x verifying threads) of its inputs (then smaller ones at the end:
 * taperedChunkSizes), so threads that start late catch up.
 */
const CHUNKS_PER_THREAD = 24;
/** Fewest inputs per chunk: below this the claim and decode overhead would show. */
const MIN_CHUNK_INPUTS = 4;
/** Default syncJoinStallMs. */
const DEFAULT_SYNC_JOIN_STALL_MS = 10_000;
/** Fewest txs whose hashing hashBlockTxs shares with the workers (~1 µs each: below this the hand-off would show). */
const PARALLEL_HASH_MIN_TXS = 128;

/**
 * Blocks the calling thread until every chunk of the batch is settled; false when none settled for `stallMs`
 * (a worker died holding one, or is stuck).
 */
function waitForChunks(batch: SharedScriptCheckBatch, stallMs: number): boolean {
  let settled = Atomics.load(batch.control, CONTROL_DONE);
  let lastProgress = performance.now();
  while (settled < batch.chunkCount) {
    Atomics.wait(batch.control, CONTROL_DONE, settled, 100);
    const now = Atomics.load(batch.control, CONTROL_DONE);
    if (now !== settled) {
      settled = now;
      lastProgress = performance.now();
    } else if (performance.now() - lastProgress > stallMs) {
      return false;
    }
  }
  return true;
}

/** Options of WorkerPoolScriptVerifier (plain values; node/ maps CLI flags onto them). */
export interface WorkerPoolScriptVerifierOptions {
  /**
   * Threads that verify signatures, the main thread included when `mainThreadVerifies`; default
   * os.availableParallelism(). 1 means no worker threads (everything inline).
   */
  readonly threads?: number;
  /** Batches with fewer uncached inputs than this are verified inline, without a worker round-trip; default 16. */
  readonly parallelThresholdInputs?: number;
  /** Most wtxids the script cache holds; default 100,000; 0 disables caching. */
  readonly cacheSize?: number;
  /**
   * Whether the main thread verifies one chunk itself while the workers verify the others (threads - 1 workers), or
   * only waits (threads workers). Default true: measured faster on 2 cores (see the class docstring).
   */
  readonly mainThreadVerifies?: boolean;
  /**
   * How long ScriptCheckSession.finishSync blocks without any chunk settling before it gives up (returns undefined,
   * and the caller waits with finish() instead); default 10,000 ms. Only a dead or stuck worker gets near it.
   */
  readonly syncJoinStallMs?: number;
  /**
   * Worker script to run instead of scriptVerifierWorker (it must speak ScriptCheckRequest/ScriptCheckResponse).
   * For tests; a `.ts` URL is started with the tsx loader.
   */
  readonly workerUrl?: URL;
}

/** Work counters of the pool: ScriptVerifierStats plus how many batches ran inline and on the workers. */
export interface WorkerPoolScriptVerifierStats extends ScriptVerifierStats {
  inlineBatches: number;
  parallelBatches: number;
}

interface PendingRequest {
  readonly resolve: (response: ScriptCheckResponse) => void;
  readonly reject: (error: Error) => void;
}

/** One worker thread and the requests it has not answered yet. */
interface WorkerSlot {
  worker: Worker | undefined;
  readonly pending: Map<number, PendingRequest>;
}

/** Where the worker script is and how to start it, from TypeScript sources (tsx) or the compiled dist (src/workers). */
function workerSpec(custom: URL | undefined): WorkerScript {
  return workerScript(custom ?? siblingWorkerUrl(import.meta.url, 'scriptVerifierWorker'));
}

function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/**
 * ScriptVerifier that spreads a batch's signature checks over all cores with worker_threads (Core's CCheckQueue).
 * Jobs whose wtxid is in the script cache are skipped; when fewer than `parallelThresholdInputs` inputs remain they
 * are verified inline. Otherwise the remaining inputs (not txs: a block may be one tx with thousands of inputs or
 * thousands of one-input txs) are cut into chunks of consecutive inputs, 1/24 of a verifying thread's share each
 * (at least 4 inputs), and smaller towards the end of the batch so the threads finish together. The batch is posted to
 * every worker first, then its chunks are encoded into shared memory one by one (each tx once, or its bytes from
 * ScriptCheckJob.txBytes; prevouts as value + script bytes), so the workers start on the first chunk at once; a
 * thread that claims a chunk not yet written waits for it. Each thread claims the next chunk from a shared
 * counter (Atomics.add), verifies it with consensus verifyInput (one SighashCache per tx) and records its result in
 * shared memory, until none is left: a thread that starts late, or has other work first, simply claims fewer chunks.
 * The result is the first failure in (job, input) order, or ok, after which every job's wtxid is cached. A chunk that
 * fails tells later chunks to stop (a shared abort slot), since they can no longer hold the first failure.
 * Concurrent batches are allowed; each worker takes part in them in order.
 *
 * begin() posts the batch and returns, so the caller can do other work while the workers verify (the chain runs its
 * connect rules, checkBlock and its SQLite writes then: see connectPipeline.ts); finish() makes the main thread claim what is left and awaits the workers;
 * finishSync() does the same but blocks on the shared counter instead of awaiting (the chain joins inside its write
 * transaction). verify() is begin().finish(). With `mainThreadVerifies: false` the main thread only waits.
 *
 * Choice of the main thread's role, by measurement (bench/scriptVerifier.bench.ts: 2,000 one-input txs, 2-core VM,
 * five runs, interleaved, with the earlier one-chunk-per-thread split): main thread + 1 worker reached 0.70–0.86
 * (mean 0.78) of 2 x the inline single-core rate, 2 workers with the main thread waiting 0.70–0.83 (mean 0.76). The
 * default follows Core (the ConnectBlock thread joins its CCheckQueue as the "master") and runs exactly `threads` busy
 * threads, not threads + 1.
 *
 * Workers start on the first parallel batch; they are unref'd while idle (an idle pool does not keep the process
 * alive) and ref'd while they hold requests. A worker that crashes or exits rejects the verify calls waiting on it
 * with an Error (an internal error, not an invalid block) and is replaced on the next batch.
 * PERF: on that VM a worker round-trip costs ~0.2 ms and one input ~0.3 ms (2 inputs: 0.54 ms on the pool, 0.64 ms
 * inline). Faster cores shrink the check but not the hand-off, so the default threshold (16) keeps small batches,
 * such as one mempool tx, inline.
 * @see Bitcoin Core checkqueue.h CCheckQueue, validation.cpp CheckInputScripts and ConnectBlock (-par)
 */
export class WorkerPoolScriptVerifier implements ScriptVerifier {
  /** The wtxids whose scripts passed. */
  readonly cache: ScriptCache;
  /** Threads that verify signatures (workers, plus the main thread when it verifies a chunk). */
  readonly threads: number;
  /** Uncached input count from which a batch goes parallel. */
  readonly parallelThresholdInputs: number;
  /** Whether the main thread verifies a chunk of each parallel batch. */
  readonly mainThreadVerifies: boolean;
  /** How long finishSync waits without progress before giving up, ms. */
  readonly syncJoinStallMs: number;
  private readonly slots: WorkerSlot[];
  private readonly spec: WorkerScript;
  private readonly counters: WorkerPoolScriptVerifierStats = {
    inputsVerified: 0,
    cacheHits: 0,
    inlineBatches: 0,
    parallelBatches: 0,
  };
  private nextRequestId = 1;
  /** The joined legacy form of a segwit tx while hashing on this thread. */
  private readonly hashScratch = { buf: new Uint8Array(4096) };
  private closing: Promise<void> | undefined;

  /**
   * Makes a pool; no thread starts until the first parallel batch.
   * @throws RangeError when threads is not a positive integer, parallelThresholdInputs is negative or cacheSize is invalid
   */
  constructor(options: WorkerPoolScriptVerifierOptions = {}) {
    const threads = options.threads ?? availableParallelism();
    if (!Number.isSafeInteger(threads) || threads < 1) throw new RangeError(`threads must be >= 1, got ${threads}`);
    const threshold = options.parallelThresholdInputs ?? DEFAULT_PARALLEL_THRESHOLD_INPUTS;
    if (!Number.isSafeInteger(threshold) || threshold < 0) {
      throw new RangeError(`parallelThresholdInputs must be a non-negative integer, got ${threshold}`);
    }
    this.threads = threads;
    this.parallelThresholdInputs = threshold;
    this.mainThreadVerifies = options.mainThreadVerifies ?? true;
    this.syncJoinStallMs = options.syncJoinStallMs ?? DEFAULT_SYNC_JOIN_STALL_MS;
    this.cache = new ScriptCache(options.cacheSize ?? DEFAULT_SCRIPT_CACHE_SIZE);
    const workerCount = this.mainThreadVerifies ? threads - 1 : threads === 1 ? 0 : threads;
    this.slots = Array.from({ length: workerCount }, () => ({ worker: undefined, pending: new Map() }));
    this.spec = workerSpec(options.workerUrl);
  }

  /** Same as the constructor (the form the composition root uses). */
  static create(options: WorkerPoolScriptVerifierOptions = {}): WorkerPoolScriptVerifier {
    return new WorkerPoolScriptVerifier(options);
  }

  /** Number of worker threads the pool runs (0 when everything is inline). */
  get workerCount(): number {
    return this.slots.length;
  }

  /** Work done so far (a snapshot). */
  get stats(): WorkerPoolScriptVerifierStats {
    return { ...this.counters };
  }

  isCached(wtxid: Wtxid): boolean {
    return this.cache.has(wtxid);
  }

  /**
   * Verifies every input of every uncached job; resolves with the first failure (job, then input order) or ok.
   * Rejects with VerifyError sighash-missing-prevouts (score 0) when a job's prevouts do not match its inputs, and
   * with an Error when the pool is closed or a worker fails (internal errors, not an invalid block).
   */
  async verify(jobs: readonly ScriptCheckJob[]): Promise<ScriptCheckResult> {
    return this.begin(jobs).finish();
  }

  /**
   * Starts the checks of a batch and returns at once: a parallel batch is encoded into shared memory and posted to the
   * workers, which start claiming its chunks; the caller joins with finish() (the main thread then claims what is
   * left) or drops it with cancel(). A batch below the threshold is verified inline by finish().
   * @throws VerifyError sighash-missing-prevouts (score 0); Error when the pool is closed
   */
  begin(jobs: readonly ScriptCheckJob[]): ScriptCheckSession {
    if (this.closing !== undefined) throw new Error('WorkerPoolScriptVerifier is closed');
    const pending = selectUncachedJobs(jobs, this.cache, this.counters);
    let inputs = 0;
    for (const j of pending) inputs += jobs[j]!.tx.inputs.length;

    if (inputs < this.parallelThresholdInputs || this.slots.length === 0) {
      this.counters.inlineBatches++;
      return createInlineSession(() => {
        const outcome = verifyScriptCheckWork(wholeJobsWork(jobs, pending));
        this.counters.inputsVerified += outcome.inputsVerified;
        return finishScriptCheck(jobs, outcome.failure, this.cache);
      });
    }

    this.counters.parallelBatches++;
    const verifyingThreads = this.slots.length + (this.mainThreadVerifies ? 1 : 0);
    const uniform = Math.max(MIN_CHUNK_INPUTS, Math.ceil(inputs / (verifyingThreads * CHUNKS_PER_THREAD)));
    const sizes = taperedChunkSizes(inputs, uniform, verifyingThreads, MIN_CHUNK_INPUTS);
    const chunks = cutScriptCheckChunks(jobs.map((job) => job.tx.inputs.length), pending, sizes);
    const encoded = new Map<number, Uint8Array>();
    const txBytes = (j: number): Uint8Array => {
      let bytes = encoded.get(j);
      if (bytes === undefined) {
        bytes = jobs[j]!.txBytes ?? encodeTx(jobs[j]!.tx);
        encoded.set(j, bytes);
      }
      return bytes;
    };
    const prevoutsOf = (j: number): readonly TxOut[] => jobs[j]!.prevouts;
    // The workers get the batch before its chunks are written, and start on the first one as soon as it is.
    const batch = allocateSharedScriptCheckBatch(chunks.map((slices) => encodedScriptCheckChunkSize(slices, prevoutsOf, txBytes)));
    const requests = this.slots.map((slot) => this.request(slot, { batch }));
    try {
      chunks.forEach((slices, k) => publishScriptCheckChunk(batch, k, encodeScriptCheckChunk(slices, prevoutsOf, txBytes)));
    } catch (err) {
      // The workers skip the unwritten chunks once the batch is cancelled; their answers are not needed.
      cancelSharedScriptCheckBatch(batch);
      void Promise.allSettled(requests);
      throw err;
    }
    let done = false;
    const settle = async (): Promise<{ error?: Error; reasons: Map<number, ScriptError> }> => {
      // allSettled: every request is awaited, so none is left to reject unhandled after a first error.
      const settled = await Promise.allSettled(requests);
      const reasons = new Map<number, ScriptError>();
      let error: Error | undefined;
      for (const s of settled) {
        if (s.status === 'rejected') error ??= toError(s.reason);
        else for (const f of s.value.failures ?? []) reasons.set(f.chunkIndex, f.reason);
      }
      return { error, reasons };
    };
    const reasons = new Map<number, ScriptError>();
    const joinOnMainThread = (): void => {
      if (!this.mainThreadVerifies) return;
      claimScriptChecks(
        batch,
        (k) => chunks[k]!.map((slice) => ({ ...slice, tx: jobs[slice.jobIndex]!.tx, prevouts: jobs[slice.jobIndex]!.prevouts })),
        (chunkIndex, reason) => reasons.set(chunkIndex, reason),
      );
    };
    // `batch` is not part of ScriptCheckSession: the shared batch, for diagnostics and tests.
    const session: ScriptCheckSession & { readonly batch: SharedScriptCheckBatch } = {
      batch,
      finishSync: () => {
        if (done) throw new Error('ScriptCheckSession finished twice (or after cancel)');
        joinOnMainThread();
        if (!waitForChunks(batch, this.syncJoinStallMs)) return undefined;
        done = true;
        // The workers' answers still arrive; nothing waits for them (the shared results already hold everything).
        void settle();
        const results = readSharedScriptCheckResults(batch);
        this.counters.inputsVerified += results.inputsVerified;
        const first = results.firstFailure;
        let failure: ScriptCheckFailure | undefined;
        if (first !== undefined) {
          // A worker's reason comes with its answer, which is not read here: the same check on this thread gives it.
          const job = jobs[first.jobIndex]!;
          const reason = reasons.get(first.chunkIndex) ?? verifyInput(job.tx, first.inputIndex, job.prevouts).reason;
          failure = { jobIndex: first.jobIndex, inputIndex: first.inputIndex, reason: reason ?? 'script-verify-failed' };
        }
        return finishScriptCheck(jobs, failure, this.cache);
      },
      finish: async () => {
        if (done) throw new Error('ScriptCheckSession finished twice (or after cancel)');
        done = true;
        joinOnMainThread();
        const workers = await settle();
        for (const [k, reason] of workers.reasons) reasons.set(k, reason);
        const results = readSharedScriptCheckResults(batch);
        this.counters.inputsVerified += results.inputsVerified;
        if (workers.error !== undefined) throw workers.error;
        if (results.unsettled > 0) throw new Error(`script verifier: ${results.unsettled} chunk(s) of the batch were never verified`);
        const first = results.firstFailure;
        const failure: ScriptCheckFailure | undefined =
          first === undefined
            ? undefined
            : { jobIndex: first.jobIndex, inputIndex: first.inputIndex, reason: reasons.get(first.chunkIndex) ?? 'script-verify-failed' };
        return finishScriptCheck(jobs, failure, this.cache);
      },
      cancel: async () => {
        if (done) return;
        done = true;
        cancelSharedScriptCheckBatch(batch);
        const workers = await settle();
        this.counters.inputsVerified += readSharedScriptCheckResults(batch).inputsVerified;
        void workers;
      },
    };
    return session;
  }

  /**
   * Starts hashing every tx of a raw block (a BlockTxHasher: the join gives TX_HASH_BYTES per tx, exactly
   * hashTxSpans' bytes): the block and its span table are copied into shared memory and posted to every worker, which
   * claim ranges of txs until none is left; the join makes this thread claim what is left, then hash again any range
   * a worker still holds rather than wait for it (finishTxHashes: hashing is pure). It runs at the start of a block
   * connect, before its script checks exist, when the workers would otherwise idle, and the chain reads the block's
   * coins before it joins. A worker busy with another batch simply finds nothing left when it gets to the request.
   * Blocks with fewer than 128 txs, a pool without workers or a closed one hash on this thread when joined. The result may be a view of shared memory: copy what must outlive it (computeBlockTxHashes does).
   */
  beginHashBlockTxs(raw: Uint8Array, spans: Int32Array): () => Uint8Array {
    if (this.closing !== undefined || this.slots.length === 0 || spans.length / TX_SPAN_FIELDS < PARALLEL_HASH_MIN_TXS) {
      return hashBlockTxsInline(raw, spans);
    }
    const batch = createSharedTxHashBatch(raw, spans);
    // The answers carry nothing (the results are in shared memory); a worker failure is the script requests' concern.
    for (const slot of this.slots) this.request(slot, { hashBatch: batch }).catch(() => undefined);
    return () => {
      finishTxHashes(batch, this.hashScratch);
      return batch.out;
    };
  }

  /**
   * Stops the worker threads; verify calls still waiting reject with an Error, later ones too. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const terminations: Promise<number>[] = [];
      for (const slot of this.slots) {
        this.failSlot(slot, new Error('WorkerPoolScriptVerifier closed while verifying'));
        const worker = slot.worker;
        slot.worker = undefined;
        if (worker !== undefined) terminations.push(worker.terminate());
      }
      await Promise.allSettled(terminations);
    })();
    return this.closing;
  }

  private request(
    slot: WorkerSlot,
    work: { readonly batch: SharedScriptCheckBatch } | { readonly hashBatch: SharedTxHashBatch },
  ): Promise<ScriptCheckResponse> {
    const worker = slot.worker ?? this.spawn(slot);
    const id = this.nextRequestId++;
    return new Promise<ScriptCheckResponse>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      worker.ref();
      const message: ScriptCheckRequest = { id, ...work };
      worker.postMessage(message);
    });
  }

  private spawn(slot: WorkerSlot): Worker {
    // No execArgv: inheriting the parent's flags (--inspect, --test, --import ...) would misbehave in a worker.
    const worker = new Worker(this.spec.script, { eval: this.spec.eval, execArgv: [] });
    slot.worker = worker;
    worker.unref();
    worker.on('message', (response: ScriptCheckResponse) => {
      const request = slot.pending.get(response.id);
      if (request === undefined) return;
      slot.pending.delete(response.id);
      if (slot.pending.size === 0) worker.unref();
      if (response.error !== undefined) request.reject(new Error(`script verifier worker: ${response.error}`));
      else request.resolve(response);
    });
    worker.on('error', (e) => {
      this.failSlot(slot, new Error(`script verifier worker failed: ${toError(e).message}`));
    });
    worker.on('messageerror', (e) => {
      this.failSlot(slot, new Error(`script verifier worker sent an unreadable message: ${toError(e).message}`));
    });
    worker.on('exit', (code) => {
      if (slot.worker === worker) slot.worker = undefined;
      this.failSlot(slot, new Error(`script verifier worker exited with code ${code}`));
    });
    return worker;
  }

  /** Rejects every request waiting on the slot's worker (a crash, an exit or close). */
  private failSlot(slot: WorkerSlot, error: Error): void {
    const waiting = [...slot.pending.values()];
    slot.pending.clear();
    slot.worker?.unref();
    for (const request of waiting) request.reject(error);
  }
}
