/**
 * The fuzz targets (fuzz/targets/) in short runs, through the same runner as `npm run fuzz` (a worker thread per
 * target, hang and heap watchdogs, every saved regression input replayed first); and the runner itself against targets
 * with planted defects, so that "0 crashes" means something. CAIRN_FUZZ_RUNS sets the inputs per target (default
 * 2,000), CAIRN_FUZZ_SEED the seed (default random; it is printed, and a crash's reproducer is saved under
 * fuzz/crashes/).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeInput, encodeInput } from '../fuzz/inputCodec.js';
import { applyByteMutation, applyJsonMutation, compactSizeBytes, mutatedBytes } from '../fuzz/mutate.js';
import { fuzzTarget, readRegressionInputs, type FuzzTargetReport } from '../fuzz/runner.js';
import { TARGET_NAMES, TARGETS } from '../fuzz/targets/index.js';
import type { AnyFuzzTarget } from '../fuzz/target.js';
import type { TargetRef } from '../fuzz/workerProtocol.js';
import * as canaries from './fixtures/fuzzCanaries.js';

const RUNS = Number(process.env['CAIRN_FUZZ_RUNS'] ?? 2_000);
const SEED = process.env['CAIRN_FUZZ_SEED'] === undefined ? (Math.random() * 2 ** 31) | 0 : Number(process.env['CAIRN_FUZZ_SEED']);

function describeCrashes(report: FuzzTargetReport): string {
  return report.crashes.map((c) => `${c.message.split('\n')[0]} (reproducer ${c.file ?? 'not saved'})`).join('\n');
}

describe(`fuzz targets, ${RUNS} inputs each, seed ${SEED}`, () => {
  for (const name of TARGET_NAMES) {
    it(`${name}: no crash`, async () => {
      const report = await fuzzTarget(name, TARGETS[name]!, { runs: RUNS, seed: SEED });
      assert.equal(report.crashes.length, 0, `${name} crashed (seed ${SEED}):\n${describeCrashes(report)}`);
      assert.ok(report.inputsRun >= RUNS, `${name} ran ${report.inputsRun} of ${RUNS} inputs`);
      assert.equal(report.regressionsReplayed, readRegressionInputs(name).length, 'every saved regression input replayed');
    });
  }
});

describe('fuzz runner finds planted defects', () => {
  const crashDir = mkdtempSync(join(tmpdir(), 'cairn-fuzz-canary-'));
  after(() => rmSync(crashDir, { recursive: true, force: true }));
  const canary = (exportName: string): TargetRef => ({ moduleUrl: new URL('./fixtures/fuzzCanaries.ts', import.meta.url).href, exportName });

  it('an exception of the wrong class: found, shrunk to a minimal input, saved as a reproducer that still crashes', async () => {
    const report = await fuzzTarget('canary-wrong-error', canary('wrongErrorClass'), { runs: 5_000, seed: 1, crashDir, maxCrashes: 1 });
    assert.equal(report.crashes.length, 1);
    const [crash] = report.crashes;
    assert.match(crash!.message, /^TypeError: planted bug/);
    const input = decodeInput(crash!.input) as Uint8Array;
    assert.deepEqual([...input], [0xff, 0], 'shrunk to the smallest input that triggers it');
    const saved = JSON.parse(readFileSync(crash!.file!, 'utf8')) as { target: string; input: unknown };
    assert.equal(saved.target, 'canary-wrong-error');
    assert.deepEqual(readFileSync(crash!.file!.replace(/\.json$/, '.bin')), Buffer.from([0xff, 0]));
    assert.throws(() => canaries.wrongErrorClass.run(decodeInput(JSON.stringify(saved.input)) as Uint8Array, undefined), TypeError);
  });

  it('a broken round-trip: found and reported with the rule it broke', async () => {
    const report = await fuzzTarget('canary-round-trip', canary('brokenRoundTrip'), { runs: 2_000, seed: 2, crashDir: null, maxCrashes: 1 });
    assert.equal(report.crashes.length, 1);
    assert.match(report.crashes[0]!.message, /^FuzzFinding: re-encoded 4 bytes of 5/);
  });

  it('a hang: the watchdog stops the worker, saves the input that hung and carries on to the count', async () => {
    const report = await fuzzTarget('canary-hang', canary('hang'), { runs: 3_000, seed: 3, crashDir: null, hangMs: 1_500, maxCrashes: 1 });
    assert.equal(report.crashes.length, 1);
    assert.match(report.crashes[0]!.message, /^Hang: no new input for 1500 ms/);
    assert.equal((decodeInput(report.crashes[0]!.input) as Uint8Array)[0], 0xab);
  });

  it('unbounded memory: the worker hits its heap limit, the input that did it is saved', async () => {
    const report = await fuzzTarget('canary-memory', canary('unboundedMemory'), {
      runs: 3_000,
      seed: 4,
      crashDir: null,
      maxOldGenerationSizeMb: 96,
      maxCrashes: 1,
    });
    assert.equal(report.crashes.length, 1);
    assert.match(report.crashes[0]!.message, /^OutOfMemory: heap over 96 MiB/);
    assert.equal((decodeInput(report.crashes[0]!.input) as Uint8Array)[0], 0xee);
  });

  it('a clean target: exactly the inputs asked for, no crash, nothing saved', async () => {
    const report = await fuzzTarget('canary-clean', canary('clean'), { runs: 25_000, seed: 5, crashDir });
    assert.deepEqual(report.crashes, []);
    assert.equal(report.inputsRun, 25_000);
    assert.equal(existsSync(join(crashDir, 'canary-clean')), false);
  });
});

describe('fuzz mutators and input codec', () => {
  const bytes = Uint8Array.of(1, 2, 3, 4, 5, 6);
  const other = Uint8Array.of(0xa, 0xb, 0xc);
  const apply = (m: Parameters<typeof applyByteMutation>[1]): number[] => [...applyByteMutation(bytes, m, other)];

  it('byte edits do what they say, positions taken modulo the length', () => {
    assert.deepEqual(apply({ kind: 'flip', at: 7, bit: 7 }), [1, 130, 3, 4, 5, 6]);
    assert.deepEqual(apply({ kind: 'set', at: 0, value: 0xfd }), [0xfd, 2, 3, 4, 5, 6]);
    assert.deepEqual(apply({ kind: 'truncate', at: 2 }), [1, 2]);
    assert.deepEqual(apply({ kind: 'delete', at: 1, length: 2 }), [1, 4, 5, 6]);
    assert.deepEqual(apply({ kind: 'insert', at: 6, bytes: Uint8Array.of(9) }), [1, 2, 3, 4, 5, 6, 9]);
    assert.deepEqual(apply({ kind: 'duplicate', at: 0, length: 2, to: 6 }), [1, 2, 3, 4, 5, 6, 1, 2]);
    assert.deepEqual(apply({ kind: 'splice', at: 2, from: 1 }), [1, 2, 0xb, 0xc]);
    assert.deepEqual(apply({ kind: 'compactSize', at: 1, value: 0x10000n, width: 5, overwrite: true }), [1, 0xfe, 0, 0, 1, 0]);
    assert.deepEqual(apply({ kind: 'compactSize', at: 0, value: 5n, width: 3, overwrite: false }), [0xfd, 5, 0, 1, 2, 3, 4, 5, 6]);
    assert.deepEqual(apply({ kind: 'u32', at: 5, value: 0xffffffff }), [1, 2, 0xff, 0xff, 0xff, 0xff]);
  });

  it('compact sizes in forced widths, canonical or not, as Bitcoin lays them out', () => {
    assert.deepEqual([...compactSizeBytes(0xfcn, 1)], [0xfc]);
    assert.deepEqual([...compactSizeBytes(0xfdn, 3)], [0xfd, 0xfd, 0x00]);
    assert.deepEqual([...compactSizeBytes(1n, 9)], [0xff, 1, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual([...compactSizeBytes(0xffffffffffffffffn, 9)], [0xff, ...new Array<number>(8).fill(0xff)]);
  });

  it('JSON edits replace, delete and add (prototype-named keys as own keys, as JSON.parse makes them)', () => {
    const doc = { a: 1, b: { c: [1, 2] } };
    assert.deepEqual(applyJsonMutation(doc, { kind: 'replace', path: [1, 0, 1], value: 'x' }), { a: 1, b: { c: [1, 'x'] } });
    assert.deepEqual(applyJsonMutation(doc, { kind: 'delete', path: [0] }), { b: { c: [1, 2] } });
    assert.equal(JSON.stringify(applyJsonMutation(doc, { kind: 'add', path: [], key: '__proto__', value: 7 })), '{"a":1,"b":{"c":[1,2]},"__proto__":7}');
    assert.deepEqual(doc, { a: 1, b: { c: [1, 2] } }, 'the input is not modified');
  });

  it('mutated inputs stay within their bound', () => {
    fc.assert(fc.property(mutatedBytes(fc.uint8Array({ maxLength: 100 }), { maxLength: 64 }), (b) => b.length <= 64));
  });

  it('inputs round-trip through the crash-file encoding (bytes and bigints tagged)', () => {
    fc.assert(
      // A document that itself has a lone "$bytes"/"$bigint" key would read back as the tag: not an input any target makes.
      fc.property(fc.jsonValue().filter((v) => !JSON.stringify(v).includes('"$b')), fc.uint8Array(), fc.bigInt(), (json, b, n) => {
        const input = { json, b, nested: [b, { n }] };
        // JSON has no -0 (fc.jsonValue makes one; JSON.stringify writes it as 0): the file holds the JSON form.
        const jsonForm: unknown = JSON.parse(JSON.stringify(json));
        assert.deepEqual(decodeInput(encodeInput(input)), { json: jsonForm, b: new Uint8Array(b), nested: [new Uint8Array(b), { n }] });
      }),
    );
  });
});

/** Type check: the canaries are targets like the real ones. */
const _canariesAreTargets: readonly AnyFuzzTarget[] = Object.values(canaries);
void _canariesAreTargets;
