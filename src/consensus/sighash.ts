import { sha256, taggedHash } from '../crypto/hash.js';
import { BufferWriter, compactSizeLength } from '../primitives/bufferWriter.js';
import { writeOutpoint } from '../primitives/outpoint.js';
import { getTxOutSize, writeTxOut } from '../primitives/tx.js';
import type { Hash256, Sats, Tx, TxOut } from '../primitives/types.js';
import { VerifyError } from './verifyError.js';

/**
 * Signature hash types: the last byte of an ECDSA signature, or of a 65-byte Schnorr signature. DEFAULT (0) exists
 * only for taproot, where it means ALL and is encoded by a 64-byte signature.
 * @see Bitcoin Core script/interpreter.h SIGHASH_*; BIP-341 "hash_type"
 */
export const SIGHASH = Object.freeze({
  DEFAULT: 0x00,
  ALL: 0x01,
  NONE: 0x02,
  SINGLE: 0x03,
  ANYONECANPAY: 0x80,
} as const);

/** The 32 zero bytes BIP-143 uses for a committed-away hash field. */
const ZERO_HASH: Hash256 = new Uint8Array(32);

/**
 * Per-transaction hashes shared by every input's signature hash, each computed at most once on first use, so
 * verifying all inputs of an n-input tx costs O(n) hashing rather than O(n²). Holds the BIP-341 single-SHA256 values
 * (`sha*`) and the BIP-143 double-SHA256 ones (`hash*` = SHA256 of the matching `sha*`, as Core derives them).
 * The taproot fields need `spentOutputs` (every output the tx spends, in input order).
 * PERF: build one per tx and pass it to every sighash/verifyInput call for that tx.
 * @see Bitcoin Core script/interpreter.h PrecomputedTransactionData
 */
export class SighashCache {
  private _shaPrevouts?: Hash256;
  private _shaSequences?: Hash256;
  private _shaOutputs?: Hash256;
  private _shaAmounts?: Hash256;
  private _shaScriptPubKeys?: Hash256;
  private _hashPrevouts?: Hash256;
  private _hashSequence?: Hash256;
  private _hashOutputs?: Hash256;
  private _spentOutputs: readonly TxOut[] | undefined;

  constructor(
    /** The transaction being signed or verified. */
    readonly tx: Tx,
    /** The outputs the tx's inputs spend, in input order (required for taproot sighashes; may be given later). */
    spentOutputs?: readonly TxOut[],
  ) {
    this._spentOutputs = spentOutputs;
  }

  /** The outputs the tx's inputs spend, in input order, when known. */
  get spentOutputs(): readonly TxOut[] | undefined {
    return this._spentOutputs;
  }

  /** Supplies the spent outputs to a cache built without them; once set they are kept (first one wins). */
  provideSpentOutputs(spentOutputs: readonly TxOut[]): void {
    this._spentOutputs ??= spentOutputs;
  }

  /** SHA256 of all input outpoints (txid ‖ u32 LE index). BIP-341 sha_prevouts. */
  get shaPrevouts(): Hash256 {
    if (!this._shaPrevouts) {
      const w = new BufferWriter(36 * this.tx.inputs.length);
      for (const input of this.tx.inputs) writeOutpoint(w, input.prevout);
      this._shaPrevouts = sha256(w.finish());
    }
    return this._shaPrevouts;
  }

  /** SHA256 of all input nSequence values (u32 LE). BIP-341 sha_sequences. */
  get shaSequences(): Hash256 {
    if (!this._shaSequences) {
      const w = new BufferWriter(4 * this.tx.inputs.length);
      for (const input of this.tx.inputs) w.writeU32LE(input.sequence);
      this._shaSequences = sha256(w.finish());
    }
    return this._shaSequences;
  }

  /** SHA256 of all outputs serialized (i64 LE value ‖ compact-size scriptPubKey). BIP-341 sha_outputs. */
  get shaOutputs(): Hash256 {
    if (!this._shaOutputs) {
      let size = 0;
      for (const out of this.tx.outputs) size += getTxOutSize(out);
      const w = new BufferWriter(size);
      for (const out of this.tx.outputs) writeTxOut(w, out);
      this._shaOutputs = sha256(w.finish());
    }
    return this._shaOutputs;
  }

  /**
   * SHA256 of the spent outputs' values (i64 LE each). BIP-341 sha_amounts.
   * @throws VerifyError sighash-missing-prevouts
   */
  get shaAmounts(): Hash256 {
    if (!this._shaAmounts) {
      const spent = this.requireSpentOutputs();
      const w = new BufferWriter(8 * spent.length);
      for (const out of spent) w.writeI64LE(out.value);
      this._shaAmounts = sha256(w.finish());
    }
    return this._shaAmounts;
  }

  /**
   * SHA256 of the spent outputs' scriptPubKeys, each compact-size prefixed. BIP-341 sha_scriptpubkeys.
   * @throws VerifyError sighash-missing-prevouts
   */
  get shaScriptPubKeys(): Hash256 {
    if (!this._shaScriptPubKeys) {
      const spent = this.requireSpentOutputs();
      let size = 0;
      for (const out of spent) size += compactSizeLength(out.scriptPubKey.length) + out.scriptPubKey.length;
      const w = new BufferWriter(size);
      for (const out of spent) w.writeVarBytes(out.scriptPubKey);
      this._shaScriptPubKeys = sha256(w.finish());
    }
    return this._shaScriptPubKeys;
  }

  /** BIP-143 hashPrevouts: double SHA256 of all outpoints. */
  get hashPrevouts(): Hash256 {
    return (this._hashPrevouts ??= sha256(this.shaPrevouts));
  }

  /** BIP-143 hashSequence: double SHA256 of all nSequence values. */
  get hashSequence(): Hash256 {
    return (this._hashSequence ??= sha256(this.shaSequences));
  }

  /** BIP-143 hashOutputs: double SHA256 of all outputs. */
  get hashOutputs(): Hash256 {
    return (this._hashOutputs ??= sha256(this.shaOutputs));
  }

  private requireSpentOutputs(): readonly TxOut[] {
    const spent = this._spentOutputs;
    if (!spent || spent.length !== this.tx.inputs.length) {
      throw new VerifyError(
        'sighash-missing-prevouts',
        0,
        `taproot sighash needs all ${this.tx.inputs.length} spent outputs, got ${spent?.length ?? 0}`,
      );
    }
    return spent;
  }
}

function cacheFor(tx: Tx, cache: SighashCache | undefined, spentOutputs?: readonly TxOut[]): SighashCache {
  if (cache === undefined) return new SighashCache(tx, spentOutputs);
  if (cache.tx !== tx) throw new VerifyError('sighash-cache-mismatch', 0, 'the SighashCache was built for another tx');
  if (spentOutputs !== undefined) cache.provideSpentOutputs(spentOutputs);
  return cache;
}

function checkInputIndex(tx: Tx, inputIndex: number): void {
  if (!Number.isInteger(inputIndex) || inputIndex < 0 || inputIndex >= tx.inputs.length) {
    throw new VerifyError('sighash-input-index', 0, `input ${inputIndex} of ${tx.inputs.length}`);
  }
}

/**
 * The scriptCode BIP-143 signs for a P2WPKH input: the P2PKH script of the key hash with its length prefix,
 * `0x19 76 a9 14 <20-byte hash160(pubkey)> 88 ac` (26 bytes).
 * @see BIP-143 "the scriptCode is 0x1976a914{20-byte-pubkey-hash}88ac"
 */
export function p2wpkhScriptCode(pubkeyHash20: Uint8Array): Uint8Array {
  const code = new Uint8Array(26);
  code.set([0x19, 0x76, 0xa9, 0x14], 0);
  code.set(pubkeyHash20.subarray(0, 20), 4);
  code[24] = 0x88;
  code[25] = 0xac;
  return code;
}

/**
 * The BIP-143 preimage of a segwit v0 input's signature hash, for every hashType (low 5 bits select ALL / NONE /
 * SINGLE, 0x80 ANYONECANPAY). `scriptCode` is written as given, so it must already carry its compact-size length
 * prefix (see p2wpkhScriptCode); `amount` is the spent output's value in sats. SIGHASH_SINGLE with no output at the
 * input's index commits to a zero hashOutputs (BIP-143 has no legacy "1" hash).
 * @throws VerifyError sighash-input-index | sighash-cache-mismatch
 * @see BIP-143 "Specification"; Bitcoin Core script/interpreter.cpp SignatureHash (SigVersion::WITNESS_V0)
 */
export function computeSegwitV0SighashPreimage(
  tx: Tx,
  inputIndex: number,
  scriptCode: Uint8Array,
  amount: Sats,
  hashType: number,
  cache?: SighashCache,
): Uint8Array {
  checkInputIndex(tx, inputIndex);
  const c = cacheFor(tx, cache);
  const input = tx.inputs[inputIndex]!;
  const anyoneCanPay = (hashType & SIGHASH.ANYONECANPAY) !== 0;
  const baseType = hashType & 0x1f;
  const isNoneOrSingle = baseType === SIGHASH.SINGLE || baseType === SIGHASH.NONE;

  const hashPrevouts = anyoneCanPay ? ZERO_HASH : c.hashPrevouts;
  const hashSequence = anyoneCanPay || isNoneOrSingle ? ZERO_HASH : c.hashSequence;
  let hashOutputs = ZERO_HASH;
  if (!isNoneOrSingle) {
    hashOutputs = c.hashOutputs;
  } else if (baseType === SIGHASH.SINGLE && inputIndex < tx.outputs.length) {
    const out = tx.outputs[inputIndex]!;
    const w = new BufferWriter(getTxOutSize(out));
    writeTxOut(w, out);
    hashOutputs = sha256(sha256(w.finish()));
  }

  const w = new BufferWriter(4 + 32 + 32 + 36 + scriptCode.length + 8 + 4 + 32 + 4 + 4);
  w.writeU32LE(tx.version);
  w.writeBytes(hashPrevouts);
  w.writeBytes(hashSequence);
  writeOutpoint(w, input.prevout);
  w.writeBytes(scriptCode);
  w.writeI64LE(amount);
  w.writeU32LE(input.sequence);
  w.writeBytes(hashOutputs);
  w.writeU32LE(tx.locktime);
  w.writeU32LE(hashType);
  return w.finish();
}

/**
 * The BIP-143 signature hash of a segwit v0 input: double SHA256 of computeSegwitV0SighashPreimage. This is the
 * 32-byte message an ECDSA signature signs, in the byte order the signer hashes (not reversed).
 * @throws VerifyError sighash-input-index | sighash-cache-mismatch
 * @see BIP-143; Bitcoin Core script/interpreter.cpp SignatureHash (SigVersion::WITNESS_V0)
 */
export function computeSegwitV0Sighash(
  tx: Tx,
  inputIndex: number,
  scriptCode: Uint8Array,
  amount: Sats,
  hashType: number,
  cache?: SighashCache,
): Hash256 {
  return sha256(sha256(computeSegwitV0SighashPreimage(tx, inputIndex, scriptCode, amount, hashType, cache)));
}

/** True for the taproot hash types BIP-341 defines: 0x00..0x03 and 0x81..0x83. */
export function isValidTaprootHashType(hashType: number): boolean {
  return (hashType >= 0x00 && hashType <= 0x03) || (hashType >= 0x81 && hashType <= 0x83);
}

/**
 * The message a taproot key-path signature commits to: epoch byte 0x00 followed by BIP-341's SigMsg(hash_type,
 * ext_flag = 0), the exact bytes hashed by TapSighash (this is the `sigMsg` of BIP-341's wallet test vectors).
 * `prevouts` are all outputs the tx spends, in input order (a cache that already holds spent outputs uses its own).
 * `annex`, when present, is the whole last witness element including its 0x50 prefix.
 * @throws VerifyError schnorr-sig-hashtype (hash type not in 0x00..0x03/0x81..0x83, or SIGHASH_SINGLE without an
 *   output at the input's index) | sighash-missing-prevouts | sighash-input-index | sighash-cache-mismatch
 * @see BIP-341 "Common signature message"; Bitcoin Core script/interpreter.cpp SignatureHashSchnorr
 */
export function computeTaprootSigMsg(
  tx: Tx,
  inputIndex: number,
  prevouts: readonly TxOut[],
  hashType: number,
  annex?: Uint8Array,
  cache?: SighashCache,
): Uint8Array {
  checkInputIndex(tx, inputIndex);
  if (!isValidTaprootHashType(hashType)) {
    throw new VerifyError('schnorr-sig-hashtype', 100, `taproot hash type 0x${hashType.toString(16)}`);
  }
  const c = cacheFor(tx, cache, prevouts);
  const spent = c.spentOutputs ?? prevouts;
  if (spent.length !== tx.inputs.length) {
    throw new VerifyError('sighash-missing-prevouts', 0, `need ${tx.inputs.length} spent outputs, got ${spent.length}`);
  }
  const outputType = hashType === SIGHASH.DEFAULT ? SIGHASH.ALL : hashType & 0x03;
  const anyoneCanPay = (hashType & SIGHASH.ANYONECANPAY) !== 0;
  if (outputType === SIGHASH.SINGLE && inputIndex >= tx.outputs.length) {
    throw new VerifyError('schnorr-sig-hashtype', 100, `SIGHASH_SINGLE without output ${inputIndex}`);
  }
  const input = tx.inputs[inputIndex]!;

  const w = new BufferWriter(1 + 1 + 8 + 5 * 32 + 1 + 36 + 8 + 40 + 4 + 32 + 32);
  w.writeU8(0x00); // epoch
  w.writeU8(hashType);
  w.writeU32LE(tx.version);
  w.writeU32LE(tx.locktime);
  if (!anyoneCanPay) {
    w.writeBytes(c.shaPrevouts);
    w.writeBytes(c.shaAmounts);
    w.writeBytes(c.shaScriptPubKeys);
    w.writeBytes(c.shaSequences);
  }
  if (outputType !== SIGHASH.NONE && outputType !== SIGHASH.SINGLE) w.writeBytes(c.shaOutputs);
  const extFlag = 0; // key path; tapscript (ext_flag 1) is not part of cairn
  w.writeU8(extFlag * 2 + (annex !== undefined ? 1 : 0));
  if (anyoneCanPay) {
    const prev = spent[inputIndex]!;
    writeOutpoint(w, input.prevout);
    w.writeI64LE(prev.value);
    w.writeVarBytes(prev.scriptPubKey);
    w.writeU32LE(input.sequence);
  } else {
    w.writeU32LE(inputIndex);
  }
  if (annex !== undefined) {
    const aw = new BufferWriter(compactSizeLength(annex.length) + annex.length);
    aw.writeVarBytes(annex);
    w.writeBytes(sha256(aw.finish()));
  }
  if (outputType === SIGHASH.SINGLE) {
    const out = tx.outputs[inputIndex]!;
    const ow = new BufferWriter(getTxOutSize(out));
    writeTxOut(ow, out);
    w.writeBytes(sha256(ow.finish()));
  }
  return w.finish();
}

/**
 * The BIP-341 signature hash of a taproot key-path spend: TaggedHash("TapSighash", 0x00 ‖ SigMsg(hashType, 0)),
 * the 32-byte message the BIP-340 Schnorr signature signs. Arguments as computeTaprootSigMsg.
 * @throws VerifyError schnorr-sig-hashtype | sighash-missing-prevouts | sighash-input-index | sighash-cache-mismatch
 * @see BIP-341 "Signature validation rules"; Bitcoin Core script/interpreter.cpp SignatureHashSchnorr
 */
export function computeTaprootKeyPathSighash(
  tx: Tx,
  inputIndex: number,
  prevouts: readonly TxOut[],
  hashType: number,
  annex?: Uint8Array,
  cache?: SighashCache,
): Hash256 {
  return taggedHash('TapSighash', computeTaprootSigMsg(tx, inputIndex, prevouts, hashType, annex, cache));
}
