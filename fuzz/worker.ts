/**
 * Worker-thread entry of the fuzz runner (fuzz/runner.ts): loads one target, sets it up, replays its regression
 * inputs, then runs the fuzzing loop. Before each input it copies the serialized input into shared memory and bumps a
 * heartbeat counter, so the parent can tell a hang (the heartbeat stops) and can still save the input that hung or
 * blew up memory after it terminated this thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { describeError, runFuzzLoop, crashSignature } from './engine.js';
import { decodeInput, encodeInput } from './inputCodec.js';
import type { AnyFuzzTarget } from './target.js';
import { SLOT, type WorkerData, type WorkerMessage } from './workerProtocol.js';

const data = workerData as WorkerData;
const header = new Int32Array(data.shared, 0, SLOT.HEADER_INTS);
const payload = new Uint8Array(data.shared, SLOT.HEADER_INTS * 4);
const encoder = new TextEncoder();

function post(message: WorkerMessage): void {
  parentPort!.postMessage(message);
}

/** Records the input about to run and beats the heartbeat. */
function recordInput(input: unknown): void {
  const { written, read } = encoder.encodeInto(encodeInput(input), payload);
  Atomics.store(header, SLOT.LENGTH, written ?? 0);
  Atomics.store(header, SLOT.TRUNCATED, read === undefined ? 0 : 1);
  Atomics.add(header, SLOT.HEARTBEAT, 1);
}

async function main(): Promise<void> {
  const module = (await import(data.target.moduleUrl)) as Record<string, AnyFuzzTarget>;
  const target = module[data.target.exportName];
  if (target === undefined) throw new Error(`${data.target.moduleUrl} has no export ${data.target.exportName}`);
  const setupStarted = performance.now();
  const ctx = await target.setup?.();
  post({ type: 'ready', setupMs: performance.now() - setupStarted });
  try {
    // Saved crash inputs of fixed bugs run first, every time: a regression shows up as the crash it was.
    for (const saved of data.regressions) {
      recordInput(decodeInput(saved.input));
      try {
        await target.run(decodeInput(saved.input), ctx);
      } catch (err) {
        const { message, stack } = describeError(err);
        post({
          type: 'crash',
          crash: { signature: crashSignature(message, stack), message: `regression ${saved.file}: ${message}`, stack, input: saved.input, seed: 0, path: null },
        });
      }
    }
    post({ type: 'regressions', count: data.regressions.length });
    const result = await runFuzzLoop(target, ctx, {
      runs: data.runs,
      seed: data.seed,
      startChunk: data.startChunk,
      maxCrashes: data.maxCrashes,
      onInput: recordInput,
      onChunk: ({ inputsRun, chunk }) => post({ type: 'progress', inputsRun, chunk, rssBytes: process.memoryUsage.rss() }),
      onCrash: (crash) => post({ type: 'crash', crash }),
    });
    post({ type: 'done', inputsRun: result.inputsRun, nextChunk: result.nextChunk, rssBytes: process.memoryUsage.rss() });
  } finally {
    await target.teardown?.(ctx);
  }
}

await main();
