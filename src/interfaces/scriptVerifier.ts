import type { ScriptError } from '../consensus/rejectReason.js';
import type { Tx, TxOut, Wtxid } from '../primitives/types.js';

/**
 * One transaction whose inputs' scripts (signatures) must be checked, with the outputs its inputs spend (in input
 * order). `wtxid` keys the script cache: a tx whose scripts passed once (e.g. on mempool entry) is not checked again.
 */
export interface ScriptCheckJob {
  readonly tx: Tx;
  readonly prevouts: readonly TxOut[];
  readonly wtxid: Wtxid;
  /**
   * The tx's BIP-144 serialization when the caller already has it (e.g. a view into the raw block), so a verifier that
   * ships txs to worker threads does not encode it again. Must be exactly encodeTx(tx).
   */
  readonly txBytes?: Uint8Array;
}

/** The first failure found, or ok. `txIndex` is the job's index in the batch. */
export type ScriptCheckResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly txIndex: number; readonly inputIndex: number; readonly reason: ScriptError };

/**
 * Script checks handed to a verifier by begin() and not joined yet: worker threads may be verifying them while the
 * caller does other work. Join with finishSync() or finish(), or drop with cancel(); once.
 */
export interface ScriptCheckSession {
  /**
   * Joins the checks without yielding to the event loop (the chain joins while its SQLite write transaction is open):
   * the calling thread verifies what no worker has started yet, then blocks until the workers are done. Returns the
   * first failure in job, then input order, or ok (after which every job is cached). Returns undefined, leaving the
   * session open for finish() or cancel(), only when worker threads made no progress for a long time (one died holding
   * a chunk, or is stuck); a verifier without workers never does.
   * @throws Error when called twice or after cancel()
   */
  finishSync(): ScriptCheckResult | undefined;
  /**
   * Joins the checks as finishSync() does, but awaits the workers instead of blocking, and never gives up: it rejects
   * with an Error when a worker fails (an internal error, not an invalid block).
   */
  finish(): Promise<ScriptCheckResult>;
  /** Drops the batch (its result no longer matters): nothing more is started, nothing is cached. Never rejects. */
  cancel(): Promise<void>;
}

/**
 * Checks the scripts of batches of transactions (consensus verifyInput on every input), possibly in parallel on
 * worker threads, skipping transactions found in the script cache and adding those that pass. Every implementation
 * offers the same begin/join contract, so the chain runs one connect path whatever the verifier: InlineScriptVerifier
 * verifies on the calling thread when joined; WorkerPoolScriptVerifier starts worker threads at begin().
 * @see Bitcoin Core checkqueue.h CCheckQueue (Add, then the master thread joins with Wait)
 */
export interface ScriptVerifier {
  /**
   * Starts the checks of a batch and returns at once, so the caller can do other work before it joins, as Core's
   * ConnectBlock queues script checks and goes on with the block.
   * @throws VerifyError sighash-missing-prevouts (a job's prevouts do not match its inputs); Error when closed
   */
  begin(jobs: readonly ScriptCheckJob[]): ScriptCheckSession;
  /**
   * Verifies every input of every job: `begin(jobs).finish()`. Resolves with the first failure (in job, then input
   * order) or ok; rejects as begin throws or finish rejects.
   */
  verify(jobs: readonly ScriptCheckJob[]): Promise<ScriptCheckResult>;
  /** True when the tx (by wtxid) already passed its script checks. */
  isCached(wtxid: Wtxid): boolean;
  /**
   * Starts hashing the txs of a raw block, for the chain before the block's script checks exist: given the raw block
   * and its span table (3 Int32 per tx: start, end, where its witnesses start or -1), returns the join, which gives
   * 64 bytes per tx, its wtxid then its txid (sha256d, internal byte order), possibly a view of shared memory. Both
   * verifiers have it (WorkerPoolScriptVerifier's workers start at once, idle at that point of a connect, while the
   * chain reads the block's coins); when a verifier lacks it the chain hashes on its own thread, with the same result.
   */
  beginHashBlockTxs?(raw: Uint8Array, spans: Int32Array): () => Uint8Array;
  /** Stops worker threads (idempotent). */
  close(): Promise<void>;
}
