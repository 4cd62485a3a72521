import type { WasmModule } from './sha256dKernel.js';

/**
 * Messages between MinerPool and its worker threads (minerWorker.ts), sent with postMessage (structured clone:
 * Uint8Array and bigint travel as they are).
 */

/** Data every miner worker starts with (worker_threads workerData). */
export interface MinerWorkerData {
  /** The compiled kernel (build/sha256d.wasm), compiled once by the pool. */
  readonly module: WasmModule;
  /** Nonces per scan call; the worker reads its messages between chunks. */
  readonly chunkNonces: number;
}

/** Pool → worker: scan nonces [startNonce, endNonce) of this header against this target, replacing any job. */
export interface MinerJobMessage {
  readonly type: 'job';
  readonly jobId: string;
  readonly header80: Uint8Array;
  readonly target: bigint;
  readonly startNonce: number;
  /** Exclusive; at most 2^32. */
  readonly endNonce: number;
}

/** Pool → worker: drop the current job (if it is this one, or any job when jobId is absent). */
export interface MinerStopMessage {
  readonly type: 'stop';
  readonly jobId?: string;
}

export type MinerRequest = MinerJobMessage | MinerStopMessage;

/**
 * Worker → pool. progress: `hashes` more nonces of the job were hashed (sent after each chunk); found: `nonce` meets
 * the target (the job is then over for this worker); exhausted: the worker's nonce range is done without a block;
 * error: the worker cannot go on.
 */
export type MinerResponse =
  | { readonly type: 'progress'; readonly jobId: string; readonly hashes: number }
  | { readonly type: 'found'; readonly jobId: string; readonly nonce: number }
  | { readonly type: 'exhausted'; readonly jobId: string }
  | { readonly type: 'error'; readonly message: string };
