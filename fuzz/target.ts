/**
 * What a fuzz target is: a structure-aware input generator (a fast-check arbitrary) and a run function whose every
 * exception is a crash. The decoder and handler contracts ("returns a value or throws its documented error class",
 * "re-encodes to the same bytes", "never answers 500") live in each target's run function, through fuzz/oracle.ts.
 */
import type fc from 'fast-check';

/**
 * One fuzz target. `setup` builds what the inputs are run against (a regtest node and its servers, a sealed keystore);
 * `input` makes inputs from it; `run` executes one input and throws on a contract violation (any exception it lets
 * escape is a crash). `run` may be async (HTTP targets); then `async` must be true.
 */
export interface FuzzTarget<I, C> {
  /** Short kebab-case name used by `npm run fuzz -- --target <name>` and in crash file names. */
  readonly name: string;
  /** One line: what is fuzzed and what the property is. */
  readonly description: string;
  /** True when run returns a promise (it is then awaited input by input). */
  readonly async?: boolean;
  /** Inputs per fast-check call (each call has its own seed; default 10,000 for sync targets, 1,000 for async). */
  readonly chunkRuns?: number;
  setup?(): Promise<C> | C;
  teardown?(ctx: C): Promise<void> | void;
  input(ctx: C): fc.Arbitrary<I>;
  run(input: I, ctx: C): void | Promise<void>;
}

/** A target of any input and context type, as the registry holds them. */
// Method syntax in FuzzTarget makes run/input bivariant, so every FuzzTarget<I, C> is assignable to this.
export type AnyFuzzTarget = FuzzTarget<unknown, unknown>;

/** Identity helper that types a target's input and context from its arbitrary and setup. */
export function defineTarget<I, C = undefined>(target: FuzzTarget<I, C>): FuzzTarget<I, C> {
  return target;
}

/**
 * A property violation found by a target's oracle (a decode that does not round-trip, a 500, a leaked internal
 * message). Any other exception escaping a target's run is a crash too; this class only names the rule broken.
 */
export class FuzzFinding extends Error {
  override readonly name = 'FuzzFinding';
}
