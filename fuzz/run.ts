/**
 * `npm run fuzz`: fuzzes every target (or those named with --target) to a count of inputs, printing per target the
 * inputs run, inputs/s and crashes found; reproducers of crashes go to fuzz/crashes/. Exits 1 when any target crashed.
 *
 *   npm run fuzz                                  every target, 1,000,000 inputs each
 *   npm run fuzz -- --runs 50000 --target tx      one target, fewer inputs
 *   npm run fuzz -- --seed 42                     repeat a run (the seed is printed)
 *   npm run fuzz -- --replay fuzz/crashes/x.json  run one saved input again and show what it does
 *   npm run fuzz -- --list                        list the targets
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { describeError } from './engine.js';
import { decodeInput } from './inputCodec.js';
import { fuzzTarget, type FuzzTargetReport } from './runner.js';
import type { AnyFuzzTarget } from './target.js';
import { TARGET_NAMES, TARGETS } from './targets/index.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '1000000' },
    target: { type: 'string', multiple: true },
    seed: { type: 'string' },
    'max-crashes': { type: 'string', default: '5' },
    'hang-ms': { type: 'string', default: '30000' },
    replay: { type: 'string' },
    list: { type: 'boolean', default: false },
  },
});

function positiveInt(text: string, what: string): number {
  const n = Number(text.replaceAll('_', ''));
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${what} must be a positive integer, got ${text}`);
  return n;
}

async function loadTarget(name: string): Promise<AnyFuzzTarget> {
  const ref = TARGETS[name];
  if (ref === undefined) throw new Error(`unknown target ${name} (targets: ${TARGET_NAMES.join(', ')})`);
  return ((await import(ref.moduleUrl)) as Record<string, AnyFuzzTarget>)[ref.exportName]!;
}

/** Runs one saved input against its target and prints the outcome; 0 when it no longer crashes. */
async function replay(file: string): Promise<number> {
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { target: string; input: unknown };
  const target = await loadTarget(saved.target);
  const ctx = await target.setup?.();
  try {
    await target.run(decodeInput(JSON.stringify(saved.input)), ctx);
    console.log(`${file}: target ${saved.target} ran the input without a crash`);
    return 0;
  } catch (err) {
    const { stack, message } = describeError(err);
    console.log(`${file}: target ${saved.target} crashes:\n${stack || message}`);
    return 1;
  } finally {
    await target.teardown?.(ctx);
  }
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

async function main(): Promise<number> {
  if (values.list) {
    for (const name of TARGET_NAMES) console.log(`${name.padEnd(22)} ${(await loadTarget(name)).description}`);
    return 0;
  }
  if (values.replay !== undefined) return replay(values.replay);
  const runs = positiveInt(values.runs, 'runs');
  const names = values.target ?? TARGET_NAMES;
  for (const name of names) if (TARGETS[name] === undefined) throw new Error(`unknown target ${name} (targets: ${TARGET_NAMES.join(', ')})`);
  const seed = values.seed === undefined ? undefined : Number(values.seed) | 0;
  const reports: FuzzTargetReport[] = [];
  for (const name of names) {
    let lastPrint = performance.now();
    const report = await fuzzTarget(name, TARGETS[name]!, {
      runs,
      ...(seed === undefined ? {} : { seed }),
      maxCrashes: positiveInt(values['max-crashes'], 'max-crashes'),
      hangMs: positiveInt(values['hang-ms'], 'hang-ms'),
      onProgress: (n) => {
        if (performance.now() - lastPrint < 15_000) return;
        lastPrint = performance.now();
        process.stderr.write(`  ${name}: ${fmt(n)} / ${fmt(runs)} inputs\n`);
      },
    });
    reports.push(report);
    console.log(
      `${name}: ${fmt(report.inputsRun)} inputs in ${(report.elapsedMs / 1000).toFixed(1)} s (${fmt(report.inputsPerSec)}/s), ` +
        `${report.crashes.length} crashes, seed ${report.seed}, setup ${fmt(report.setupMs)} ms, ` +
        `${report.regressionsReplayed} regression inputs replayed, peak RSS ${fmt(report.peakRssBytes / 2 ** 20)} MiB`,
    );
    if (report.stoppedEarly !== undefined) console.log(`  stopped before ${fmt(runs)} inputs: ${report.stoppedEarly}`);
    for (const crash of report.crashes) console.log(`  CRASH ${crash.message.split('\n')[0]}\n    reproducer: ${crash.file ?? '(not saved)'}`);
  }
  console.log('\ntarget                  inputs run    inputs/s  crashes');
  for (const r of reports) {
    console.log(`${r.target.padEnd(22)} ${fmt(r.inputsRun).padStart(11)} ${fmt(r.inputsPerSec).padStart(11)} ${String(r.crashes.length).padStart(8)}`);
  }
  const crashed = reports.filter((r) => r.crashes.length > 0).length;
  console.log(crashed === 0 ? '\nno crashes' : `\n${crashed} target(s) crashed; reproducers under fuzz/crashes/`);
  return crashed === 0 ? 0 : 1;
}

process.exitCode = await main();
