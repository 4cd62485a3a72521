/**
 * Messages and shared memory between the fuzz runner (fuzz/runner.ts) and its worker (fuzz/worker.ts).
 */
import type { CrashRecord } from './engine.js';

/** Layout of the shared buffer: an Int32 header, then the UTF-8 tagged JSON of the input being run. */
export const SLOT = Object.freeze({
  /** Int32 index of the heartbeat: +1 before every input. */
  HEARTBEAT: 0,
  /** Int32 index of the byte length of the recorded input. */
  LENGTH: 1,
  /** Int32 index of a flag: 1 when the input did not fit and was cut. */
  TRUNCATED: 2,
  HEADER_INTS: 4,
  /** Bytes of room for the current input (inputs are bounded far below this). */
  PAYLOAD_BYTES: 4 * 1024 * 1024,
});

/** Where a target is: a module URL and the name of its export. */
export interface TargetRef {
  readonly moduleUrl: string;
  readonly exportName: string;
}

/** A saved reproducer of a fixed crash, replayed before fuzzing. */
export interface RegressionInput {
  /** File it came from, for messages. */
  readonly file: string;
  /** Tagged JSON of the input. */
  readonly input: string;
}

/** What the runner hands its worker. */
export interface WorkerData {
  readonly target: TargetRef;
  readonly runs: number;
  readonly seed: number;
  readonly startChunk: number;
  readonly maxCrashes: number;
  readonly regressions: readonly RegressionInput[];
  readonly shared: SharedArrayBuffer;
}

/** What the worker reports. */
export type WorkerMessage =
  | { readonly type: 'ready'; readonly setupMs: number }
  | { readonly type: 'regressions'; readonly count: number }
  | { readonly type: 'progress'; readonly inputsRun: number; readonly chunk: number; readonly rssBytes: number }
  | { readonly type: 'crash'; readonly crash: CrashRecord }
  | { readonly type: 'done'; readonly inputsRun: number; readonly nextChunk: number; readonly rssBytes: number };
