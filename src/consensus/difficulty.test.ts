import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChainParams } from '../params/chainParams.js';
import { bitcoin as bitcoinParamsForTests } from '../params/networks.js';
import { readVectorJson, readVectorText, reportVectors, VectorTally } from '../testing/vectors.js';
import { calculateBitcoinRetarget, computeAsertBits, computeAsertTarget, getNextWorkRequired } from './difficulty.js';
import { bitsToTarget, targetToBits } from './pow.js';

/** Bitcoin (and BCH) mainnet powLimit: uint256{"00000000ffff...ff"} in Core's and BCHN's chainparams. */
const POW_LIMIT = BigInt('0x00000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffff');

interface RetargetCase {
  name: string;
  lastRetargetTime: number;
  lastHeight: number;
  lastTime: number;
  lastBits: string;
  expectedNextBits: string;
}

test('Bitcoin retarget: Core pow_tests cases', (t) => {
  const file = 'bitcoin-core-pow-retarget-cases.json';
  const { cases } = readVectorJson<{ cases: RetargetCase[] }>(file);
  const tally = new VectorTally(file);
  for (const c of cases) {
    const lastBits = Number(c.lastBits);
    const expected = Number(c.expectedNextBits);
    const direct = calculateBitcoinRetarget(lastBits, c.lastRetargetTime, c.lastTime, {
      targetTimespanSec: 1_209_600,
      powLimit: POW_LIMIT,
    });
    // The same case through the dispatcher: the tip is the period's last block, the ancestor its first.
    let askedHeight: number | undefined;
    const viaParams = getNextWorkRequired(
      bitcoinParamsForTests,
      { height: c.lastHeight, time: c.lastTime, bits: lastBits },
      (height) => {
        askedHeight = height;
        return { time: c.lastRetargetTime, bits: lastBits };
      },
    );
    const hex = (bits: number): string => `0x${bits.toString(16).padStart(8, '0')}`;
    tally.check(c.name, {
      'calculateBitcoinRetarget bits': [hex(direct), hex(expected)],
      'getNextWorkRequired bits': [hex(viaParams), hex(expected)],
      'ancestor height asked': [askedHeight, c.lastHeight - 2015],
    });
  }
  tally.report(t, 4);
});

test('Bitcoin rules keep the bits between retargets and never consult ancestors there', () => {
  const never = (): never => assert.fail('ancestor must not be called off a retarget boundary');
  for (const height of [0, 1, 2013, 2014, 2016, 4030]) {
    assert.equal(getNextWorkRequired(bitcoinParamsForTests, { height, time: 1, bits: 0x1c05a3f4 }, never), 0x1c05a3f4);
  }
});

test('difficulty rule none keeps the tip bits', () => {
  const params: ChainParams = { ...bitcoinParamsForTests, difficulty: { kind: 'none' } };
  const never = (): never => assert.fail('ancestor must not be called');
  assert.equal(getNextWorkRequired(params, { height: 2015, time: 1, bits: 0x207fffff }, never), 0x207fffff);
});

interface AsertRun {
  run: number;
  anchorHeight: string;
  anchorParentTime: number;
  anchorNBits: string;
  iterations: number;
  vectors: [string, number, string][];
}

interface AsertRunsFile {
  params: { idealBlockTime: number; halfLife: number; radixBits: number; powLimitBits: string };
  runs: AsertRun[];
}

test('ASERT aserti3-2d: all 12 BCHN runs (JSON)', (t) => {
  const file = 'asert-aserti3-2d-runs.json';
  const data = readVectorJson<AsertRunsFile>(file);
  const { idealBlockTime, halfLife, powLimitBits } = data.params;
  assert.equal(targetToBits(POW_LIMIT), Number(powLimitBits));
  assert.equal(data.runs.length, 12);
  let passedAll = 0;
  let totalAll = 0;
  const allFailures: string[] = [];
  for (const run of data.runs) {
    const tally = new VectorTally(`${file} run${String(run.run).padStart(2, '0')}`);
    for (const [height, time, nBits] of run.vectors) {
      const got = computeAsertBits(
        Number(run.anchorNBits),
        run.anchorParentTime,
        BigInt(run.anchorHeight),
        BigInt(height),
        BigInt(time),
        halfLife,
        POW_LIMIT,
        idealBlockTime,
      );
      tally.check(`run${run.run} height ${height} time ${time}`, { nBits: [`0x${got.toString(16)}`, `0x${Number(nBits).toString(16)}`] });
    }
    tally.report(t, run.iterations);
    passedAll += tally.passed;
    totalAll += tally.total;
    allFailures.push(...tally.failures);
  }
  reportVectors(t, file, passedAll, totalAll, 13998, allFailures);
});

/** Parses BCHN's run-file format: `##   anchor ...: value` headers, then `iteration height time nBits` lines. */
function parseRunFile(text: string): {
  anchorHeight: bigint;
  anchorParentTime: bigint;
  anchorBits: number;
  iterations: number;
  lines: [bigint, bigint, number][];
} {
  const field = (name: string): string => {
    const m = new RegExp(`^##\\s+${name}:\\s*(\\S+)`, 'm').exec(text);
    if (!m?.[1]) throw new Error(`run file without "${name}"`);
    return m[1];
  };
  const lines: [bigint, bigint, number][] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const parts = line.split(/\s+/);
    if (parts.length !== 4) throw new Error(`bad run line: ${line}`);
    lines.push([BigInt(parts[1] as string), BigInt(parts[2] as string), Number(parts[3])]);
  }
  return {
    anchorHeight: BigInt(field('anchor height')),
    anchorParentTime: BigInt(field('anchor parent time')),
    anchorBits: Number(field('anchor nBits')),
    iterations: Number(field('iterations')),
    lines,
  };
}

test('ASERT aserti3-2d: BCHN run files run01..run12', (t) => {
  let totalAll = 0;
  for (let n = 1; n <= 12; n++) {
    const file = `aserti3-2d/run${String(n).padStart(2, '0')}`;
    const run = parseRunFile(readVectorText(file));
    const tally = new VectorTally(file);
    for (const [height, time, nBits] of run.lines) {
      const got = computeAsertBits(run.anchorBits, run.anchorParentTime, run.anchorHeight, height, time, 172800, POW_LIMIT, 600);
      tally.check(`height ${height} time ${time}`, { nBits: [`0x${got.toString(16)}`, `0x${nBits.toString(16)}`] });
    }
    tally.report(t, run.iterations);
    totalAll += run.lines.length;
  }
  assert.equal(totalAll, 13998);
});

test('ASERT through getNextWorkRequired with an anchor in params (run06)', (t) => {
  const data = readVectorJson<AsertRunsFile>('asert-aserti3-2d-runs.json');
  const run = data.runs.find((r) => r.run === 6);
  assert.ok(run);
  const params: ChainParams = {
    ...bitcoinParamsForTests,
    powLimit: POW_LIMIT,
    targetSpacingSec: data.params.idealBlockTime,
    difficulty: {
      kind: 'asert',
      halfLifeSec: data.params.halfLife,
      anchorHeight: Number(run.anchorHeight),
      anchorBits: Number(run.anchorNBits),
      anchorParentTimeSec: run.anchorParentTime,
    },
  };
  const never = (): never => assert.fail('ASERT needs no ancestors');
  const tally = new VectorTally('asert-aserti3-2d-runs.json run06 (via getNextWorkRequired)');
  for (const [height, time, nBits] of run.vectors) {
    // The tip's own bits do not matter to ASERT; pass something unrelated.
    const got = getNextWorkRequired(params, { height: Number(height), time, bits: 0x1d00ffff }, never);
    tally.check(`height ${height} time ${time}`, { nBits: [`0x${got.toString(16)}`, `0x${Number(nBits).toString(16)}`] });
  }
  tally.report(t, 1000);
  // The block at the anchor height (tip = its parent) carries the anchor's bits.
  assert.equal(getNextWorkRequired(params, { height: 0, time: 0, bits: 0x1d00ffff }, never), Number(run.anchorNBits));
});

test('computeAsertTarget saturates and refuses bad inputs', () => {
  const ref = bitsToTarget(0x1802aee8).target;
  // A time difference of a thousand half-lives pushes far past powLimit: the result is powLimit exactly.
  assert.equal(computeAsertTarget(ref, 600, 172800n * 1000n, 0n, POW_LIMIT, 172800), POW_LIMIT);
  // A thousand half-lives early (a huge height jump) can never go below 1.
  assert.equal(computeAsertTarget(ref, 600, 0n, 172800n * 1000n, POW_LIMIT, 600), 1n);
  assert.throws(() => computeAsertTarget(0n, 600, 0n, 0n, POW_LIMIT, 172800), RangeError);
  assert.throws(() => computeAsertTarget(POW_LIMIT + 1n, 600, 0n, 0n, POW_LIMIT, 172800), RangeError);
  assert.throws(() => computeAsertTarget(ref, 600, 0n, -1n, POW_LIMIT, 172800), RangeError);
});

test('devnet ASERT is anchored at its own block 1: a devnet started years after genesis begins at genesis bits', async () => {
  const { devnet } = await import('../params/networks.js');
  const rule = devnet.difficulty;
  assert.equal(rule.kind, 'asert');
  if (rule.kind !== 'asert') return;
  const genesisBits = devnet.genesis.header.bits;
  const genesisTime = devnet.genesis.header.time;
  const block1Time = genesisTime + 3 * 365 * 86_400; // started three years after the genesis date
  const noAncestor = (): never => {
    throw new Error('not asked');
  };
  // Block 1 (tip = genesis) and block 2 (tip = block 1) carry the genesis bits whatever the wall clock.
  assert.equal(getNextWorkRequired(devnet, { height: 0, time: genesisTime, bits: genesisBits }, noAncestor), genesisBits);
  assert.equal(getNextWorkRequired(devnet, { height: 1, time: block1Time, bits: genesisBits }, noAncestor), genesisBits);
  const ancestor = (height: number): { time: number; bits: number } => {
    assert.equal(height, 1);
    return { time: block1Time, bits: genesisBits };
  };
  // On schedule (one block per 5 s after block 1): still the genesis bits.
  assert.equal(getNextWorkRequired(devnet, { height: 101, time: block1Time + 500, bits: genesisBits }, ancestor), genesisBits);
  // One half-life (120 s) behind schedule: target doubles, i.e. easier bits.
  const behind = getNextWorkRequired(devnet, { height: 101, time: block1Time + 500 + 120, bits: genesisBits }, ancestor);
  assert.equal(bitsToTarget(behind).target, bitsToTarget(genesisBits).target * 2n);
  // One half-life ahead of schedule: target halves.
  const ahead = getNextWorkRequired(devnet, { height: 101, time: block1Time + 500 - 120, bits: genesisBits }, ancestor);
  assert.equal(bitsToTarget(ahead).target, bitsToTarget(genesisBits).target / 2n);
});
