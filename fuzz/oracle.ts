/**
 * The checks every target's run function is built from: "returns a value or throws the documented error class",
 * "re-encodes to the same bytes", and the engine errors that are never an acceptable refusal (stack overflow, failed
 * allocation) even when their class is one a decoder documents.
 */
import { FuzzFinding } from './target.js';

/** V8 messages of errors that mean a resource ran out, not that the input was refused. */
const ENGINE_ERROR_MESSAGES = [
  'Maximum call stack size exceeded',
  'Invalid array length',
  'Invalid typed array length',
  'Array buffer allocation failed',
  'Invalid string length',
  'out of memory',
];

/** True for an error V8 throws when a resource runs out (stack, array or string size, allocation). */
export function isEngineError(err: unknown): boolean {
  return err instanceof Error && ENGINE_ERROR_MESSAGES.some((m) => err.message.includes(m));
}

/** A refusal predicate: the error classes (and, optionally, a test on the error) a decoder documents. */
export type RefusalRule = (err: unknown) => boolean;

/** A rule accepting instances of `cls` (and `check(err)` when given), never an engine resource error. */
export function refusal<E extends Error>(cls: abstract new (...args: never[]) => E, check?: (err: E) => boolean): RefusalRule {
  return (err) => err instanceof cls && !isEngineError(err) && (check === undefined || check(err));
}

/**
 * Runs `decode`. Returns its value, or undefined when it threw an error some rule accepts (a documented refusal).
 * Any other exception propagates as the crash it is.
 */
export function decodeOrRefusal<T>(decode: () => T, ...rules: RefusalRule[]): T | undefined {
  try {
    return decode();
  } catch (err) {
    if (rules.some((rule) => rule(err))) return undefined;
    throw err;
  }
}

/** Async decodeOrRefusal, for decoders that return a promise (keystore unsealing). */
export async function decodeOrRefusalAsync<T>(decode: () => Promise<T>, ...rules: RefusalRule[]): Promise<T | undefined> {
  try {
    return await decode();
  } catch (err) {
    if (rules.some((rule) => rule(err))) return undefined;
    throw err;
  }
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** @throws FuzzFinding when the two byte strings differ (the message shows where). */
export function assertSameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  if (actual.length === expected.length && Buffer.compare(actual, expected) === 0) return;
  let i = 0;
  while (i < actual.length && i < expected.length && actual[i] === expected[i]) i++;
  throw new FuzzFinding(
    `${what}: ${actual.length} bytes vs ${expected.length}, first difference at byte ${i} ` +
      `(${hex(actual.subarray(i, i + 8))} vs ${hex(expected.subarray(i, i + 8))})`,
  );
}

/** @throws FuzzFinding with `message` unless `condition` holds. */
export function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new FuzzFinding(message);
}
