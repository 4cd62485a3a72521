/**
 * The fuzzing loop of one target in the current thread: fast-check runs the target's property in chunks, each chunk
 * with its own seed derived from the run's seed, until the requested number of inputs ran or enough distinct crashes
 * were found. A failing chunk is shrunk by fast-check to a small reproducing input before the loop moves on.
 * fuzz/worker.ts runs this loop inside a worker thread so that hangs and memory blow-ups are caught too.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { encodeInput } from './inputCodec.js';
import type { AnyFuzzTarget } from './target.js';

/** A crash: the shrunk input that reproduces it and what it threw. */
export interface CrashRecord {
  /** Stable identity of the bug (error class, normalized message, first frame in our code), for deduplication. */
  readonly signature: string;
  /** `<name>: <message>` of what was thrown (or of the hang / memory failure). */
  readonly message: string;
  readonly stack: string;
  /** The reproducing input, tagged JSON (fuzz/inputCodec.ts). */
  readonly input: string;
  /** Seed of the fast-check call that found it, and its counterexample path (replay with fc.check {seed, path}). */
  readonly seed: number;
  readonly path: string | null;
}

/** Options of runFuzzLoop. */
export interface FuzzLoopOptions {
  /** Inputs to run (the count is reached or exceeded by the shrinking of a last failure). */
  readonly runs: number;
  /** Seed of the whole run; chunk i uses chunkSeed(seed, i). */
  readonly seed: number;
  /** First chunk index (a restarted worker continues where the last one stopped). */
  readonly startChunk?: number;
  /** Stop after this many distinct crashes (default 5). */
  readonly maxCrashes?: number;
  /** Called before every input runs (the worker records it and beats its heartbeat). */
  readonly onInput?: (input: unknown) => void;
  /** Called after every chunk. */
  readonly onChunk?: (progress: { readonly inputsRun: number; readonly chunk: number }) => void;
  /** Called for every distinct crash as soon as it is shrunk. */
  readonly onCrash?: (crash: CrashRecord) => void;
}

/** What runFuzzLoop did. */
export interface FuzzLoopResult {
  readonly inputsRun: number;
  /** Index of the next chunk that was not run. */
  readonly nextChunk: number;
  readonly crashes: readonly CrashRecord[];
}

/** Seed of chunk `i` of a run seeded with `seed` (a golden-ratio stride, so chunks never share a seed). */
export function chunkSeed(seed: number, i: number): number {
  return (seed + Math.imul(i, 0x9e3779b1)) | 0;
}

/** `<Name>: <message>` of anything thrown. */
export function describeError(err: unknown): { message: string; stack: string } {
  if (err instanceof Error) return { message: `${err.name}: ${err.message}`, stack: err.stack ?? '' };
  return { message: `non-Error thrown: ${String(err)}`, stack: '' };
}

/**
 * The identity of a crash: its first message line with numbers and hex runs masked, and the first stack frame inside
 * this repository outside fast-check and the fuzz engine — so one bug found through many inputs counts once.
 */
export function crashSignature(message: string, stack: string): string {
  const firstLine = (message.split('\n')[0] ?? '').replace(/[0-9a-f]{8,}/gi, 'H').replace(/-?\d+/g, 'N').slice(0, 200);
  const frame = stack
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.startsWith('at ') && /\/(src|fuzz\/targets|test)\//.test(l) && !l.includes('node_modules'));
  const where = frame === undefined ? '' : (/\(?([^()\s]+?):\d+:\d+\)?$/.exec(frame)?.[1] ?? frame).replace(/^.*\/(src|fuzz|test)\//, '$1/');
  return createHash('sha256').update(`${firstLine}|${where}`).digest('hex').slice(0, 12);
}

/** Default inputs per fast-check call. */
function defaultChunkRuns(target: AnyFuzzTarget): number {
  return target.chunkRuns ?? (target.async ? 1_000 : 10_000);
}

/**
 * Fuzzes `target` (already set up, context `ctx`) in this thread.
 * Every input the target's run function throws on (including during shrinking) counts as run; a chunk that fails is
 * shrunk and reported, and the loop continues with the next chunk.
 */
export async function runFuzzLoop(target: AnyFuzzTarget, ctx: unknown, options: FuzzLoopOptions): Promise<FuzzLoopResult> {
  const maxCrashes = options.maxCrashes ?? 5;
  const perChunk = defaultChunkRuns(target);
  const arbitrary = target.input(ctx);
  let inputsRun = 0;
  const before = (input: unknown): void => {
    inputsRun++;
    options.onInput?.(input);
  };
  const property = target.async
    ? fc.asyncProperty(arbitrary, async (input) => {
        before(input);
        await target.run(input, ctx);
      })
    : fc.property(arbitrary, (input) => {
        before(input);
        // A sync target that returned a promise would hide its failures: refuse it.
        if (target.run(input, ctx) instanceof Promise) throw new Error(`target ${target.name} returned a promise but is not marked async`);
      });
  const crashes: CrashRecord[] = [];
  const seen = new Set<string>();
  let chunk = options.startChunk ?? 0;
  while (inputsRun < options.runs && seen.size < maxCrashes) {
    const seed = chunkSeed(options.seed, chunk);
    const numRuns = Math.min(perChunk, options.runs - inputsRun);
    const details = await fc.check(property as fc.IAsyncProperty<[unknown]>, { numRuns, seed });
    chunk++;
    if (details.failed) {
      const [input] = (details.counterexample ?? [undefined]) as [unknown];
      const { message, stack } = describeError(details.errorInstance);
      const signature = crashSignature(message, stack);
      if (!seen.has(signature)) {
        seen.add(signature);
        const crash: CrashRecord = { signature, message, stack, input: encodeInput(input), seed, path: details.counterexamplePath };
        crashes.push(crash);
        options.onCrash?.(crash);
      }
    }
    options.onChunk?.({ inputsRun, chunk });
  }
  return { inputsRun, nextChunk: chunk, crashes };
}
