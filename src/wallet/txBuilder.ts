/**
 * Builds and signs the wallet's transactions: payments (coin selection, change to a fresh change address, BIP-125
 * replaceability signalled, anti-fee-sniping locktime) and fee bumps of them (same inputs, less change or more
 * inputs, satisfying BIP-125 rules 3, 4 and 6). Signing: P2WPKH with a BIP-143 ECDSA signature (SIGHASH_ALL), P2TR key
 * path with a BIP-341 Schnorr signature (SIGHASH_DEFAULT) under the BIP-86-tweaked key. Pure apart from the optional
 * BIP-340 auxiliary randomness the caller supplies.
 * @see Bitcoin Core wallet/spend.cpp CreateTransactionInternal, wallet/feebumper.cpp, BIP-125
 */
import { MAX_MONEY } from '../consensus/amount.js';
import { computeSegwitV0Sighash, computeTaprootKeyPathSighash, p2wpkhScriptCode, SighashCache, SIGHASH } from '../consensus/sighash.js';
import { ecdsaSign, encodeDerSignature, publicKeyFromPrivate } from '../crypto/ecdsa.js';
import { hash160 } from '../crypto/hash.js';
import { schnorrSign } from '../crypto/schnorr.js';
import { tweakPrivateKey } from '../crypto/taproot.js';
import { feeForVsize } from '../policy/feeRate.js';
import { getDustThreshold, MAX_STANDARD_TX_WEIGHT } from '../policy/policy.js';
import { compactSizeLength } from '../primitives/bufferWriter.js';
import { bytesEqual } from '../primitives/hex.js';
import { getTxOutSize, getTxVsize } from '../primitives/tx.js';
import type { Outpoint, Sats, Tx, TxIn, TxOut } from '../primitives/types.js';
import {
  P2TR_INPUT_WEIGHT,
  P2WPKH_INPUT_WEIGHT,
  selectCoins,
  type CoinSelection,
  type SelectableCoin,
} from './coinSelection.js';
import type { AccountKind, DerivedAddress } from './hdAccount.js';
import { WalletError } from './walletError.js';

/** nSequence the wallet gives every input: BIP-125 replaceable, nLockTime enforced. */
export const RBF_SEQUENCE = 0xfffffffd;
/** Core's default -incrementalrelayfee, sat/kvB. */
export const DEFAULT_INCREMENTAL_RELAY_FEE_SAT_PER_KVB = 1000;
/** Core's default -dustrelayfee, sat/kvB. */
export const DEFAULT_DUST_RELAY_FEE_SAT_PER_KVB = 3000;

/** A coin the wallet can spend: where it is, what it holds, the address (and so the key) that controls it. */
export interface WalletCoin extends SelectableCoin {
  readonly outpoint: Outpoint;
  readonly output: TxOut;
  readonly address: DerivedAddress;
  /** Height of the block that confirmed it; undefined while unconfirmed. */
  readonly height?: number;
  readonly isCoinbase: boolean;
}

/** Weight of the input spending an output of this kind, WU (see coinSelection.ts). */
export function getInputWeight(kind: AccountKind): number {
  return kind === 'p2wpkh' ? P2WPKH_INPUT_WEIGHT : P2TR_INPUT_WEIGHT;
}

/** A WalletCoin from an outpoint, the output and the wallet address it pays. */
export function makeWalletCoin(
  outpoint: Outpoint,
  output: TxOut,
  address: DerivedAddress,
  extra: { height?: number; isCoinbase?: boolean } = {},
): WalletCoin {
  return {
    outpoint,
    output,
    address,
    value: output.value,
    inputWeight: getInputWeight(address.kind),
    ...(extra.height !== undefined ? { height: extra.height } : {}),
    isCoinbase: extra.isCoinbase ?? false,
  };
}

/**
 * Weight of a segwit tx without its inputs: version, locktime, the input and output counts, the outputs, and the
 * 2-WU marker and flag, WU.
 */
export function computeBaseWeight(outputs: readonly TxOut[], inputCount: number, extraOutputs = 0): number {
  const outputBytes = outputs.reduce((s, o) => s + getTxOutSize(o), 0);
  return (4 + 4 + compactSizeLength(inputCount) + compactSizeLength(outputs.length + extraOutputs) + outputBytes) * 4 + 2;
}

/** An unsigned transaction and what it spends, ready for signTransaction (or a PSBT). */
export interface UnsignedTx {
  /** Inputs with empty scriptSigs and witnesses. */
  readonly tx: Tx;
  /** The coins the inputs spend, in input order. */
  readonly inputs: readonly WalletCoin[];
  readonly feeSats: Sats;
  /** Value of the change output, 0n when none. */
  readonly changeSats: Sats;
  /** Index of the change output, -1 when none. */
  readonly changeIndex: number;
  /** Weight estimated before signing (an upper bound of the signed weight), WU. */
  readonly estimatedWeight: number;
  readonly selection: CoinSelection<WalletCoin>;
}

/** A payment to build. */
export interface PaymentRequest {
  /** Payment outputs, in order. */
  readonly outputs: readonly TxOut[];
  /** Coins that may be spent. */
  readonly coins: readonly WalletCoin[];
  /** Fee rate, integer sat/kvB. */
  readonly feeRateSatPerKvb: number;
  /** Where change goes: a fresh change address of the wallet. */
  readonly changeAddress: DerivedAddress;
  /** nLockTime: the tip height (anti fee sniping) or 0. */
  readonly locktime: number;
  /** Position of the change output among the outputs (default last); clamped to 0..outputs.length. */
  readonly changePosition?: number;
  /** Dust relay fee rate, sat/kvB (default 3000). */
  readonly dustRelayFeeRateSatPerKvb?: number;
  /** Largest weight the tx may have (default MAX_STANDARD_TX_WEIGHT). */
  readonly maxWeight?: number;
}

function checkOutputs(outputs: readonly TxOut[], dustRate: number): void {
  if (outputs.length === 0) throw new WalletError('bad-amount', 'a payment needs at least one output');
  let total = 0n;
  for (const o of outputs) {
    if (o.value <= 0n || o.value > MAX_MONEY) throw new WalletError('bad-amount', `amount ${o.value} is not in 1..MAX_MONEY`);
    const threshold = getDustThreshold(o, dustRate);
    if (o.value < threshold) throw new WalletError('dust-output', `amount ${o.value} is below the dust threshold ${threshold}`);
    total += o.value;
  }
  if (total > MAX_MONEY) throw new WalletError('bad-amount', 'outputs exceed MAX_MONEY');
}

function checkLocktime(locktime: number): void {
  if (!Number.isInteger(locktime) || locktime < 0 || locktime > 0xffffffff) {
    throw new WalletError('bad-amount', `locktime ${locktime} is not a u32`);
  }
}

function unsignedInput(coin: WalletCoin, sequence = RBF_SEQUENCE): TxIn {
  return { prevout: coin.outpoint, scriptSig: new Uint8Array(0), sequence, witness: [] };
}

function outputWeightOf(scriptPubKey: Uint8Array): number {
  return getTxOutSize({ value: 0n, scriptPubKey }) * 4;
}

/** Weight of the input that would spend an output with this script (P2TR key path or P2WPKH), WU. */
function spendWeightOf(scriptPubKey: Uint8Array): number {
  return scriptPubKey.length === 34 && scriptPubKey[0] === 0x51 ? P2TR_INPUT_WEIGHT : P2WPKH_INPUT_WEIGHT;
}

/**
 * Builds an unsigned payment: selects coins for the outputs at the fee rate, adds a change output to
 * `changeAddress` when the change is at least its dust threshold (otherwise the remainder is fee), signals BIP-125
 * replaceability on every input (nSequence 0xfffffffd) and sets nLockTime. Version 2.
 * @throws WalletError bad-amount | dust-output | insufficient-funds | too-many-inputs | bad-fee-rate
 * @see Bitcoin Core wallet/spend.cpp CreateTransactionInternal; BIP-125
 */
export function buildPayment(request: PaymentRequest): UnsignedTx {
  const dustRate = request.dustRelayFeeRateSatPerKvb ?? DEFAULT_DUST_RELAY_FEE_SAT_PER_KVB;
  checkOutputs(request.outputs, dustRate);
  checkLocktime(request.locktime);
  const changeScript = request.changeAddress.scriptPubKey;
  const selection = selectCoins({
    coins: request.coins,
    targetSats: request.outputs.reduce((s, o) => s + o.value, 0n),
    feeRateSatPerKvb: request.feeRateSatPerKvb,
    baseWeight: computeBaseWeight(request.outputs, request.coins.length),
    changeOutputWeight: outputWeightOf(changeScript),
    changeSpendWeight: spendWeightOf(changeScript),
    minChangeSats: getDustThreshold({ value: 0n, scriptPubKey: changeScript }, dustRate),
    maxWeight: request.maxWeight ?? MAX_STANDARD_TX_WEIGHT,
  });
  const outputs = [...request.outputs];
  let changeIndex = -1;
  if (selection.changeSats > 0n) {
    changeIndex = Math.min(Math.max(0, Math.trunc(request.changePosition ?? outputs.length)), outputs.length);
    outputs.splice(changeIndex, 0, { value: selection.changeSats, scriptPubKey: changeScript });
  }
  const tx: Tx = { version: 2, inputs: selection.selected.map((c) => unsignedInput(c)), outputs, locktime: request.locktime };
  return {
    tx,
    inputs: selection.selected,
    feeSats: selection.feeSats,
    changeSats: selection.changeSats,
    changeIndex,
    estimatedWeight: selection.weight,
    selection,
  };
}

/** Gives the private key (untweaked for P2TR) of a wallet address. SECRET. */
export type PrivateKeySource = (address: DerivedAddress) => Uint8Array;

/** Options of signTransaction. */
export interface SignOptions {
  /** BIP-340 auxiliary randomness for each Schnorr signature (default 32 zero bytes); pass a CSPRNG in production. */
  readonly auxRand?: () => Uint8Array;
}

/**
 * Signs every input of an unsigned tx: P2WPKH witness [DER ECDSA sig || 0x01, pubkey] over the BIP-143 sighash,
 * P2TR witness [64-byte Schnorr sig] over the BIP-341 key-path sighash with the BIP-86-tweaked private key.
 * `inputs` are the spent coins in input order. Returns a new tx; the argument is unchanged.
 * @throws WalletError unknown-script (a key does not match its coin's address) | bad-amount (inputs/coins mismatch)
 * @see BIP-143, BIP-341 "Signature validation rules", BIP-86; Bitcoin Core SignTransaction
 */
export function signTransaction(tx: Tx, inputs: readonly WalletCoin[], getPrivateKey: PrivateKeySource, options: SignOptions = {}): Tx {
  if (inputs.length !== tx.inputs.length) throw new WalletError('bad-amount', `${tx.inputs.length} inputs but ${inputs.length} coins`);
  inputs.forEach((coin, i) => {
    const prevout = tx.inputs[i]!.prevout;
    if (prevout.index !== coin.outpoint.index || !bytesEqual(prevout.txid, coin.outpoint.txid)) {
      throw new WalletError('bad-amount', `input ${i} does not spend its coin`);
    }
  });
  const prevouts = inputs.map((c) => c.output);
  const cache = new SighashCache(tx, prevouts);
  const signed = tx.inputs.map((input, i): TxIn => {
    const coin = inputs[i]!;
    const privateKey = getPrivateKey(coin.address);
    const publicKey = publicKeyFromPrivate(privateKey);
    if (!bytesEqual(publicKey, coin.address.publicKey)) {
      throw new WalletError('unknown-script', `no key for input ${i} (${coin.address.path})`);
    }
    if (coin.address.kind === 'p2wpkh') {
      const sighash = computeSegwitV0Sighash(tx, i, p2wpkhScriptCode(hash160(publicKey)), coin.output.value, SIGHASH.ALL, cache);
      const der = encodeDerSignature(ecdsaSign(sighash, privateKey));
      return { ...input, witness: [Uint8Array.of(...der, SIGHASH.ALL), publicKey] };
    }
    const sighash = computeTaprootKeyPathSighash(tx, i, prevouts, SIGHASH.DEFAULT, undefined, cache);
    const aux = options.auxRand?.();
    const sig = aux === undefined ? schnorrSign(sighash, tweakPrivateKey(privateKey)) : schnorrSign(sighash, tweakPrivateKey(privateKey), aux);
    return { ...input, witness: [sig] };
  });
  return { ...tx, inputs: signed };
}

/** A fee bump of one of the wallet's unconfirmed transactions. */
export interface BumpFeeRequest {
  /** The transaction to replace (signed, as broadcast). */
  readonly originalTx: Tx;
  /** The coins it spends, in input order (all the wallet's: a tx with foreign inputs cannot be re-signed). */
  readonly originalInputs: readonly WalletCoin[];
  /** Index of its change output, -1 when it has none. */
  readonly changeIndex: number;
  /** The new fee rate, integer sat/kvB. */
  readonly feeRateSatPerKvb: number;
  /**
   * Other coins that may be added when the change cannot pay the new fee: confirmed ones only (BIP-125 rule 2: a
   * replacement may not add unconfirmed inputs), none spent by the original.
   */
  readonly extraCoins: readonly WalletCoin[];
  /** Where change goes when the original had none but the bump needs one (a fresh change address). */
  readonly changeAddress: DerivedAddress;
  /** Core's -incrementalrelayfee, sat/kvB (default 1000). */
  readonly incrementalRelayFeeRateSatPerKvb?: number;
  /** Dust relay fee rate, sat/kvB (default 3000). */
  readonly dustRelayFeeRateSatPerKvb?: number;
}

/** A fee bump: the replacement (unsigned) and the original's fee. */
export interface UnsignedBump extends UnsignedTx {
  readonly originalFeeSats: Sats;
}

/**
 * Builds the unsigned replacement of a wallet tx at a higher fee rate, as Core's bumpfee: the same inputs (plus more
 * when the change cannot pay), the same payment outputs, the change reduced, dropped when it would be dust, or
 * created when new inputs bring surplus. The result satisfies BIP-125 rule 3 (a higher absolute fee), rule 4 (the
 * extra fee pays for its own vsize at the incremental relay rate) and rule 6 (a higher fee rate than the original);
 * the fee rate asked must be at least the original's plus the incremental relay rate.
 * @throws WalletError fee-rate-too-low | insufficient-funds | bad-amount | too-many-inputs
 * @see Bitcoin Core wallet/feebumper.cpp CreateRateBumpTransaction, CheckFeeRate; BIP-125
 */
export function buildBumpFee(request: BumpFeeRequest): UnsignedBump {
  const { originalTx: original, originalInputs } = request;
  if (originalInputs.length !== original.inputs.length) {
    throw new WalletError('not-own-tx', 'every input of the original tx must be the wallet\'s');
  }
  const incremental = request.incrementalRelayFeeRateSatPerKvb ?? DEFAULT_INCREMENTAL_RELAY_FEE_SAT_PER_KVB;
  const dustRate = request.dustRelayFeeRateSatPerKvb ?? DEFAULT_DUST_RELAY_FEE_SAT_PER_KVB;
  const inputSum = originalInputs.reduce((s, c) => s + c.value, 0n);
  const outputSum = original.outputs.reduce((s, o) => s + o.value, 0n);
  const originalFee = inputSum - outputSum;
  if (originalFee < 0n) throw new WalletError('bad-amount', 'the original tx spends more than its inputs');
  const originalVsize = getTxVsize(original);
  // Core's CheckFeeRate: new rate >= old rate + incremental relay rate (old rate rounded up).
  const minRate = Number((originalFee * 1000n + BigInt(originalVsize) - 1n) / BigInt(originalVsize)) + incremental;
  if (request.feeRateSatPerKvb < minRate) {
    throw new WalletError(
      'fee-rate-too-low',
      `fee rate ${request.feeRateSatPerKvb / 1000} sat/vB is below the minimum ${minRate / 1000} sat/vB for a replacement ` +
        '(the original\'s rate plus the incremental relay fee)',
    );
  }

  const hasOldChange = request.changeIndex >= 0;
  if (hasOldChange && request.changeIndex >= original.outputs.length) throw new WalletError('bad-amount', 'change index out of range');
  const changeScript = hasOldChange ? original.outputs[request.changeIndex]!.scriptPubKey : request.changeAddress.scriptPubKey;
  const payments = original.outputs.filter((_, i) => i !== request.changeIndex);
  if (payments.length === 0) throw new WalletError('bad-amount', 'the original tx pays only change');

  let rate = request.feeRateSatPerKvb;
  for (let attempt = 0; attempt < 16; attempt++) {
    const selection = selectCoins({
      coins: request.extraCoins,
      preselected: originalInputs,
      targetSats: payments.reduce((s, o) => s + o.value, 0n),
      feeRateSatPerKvb: rate,
      baseWeight: computeBaseWeight(payments, originalInputs.length + request.extraCoins.length, 1),
      changeOutputWeight: outputWeightOf(changeScript),
      changeSpendWeight: spendWeightOf(changeScript),
      minChangeSats: getDustThreshold({ value: 0n, scriptPubKey: changeScript }, dustRate),
      maxWeight: MAX_STANDARD_TX_WEIGHT,
    });
    const vsize = Math.ceil(selection.weight / 4);
    const needed = originalFee + feeForVsize(incremental, vsize);
    if (selection.feeSats < needed) {
      // Rule 4 binds (the replacement is smaller than the original): raise the rate just enough and select again.
      rate = Math.max(rate + 1, Number(((needed + 1n) * 1000n + BigInt(vsize) - 1n) / BigInt(vsize)));
      continue;
    }
    const outputs: TxOut[] = [];
    let changeIndex = -1;
    original.outputs.forEach((o, i) => {
      if (i !== request.changeIndex) outputs.push(o);
      else if (selection.changeSats > 0n) {
        changeIndex = outputs.length;
        outputs.push({ value: selection.changeSats, scriptPubKey: changeScript });
      }
    });
    if (changeIndex < 0 && selection.changeSats > 0n) {
      changeIndex = outputs.length;
      outputs.push({ value: selection.changeSats, scriptPubKey: changeScript });
    }
    const inputs: TxIn[] = [
      ...original.inputs.map((i) => ({ ...i, scriptSig: new Uint8Array(0), witness: [] })),
      ...selection.selected.slice(originalInputs.length).map((c) => unsignedInput(c)),
    ];
    return {
      tx: { version: original.version, inputs, outputs, locktime: original.locktime },
      inputs: selection.selected,
      feeSats: selection.feeSats,
      changeSats: selection.changeSats,
      changeIndex,
      estimatedWeight: selection.weight,
      selection,
      originalFeeSats: originalFee,
    };
  }
  throw new WalletError('fee-rate-too-low', 'could not find a fee satisfying the BIP-125 rules');
}

/** The fee of a tx whose spent outputs are known: inputs − outputs, sats. */
export function computeTxFee(tx: Tx, spent: readonly TxOut[]): Sats {
  return spent.reduce((s, o) => s + o.value, 0n) - tx.outputs.reduce((s, o) => s + o.value, 0n);
}
