/**
 * Coin selection: which of the wallet's coins pay for a set of outputs at a fee rate. Branch-and-bound first (an
 * input set whose effective value lands within the cost of a change output above the target: no change output),
 * then the better (by waste) of "lowest larger" (the smallest single coin that pays the target plus a change output)
 * and largest-first (largest coins until the target plus a change output is covered). Change is only made when it is
 * at least the dust threshold; otherwise the remainder goes to the fee. Pure: values in, selection out.
 *
 * Sizes are weight units so P2TR's 57.5-vbyte input is exact: a P2WPKH input is 272 WU (41 bytes × 4 + witness
 * 1 + 73 + 34 with a 72-byte signature, the largest low-S DER + hashtype), a P2TR key-path input 230 WU (41 × 4 +
 * witness 1 + 65 with a 64-byte signature). Fee rates are integer sat/kvB (1000 = 1 sat/vB), as the mempool's.
 * @see Bitcoin Core wallet/coinselection.cpp SelectCoinsBnB, KnapsackSolver, GetSelectionWaste; wallet/spend.cpp
 */
import { feeForVsize } from '../policy/feeRate.js';
import type { Sats } from '../primitives/types.js';
import { WalletError } from './walletError.js';

/** Weight of a P2WPKH input with a worst-case 72-byte signature (incl. hashtype) and a 33-byte key, WU. */
export const P2WPKH_INPUT_WEIGHT = 272;
/** Weight of a P2TR key-path input with a 64-byte SIGHASH_DEFAULT signature, WU. */
export const P2TR_INPUT_WEIGHT = 230;
/** Weight of a P2WPKH output (8 + 1 + 22 bytes), WU. */
export const P2WPKH_OUTPUT_WEIGHT = 31 * 4;
/** Weight of a P2TR output (8 + 1 + 34 bytes), WU. */
export const P2TR_OUTPUT_WEIGHT = 43 * 4;
/** Core's limit on branch-and-bound search steps. @see Bitcoin Core wallet/coinselection.cpp TOTAL_TRIES */
export const BNB_TOTAL_TRIES = 100_000;

/** A coin as coin selection sees it: its value and the weight of the input that spends it. */
export interface SelectableCoin {
  readonly value: Sats;
  /** Weight of the input spending this coin, witness included, WU. */
  readonly inputWeight: number;
}

/** What to select for. */
export interface CoinSelectionRequest<T extends SelectableCoin> {
  /** Coins that may be spent. */
  readonly coins: readonly T[];
  /** Coins that must be spent (e.g. the inputs of a tx being fee-bumped); they come first in the result. */
  readonly preselected?: readonly T[];
  /** Sum of the payment outputs, sats. */
  readonly targetSats: Sats;
  /** Fee rate to pay, integer sat/kvB. */
  readonly feeRateSatPerKvb: number;
  /** Fee rate at which coins are expected to be spent later (waste metric), sat/kvB; default feeRateSatPerKvb. */
  readonly longTermFeeRateSatPerKvb?: number;
  /**
   * Weight of the tx without any input and without the change output: version, locktime, input and output counts,
   * the payment outputs, and the 2-WU segwit marker and flag, WU.
   */
  readonly baseWeight: number;
  /** Weight the change output adds, WU. */
  readonly changeOutputWeight: number;
  /** Weight of the input that would later spend the change output, WU. */
  readonly changeSpendWeight: number;
  /** Smallest change worth an output: the change output's dust threshold, sats. */
  readonly minChangeSats: Sats;
  /** Largest weight the final tx may have (default none), WU. */
  readonly maxWeight?: number;
  /** Branch-and-bound step limit (default BNB_TOTAL_TRIES). */
  readonly bnbMaxTries?: number;
}

/** How the inputs were chosen. */
export type SelectionAlgorithm = 'preselected' | 'bnb' | 'lowest-larger' | 'largest-first';

/** The outcome: inputs, fee and change. inputSats = targetSats + feeSats + changeSats. */
export interface CoinSelection<T extends SelectableCoin> {
  /** Preselected coins first, then the chosen ones. */
  readonly selected: readonly T[];
  readonly algorithm: SelectionAlgorithm;
  readonly inputSats: Sats;
  readonly feeSats: Sats;
  /** Value of the change output, 0n when there is none. */
  readonly changeSats: Sats;
  /** Weight of the final tx as estimated from the request's weights, WU. */
  readonly weight: number;
  /** Bitcoin Core's waste metric of the selection (lower is better), sats. */
  readonly wasteSats: Sats;
}

/**
 * The fee of `weight` weight units at `feeRateSatPerKvb`: the rate applied to the vsize ceil(weight / 4), rounded up.
 * @see Bitcoin Core CFeeRate::GetFee, GetVirtualTransactionSize
 */
export function feeForWeight(feeRateSatPerKvb: number, weight: number): Sats {
  return feeForVsize(feeRateSatPerKvb, Math.ceil(weight / 4));
}

/** Integer sat/kvB of a sat/vB rate, rounded up (so the fee paid is never below the rate asked). */
export function satPerVbToSatPerKvb(feeRateSatPerVb: number): number {
  if (typeof feeRateSatPerVb !== 'number' || !Number.isFinite(feeRateSatPerVb) || feeRateSatPerVb < 0) {
    throw new WalletError('bad-fee-rate', `fee rate ${String(feeRateSatPerVb)} sat/vB is not a non-negative number`);
  }
  // Round to micro-sat/vB first so 1.001 (a float near 1001/1000) does not become 1002.
  return Math.ceil(Math.round(feeRateSatPerVb * 1e6) / 1e3);
}

interface Candidate<T> {
  readonly coin: T;
  /** value − fee of its input at the fee rate. */
  readonly effectiveValue: Sats;
  /** Fee of its input at the fee rate minus at the long-term rate (waste per input). */
  readonly inputWaste: Sats;
}

function checkRequest<T extends SelectableCoin>(r: CoinSelectionRequest<T>): void {
  const isWeight = (w: number) => Number.isInteger(w) && w >= 0;
  if (!Number.isInteger(r.feeRateSatPerKvb) || r.feeRateSatPerKvb < 0) {
    throw new WalletError('bad-fee-rate', `fee rate ${r.feeRateSatPerKvb} sat/kvB is not a non-negative integer`);
  }
  if (r.targetSats < 0n) throw new WalletError('bad-amount', 'target is negative');
  if (!isWeight(r.baseWeight) || !isWeight(r.changeOutputWeight) || !isWeight(r.changeSpendWeight)) {
    throw new WalletError('bad-amount', 'weights must be non-negative integers');
  }
  for (const c of [...r.coins, ...(r.preselected ?? [])]) {
    if (c.value < 0n || !isWeight(c.inputWeight)) throw new WalletError('bad-amount', 'a coin has a negative value or a bad weight');
  }
}

/**
 * Core's SelectCoinsBnB: depth-first search over the candidates sorted by effective value (descending) for a set
 * whose effective value is in [target, target + costOfChange], minimising waste; null when none is found within
 * maxTries steps. Same-value candidates after an excluded one are skipped (their branches are equivalent).
 * @see Bitcoin Core wallet/coinselection.cpp SelectCoinsBnB
 */
function branchAndBound<T>(pool: readonly Candidate<T>[], target: Sats, costOfChange: Sats, maxTries: number): Candidate<T>[] | null {
  let currValue = 0n;
  let currWaste = 0n;
  let currAvailable = pool.reduce((s, c) => s + c.effectiveValue, 0n);
  const currSelection: number[] = [];
  let bestSelection: number[] | null = null;
  let bestWaste: Sats | null = null;
  const feeRateIsHigh = pool.length > 0 && pool[0]!.inputWaste > 0n;

  let index = 0;
  for (let tries = 0; tries < maxTries; tries++, index++) {
    let backtrack = false;
    if (
      currValue + currAvailable < target ||
      currValue > target + costOfChange ||
      (bestWaste !== null && currWaste > bestWaste && feeRateIsHigh)
    ) {
      backtrack = true;
    } else if (currValue >= target) {
      const waste = currWaste + (currValue - target);
      if (bestWaste === null || waste <= bestWaste) {
        bestSelection = [...currSelection];
        bestWaste = waste;
      }
      backtrack = true;
    }

    if (backtrack) {
      if (currSelection.length === 0) break;
      // Put the candidates skipped after the last included one back, then take the exclusion branch of that one.
      const last = currSelection[currSelection.length - 1]!;
      for (index--; index > last; index--) currAvailable += pool[index]!.effectiveValue;
      const c = pool[index]!;
      currValue -= c.effectiveValue;
      currWaste -= c.inputWaste;
      currSelection.pop();
    } else {
      const c = pool[index]!;
      currAvailable -= c.effectiveValue;
      const prev = pool[index - 1];
      if (
        currSelection.length === 0 ||
        index - 1 === currSelection[currSelection.length - 1] ||
        prev === undefined ||
        c.effectiveValue !== prev.effectiveValue ||
        c.inputWaste !== prev.inputWaste
      ) {
        currSelection.push(index);
        currValue += c.effectiveValue;
        currWaste += c.inputWaste;
      }
    }
  }
  return bestSelection === null ? null : bestSelection.map((i) => pool[i]!);
}

/**
 * Selects inputs paying `targetSats` plus the fee at `feeRateSatPerKvb`: preselected coins always, then
 * branch-and-bound (no change), else the lower-waste of lowest-larger and largest-first (with change when it is at
 * least minChangeSats, the remainder going to the fee otherwise). Coins whose input costs more than they hold are
 * never chosen (they may still be preselected). The fee covers the whole estimated weight:
 * feeSats >= feeForWeight(feeRate, weight).
 * @throws WalletError insufficient-funds (shortfallSats = what is missing at this fee rate) | too-many-inputs (over
 *   maxWeight) | bad-fee-rate | bad-amount
 * @see Bitcoin Core wallet/spend.cpp SelectCoins / ChooseSelectionResult, wallet/coinselection.cpp
 */
export function selectCoins<T extends SelectableCoin>(request: CoinSelectionRequest<T>): CoinSelection<T> {
  checkRequest(request);
  const rate = request.feeRateSatPerKvb;
  const longTermRate = request.longTermFeeRateSatPerKvb ?? rate;
  const toCandidate = (coin: T): Candidate<T> => ({
    coin,
    effectiveValue: coin.value - feeForWeight(rate, coin.inputWeight),
    inputWaste: feeForWeight(rate, coin.inputWeight) - feeForWeight(longTermRate, coin.inputWeight),
  });
  const preselected = (request.preselected ?? []).map(toCandidate);
  const pool = request.coins
    .map(toCandidate)
    .filter((c) => c.effectiveValue > 0n)
    .sort((a, b) => (a.effectiveValue > b.effectiveValue ? -1 : a.effectiveValue < b.effectiveValue ? 1 : 0));

  const changeFee = feeForWeight(rate, request.changeOutputWeight);
  const costOfChange = changeFee + feeForWeight(longTermRate, request.changeSpendWeight);
  const preValue = preselected.reduce((s, c) => s + c.effectiveValue, 0n);
  // What the chosen coins' effective values must add up to, beyond the preselected ones.
  const target = request.targetSats + feeForWeight(rate, request.baseWeight) - preValue;
  const withChangeTarget = target + changeFee + request.minChangeSats;

  const available = pool.reduce((s, c) => s + c.effectiveValue, 0n);
  if (available < target) {
    throw new WalletError('insufficient-funds', `insufficient funds: ${target - available} sats short at ${rate} sat/kvB`, {
      shortfallSats: target - available,
    });
  }

  const finish = (chosen: readonly Candidate<T>[], algorithm: SelectionAlgorithm, allowChange: boolean): CoinSelection<T> => {
    const all = [...preselected, ...chosen];
    const inputSats = all.reduce((s, c) => s + c.coin.value, 0n);
    const inputWeight = all.reduce((s, c) => s + c.coin.inputWeight, 0);
    const noChangeWeight = request.baseWeight + inputWeight;
    const withChangeWeight = noChangeWeight + request.changeOutputWeight;
    const change = inputSats - request.targetSats - feeForWeight(rate, withChangeWeight);
    const inputWaste = all.reduce((s, c) => s + c.inputWaste, 0n);
    const hasChange = allowChange && change >= request.minChangeSats;
    const weight = hasChange ? withChangeWeight : noChangeWeight;
    if (request.maxWeight !== undefined && weight > request.maxWeight) {
      throw new WalletError('too-many-inputs', `the tx would weigh ${weight} WU, over ${request.maxWeight}`);
    }
    const feeSats = hasChange ? inputSats - request.targetSats - change : inputSats - request.targetSats;
    const excess = feeSats - feeForWeight(rate, noChangeWeight);
    return {
      selected: all.map((c) => c.coin),
      algorithm,
      inputSats,
      feeSats,
      changeSats: hasChange ? change : 0n,
      weight,
      wasteSats: inputWaste + (hasChange ? costOfChange : excess),
    };
  };

  if (target <= 0n) {
    // The preselected coins pay for everything: no change when the excess is within the cost of change.
    return finish([], 'preselected', -target > costOfChange);
  }
  const bnb = branchAndBound(pool, target, costOfChange, request.bnbMaxTries ?? BNB_TOTAL_TRIES);
  if (bnb !== null) return finish(bnb, 'bnb', false);

  const options: CoinSelection<T>[] = [];
  const lowestLarger = [...pool].reverse().find((c) => c.effectiveValue >= withChangeTarget);
  if (lowestLarger !== undefined) options.push(finish([lowestLarger], 'lowest-larger', true));
  const chosen: Candidate<T>[] = [];
  let sum = 0n;
  for (const c of pool) {
    if (sum >= withChangeTarget) break;
    chosen.push(c);
    sum += c.effectiveValue;
  }
  options.push(finish(chosen, 'largest-first', true));
  return options.reduce((best, o) => (o.wasteSats < best.wasteSats ? o : best));
}
