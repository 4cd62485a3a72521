/**
 * Entry point of a WorkerPoolScriptVerifier worker thread: receives shared batches (ScriptCheckRequest), claims their
 * chunks (or, for a hashing request, ranges of a block's txs: claimTxHashes) one at a time until none is left (the main thread and the other workers claim from the same counter),
 * decodes each, runs consensus verifyInput on its inputs (one SighashCache per tx) and records the result in the
 * shared memory, then answers with a ScriptCheckResponse. Any exception becomes an `error` response, so the pool
 * rejects that verify call instead of waiting forever.
 */
import type { ScriptError } from '../consensus/rejectReason.js';
import { parentPort } from 'node:worker_threads';
import {
  claimScriptChecks,
  decodeScriptCheckChunk,
  sharedChunkBytes,
  type ScriptCheckRequest,
  type ScriptCheckResponse,
} from './scriptCheckChunk.js';
import { claimTxHashes } from './txHashBatch.js';

const port = parentPort;
if (port === null) throw new Error('scriptVerifierWorker must run in a worker thread');
/** The joined legacy form of a segwit tx while hashing (grown as needed, kept for the thread). */
const scratch = { buf: new Uint8Array(4096) };

port.on('message', (request: ScriptCheckRequest) => {
  let response: ScriptCheckResponse;
  try {
    const { batch, hashBatch } = request;
    if (hashBatch !== undefined) claimTxHashes(hashBatch, scratch);
    const failures: { chunkIndex: number; reason: ScriptError }[] = [];
    const inputsVerified = batch === undefined ? 0 : claimScriptChecks(
      batch,
      (k) => decodeScriptCheckChunk(sharedChunkBytes(batch, k)),
      (chunkIndex, reason) => failures.push({ chunkIndex, reason }),
    );
    response = { id: request.id, inputsVerified, failures };
  } catch (e) {
    response = { id: request.id, inputsVerified: 0, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
  port.postMessage(response);
});
