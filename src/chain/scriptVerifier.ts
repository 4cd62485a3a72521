import type { Tx, TxOut } from '../primitives/types.js';

/**
 * One transaction whose inputs' scripts (signatures) must be checked, with the outputs its inputs spend (in input
 * order). `wtxidHex` keys the script cache: a tx whose scripts passed once (e.g. on mempool entry) is not checked again.
 */
export interface ScriptCheckJob {
  readonly tx: Tx;
  readonly prevouts: readonly TxOut[];
  readonly wtxidHex: string;
  /**
   * The tx's BIP-144 serialization when the caller already has it (e.g. a view into the raw block), so a verifier that
   * ships txs to worker threads does not encode it again. Must be exactly encodeTx(tx).
   */
  readonly txBytes?: Uint8Array;
}

/** The first failure found, or ok. `txIndex` is the job's index in the batch. */
export type ScriptCheckResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly txIndex: number; readonly inputIndex: number; readonly reason: string };

/**
 * Script checks handed to a verifier by begin() and not joined yet: worker threads may be verifying them while the
 * caller does other work.
 */
export interface ScriptCheckSession {
  /**
   * Joins the checks: the calling thread verifies what no worker has started yet, then the result comes as verify's
   * would (the first failure in job, then input order, or ok, after which every job is cached). Call it once.
   */
  finish(): Promise<ScriptCheckResult>;
  /**
   * Optional synchronous join, for a caller that must not yield to the event loop (the chain joins inside its SQLite
   * write transaction): the calling thread verifies what is left, then blocks until the workers are done, and returns
   * the result as finish() would. Returns undefined, leaving the session open for finish() or cancel(), when the
   * workers made no progress for a long time (e.g. one died holding a chunk).
   */
  finishSync?(): ScriptCheckResult | undefined;
  /** Drops the batch (its result no longer matters): nothing more is started, nothing is cached. Never rejects. */
  cancel(): Promise<void>;
}

/**
 * Checks the scripts of a batch of transactions (consensus/verifyInput on every input), possibly in parallel on
 * worker threads, skipping transactions found in the script cache and adding those that pass.
 */
export interface ScriptVerifier {
  /** Verifies every input of every job; resolves with the first failure (in job, then input order) or ok. */
  verify(jobs: readonly ScriptCheckJob[]): Promise<ScriptCheckResult>;
  /**
   * Optional: starts the checks (on worker threads) and returns at once, so the caller can do other work before it
   * joins with finish(), as Core's ConnectBlock queues script checks and goes on with the block. `verify(jobs)` is
   * `begin(jobs).finish()`.
   * @throws VerifyError sighash-missing-prevouts (a job's prevouts do not match its inputs)
   */
  begin?(jobs: readonly ScriptCheckJob[]): ScriptCheckSession;
  /** True when the tx (by wtxid) already passed its script checks. */
  isCached(wtxidHex: string): boolean;
  /** Stops worker threads (idempotent). */
  close(): Promise<void>;
}
