import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { feeForVsize } from '../policy/feeRate.js';
import { DUST_RELAY_TX_FEE_SAT_PER_KVB, getDustThreshold } from '../policy/policy.js';
import {
  feeForWeight,
  P2TR_INPUT_WEIGHT,
  P2WPKH_INPUT_WEIGHT,
  P2WPKH_OUTPUT_WEIGHT,
  satPerVbToSatPerKvb,
  selectCoins,
  type CoinSelectionRequest,
  type SelectableCoin,
} from './coinSelection.js';
import { isWalletError } from './walletError.js';

interface TestCoin extends SelectableCoin {
  readonly id: number;
}

/** A P2WPKH change output's dust threshold at Core's default dust relay rate (294 sats). */
const CHANGE_DUST = getDustThreshold({ value: 0n, scriptPubKey: Uint8Array.of(0x00, 0x14, ...new Uint8Array(20)) }, DUST_RELAY_TX_FEE_SAT_PER_KVB);
/** version + locktime + 1-byte counts + one P2WPKH payment output, ×4, + segwit marker and flag. */
const BASE_WEIGHT = (4 + 4 + 1 + 1) * 4 + P2WPKH_OUTPUT_WEIGHT + 2;

const arbCoins = fc
  .array(
    fc.record({
      value: fc.oneof(
        fc.bigInt({ min: 1n, max: 5_000n }),
        fc.bigInt({ min: 5_000n, max: 10_000_000n }),
        fc.bigInt({ min: 10_000_000n, max: 5_000_000_000n }),
      ),
      inputWeight: fc.constantFrom(P2WPKH_INPUT_WEIGHT, P2TR_INPUT_WEIGHT),
    }),
    { minLength: 0, maxLength: 25 },
  )
  .map((cs) => cs.map((c, id): TestCoin => ({ ...c, id })));

const arbRate = fc.oneof(fc.constant(0), fc.constant(1000), fc.integer({ min: 1, max: 200_000 }));

function request(coins: readonly TestCoin[], targetSats: bigint, feeRateSatPerKvb: number, preselected: readonly TestCoin[] = []): CoinSelectionRequest<TestCoin> {
  return {
    coins,
    preselected,
    targetSats,
    feeRateSatPerKvb,
    baseWeight: BASE_WEIGHT,
    changeOutputWeight: P2WPKH_OUTPUT_WEIGHT,
    changeSpendWeight: P2WPKH_INPUT_WEIGHT,
    minChangeSats: CHANGE_DUST,
  };
}

/** Checks every invariant of a selection independently of how it was found. */
function checkSelection(req: CoinSelectionRequest<TestCoin>): void {
  let result;
  try {
    result = selectCoins(req);
  } catch (e) {
    assert.ok(isWalletError(e, 'insufficient-funds'), String(e));
    // Independently: even every coin worth spending cannot pay the target and the fee.
    const usable = req.coins
      .map((c) => c.value - feeForWeight(req.feeRateSatPerKvb, c.inputWeight))
      .filter((v) => v > 0n)
      .reduce((s, v) => s + v, 0n);
    const pre = (req.preselected ?? []).reduce((s, c) => s + c.value - feeForWeight(req.feeRateSatPerKvb, c.inputWeight), 0n);
    const needed = req.targetSats + feeForWeight(req.feeRateSatPerKvb, req.baseWeight);
    assert.ok(usable + pre < needed);
    assert.equal(e.shortfallSats, needed - usable - pre);
    return;
  }
  const ids = result.selected.map((c) => c.id);
  assert.equal(new Set(ids).size, ids.length, 'no coin twice');
  for (const p of req.preselected ?? []) assert.ok(ids.includes(p.id), 'preselected coins are spent');
  const inputSats = result.selected.reduce((s, c) => s + c.value, 0n);
  assert.equal(result.inputSats, inputSats);
  const hasChange = result.changeSats > 0n;
  // The final tx's weight from the request's parts: base, every input, the change output if any.
  const weight = req.baseWeight + result.selected.reduce((s, c) => s + c.inputWeight, 0) + (hasChange ? req.changeOutputWeight : 0);
  assert.equal(result.weight, weight);
  assert.equal(inputSats, req.targetSats + result.feeSats + result.changeSats, 'inputs = outputs + fee + change');
  assert.ok(result.feeSats >= feeForVsize(req.feeRateSatPerKvb, Math.ceil(weight / 4)), 'fee covers the rate × vsize');
  if (hasChange) assert.ok(result.changeSats >= req.minChangeSats, 'no dust change');
  assert.ok(result.changeSats >= 0n);
  if (result.algorithm === 'bnb') assert.equal(result.changeSats, 0n, 'branch-and-bound makes no change');
}

test('coin selection properties: inputs cover outputs + fee, fee >= rate × vsize, no dust change, BnB has no change', () => {
  fc.assert(
    fc.property(arbCoins, fc.bigInt({ min: 1n, max: 20_000_000_000n }), arbRate, (coins, target, rate) => {
      checkSelection(request(coins, target, rate));
    }),
    { numRuns: 500 },
  );
});

test('coin selection properties with preselected coins (fee bumping)', () => {
  fc.assert(
    fc.property(arbCoins, fc.integer({ min: 0, max: 3 }), fc.bigInt({ min: 1n, max: 3_000_000_000n }), arbRate, (coins, nPre, target, rate) => {
      const preselected = coins.slice(0, nPre);
      checkSelection(request(coins.slice(nPre), target, rate, preselected));
    }),
    { numRuns: 300 },
  );
});

test('branch-and-bound finds a changeless selection when some subset pays the target exactly', () => {
  fc.assert(
    fc.property(
      fc.array(fc.bigInt({ min: 10_000n, max: 100_000_000n }), { minLength: 1, maxLength: 12 }),
      fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
      fc.integer({ min: 1000, max: 50_000 }),
      (values, pick, rate) => {
        const coins = values.map((value, id): TestCoin => ({ id, value, inputWeight: P2WPKH_INPUT_WEIGHT }));
        const subset = coins.filter((_, i) => pick[i]);
        fc.pre(subset.length > 0);
        const effective = subset.reduce((s, c) => s + c.value - feeForWeight(rate, c.inputWeight), 0n);
        const target = effective - feeForWeight(rate, BASE_WEIGHT);
        fc.pre(target > 0n);
        const result = selectCoins(request(coins, target, rate));
        assert.equal(result.algorithm, 'bnb');
        assert.equal(result.changeSats, 0n);
        // Whatever subset it found lands in [target, target + cost of change] of effective value.
        const found = result.selected.reduce((s, c) => s + c.value - feeForWeight(rate, c.inputWeight), 0n) - feeForWeight(rate, BASE_WEIGHT);
        const costOfChange = feeForWeight(rate, P2WPKH_OUTPUT_WEIGHT) + feeForWeight(rate, P2WPKH_INPUT_WEIGHT);
        assert.ok(found >= target && found <= target + costOfChange);
      },
    ),
    { numRuns: 200 },
  );
});

test('coin selection examples: change to a fresh output, dust change dropped into the fee, shortfall reported', () => {
  const rate = 1000; // 1 sat/vB
  const coins: TestCoin[] = [
    { id: 0, value: 100_000n, inputWeight: P2WPKH_INPUT_WEIGHT },
    { id: 1, value: 50_000n, inputWeight: P2TR_INPUT_WEIGHT },
  ];
  // 60,000 needs both coins or the 100,000 one alone with change: lowest-larger, one input, change.
  const a = selectCoins(request(coins, 60_000n, rate));
  assert.deepEqual(a.selected.map((c) => c.id), [0]);
  assert.ok(a.changeSats > 0n);
  // Leaving 200 sats over the fee: too little for a change output (and over the cost of change, so not a BnB
  // match), so it goes to the fee. (With coin 1 also available, spending both with change wastes less.)
  const fee1 = feeForWeight(rate, BASE_WEIGHT + P2WPKH_INPUT_WEIGHT);
  const b = selectCoins(request([coins[0]!], 100_000n - fee1 - 200n, rate));
  assert.equal(b.algorithm, 'largest-first');
  assert.deepEqual(b.selected.map((c) => c.id), [0]);
  assert.equal(b.changeSats, 0n);
  assert.equal(b.feeSats, fee1 + 200n);
  const both = selectCoins(request(coins, 100_000n - fee1 - 200n, rate));
  assert.deepEqual(both.selected.map((c) => c.id), [0, 1]);
  assert.ok(both.changeSats >= CHANGE_DUST);
  // A coin worth less than its input's fee is never chosen.
  const dustCoin: TestCoin = { id: 9, value: 60n, inputWeight: P2WPKH_INPUT_WEIGHT };
  assert.throws(() => selectCoins(request([dustCoin], 1n, rate)), (e) => isWalletError(e, 'insufficient-funds'));
  // Shortfall: 200,000 asked, 150,000 held.
  assert.throws(
    () => selectCoins(request(coins, 200_000n, rate)),
    (e) => isWalletError(e, 'insufficient-funds') && e.shortfallSats! > 50_000n && /short/.test(e.message),
  );
  assert.throws(() => selectCoins({ ...request(coins, 1n, rate), maxWeight: 100 }), (e) => isWalletError(e, 'too-many-inputs'));
  assert.throws(() => selectCoins(request(coins, 1n, 1.5)), (e) => isWalletError(e, 'bad-fee-rate'));
});

test('satPerVbToSatPerKvb rounds up to whole sat/kvB and refuses nonsense', () => {
  assert.equal(satPerVbToSatPerKvb(1), 1000);
  assert.equal(satPerVbToSatPerKvb(1.001), 1001);
  assert.equal(satPerVbToSatPerKvb(2.5), 2500);
  assert.equal(satPerVbToSatPerKvb(0.0001), 1);
  for (const bad of [-1, Number.NaN, Infinity]) assert.throws(() => satPerVbToSatPerKvb(bad), (e) => isWalletError(e, 'bad-fee-rate'));
});
