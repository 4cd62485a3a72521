import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
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

/**
 * Reports how many vectors of a file passed, in the test output (`[vectors] <file>: P/T passed`), and fails the test
 * unless every one passed and there was at least one (or exactly `expectedTotal` when given).
 */
export function reportVectors(t: TestContext, file: string, passed: number, total: number, expectedTotal?: number): void {
  t.diagnostic(`[vectors] ${file}: ${passed}/${total} passed`);
  assert.ok(total > 0, `${file}: no vectors were run`);
  if (expectedTotal !== undefined) assert.equal(total, expectedTotal, `${file}: expected ${expectedTotal} vectors`);
  assert.equal(passed, total, `${file}: ${total - passed} vectors failed`);
}
