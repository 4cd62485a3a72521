import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import assert from 'node:assert/strict';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Directory of the shared external test vectors: $CAIRN_VECTORS, else `../shared/vectors` beside the checkout.
 * Tests read vectors from there; they are never copied into the repo.
 */
export const VECTORS_DIR = process.env['CAIRN_VECTORS'] ?? join(repoRoot, '..', 'shared', 'vectors');

/** Absolute path of a vector file; throws if it is missing so a missing vector can never pass silently. */
export function vectorPath(name: string): string {
  const p = join(VECTORS_DIR, name);
  if (!existsSync(p)) throw new Error(`vector file missing: ${p} (set CAIRN_VECTORS or place ../shared beside the repo)`);
  return p;
}

/** Reads a vector file as UTF-8 text. */
export function readVectorText(name: string): string {
  return readFileSync(vectorPath(name), 'utf8');
}

/** Reads and parses a JSON vector file. */
export function readVectorJson<T = unknown>(name: string): T {
  return JSON.parse(readVectorText(name)) as T;
}

/** Reads a vector file as raw bytes. */
export function readVectorBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(vectorPath(name)));
}

/** Most failures named in a failing assertion's message (all of them go to the test's diagnostics). */
const MAX_FAILURES_IN_MESSAGE = 10;

/**
 * Reports how many vectors of a file passed, in the test output (`[vectors] <file>: P/T passed`), and fails the test
 * unless every one passed and there was at least one (or exactly `expectedTotal` when given). `failures` name the
 * vectors that failed and the field that differed ("<vector>: <field>: expected …, got …"); the first ones are in the
 * assertion's message, all of them in the diagnostics.
 */
export function reportVectors(
  t: TestContext,
  file: string,
  passed: number,
  total: number,
  expectedTotal?: number,
  failures: readonly string[] = [],
): void {
  t.diagnostic(`[vectors] ${file}: ${passed}/${total} passed`);
  for (const f of failures) t.diagnostic(`[vectors] ${file}: ${f}`);
  assert.ok(total > 0, `${file}: no vectors were run`);
  if (expectedTotal !== undefined) assert.equal(total, expectedTotal, `${file}: expected ${expectedTotal} vectors`);
  const named = failures.length === 0 ? '' : `: ${failures.slice(0, MAX_FAILURES_IN_MESSAGE).join('; ')}${failures.length > MAX_FAILURES_IN_MESSAGE ? '; …' : ''}`;
  assert.equal(passed, total, `${file}: ${total - passed} vectors failed${named}`);
}

/** A value as a failure message shows it: bytes in hex, bigints with n, strings quoted, the rest as JSON. */
export function describeVectorValue(value: unknown): string {
  if (value instanceof Uint8Array) return `0x${Buffer.from(value).toString('hex')}`;
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
  } catch {
    return String(value);
  }
}

/**
 * The tally of one vector file: each vector is checked field by field, and a failing one is recorded as
 * "<vector>: <field>: expected <value>, got <value>" so the failing test names the vector and the field. report()
 * ends the test through reportVectors.
 */
export class VectorTally {
  /** Vectors that passed every check. */
  passed = 0;
  /** Vectors checked. */
  total = 0;
  /** One line per failed vector: which one, which field, what differed. */
  readonly failures: string[] = [];

  constructor(
    /** The file (and section) the vectors come from, as reported. */
    readonly file: string,
  ) {}

  /**
   * Checks one vector: `fields` maps a field name to [actual, expected], compared with isDeepStrictEqual (bytes,
   * bigints and objects by value). A vector that throws while its fields are computed should use run(). Returns
   * whether every field matched.
   */
  check(vector: string, fields: Readonly<Record<string, readonly [actual: unknown, expected: unknown]>>): boolean {
    this.total++;
    const wrong = Object.entries(fields)
      .filter(([, [actual, expected]]) => !isDeepStrictEqual(actual, expected))
      .map(([field, [actual, expected]]) => `${field}: expected ${describeVectorValue(expected)}, got ${describeVectorValue(actual)}`);
    if (wrong.length === 0) {
      this.passed++;
      return true;
    }
    this.failures.push(`${vector}: ${wrong.join(', ')}`);
    return false;
  }

  /**
   * Checks one vector whose checks are assertions (their messages name the field) or whose computation may throw:
   * the first failed assertion or exception is recorded as "<vector>: <message>". Returns whether it passed.
   */
  run(vector: string, body: () => void): boolean {
    this.total++;
    try {
      body();
    } catch (e) {
      const message = (e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, ' ').trim().slice(0, 300);
      this.failures.push(`${vector}: ${message}`);
      return false;
    }
    this.passed++;
    return true;
  }

  /** Fails the test unless every vector passed (and there were `expectedTotal` of them, when given). */
  report(t: TestContext, expectedTotal?: number): void {
    reportVectors(t, this.file, this.passed, this.total, expectedTotal, this.failures);
  }
}
