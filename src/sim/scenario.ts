/**
 * Scenario files (`cairn sim run <scenario.json>`): parsing with clear refusals, running the named experiment, and
 * writing its results as JSON, CSV and an SVG chart. Results carry no wall-clock data, so the same scenario (seed)
 * writes the same files byte for byte.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  runDoubleSpend,
  runFairness,
  runPartition,
  runSelfish,
  runStale,
  type DoubleSpendScenario,
  type ExperimentResult,
  type FairnessScenario,
  type PartitionScenario,
  type ProgressFn,
  type SelfishScenario,
  type StaleScenario,
} from './experiments.js';
import { SimError } from './simError.js';
import { renderSvgChart } from './svgChart.js';

/** Any scenario a file may hold, told apart by `experiment`. */
export type Scenario = StaleScenario | DoubleSpendScenario | SelfishScenario | FairnessScenario | PartitionScenario;

/** Largest block or trial count a scenario may ask for (keeps memory bounded: every user holds its chain in memory). */
export const MAX_SCENARIO_BLOCKS = 200_000;

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(o: Record<string, unknown>, key: string, opts: { required?: boolean; min?: number; max?: number; int?: boolean } = {}): void {
  const v = o[key];
  if (v === undefined) {
    if (opts.required) throw new SimError('bad-scenario', `missing "${key}"`);
    return;
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new SimError('bad-scenario', `"${key}" must be a number`);
  if (opts.int && !Number.isInteger(v)) throw new SimError('bad-scenario', `"${key}" must be an integer`);
  if (opts.min !== undefined && v < opts.min) throw new SimError('bad-scenario', `"${key}" must be ≥ ${opts.min}`);
  if (opts.max !== undefined && v > opts.max) throw new SimError('bad-scenario', `"${key}" must be ≤ ${opts.max}`);
}

function numList(o: Record<string, unknown>, key: string, opts: { required?: boolean; min?: number; max?: number; int?: boolean } = {}): void {
  const v = o[key];
  if (v === undefined) {
    if (opts.required) throw new SimError('bad-scenario', `missing "${key}"`);
    return;
  }
  if (!Array.isArray(v) || v.length === 0 || v.length > 100) throw new SimError('bad-scenario', `"${key}" must be a list of 1..100 numbers`);
  v.forEach((_x, i) => num(v as unknown as Record<string, unknown>, String(i), { ...opts, required: true }));
}

/**
 * Checks a parsed scenario object and returns it typed.
 * @throws SimError bad-scenario naming the field at fault
 */
export function parseScenario(value: unknown): Scenario {
  if (!isObj(value)) throw new SimError('bad-scenario', 'a scenario is a JSON object');
  if (typeof value['seed'] !== 'string' || value['seed'].length === 0) throw new SimError('bad-scenario', 'missing "seed" (a non-empty string)');
  const blocks = { min: 1, max: MAX_SCENARIO_BLOCKS, int: true };
  if (value['topology'] !== undefined) {
    const t = value['topology'];
    if (!isObj(t) || !['mesh', 'ring', 'random'].includes(String(t['kind']))) throw new SimError('bad-scenario', '"topology" must be {kind: mesh|ring|random}');
    if (t['kind'] === 'random') num(t, 'degree', { required: true, min: 1, int: true });
  }
  num(value, 'blockIntervalSec', { min: 1 });
  num(value, 'confidence', { min: 0.5, max: 0.999 });
  switch (value['experiment']) {
    case 'stale':
      num(value, 'users', { min: 2, max: 200, int: true });
      numList(value, 'delaysSec', { required: true, min: 0, max: 3600 });
      num(value, 'blocks', { ...blocks, required: true });
      num(value, 'linkLatencyMs', { min: 0 });
      num(value, 'bandwidthBitsPerSec', { min: 1 });
      num(value, 'replications', { min: 1, max: 1000, int: true });
      if (value['delayKind'] !== undefined && value['delayKind'] !== 'link' && value['delayKind'] !== 'announce') {
        throw new SimError('bad-scenario', '"delayKind" must be link or announce');
      }
      return value as unknown as StaleScenario;
    case 'doubleSpend':
      numList(value, 'q', { min: 0.001, max: 0.499 });
      numList(value, 'z', { required: true, min: 0, max: 100, int: true });
      num(value, 'trials', { ...blocks, required: true });
      num(value, 'giveUpDeficit', { min: 1, max: 1000, int: true });
      return value as unknown as DoubleSpendScenario;
    case 'selfish':
      numList(value, 'alphas', { required: true, min: 0.001, max: 0.499 });
      numList(value, 'gammas', { min: 0, max: 1 });
      num(value, 'honestMiners', { min: 1, max: 200, int: true });
      num(value, 'blocks', { ...blocks, required: true });
      num(value, 'honestLatencyMs', { min: 0 });
      num(value, 'batches', { min: 2, max: 1000, int: true });
      num(value, 'replications', { min: 1, max: 1000, int: true });
      return value as unknown as SelfishScenario;
    case 'fairness':
      num(value, 'users', { min: 2, max: 200, int: true });
      num(value, 'largeShare', { min: 0.001, max: 0.999 });
      num(value, 'largeLatencySec', { min: 0 });
      num(value, 'latencySec', { min: 0 });
      num(value, 'blocks', { ...blocks, required: true });
      num(value, 'batches', { min: 2, max: 1000, int: true });
      return value as unknown as FairnessScenario;
    case 'partition':
      num(value, 'users', { min: 2, max: 200, int: true });
      num(value, 'lightShare', { min: 0.001, max: 0.999 });
      num(value, 'partitionSec', { min: 1, max: 1e9 });
      num(value, 'runs', { min: 1, max: 10_000, int: true });
      return value as unknown as PartitionScenario;
    default:
      throw new SimError('bad-scenario', '"experiment" must be one of stale, doubleSpend, selfish, fairness, partition');
  }
}

/**
 * Reads and checks a scenario file.
 * @throws SimError bad-scenario when the file is missing, not JSON, or fails parseScenario
 */
export function readScenarioFile(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SimError('bad-scenario', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SimError('bad-scenario', `${path} is not JSON: ${(err as Error).message}`);
  }
  return parseScenario(json);
}

/** Runs the experiment a scenario names. */
export function runScenario(sc: Scenario, progress?: ProgressFn): Promise<ExperimentResult> {
  switch (sc.experiment) {
    case 'stale':
      return runStale(sc, progress);
    case 'doubleSpend':
      return runDoubleSpend(sc, progress);
    case 'selfish':
      return runSelfish(sc, progress);
    case 'fairness':
      return runFairness(sc, progress);
    case 'partition':
      return runPartition(sc, progress);
  }
}

/** The results table as CSV (RFC 4180 quoting when a cell needs it). */
export function resultsCsv(result: ExperimentResult): string {
  const cell = (v: unknown): string => {
    const s = v === undefined ? '' : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [result.columns.join(','), ...result.rows.map((r) => result.columns.map((c) => cell(r[c])).join(','))].join('\n') + '\n';
}

/** The results table as aligned text for the terminal, with the notes below. */
export function resultsTable(result: ExperimentResult): string {
  const cols = result.columns;
  const cells = result.rows.map((r) => cols.map((c) => String(r[c] ?? '')));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (row: readonly string[]): string => row.map((v, i) => v.padStart(widths[i]!)).join('  ');
  return [`${result.experiment} (seed ${result.seed})`, line(cols), ...cells.map(line), ...result.notes.map((n) => `  ${n}`)].join('\n') + '\n';
}

/**
 * Writes results.json, results.csv and chart.svg into `dir` (created if needed). Returns the paths written.
 * Same result → same bytes.
 * @throws SimError io-error when the folder or a file cannot be written
 */
export function writeResults(dir: string, result: ExperimentResult, scenario?: Scenario): string[] {
  try {
    return writeResultFiles(dir, result, scenario);
  } catch (err) {
    throw new SimError('io-error', `cannot write results to ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

function writeResultFiles(dir: string, result: ExperimentResult, scenario?: Scenario): string[] {
  mkdirSync(dir, { recursive: true });
  const files = {
    json: join(dir, 'results.json'),
    csv: join(dir, 'results.csv'),
    svg: join(dir, 'chart.svg'),
  };
  const { chart, ...rest } = result;
  writeFileSync(files.json, JSON.stringify({ scenario, ...rest }, null, 2) + '\n');
  writeFileSync(files.csv, resultsCsv(result));
  writeFileSync(files.svg, renderSvgChart(chart));
  return [files.json, files.csv, files.svg];
}
