/**
 * Runs one fuzz target to a count of inputs in a worker thread and reports what happened: inputs run, inputs/s, peak
 * memory, and every distinct crash with its reproducing input saved under the crash directory. Besides exceptions and
 * broken properties (found by the loop in fuzz/engine.ts) the runner itself catches what a thread cannot report about
 * itself: a hang (no new input for `hangMs`), a heap that outgrows `maxOldGenerationSizeMb`, and a thread that dies.
 * After such a failure the worker is restarted where the last one stopped, until the count is reached.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { crashSignature, type CrashRecord } from './engine.js';
import { decodeInput } from './inputCodec.js';
import { SLOT, type RegressionInput, type TargetRef, type WorkerData, type WorkerMessage } from './workerProtocol.js';

/** V8's default stack size of a main thread on 64-bit platforms (`--stack-size` 984 KiB), in MiB. */
const MAIN_THREAD_STACK_MB = 984 / 1024;

/** Default folder of crash reproducers. */
export const DEFAULT_CRASH_DIR = fileURLToPath(new URL('./crashes/', import.meta.url));
/** Folder of saved reproducers of fixed crashes, one subfolder per target, replayed before every run. */
export const REGRESSIONS_DIR = fileURLToPath(new URL('./regressions/', import.meta.url));

/** Options of fuzzTarget. */
export interface FuzzTargetOptions {
  /** Inputs to run. */
  readonly runs: number;
  /** Seed of the run (default: random; printed in the report so a run can be repeated). */
  readonly seed?: number;
  /** Stop after this many distinct crashes (default 5). */
  readonly maxCrashes?: number;
  /** A run that starts no new input for this long is a hang (default 30,000 ms). */
  readonly hangMs?: number;
  /** Longest setup (node start, keystore sealing) before it counts as a hang (default 120,000 ms). */
  readonly setupTimeoutMs?: number;
  /** Heap limit of the worker; exceeding it is a crash (default 1,024 MiB). */
  readonly maxOldGenerationSizeMb?: number;
  /** Where reproducers are written (default fuzz/crashes/); null writes none. */
  readonly crashDir?: string | null;
  /** Folder of regression inputs (default fuzz/regressions/); the target's subfolder is replayed first. */
  readonly regressionsDir?: string;
  /** Worker restarts after hangs or deaths before the target is given up (default 10): a bug that kills the thread on
   * many inputs would otherwise cost a setup per occurrence. */
  readonly maxRestarts?: number;
  /** Called with each progress report of the worker (cumulative inputs run). */
  readonly onProgress?: (inputsRun: number) => void;
}

/** A crash as reported: the record and where its reproducer was saved. */
export interface SavedCrash extends CrashRecord {
  /** Path of the JSON reproducer (undefined when crashDir is null). */
  readonly file?: string;
}

/** The outcome of fuzzing one target. */
export interface FuzzTargetReport {
  readonly target: string;
  readonly seed: number;
  readonly inputsRun: number;
  readonly regressionsReplayed: number;
  /** Wall time of fuzzing: from the end of each worker's setup (module loading, node start) to its end. */
  readonly elapsedMs: number;
  readonly setupMs: number;
  readonly inputsPerSec: number;
  /** Largest resident set size the worker's process reported (the whole process, main thread included). */
  readonly peakRssBytes: number;
  readonly crashes: readonly SavedCrash[];
  /** Why the run stopped before `runs` inputs, when it did (crash limit, restart limit, a failure before any input). */
  readonly stoppedEarly?: string;
}

/** Reads the regression inputs saved for `target` (files `<dir>/<target>/*.json` holding `{ "input": … }`). */
export function readRegressionInputs(target: string, dir: string = REGRESSIONS_DIR): RegressionInput[] {
  const folder = join(dir, target);
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const json = JSON.parse(readFileSync(join(folder, f), 'utf8')) as { input: unknown };
      return { file: join(folder, f), input: JSON.stringify(json.input) };
    });
}

/** Writes a crash reproducer: `<target>-<signature>.json` (and `.bin` with the raw bytes when the input is bytes). */
function saveCrash(dir: string, target: string, crash: CrashRecord): string {
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `${target}-${crash.signature}`);
  const input = decodeInput(crash.input);
  writeFileSync(
    `${base}.json`,
    `${JSON.stringify({ target, signature: crash.signature, message: crash.message, seed: crash.seed, path: crash.path, input: JSON.parse(crash.input) as unknown, stack: crash.stack }, null, 2)}\n`,
  );
  if (input instanceof Uint8Array) writeFileSync(`${base}.bin`, input);
  return `${base}.json`;
}

/** One worker session: runs until done, a crash of the thread, or a hang. */
interface SessionResult {
  readonly inputsRun: number;
  readonly nextChunk: number;
  /** True when the worker finished its loop (false: it hung or died and must be restarted). */
  readonly finished: boolean;
  readonly setupMs: number;
  /** Wall time from the end of setup to the end of the session. */
  readonly fuzzMs: number;
  readonly regressions: number;
  readonly peakRssBytes: number;
}

function runSession(
  ref: TargetRef,
  data: Omit<WorkerData, 'shared' | 'target'>,
  options: FuzzTargetOptions,
  onCrash: (crash: CrashRecord) => void,
  onProgress: (inputsRunThisSession: number) => void,
): Promise<SessionResult> {
  const shared = new SharedArrayBuffer(SLOT.HEADER_INTS * 4 + SLOT.PAYLOAD_BYTES);
  const header = new Int32Array(shared, 0, SLOT.HEADER_INTS);
  const payload = new Uint8Array(shared, SLOT.HEADER_INTS * 4);
  const hangMs = options.hangMs ?? 30_000;
  const setupTimeoutMs = options.setupTimeoutMs ?? 120_000;
  const worker = new Worker(new URL('./workerEntry.mjs', import.meta.url), {
    workerData: { ...data, target: ref, shared } satisfies WorkerData,
    // A worker's stack defaults to 4 MiB; the node runs on the main thread's 984 KiB, so recursion that overflows in
    // production must overflow here too.
    resourceLimits: { maxOldGenerationSizeMb: options.maxOldGenerationSizeMb ?? 1024, stackSizeMb: MAIN_THREAD_STACK_MB },
    // The worker's output goes where ours goes.
    stdout: false,
    stderr: false,
  });
  return new Promise((resolve, reject) => {
    let setupMs = 0;
    let ready = false;
    let readyAt = 0;
    let regressions = 0;
    let peakRssBytes = 0;
    let settled = false;
    // The chunk running now: a hang or death restarts after it, since it would fail the same way again.
    let runningChunk = data.startChunk;
    let lastBeat = Atomics.load(header, SLOT.HEARTBEAT);
    let lastBeatAt = performance.now();
    const startedAt = performance.now();
    const currentInput = (): string => {
      const length = Atomics.load(header, SLOT.LENGTH);
      return new TextDecoder().decode(payload.slice(0, length));
    };
    const inputsSoFar = (): number => Math.max(0, Atomics.load(header, SLOT.HEARTBEAT) - regressions);
    const finish = (result: Omit<SessionResult, 'setupMs' | 'fuzzMs' | 'regressions' | 'peakRssBytes'>): void => {
      if (settled) return;
      settled = true;
      clearInterval(watchdog);
      resolve({ ...result, setupMs, fuzzMs: performance.now() - readyAt, regressions, peakRssBytes });
    };
    const fail = (message: string, stack: string): void => {
      const input = Atomics.load(header, SLOT.HEARTBEAT) > 0 ? currentInput() : 'null';
      onCrash({ signature: crashSignature(message, stack), message, stack, input, seed: data.seed, path: null });
    };
    const watchdog = setInterval(() => {
      const beat = Atomics.load(header, SLOT.HEARTBEAT);
      const now = performance.now();
      if (beat !== lastBeat) {
        lastBeat = beat;
        lastBeatAt = now;
        return;
      }
      const limit = ready ? hangMs : setupTimeoutMs;
      if (now - (ready ? lastBeatAt : startedAt) > limit) {
        if (!ready) {
          settled = true;
          clearInterval(watchdog);
          void worker.terminate();
          reject(new Error(`fuzz target setup took over ${limit} ms`));
          return;
        }
        const inputsRun = inputsSoFar();
        fail(`Hang: no new input for ${limit} ms`, '');
        void worker.terminate();
        finish({ inputsRun, nextChunk: runningChunk + 1, finished: false });
      }
    }, Math.min(1_000, hangMs / 4));
    worker.on('message', (message: WorkerMessage) => {
      switch (message.type) {
        case 'ready':
          ready = true;
          setupMs = message.setupMs;
          readyAt = performance.now();
          lastBeatAt = readyAt;
          break;
        case 'regressions':
          regressions = message.count;
          break;
        case 'progress':
          peakRssBytes = Math.max(peakRssBytes, message.rssBytes);
          runningChunk = message.chunk;
          onProgress(message.inputsRun);
          break;
        case 'crash':
          onCrash(message.crash);
          break;
        case 'done':
          peakRssBytes = Math.max(peakRssBytes, message.rssBytes);
          finish({ inputsRun: message.inputsRun, nextChunk: message.nextChunk, finished: true });
          break;
      }
    });
    worker.on('error', (err: Error & { code?: string }) => {
      if (!ready) {
        // The target could not even be set up: an error of the run, not a finding.
        settled = true;
        clearInterval(watchdog);
        reject(new Error(`fuzz target setup failed: ${err.stack ?? err.message}`));
        return;
      }
      const inputsRun = inputsSoFar();
      const what = err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `OutOfMemory: heap over ${options.maxOldGenerationSizeMb ?? 1024} MiB` : `${err.name}: ${err.message}`;
      fail(`${what} (uncaught in the worker)`, err.stack ?? '');
      finish({ inputsRun, nextChunk: runningChunk + 1, finished: false });
    });
    worker.on('exit', (code) => {
      if (settled) return;
      const inputsRun = inputsSoFar();
      fail(`WorkerExit: the worker exited with code ${code} before finishing`, '');
      finish({ inputsRun, nextChunk: runningChunk + 1, finished: false });
    });
  });
}

/**
 * Fuzzes one target to `options.runs` inputs in a worker thread (see the module comment), saving every distinct
 * crash's reproducer. Never throws for a crash of the target: crashes are in the report.
 */
export async function fuzzTarget(name: string, ref: TargetRef, options: FuzzTargetOptions): Promise<FuzzTargetReport> {
  const seed = options.seed ?? (Math.random() * 2 ** 31) | 0;
  const maxCrashes = options.maxCrashes ?? 5;
  const crashDir = options.crashDir === undefined ? DEFAULT_CRASH_DIR : options.crashDir;
  const crashes: SavedCrash[] = [];
  const seen = new Set<string>();
  const onCrash = (crash: CrashRecord): void => {
    if (seen.has(crash.signature)) return;
    seen.add(crash.signature);
    crashes.push(crashDir === null ? crash : { ...crash, file: saveCrash(crashDir, name, crash) });
  };
  let regressions = readRegressionInputs(name, options.regressionsDir);
  let inputsRun = 0;
  let chunk = 0;
  let setupMs = 0;
  let elapsedMs = 0;
  let peakRssBytes = 0;
  let regressionsReplayed = 0;
  let restarts = 0;
  let stoppedEarly: string | undefined;
  while (inputsRun < options.runs) {
    if (crashes.length >= maxCrashes) {
      stoppedEarly = `${crashes.length} distinct crashes`;
      break;
    }
    const before = inputsRun;
    const session = await runSession(
      ref,
      { runs: options.runs - inputsRun, seed, startChunk: chunk, maxCrashes: maxCrashes - crashes.length, regressions },
      options,
      onCrash,
      (n) => options.onProgress?.(before + n),
    );
    elapsedMs += session.fuzzMs;
    setupMs += session.setupMs;
    peakRssBytes = Math.max(peakRssBytes, session.peakRssBytes);
    regressionsReplayed += session.regressions;
    inputsRun += session.inputsRun;
    if (session.finished) break;
    // A worker that failed before running any input would fail again; one that keeps dying costs a setup each time.
    if (session.inputsRun === 0 || ++restarts > (options.maxRestarts ?? 10)) {
      stoppedEarly = session.inputsRun === 0 ? 'the worker died before running an input' : `the worker died or hung ${restarts} times`;
      break;
    }
    // A hung or dead worker continues after the chunk it failed in, without replaying the regressions again.
    chunk = session.nextChunk;
    regressions = [];
  }
  return {
    target: name,
    seed,
    inputsRun,
    regressionsReplayed,
    elapsedMs,
    setupMs,
    inputsPerSec: elapsedMs > 0 ? inputsRun / (elapsedMs / 1000) : 0,
    peakRssBytes,
    crashes,
    ...(stoppedEarly === undefined || inputsRun >= options.runs ? {} : { stoppedEarly }),
  };
}
