/**
 * A chunk of script checks: a run of consecutive (job, input) pairs of one batch, cut by input count so every thread
 * gets about the same number of signatures, with its wire format for worker threads and the loop that verifies it.
 * Shared by the main thread (InlineScriptVerifier, WorkerPoolScriptVerifier) and scriptVerifierWorker.
 */
import { SighashCache } from '../consensus/sighash.js';
import { verifyInput } from '../consensus/verifyInput.js';
import { BufferReader } from '../primitives/bufferReader.js';
import { BufferWriter, compactSizeLength } from '../primitives/bufferWriter.js';
import { decodeTx, getTxOutSize, readTxOut, writeTxOut } from '../primitives/tx.js';
import type { Tx, TxOut } from '../primitives/types.js';

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
  readonly reason: string;
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

/** Main thread -> worker: verify the encoded chunk `chunkIndex`; `abort` is the batch's shared abort slot. */
export interface ScriptCheckRequest {
  readonly id: number;
  readonly chunkIndex: number;
  readonly bytes: Uint8Array;
  readonly abort: Int32Array;
}

/** Worker -> main thread: the outcome of request `id`, or `error` when the worker could not verify it at all. */
export interface ScriptCheckResponse extends ScriptCheckOutcome {
  readonly id: number;
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
 * Cuts the inputs of the jobs `jobIndices` (ascending) into at most `chunkCount` chunks of consecutive inputs with
 * nearly equal input counts; a tx with many inputs may be split across chunks. Empty chunks are dropped.
 */
export function planScriptCheckChunks(
  inputCounts: readonly number[],
  jobIndices: readonly number[],
  chunkCount: number,
): ScriptCheckSlice[][] {
  let total = 0;
  for (const j of jobIndices) total += inputCounts[j]!;
  const chunks: ScriptCheckSlice[][] = [];
  let current: ScriptCheckSlice[] = [];
  let done = 0;
  let k = 1;
  let boundary = Math.round((total * k) / chunkCount);
  for (const jobIndex of jobIndices) {
    const n = inputCounts[jobIndex]!;
    let start = 0;
    while (start < n) {
      const end = Math.min(n, start + (boundary - done));
      if (end > start) {
        current.push({ jobIndex, inputStart: start, inputEnd: end });
        done += end - start;
        start = end;
      }
      // The last boundary is `total`, so the loop always ends with every input placed.
      if (done === boundary && k < chunkCount) {
        if (current.length > 0) chunks.push(current);
        current = [];
        k++;
        boundary = Math.round((total * k) / chunkCount);
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
  let size = compactSizeLength(slices.length);
  for (const s of slices) {
    const bytes = txBytes(s.jobIndex);
    const prevouts = prevoutsOf(s.jobIndex);
    size += 12 + compactSizeLength(bytes.length) + bytes.length + compactSizeLength(prevouts.length);
    for (const p of prevouts) size += getTxOutSize(p);
  }
  const w = new BufferWriter(size);
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
