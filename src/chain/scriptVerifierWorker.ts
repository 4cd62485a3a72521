/**
 * Entry point of a WorkerPoolScriptVerifier worker thread: receives encoded chunks (ScriptCheckRequest), decodes them,
 * runs consensus verifyInput on each input (one SighashCache per tx) and answers with a ScriptCheckResponse. Any
 * exception becomes an `error` response, so the pool rejects that verify call instead of waiting forever.
 */
import { parentPort } from 'node:worker_threads';
import {
  decodeScriptCheckChunk,
  verifyScriptCheckWork,
  type ScriptCheckRequest,
  type ScriptCheckResponse,
} from './scriptCheckChunk.js';

const port = parentPort;
if (port === null) throw new Error('scriptVerifierWorker must run in a worker thread');

port.on('message', (request: ScriptCheckRequest) => {
  let response: ScriptCheckResponse;
  try {
    const work = decodeScriptCheckChunk(request.bytes);
    response = { id: request.id, ...verifyScriptCheckWork(work, request.abort, request.chunkIndex) };
  } catch (e) {
    response = { id: request.id, inputsVerified: 0, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
  port.postMessage(response);
});
