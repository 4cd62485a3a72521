/**
 * Entry point of a MinerPool worker thread: owns one Sha256dKernel and scans its job's nonce range in chunks of
 * `chunkNonces`, yielding to the event loop between chunks so a new job or a stop (MinerRequest) takes effect within
 * one chunk. Reports progress after each chunk, then found or exhausted (MinerResponse).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { MinerRequest, MinerResponse, MinerWorkerData } from './minerMessages.js';
import { Sha256dKernel } from './sha256dKernel.js';

const port = parentPort;
if (port === null) throw new Error('minerWorker must run in a worker thread');
const { module, chunkNonces } = workerData as MinerWorkerData;

interface ActiveJob {
  readonly jobId: string;
  next: number;
  readonly end: number;
}

const post = (message: MinerResponse): void => port.postMessage(message);

let kernel: Sha256dKernel;
try {
  kernel = new Sha256dKernel(module);
} catch (e) {
  post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
  throw e;
}

let job: ActiveJob | undefined;
let scheduled = false;

function schedule(): void {
  if (scheduled || job === undefined) return;
  scheduled = true;
  setImmediate(step);
}

/** Scans one chunk of the current job, then yields (messages are handled between chunks). */
function step(): void {
  scheduled = false;
  const current = job;
  if (current === undefined) return;
  try {
    const count = Math.min(chunkNonces, current.end - current.next);
    const start = current.next;
    const found = kernel.scan(start, count);
    current.next += count;
    post({ type: 'progress', jobId: current.jobId, hashes: found === null ? count : found - start + 1 });
    if (found !== null) {
      job = undefined;
      post({ type: 'found', jobId: current.jobId, nonce: found });
    } else if (current.next >= current.end) {
      job = undefined;
      post({ type: 'exhausted', jobId: current.jobId });
    }
  } catch (e) {
    job = undefined;
    post({ type: 'error', message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  }
  schedule();
}

port.on('message', (request: MinerRequest) => {
  if (request.type === 'stop') {
    if (request.jobId === undefined || job?.jobId === request.jobId) job = undefined;
    return;
  }
  try {
    kernel.setJob(request.header80, request.target);
    job = { jobId: request.jobId, next: request.startNonce, end: request.endNonce };
    if (request.startNonce >= request.endNonce) {
      job = undefined;
      post({ type: 'exhausted', jobId: request.jobId });
    }
  } catch (e) {
    job = undefined;
    post({ type: 'error', message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  }
  schedule();
});
