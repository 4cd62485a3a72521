/**
 * The txid and wtxid hashing of a raw block, laid out in shared memory so that several threads can hash it at once:
 * each claims the next range of txs from a shared counter (Atomics.add) and writes their hashes into a shared result
 * buffer. Shared by the main thread (computeBlockTxHashes, WorkerPoolScriptVerifier) and scriptVerifierWorker.
 * Hashing is pure, so a range hashed twice (one a descheduled thread still holds, redone: finishTxHashes) writes the
 * same bytes.
 */
import { hash as oneShotHash } from 'node:crypto';
import { sha256Of32Into } from '../crypto/sha256dSmall.js';

/** Int32 fields per tx in a span table: start, end (exclusive), witness start (-1 without witness data). */
export const TX_SPAN_FIELDS = 3;
/** Bytes per tx in the result: the wtxid, then the txid (internal byte order, as node:crypto returns them). */
export const TX_HASH_BYTES = 64;
/** Txs per claimed range: ~30 µs of hashing for small txs, so the claim (one Atomics.add) does not show. */
export const TX_HASH_RANGE = 32;

/** Slot of a batch's control array holding the next range index to claim. */
const CONTROL_NEXT = 0;
const CONTROL_SLOTS = 1;

/**
 * One raw block's hashing shared by the main thread and the workers: the raw bytes, the tx span table
 * (TX_SPAN_FIELDS per tx), the result (TX_HASH_BYTES per tx), the control slots and one done flag per range. Every
 * array is a view of a SharedArrayBuffer, so posting the batch to a worker shares it.
 */
export interface SharedTxHashBatch {
  readonly txCount: number;
  readonly rangeCount: number;
  readonly raw: Uint8Array;
  readonly spans: Int32Array;
  readonly out: Uint8Array;
  readonly control: Int32Array;
  readonly rangeDone: Int32Array;
}

/**
 * Copies the raw block and its span table (TX_SPAN_FIELDS Int32 per tx, as scanTxSpans makes it) into a new shared
 * batch, nothing claimed yet.
 * @throws RangeError when the span table's length is not a multiple of TX_SPAN_FIELDS
 */
export function createSharedTxHashBatch(raw: Uint8Array, spans: Int32Array): SharedTxHashBatch {
  if (spans.length % TX_SPAN_FIELDS !== 0) throw new RangeError(`a span table holds ${TX_SPAN_FIELDS} fields per tx, got ${spans.length}`);
  const txCount = spans.length / TX_SPAN_FIELDS;
  const rangeCount = Math.ceil(txCount / TX_HASH_RANGE);
  const sharedRaw = new Uint8Array(new SharedArrayBuffer(raw.length));
  sharedRaw.set(raw);
  const sharedSpans = new Int32Array(new SharedArrayBuffer(4 * Math.max(1, spans.length)));
  sharedSpans.set(spans);
  return {
    txCount,
    rangeCount,
    raw: sharedRaw,
    spans: sharedSpans,
    out: new Uint8Array(new SharedArrayBuffer(TX_HASH_BYTES * Math.max(1, txCount))),
    control: new Int32Array(new SharedArrayBuffer(4 * CONTROL_SLOTS)),
    rangeDone: new Int32Array(new SharedArrayBuffer(4 * Math.max(1, rangeCount))),
  };
}

/**
 * SHA-256 twice, written at out[at, at + 32): the inner hash with node:crypto's one-shot hash (no Hash object per
 * call), the outer one (of 32 bytes) in plain JavaScript (sha256Of32Into), cheaper than a second call.
 */
function sha256dInto(bytes: Uint8Array, out: Uint8Array, at: number): void {
  sha256Of32Into(oneShotHash('sha256', bytes, 'buffer'), 0, out, at);
}

/**
 * Hashes txs [from, to) of a span table over `raw` into `out` (TX_HASH_BYTES per tx: wtxid, then txid). The wtxid is
 * sha256d of the tx's bytes as they are; the txid is sha256d of its legacy form (version, inputs and outputs,
 * locktime: the bytes without marker, flag and witnesses), the same bytes as the wtxid's for a tx without witness.
 * `scratch` holds the joined legacy form (grown when too small).
 * @see Bitcoin Core CTransaction::ComputeHash / ComputeWitnessHash
 */
export function hashTxSpans(
  raw: Uint8Array,
  spans: Int32Array,
  out: Uint8Array,
  from: number,
  to: number,
  scratch: { buf: Uint8Array },
): void {
  for (let t = from; t < to; t++) {
    const start = spans[TX_SPAN_FIELDS * t]!;
    const end = spans[TX_SPAN_FIELDS * t + 1]!;
    const witnessStart = spans[TX_SPAN_FIELDS * t + 2]!;
    const at = TX_HASH_BYTES * t;
    sha256dInto(raw.subarray(start, end), out, at);
    if (witnessStart < 0) {
      out.copyWithin(at + 32, at, at + 32);
      continue;
    }
    const size = 4 + (witnessStart - start - 6) + 4;
    if (scratch.buf.length < size) scratch.buf = new Uint8Array(Math.max(size, scratch.buf.length * 2));
    const legacy = scratch.buf;
    legacy.set(raw.subarray(start, start + 4), 0);
    legacy.set(raw.subarray(start + 6, witnessStart), 4);
    legacy.set(raw.subarray(end - 4, end), size - 4);
    sha256dInto(legacy.subarray(0, size), out, at + 32);
  }
}

/**
 * Claims ranges of the batch one at a time until none is left, hashes each (hashTxSpans) and marks it done. Run by
 * the main thread and by every worker given the batch; a thread that comes late finds fewer ranges, or none.
 * Returns the ranges this thread hashed.
 */
export function claimTxHashes(batch: SharedTxHashBatch, scratch: { buf: Uint8Array } = { buf: new Uint8Array(4096) }): number {
  let hashed = 0;
  for (;;) {
    const r = Atomics.add(batch.control, CONTROL_NEXT, 1);
    if (r >= batch.rangeCount) return hashed;
    hashTxSpans(batch.raw, batch.spans, batch.out, r * TX_HASH_RANGE, Math.min(batch.txCount, (r + 1) * TX_HASH_RANGE), scratch);
    // The atomic store and add order the plain result writes above before any reader that sees them.
    Atomics.store(batch.rangeDone, r, 1);
    hashed++;
  }
}

/**
 * Ends the batch on this thread without waiting for any other: claims what is left (claimTxHashes), then hashes
 * itself every range not yet marked done, that is, ranges another thread still holds (a worker that was descheduled,
 * or died, in the middle of one). Hashing is pure, so a range hashed by both threads gets the same bytes twice and the
 * result is complete when this returns. Costs at most the ranges the workers hold at that moment, against waiting for
 * a thread that may be waiting for a CPU.
 */
export function finishTxHashes(batch: SharedTxHashBatch, scratch: { buf: Uint8Array } = { buf: new Uint8Array(4096) }): void {
  claimTxHashes(batch, scratch);
  for (let r = 0; r < batch.rangeCount; r++) {
    if (Atomics.load(batch.rangeDone, r) === 0) {
      hashTxSpans(batch.raw, batch.spans, batch.out, r * TX_HASH_RANGE, Math.min(batch.txCount, (r + 1) * TX_HASH_RANGE), scratch);
    }
  }
}
