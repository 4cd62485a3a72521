import type { Tx, TxOut } from '../primitives/types.js';

/**
 * One transaction whose inputs' scripts (signatures) must be checked, with the outputs its inputs spend (in input
 * order). `wtxidHex` keys the script cache: a tx whose scripts passed once (e.g. on mempool entry) is not checked again.
 */
export interface ScriptCheckJob {
  readonly tx: Tx;
  readonly prevouts: readonly TxOut[];
  readonly wtxidHex: string;
}

/** The first failure found, or ok. `txIndex` is the job's index in the batch. */
export type ScriptCheckResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly txIndex: number; readonly inputIndex: number; readonly reason: string };

/**
 * Checks the scripts of a batch of transactions (consensus/verifyInput on every input), possibly in parallel on
 * worker threads, skipping transactions found in the script cache and adding those that pass.
 */
export interface ScriptVerifier {
  /** Verifies every input of every job; resolves with the first failure (in job, then input order) or ok. */
  verify(jobs: readonly ScriptCheckJob[]): Promise<ScriptCheckResult>;
  /** True when the tx (by wtxid) already passed its script checks. */
  isCached(wtxidHex: string): boolean;
  /** Stops worker threads (idempotent). */
  close(): Promise<void>;
}
