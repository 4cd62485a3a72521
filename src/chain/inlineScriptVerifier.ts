import { VerifyError } from '../consensus/verifyError.js';
import { hashBlockTxsInline } from './blockTxHashes.js';
import { DEFAULT_SCRIPT_CACHE_SIZE, ScriptCache } from './scriptCache.js';
import { verifyScriptCheckWork, type ScriptCheckOutcome, type ScriptCheckWork } from './scriptCheckChunk.js';
import type { ScriptCheckJob, ScriptCheckResult, ScriptCheckSession, ScriptVerifier } from '../interfaces/scriptVerifier.js';
import type { Wtxid } from '../primitives/types.js';

/** Work counters of a script verifier since it was made: inputs run through verifyInput, jobs skipped by the cache. */
export interface ScriptVerifierStats {
  inputsVerified: number;
  cacheHits: number;
}

/**
 * Checks that every job carries one prevout per input, and returns the indices of the jobs not in the cache
 * (counting the others as cache hits).
 * @throws VerifyError sighash-missing-prevouts (score 0: a caller error, not the peer's)
 */
export function selectUncachedJobs(
  jobs: readonly ScriptCheckJob[],
  cache: ScriptCache,
  stats: ScriptVerifierStats,
): number[] {
  const pending: number[] = [];
  for (let j = 0; j < jobs.length; j++) {
    const job = jobs[j]!;
    if (job.prevouts.length !== job.tx.inputs.length) {
      const detail = `job ${j}: ${job.tx.inputs.length} inputs but ${job.prevouts.length} prevouts`;
      throw new VerifyError('sighash-missing-prevouts', 0, detail);
    }
    if (cache.has(job.wtxid)) stats.cacheHits++;
    else pending.push(j);
  }
  return pending;
}

/** The work items covering every input of the given jobs, in order. */
export function wholeJobsWork(jobs: readonly ScriptCheckJob[], jobIndices: readonly number[]): ScriptCheckWork[] {
  return jobIndices.map((jobIndex) => {
    const job = jobs[jobIndex]!;
    return { jobIndex, inputStart: 0, inputEnd: job.tx.inputs.length, tx: job.tx, prevouts: job.prevouts };
  });
}

/** Turns a batch's first failing outcome (or none) into the result, caching every job's wtxid on success. */
export function finishScriptCheck(
  jobs: readonly ScriptCheckJob[],
  firstFailure: ScriptCheckOutcome['failure'],
  cache: ScriptCache,
): ScriptCheckResult {
  if (firstFailure !== undefined) {
    return { ok: false, txIndex: firstFailure.jobIndex, inputIndex: firstFailure.inputIndex, reason: firstFailure.reason };
  }
  for (const job of jobs) cache.add(job.wtxid);
  return { ok: true };
}

/**
 * A session whose checks run on the calling thread when it is joined: `verifyNow` runs once, at finishSync() or
 * finish(); cancel() before that means it never runs. Used by InlineScriptVerifier and by the pool for small batches.
 */
export function createInlineSession(verifyNow: () => ScriptCheckResult): ScriptCheckSession {
  let done = false;
  const join = (): ScriptCheckResult => {
    if (done) throw new Error('ScriptCheckSession finished twice (or after cancel)');
    done = true;
    return verifyNow();
  };
  return {
    finishSync: join,
    finish: async () => join(),
    cancel: async () => {
      done = true;
    },
  };
}

/** Options of InlineScriptVerifier. */
export interface InlineScriptVerifierOptions {
  /** Most wtxids the script cache holds; default DEFAULT_SCRIPT_CACHE_SIZE (100,000); 0 disables caching. */
  readonly cacheSize?: number;
}

/**
 * ScriptVerifier that checks every input on the calling thread, one after the other, with the same cache semantics as
 * WorkerPoolScriptVerifier: cached jobs are skipped, and on ok every job's wtxid is cached. Its sessions verify when
 * joined (finishSync() never gives up), so a chain on it runs the same connect path as on the pool. For small
 * batches, tools and tests, and as the reference the pool is tested against.
 * @see Bitcoin Core validation.cpp CheckInputScripts (without a CCheckQueue)
 */
export class InlineScriptVerifier implements ScriptVerifier {
  /** The wtxids whose scripts passed. */
  readonly cache: ScriptCache;
  private readonly counters: ScriptVerifierStats = { inputsVerified: 0, cacheHits: 0 };

  constructor(options: InlineScriptVerifierOptions = {}) {
    this.cache = new ScriptCache(options.cacheSize ?? DEFAULT_SCRIPT_CACHE_SIZE);
  }

  /** Work done so far (a snapshot). */
  get stats(): ScriptVerifierStats {
    return { ...this.counters };
  }

  /**
   * Checks the jobs' shape and skips cached ones now; verifies the others on the calling thread when joined.
   * @throws VerifyError sighash-missing-prevouts (score 0)
   */
  begin(jobs: readonly ScriptCheckJob[]): ScriptCheckSession {
    const pending = selectUncachedJobs(jobs, this.cache, this.counters);
    return createInlineSession(() => {
      const outcome = verifyScriptCheckWork(wholeJobsWork(jobs, pending));
      this.counters.inputsVerified += outcome.inputsVerified;
      return finishScriptCheck(jobs, outcome.failure, this.cache);
    });
  }

  /**
   * Verifies every input of every uncached job; resolves with the first failure (job, then input order) or ok.
   * Rejects with VerifyError sighash-missing-prevouts when a job's prevouts do not match its inputs.
   */
  verify(jobs: readonly ScriptCheckJob[]): Promise<ScriptCheckResult> {
    try {
      return this.begin(jobs).finish();
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  isCached(wtxid: Wtxid): boolean {
    return this.cache.has(wtxid);
  }

  /** The wtxid and txid of every tx of a raw block, hashed on this thread when joined (hashBlockTxsInline). */
  beginHashBlockTxs(raw: Uint8Array, spans: Int32Array): () => Uint8Array {
    return hashBlockTxsInline(raw, spans);
  }

  /** Nothing to stop: resolves at once. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
