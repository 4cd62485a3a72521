/**
 * Standardness: the mempool's relay policy on top of consensus, as Bitcoin Core's policy/policy.cpp. A non-standard
 * transaction may still be valid in a block; the mempool just does not accept or relay it. Failures are VerifyErrors
 * with Core's reject strings and ban score 0 (policy is never the sender's fault).
 */
import { classifyScript, getWitnessProgram, isUnspendable, MAX_OP_RETURN_SCRIPT_SIZE } from '../consensus/scriptType.js';
import { VerifyError } from '../consensus/verifyError.js';
import { getTxOutSize, getTxWeight } from '../primitives/tx.js';
import type { Sats, Tx, TxOut } from '../primitives/types.js';
import { feeForVsize } from './feeRate.js';

/**
 * Highest standard nVersion. Core 28 allows 3 (TRUC, BIP-431); cairn does not implement TRUC rules, so version 3 is
 * non-standard here, as in Core before 28.
 * @see Bitcoin Core policy/policy.h TX_MAX_STANDARD_VERSION
 */
export const TX_MAX_STANDARD_VERSION = 2;

/** Largest standard transaction weight, weight units. @see Bitcoin Core policy/policy.h MAX_STANDARD_TX_WEIGHT */
export const MAX_STANDARD_TX_WEIGHT = 400_000;

/**
 * Smallest standard serialized size without witness, bytes: a 64-byte tx could be confused with an inner merkle node.
 * @see Bitcoin Core policy/policy.h MIN_STANDARD_TX_NONWITNESS_SIZE; CVE-2017-12842
 */
export const MIN_STANDARD_TX_NONWITNESS_SIZE = 65;

/** Default dust relay fee rate, sat/kvB. @see Bitcoin Core policy/policy.h DUST_RELAY_TX_FEE */
export const DUST_RELAY_TX_FEE_SAT_PER_KVB = 3000;

/** BIP-341 annex tag: first byte of the annex, the last witness element of a taproot spend with two or more. */
const ANNEX_TAG = 0x50;

/** Options of the standardness checks (the mempool passes its MempoolOptions). */
export interface StandardTxOptions {
  /** Largest standard weight, weight units (default MAX_STANDARD_TX_WEIGHT). */
  readonly maxStandardTxWeight: number;
  /** Dust relay fee rate, sat/kvB (default 3000): see getDustThreshold. */
  readonly dustRelayFeeRateSatPerKvb: number;
}

/**
 * The smallest value an output may carry without being dust at `dustRelayFeeRateSatPerKvb`: the fee, at that rate,
 * of the output's serialized size plus the size of the input that would spend it (67 vbytes for a witness program:
 * 32 + 4 + 1 + 107/4 + 4; 148 bytes otherwise). Unspendable (OP_RETURN) outputs are never dust: threshold 0.
 * At the default 3000 sat/kvB: P2WPKH 294 sats, P2TR 330 sats.
 * @see Bitcoin Core policy/policy.cpp GetDustThreshold
 */
export function getDustThreshold(output: TxOut, dustRelayFeeRateSatPerKvb: number): Sats {
  if (isUnspendable(output.scriptPubKey)) return 0n;
  let size = getTxOutSize(output);
  size += getWitnessProgram(output.scriptPubKey) !== null ? 32 + 4 + 1 + Math.floor(107 / 4) + 4 : 32 + 4 + 1 + 107 + 4;
  return feeForVsize(dustRelayFeeRateSatPerKvb, size);
}

/** True when the output's value is below its dust threshold. @see Bitcoin Core policy/policy.cpp IsDust */
export function isDust(output: TxOut, dustRelayFeeRateSatPerKvb: number): boolean {
  return output.value < getDustThreshold(output, dustRelayFeeRateSatPerKvb);
}

/**
 * Checks that the transaction is standard, in Core's order: nVersion in 1..2; weight at most maxStandardTxWeight;
 * every scriptSig empty (cairn spends are all segwit; Core's limit is 1650 bytes, cairn's is 0); every output
 * P2WPKH, P2TR or an OP_RETURN followed by pushes only (at most 83 bytes); no dust output; at most one OP_RETURN.
 * The non-witness size floor (tx-size-small) is checked by the mempool after this, as Core's PreChecks does.
 * @throws VerifyError (score 0) version | tx-size | scriptsig-size | scriptpubkey | dust | multi-op-return
 * @see Bitcoin Core policy/policy.cpp IsStandardTx
 */
export function checkStandardTx(tx: Tx, options: StandardTxOptions): void {
  // nVersion is a u32 here; Core reads it as a signed int, so values >= 2^31 are negative there: both fail.
  if (tx.version < 1 || tx.version > TX_MAX_STANDARD_VERSION) throw new VerifyError('version', 0, `version ${tx.version}`);
  const weight = getTxWeight(tx);
  if (weight > options.maxStandardTxWeight) {
    throw new VerifyError('tx-size', 0, `weight ${weight} > ${options.maxStandardTxWeight}`);
  }
  tx.inputs.forEach((input, n) => {
    if (input.scriptSig.length > 0) {
      const detail = `input ${n}: scriptSig of ${input.scriptSig.length} bytes, cairn requires it empty`;
      throw new VerifyError('scriptsig-size', 0, detail);
    }
  });
  let dataOutputs = 0;
  tx.outputs.forEach((output, n) => {
    const type = classifyScript(output.scriptPubKey);
    if (type === 'nulldata') {
      if (output.scriptPubKey.length > MAX_OP_RETURN_SCRIPT_SIZE) {
        throw new VerifyError('scriptpubkey', 0, `output ${n}: OP_RETURN larger than ${MAX_OP_RETURN_SCRIPT_SIZE} bytes`);
      }
      dataOutputs++;
    } else if (type !== 'witness_v0_keyhash' && type !== 'witness_v1_taproot') {
      throw new VerifyError('scriptpubkey', 0, `output ${n}: ${type}`);
    } else if (isDust(output, options.dustRelayFeeRateSatPerKvb)) {
      const threshold = getDustThreshold(output, options.dustRelayFeeRateSatPerKvb);
      throw new VerifyError('dust', 0, `output ${n}: ${output.value} < ${threshold} sats`);
    }
  });
  if (dataOutputs > 1) throw new VerifyError('multi-op-return', 0, `${dataOutputs} OP_RETURN outputs`);
}

/** Boolean form of checkStandardTx. */
export function isStandardTx(tx: Tx, options: StandardTxOptions): boolean {
  try {
    checkStandardTx(tx, options);
    return true;
  } catch (e) {
    if (e instanceof VerifyError) return false;
    throw e;
  }
}

/**
 * Checks the witnesses against the outputs they spend (`prevouts`, in input order) for policy: a taproot spend with
 * an annex is non-standard (no annex semantics are defined yet). Consensus rules are verifyInput's job.
 * @throws VerifyError (score 0) bad-witness-nonstandard
 * @see Bitcoin Core policy/policy.cpp IsWitnessStandard
 */
export function checkWitnessStandard(tx: Tx, prevouts: readonly TxOut[]): void {
  tx.inputs.forEach((input, n) => {
    const prevout = prevouts[n];
    if (prevout === undefined || input.witness.length < 2) return;
    if (classifyScript(prevout.scriptPubKey) !== 'witness_v1_taproot') return;
    const last = input.witness[input.witness.length - 1]!;
    if (last.length > 0 && last[0] === ANNEX_TAG) {
      throw new VerifyError('bad-witness-nonstandard', 0, `input ${n}: taproot annex`);
    }
  });
}
