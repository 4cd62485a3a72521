/**
 * A chunk of script checks: a run of consecutive (job, input) pairs of one batch, cut by input count, with its wire
 * format for worker threads, the loop that verifies it, and the shared batch (chunks in shared memory that every
 * thread claims one at a time). Shared by the main thread (InlineScriptVerifier, WorkerPoolScriptVerifier) and
 * scriptVerifierWorker.
 */
import type { ScriptError } from '../consensus/rejectReason.js';
import { SighashCache } from '../consensus/sighash.js';
import { verifyInput } from '../consensus/verifyInput.js';
import { BufferReader } from '../primitives/bufferReader.js';
import { BufferWriter, compactSizeLength } from '../primitives/bufferWriter.js';
import { decodeTx, getTxOutSize, readTxOut, writeTxOut } from '../primitives/tx.js';
import type { Tx, TxOut } from '../primitives/types.js';
import type { SharedTxHashBatch } from './txHashBatch.js';

/** Inputs `[inputStart, inputEnd)` of the batch's job `jobIndex`. */
export interface ScriptCheckSlice {
  readonly jobIndex: number;
  readonly inputStart: number;
  readonly inputEnd: number;
}

/** A slice together with its tx and every output the tx spends (all of them: taproot signs every amount). */
export interface ScriptCheckWork extends ScriptCheckSlice {
  readonly tx: Tx;
  readonly prevouts: readonly TxOut[];
}

/** The first failing input of a chunk, with verifyInput's reason. */
export interface ScriptCheckFailure {
  readonly jobIndex: number;
  readonly inputIndex: number;
  readonly reason: ScriptError;
}

/**
 * What verifying one chunk found: the inputs checked, and the first failure, or `aborted` when it stopped because
 * an earlier chunk of the batch already failed (its answer no longer matters).
 */
export interface ScriptCheckOutcome {
  readonly inputsVerified: number;
  readonly failure?: ScriptCheckFailure;
  readonly aborted?: boolean;
}

/**
 * Main thread -> worker: take part in the shared batch, claiming and verifying chunks until none is left (or, with
 * `hashBatch`, claiming and hashing ranges of a block's txs). The arrays live on SharedArrayBuffers, so posting them
 * shares the memory instead of copying it.
 */
export interface ScriptCheckRequest {
  readonly id: number;
  /** A script-check batch to take part in; absent in a hashing request. */
  readonly batch?: SharedScriptCheckBatch;
  /** A raw block's txs to help hash (claimTxHashes); the answer then reports 0 inputs. */
  readonly hashBatch?: SharedTxHashBatch;
}

/**
 * Worker -> main thread: request `id` is over (this worker claims no more chunks of its batch); `failures` gives
 * verifyInput's reason for each chunk this worker found failing. `error` when the worker could not verify at all.
 */
export interface ScriptCheckResponse {
  readonly id: number;
  readonly inputsVerified: number;
  readonly failures?: readonly { readonly chunkIndex: number; readonly reason: ScriptError }[];
  readonly error?: string;
}

/** Value of an abort slot while no chunk of the batch has failed. */
const NO_FAILURE = 0x7fffffff;

/** A fresh abort slot for one batch, shared with the workers (a SharedArrayBuffer is passed, not copied). */
export function createAbortSlot(): Int32Array {
  const slot = new Int32Array(new SharedArrayBuffer(4));
  slot[0] = NO_FAILURE;
  return slot;
}

/** Records that chunk `chunkIndex` failed: chunks after it may stop, chunks before it must go on. */
export function markChunkFailed(abort: Int32Array, chunkIndex: number): void {
  for (;;) {
    const current = Atomics.load(abort, 0);
    if (current <= chunkIndex) return;
    if (Atomics.compareExchange(abort, 0, current, chunkIndex) === current) return;
  }
}

/** True when an earlier chunk than `chunkIndex` already failed, so this chunk's result cannot be the first failure. */
export function isChunkSuperseded(abort: Int32Array, chunkIndex: number): boolean {
  return Atomics.load(abort, 0) < chunkIndex;
}

/**
 * Input counts of the chunks of a parallel batch of `total` inputs (they sum to `total`): chunks of `uniform` inputs
 * while much is left, then tapering (each about 1 / (4 x threads) of what is left, never below `min`), so the last
 * chunks are small and the threads run out of work within a few inputs of each other (guided self-scheduling, as
 * OpenMP's `schedule(guided)`): with equal chunks a thread that finds none left idles until the other ends its last
 * one, about half a chunk on average.
 * @throws RangeError when a count is not a positive integer (total may be 0)
 */
export function taperedChunkSizes(total: number, uniform: number, threads: number, min: number): number[] {
  for (const [name, v] of [['uniform', uniform], ['threads', threads], ['min', min]] as const) {
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  }
  if (!Number.isSafeInteger(total) || total < 0) throw new RangeError(`total must be a non-negative integer, got ${total}`);
  const sizes: number[] = [];
  let left = total;
  while (left > 0) {
    const size = Math.min(left, Math.max(min, Math.min(uniform, Math.ceil(left / (4 * threads)))));
    sizes.push(size);
    left -= size;
  }
  return sizes;
}

/**
 * Cuts the inputs of the jobs `jobIndices` (ascending) into chunks of consecutive inputs with the given input counts,
 * in order (the counts should sum to the jobs' inputs; any inputs left over go into the last chunk); a tx with many
 * inputs may be split across chunks. Empty chunks are dropped.
 */
export function cutScriptCheckChunks(
  inputCounts: readonly number[],
  jobIndices: readonly number[],
  sizes: readonly number[],
): ScriptCheckSlice[][] {
  const chunks: ScriptCheckSlice[][] = [];
  let current: ScriptCheckSlice[] = [];
  let k = 0;
  let room = sizes.length > 0 ? sizes[0]! : Infinity;
  for (const jobIndex of jobIndices) {
    const n = inputCounts[jobIndex]!;
    let start = 0;
    while (start < n) {
      const end = Math.min(n, start + room);
      if (end > start) {
        current.push({ jobIndex, inputStart: start, inputEnd: end });
        room -= end - start;
        start = end;
      }
      if (room === 0) {
        if (current.length > 0) chunks.push(current);
        current = [];
        k++;
        // After the last size, whatever is left goes into one more chunk.
        room = k < sizes.length ? sizes[k]! : Infinity;
      }
    }
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Serializes a chunk for a worker: compact-size slice count, then per slice u32 LE jobIndex, inputStart, inputEnd,
 * the tx (BIP-144 bytes from `txBytes`, with a compact-size length) and its prevouts (compact-size count, then each
 * as value i64 LE + var-bytes scriptPubKey). `txBytes(jobIndex)` lets a batch encode each tx once.
 * PERF: one flat byte array per chunk, transferred (not cloned) to the worker.
 */
export function encodeScriptCheckChunk(
  slices: readonly ScriptCheckSlice[],
  prevoutsOf: (jobIndex: number) => readonly TxOut[],
  txBytes: (jobIndex: number) => Uint8Array,
): Uint8Array {
  const w = new BufferWriter(encodedScriptCheckChunkSize(slices, prevoutsOf, txBytes));
  w.writeCompactSize(slices.length);
  for (const s of slices) {
    w.writeU32LE(s.jobIndex).writeU32LE(s.inputStart).writeU32LE(s.inputEnd);
    w.writeVarBytes(txBytes(s.jobIndex));
    const prevouts = prevoutsOf(s.jobIndex);
    w.writeCompactSize(prevouts.length);
    for (const p of prevouts) writeTxOut(w, p);
  }
  return w.finish();
}

/** The length of encodeScriptCheckChunk's bytes for the same arguments, without encoding. */
export function encodedScriptCheckChunkSize(
  slices: readonly ScriptCheckSlice[],
  prevoutsOf: (jobIndex: number) => readonly TxOut[],
  txBytes: (jobIndex: number) => Uint8Array,
): number {
  let size = compactSizeLength(slices.length);
  for (const s of slices) {
    const bytes = txBytes(s.jobIndex);
    const prevouts = prevoutsOf(s.jobIndex);
    size += 12 + compactSizeLength(bytes.length) + bytes.length + compactSizeLength(prevouts.length);
    for (const p of prevouts) size += getTxOutSize(p);
  }
  return size;
}

/**
 * Parses a chunk written by encodeScriptCheckChunk back into work items.
 * @throws DecodeError unexpected-end | non-canonical-compact-size | size-too-large | trailing-bytes | any decodeTx code
 */
export function decodeScriptCheckChunk(bytes: Uint8Array): ScriptCheckWork[] {
  const r = new BufferReader(bytes);
  const count = r.readCount(12);
  const work: ScriptCheckWork[] = [];
  for (let i = 0; i < count; i++) {
    const jobIndex = r.readU32LE();
    const inputStart = r.readU32LE();
    const inputEnd = r.readU32LE();
    const tx = decodeTx(r.readVarBytes());
    const n = r.readCount(9);
    const prevouts: TxOut[] = [];
    for (let k = 0; k < n; k++) prevouts.push(readTxOut(r));
    work.push({ jobIndex, inputStart, inputEnd, tx, prevouts });
  }
  r.assertEnd();
  return work;
}

/**
 * Runs consensus verifyInput on every input of the work items in order, with one SighashCache per item (O(n) hashing
 * for an n-input tx), and stops at the first failure. When `abort` is given, it stops early (aborted) once an earlier
 * chunk than `chunkIndex` has failed, and marks this chunk failed when it finds a failure.
 * @throws VerifyError sighash-input-index | sighash-missing-prevouts (malformed work: a caller error)
 */
export function verifyScriptCheckWork(
  work: readonly ScriptCheckWork[],
  abort?: Int32Array,
  chunkIndex = 0,
): ScriptCheckOutcome {
  let inputsVerified = 0;
  for (const item of work) {
    const cache = new SighashCache(item.tx, item.prevouts);
    for (let i = item.inputStart; i < item.inputEnd; i++) {
      if (abort !== undefined && isChunkSuperseded(abort, chunkIndex)) return { inputsVerified, aborted: true };
      const result = verifyInput(item.tx, i, item.prevouts, cache);
      inputsVerified++;
      if (!result.valid) {
        if (abort !== undefined) markChunkFailed(abort, chunkIndex);
        const failure = { jobIndex: item.jobIndex, inputIndex: i, reason: result.reason ?? 'script-verify-failed' };
        return { inputsVerified, failure };
      }
    }
  }
  return { inputsVerified };
}

// --- shared batches: chunks claimed one at a time by every thread ------------------------------------------------

/** Slot of a batch's control array holding the next chunk index to claim (Atomics.add). */
export const CONTROL_NEXT = 0;
/** Slot holding the lowest failed chunk index (NO_FAILURE while none; -1 once the batch is cancelled). */
export const CONTROL_ABORT = 1;
/** Slot counting the chunks settled (verified, failed or skipped); Atomics.notify'd after each. */
export const CONTROL_DONE = 2;
/** Slot counting the chunks written so far (published in order); Atomics.notify'd after each. */
export const CONTROL_PUBLISHED = 3;
const CONTROL_SLOTS = 4;

/** Int32 fields per chunk in a batch's results: state, failing job index, failing input index, inputs verified. */
export const RESULT_FIELDS = 4;

/** State of one chunk of a shared batch (results[k * RESULT_FIELDS]). */
export const ChunkState = Object.freeze({ PENDING: 0, OK: 1, FAILED: 2, SKIPPED: 3 } as const);

/**
 * One parallel batch shared by the main thread and the workers: the encoded chunks back to back in `data`
 * (chunk k is `data[offsets[k], offsets[k + 1])`), the control slots (CONTROL_*), and per-chunk results. Every array is
 * a view of a SharedArrayBuffer, so posting the batch to a worker shares it.
 */
export interface SharedScriptCheckBatch {
  readonly chunkCount: number;
  readonly control: Int32Array;
  readonly results: Int32Array;
  readonly offsets: Int32Array;
  readonly data: Uint8Array;
}

/** Lays the encoded chunks (encodeScriptCheckChunk) out in a new shared batch, every one published, none claimed. */
export function createSharedScriptCheckBatch(chunks: readonly Uint8Array[]): SharedScriptCheckBatch {
  const batch = allocateSharedScriptCheckBatch(chunks.map((c) => c.length));
  chunks.forEach((c, k) => publishScriptCheckChunk(batch, k, c));
  return batch;
}

/**
 * A new shared batch with room for chunks of the given encoded sizes, none written yet: the caller may post it to the
 * workers at once and then write the chunks in order with publishScriptCheckChunk; a thread that claims a chunk not
 * yet written waits for it (or skips it once the batch is cancelled).
 */
export function allocateSharedScriptCheckBatch(sizes: readonly number[]): SharedScriptCheckBatch {
  let size = 0;
  for (const n of sizes) size += n;
  const data = new Uint8Array(new SharedArrayBuffer(size));
  const offsets = new Int32Array(new SharedArrayBuffer(4 * (sizes.length + 1)));
  let at = 0;
  sizes.forEach((n, k) => {
    offsets[k] = at;
    at += n;
  });
  offsets[sizes.length] = at;
  const control = new Int32Array(new SharedArrayBuffer(4 * CONTROL_SLOTS));
  control[CONTROL_ABORT] = NO_FAILURE;
  const results = new Int32Array(new SharedArrayBuffer(4 * RESULT_FIELDS * Math.max(1, sizes.length)));
  return { chunkCount: sizes.length, control, results, offsets, data };
}

/**
 * Writes chunk k's encoded bytes into the batch and publishes it (and every chunk before it) to the claiming threads.
 * @throws RangeError when chunk k is not the next one to publish, or its bytes do not fit the room allocated for it
 */
export function publishScriptCheckChunk(batch: SharedScriptCheckBatch, k: number, bytes: Uint8Array): void {
  if (Atomics.load(batch.control, CONTROL_PUBLISHED) !== k) throw new RangeError(`chunk ${k} is not the next to publish`);
  const at = batch.offsets[k]!;
  if (bytes.length !== batch.offsets[k + 1]! - at) throw new RangeError(`chunk ${k} has ${bytes.length} bytes, room for ${batch.offsets[k + 1]! - at}`);
  batch.data.set(bytes, at);
  // The atomic store orders the plain write above before any thread that sees the new count.
  Atomics.store(batch.control, CONTROL_PUBLISHED, k + 1);
  Atomics.notify(batch.control, CONTROL_PUBLISHED);
}

/** Waits until chunk k is published (true), or the chunk is superseded, e.g. the batch cancelled (false). */
function awaitPublished(batch: SharedScriptCheckBatch, abort: Int32Array, k: number): boolean {
  for (;;) {
    const published = Atomics.load(batch.control, CONTROL_PUBLISHED);
    if (published > k) return true;
    if (isChunkSuperseded(abort, k)) return false;
    Atomics.wait(batch.control, CONTROL_PUBLISHED, published, 50);
  }
}

/** The batch's abort slot as the one-element array verifyScriptCheckWork takes (same shared memory). */
export function batchAbortSlot(batch: SharedScriptCheckBatch): Int32Array {
  return new Int32Array(batch.control.buffer, batch.control.byteOffset + 4 * CONTROL_ABORT, 1);
}

/** The encoded bytes of chunk k (a view of the shared data). */
export function sharedChunkBytes(batch: SharedScriptCheckBatch, k: number): Uint8Array {
  return batch.data.subarray(batch.offsets[k]!, batch.offsets[k + 1]!);
}

/**
 * Claims chunks of the batch one at a time (Atomics.add on CONTROL_NEXT) until none is left, verifies each with
 * verifyScriptCheckWork(workOf(k)) and records its result; a chunk after an already failed one is skipped, and a
 * chunk not yet published (allocateSharedScriptCheckBatch) is waited for, or skipped once the batch is cancelled. Calls
 * `onFailure` with verifyInput's reason for each chunk found failing. Returns the inputs verified. Run by every
 * worker and by the main thread, so a thread that joins late simply finds fewer chunks left (dynamic balancing).
 * @throws whatever workOf throws (the chunk then stays PENDING and the batch can only fail)
 */
export function claimScriptChecks(
  batch: SharedScriptCheckBatch,
  workOf: (k: number) => readonly ScriptCheckWork[],
  onFailure?: (chunkIndex: number, reason: ScriptError) => void,
): number {
  const { control, results } = batch;
  const abort = batchAbortSlot(batch);
  let inputsVerified = 0;
  for (;;) {
    const k = Atomics.add(control, CONTROL_NEXT, 1);
    if (k >= batch.chunkCount) return inputsVerified;
    const base = k * RESULT_FIELDS;
    let state: number = ChunkState.SKIPPED;
    if (!isChunkSuperseded(abort, k) && awaitPublished(batch, abort, k)) {
      const outcome = verifyScriptCheckWork(workOf(k), abort, k);
      inputsVerified += outcome.inputsVerified;
      results[base + 3] = outcome.inputsVerified;
      if (outcome.failure !== undefined) {
        results[base + 1] = outcome.failure.jobIndex;
        results[base + 2] = outcome.failure.inputIndex;
        state = ChunkState.FAILED;
        onFailure?.(k, outcome.failure.reason);
      } else if (!outcome.aborted) {
        state = ChunkState.OK;
      }
    }
    // The atomic store and add order the plain result writes above before any reader that sees the new count.
    Atomics.store(results, base, state);
    Atomics.add(control, CONTROL_DONE, 1);
    Atomics.notify(control, CONTROL_DONE);
  }
}

/** Marks the batch cancelled: every thread skips the chunks it has not started and stops the one it is in. */
export function cancelSharedScriptCheckBatch(batch: SharedScriptCheckBatch): void {
  Atomics.store(batch.control, CONTROL_ABORT, -1);
}

/**
 * The first failing chunk's failure (chunks are in (job, input) order) as { chunkIndex, jobIndex, inputIndex }, or
 * undefined; and the inputs verified over all chunks. Read after every thread is done with the batch.
 */
export function readSharedScriptCheckResults(batch: SharedScriptCheckBatch): {
  readonly firstFailure?: { readonly chunkIndex: number; readonly jobIndex: number; readonly inputIndex: number };
  readonly inputsVerified: number;
  readonly unsettled: number;
} {
  let inputsVerified = 0;
  let unsettled = 0;
  let firstFailure: { chunkIndex: number; jobIndex: number; inputIndex: number } | undefined;
  for (let k = 0; k < batch.chunkCount; k++) {
    const base = k * RESULT_FIELDS;
    const state = Atomics.load(batch.results, base);
    inputsVerified += batch.results[base + 3]!;
    if (state === ChunkState.PENDING) unsettled++;
    if (state === ChunkState.FAILED && firstFailure === undefined) {
      firstFailure = { chunkIndex: k, jobIndex: batch.results[base + 1]!, inputIndex: batch.results[base + 2]! };
    }
  }
  return { firstFailure, inputsVerified, unsettled };
}
