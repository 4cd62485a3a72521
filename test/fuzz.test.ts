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
import { decodeInput } from '../fuzz/inputCodec.js';
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

/** Type check: the canaries are targets like the real ones. */
const _canariesAreTargets: readonly AnyFuzzTarget[] = Object.values(canaries);
void _canariesAreTargets;
