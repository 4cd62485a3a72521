import { decodeDerSignature, ecdsaVerify, isLowS, isStrictDerSignature } from '../crypto/ecdsa.js';
import { hash160 } from '../crypto/hash.js';
import { schnorrVerify } from '../crypto/schnorr.js';
import { bytesEqual } from '../primitives/hex.js';
import type { Tx, TxOut } from '../primitives/types.js';
import { classifyScript, type ScriptType } from './scriptType.js';
import {
  computeSegwitV0Sighash,
  computeTaprootKeyPathSighash,
  p2wpkhScriptCode,
  SIGHASH,
  SighashCache,
} from './sighash.js';
import { VerifyError } from './verifyError.js';
import type { ScriptError } from './rejectReason.js';

/**
 * The outcome of verifying one input's spend: the spent output's script type (Core's names) and, when invalid, the
 * reason (see verifyInput for the list).
 */
export interface InputVerification {
  readonly type: ScriptType;
  readonly valid: boolean;
  readonly reason?: ScriptError;
}

/** Core's MAX_SCRIPT_ELEMENT_SIZE: largest stack element a v0 witness may push, in bytes. */
const MAX_SCRIPT_ELEMENT_SIZE = 520;
/** BIP-341 annex tag: first byte of an annex, the last witness element when there are at least two. */
const ANNEX_TAG = 0x50;

function fail(type: ScriptType, reason: ScriptError): InputVerification {
  return { type, valid: false, reason };
}

function isCompressedPubKey(pubkey: Uint8Array): boolean {
  return pubkey.length === 33 && (pubkey[0] === 0x02 || pubkey[0] === 0x03);
}

/** BIP-143 P2WPKH spend, checked in the order Core's interpreter runs OP_DUP OP_HASH160 OP_EQUALVERIFY OP_CHECKSIG. */
function verifyP2wpkh(tx: Tx, inputIndex: number, spent: TxOut, cache: SighashCache): InputVerification {
  const type: ScriptType = 'witness_v0_keyhash';
  const witness = tx.inputs[inputIndex]!.witness;
  if (witness.length !== 2) return fail(type, 'witness-program-mismatch');
  const sig = witness[0]!;
  const pubkey = witness[1]!;
  if (sig.length > MAX_SCRIPT_ELEMENT_SIZE || pubkey.length > MAX_SCRIPT_ELEMENT_SIZE) return fail(type, 'push-size');
  const program = spent.scriptPubKey.subarray(2);
  if (!bytesEqual(hash160(pubkey), program)) return fail(type, 'equalverify');

  // An empty signature passes the encoding checks and makes OP_CHECKSIG push false (Core's SCRIPT_ERR_EVAL_FALSE).
  let sig64: Uint8Array | null = null;
  let hashType = 0;
  if (sig.length > 0) {
    const der = sig.subarray(0, sig.length - 1);
    if (!isStrictDerSignature(der)) return fail(type, 'sig-der');
    // null here means r or s is 0 or >= n: strict DER, but it can never verify (Core: NULLFAIL after a failed check).
    sig64 = decodeDerSignature(der);
    if (sig64 !== null && !isLowS(sig64)) return fail(type, 'sig-high-s');
    hashType = sig[sig.length - 1]!;
    const base = hashType & ~SIGHASH.ANYONECANPAY;
    if (base < SIGHASH.ALL || base > SIGHASH.SINGLE) return fail(type, 'sig-hashtype');
  }
  if (!isCompressedPubKey(pubkey)) return fail(type, 'witness-pubkeytype');
  if (sig.length === 0) return fail(type, 'eval-false');
  if (sig64 === null) return fail(type, 'sig-nullfail');

  const sighash = computeSegwitV0Sighash(tx, inputIndex, p2wpkhScriptCode(program), spent.value, hashType, cache);
  if (!ecdsaVerify(sighash, pubkey, sig64)) return fail(type, 'sig-nullfail');
  return { type, valid: true };
}

/** BIP-341 key-path spend; any stack that is not [sig] or [sig, annex] is a script-path spend. */
function verifyP2trKeyPath(
  tx: Tx,
  inputIndex: number,
  prevouts: readonly TxOut[],
  cache: SighashCache,
): InputVerification {
  const type: ScriptType = 'witness_v1_taproot';
  const witness = tx.inputs[inputIndex]!.witness;
  if (witness.length === 0) return fail(type, 'witness-program-witness-empty');
  let stackSize = witness.length;
  let annex: Uint8Array | undefined;
  const last = witness[stackSize - 1]!;
  if (stackSize >= 2 && last.length > 0 && last[0] === ANNEX_TAG) {
    annex = last;
    stackSize--;
  }
  if (stackSize !== 1) return fail(type, 'taproot-script-path-unsupported');

  const sig = witness[0]!;
  if (sig.length !== 64 && sig.length !== 65) return fail(type, 'schnorr-sig-size');
  let hashType: number = SIGHASH.DEFAULT;
  if (sig.length === 65) {
    hashType = sig[64]!;
    // 0x00 must be encoded by omitting the byte, so each signature has one encoding.
    if (hashType === SIGHASH.DEFAULT) return fail(type, 'schnorr-sig-hashtype');
  }
  let sighash: Uint8Array;
  try {
    sighash = computeTaprootKeyPathSighash(tx, inputIndex, prevouts, hashType, annex, cache);
  } catch (e) {
    if (e instanceof VerifyError && e.code === 'schnorr-sig-hashtype') return fail(type, 'schnorr-sig-hashtype');
    throw e;
  }
  const outputKey = prevouts[inputIndex]!.scriptPubKey.subarray(2);
  if (!schnorrVerify(sighash, outputKey, sig.subarray(0, 64))) return fail(type, 'schnorr-sig');
  return { type, valid: true };
}

/**
 * Verifies one input's spend under cairn's script rules (DESIGN.md "Scripts"): no Script interpreter, only P2WPKH
 * and P2TR key-path spends with an empty scriptSig. `prevouts` are the outputs spent by ALL inputs of the tx, in
 * input order (taproot signs all of them). Pass one `cache` for all inputs of a tx (O(n) hashing in total).
 * Returns `{ type, valid, reason }`; `type` is the spent script's type. Reasons are Bitcoin Core's ScriptError names
 * in kebab case where Core has one:
 * - `unsupported-script-type`: the spent output is neither P2WPKH nor P2TR (cairn rule)
 * - `scriptsig-not-empty`: SCRIPT_ERR_WITNESS_MALLEATED (witness spends need an empty scriptSig)
 * - P2WPKH: `witness-program-mismatch` SCRIPT_ERR_WITNESS_PROGRAM_MISMATCH (stack is not [sig, pubkey]);
 *   `push-size` SCRIPT_ERR_PUSH_SIZE (element > 520 bytes); `equalverify` SCRIPT_ERR_EQUALVERIFY
 *   (hash160(pubkey) != program); `sig-der` SCRIPT_ERR_SIG_DER (not strict BIP-66 DER); `sig-high-s`
 *   SCRIPT_ERR_SIG_HIGH_S; `sig-hashtype` SCRIPT_ERR_SIG_HASHTYPE (not ALL/NONE/SINGLE, optionally |ANYONECANPAY);
 *   `witness-pubkeytype` SCRIPT_ERR_WITNESS_PUBKEYTYPE (not a 33-byte 02/03 key); `eval-false` SCRIPT_ERR_EVAL_FALSE
 *   (empty signature); `sig-nullfail` SCRIPT_ERR_SIG_NULLFAIL (signature does not verify)
 * - P2TR: `witness-program-witness-empty` SCRIPT_ERR_WITNESS_PROGRAM_WITNESS_EMPTY; `taproot-script-path-unsupported`
 *   (more than one element besides an annex: a script-path spend, cairn rule); `schnorr-sig-size`
 *   SCRIPT_ERR_SCHNORR_SIG_SIZE (not 64/65 bytes); `schnorr-sig-hashtype` SCRIPT_ERR_SCHNORR_SIG_HASHTYPE (65-byte sig
 *   with 0x00, undefined type, SINGLE without output); `schnorr-sig` SCRIPT_ERR_SCHNORR_SIG (does not verify)
 * @throws VerifyError sighash-input-index | sighash-missing-prevouts | sighash-cache-mismatch (caller errors)
 * @see Bitcoin Core script/interpreter.cpp VerifyScript, VerifyWitnessProgram, CheckECDSASignature,
 *   CheckSchnorrSignature; BIP-141, BIP-143, BIP-341
 */
export function verifyInput(
  tx: Tx,
  inputIndex: number,
  prevouts: readonly TxOut[],
  cache?: SighashCache,
): InputVerification {
  if (!Number.isInteger(inputIndex) || inputIndex < 0 || inputIndex >= tx.inputs.length) {
    throw new VerifyError('sighash-input-index', 0, `input ${inputIndex} of ${tx.inputs.length}`);
  }
  if (prevouts.length !== tx.inputs.length) {
    const detail = `need ${tx.inputs.length} spent outputs, got ${prevouts.length}`;
    throw new VerifyError('sighash-missing-prevouts', 0, detail);
  }
  const spent = prevouts[inputIndex]!;
  const type = classifyScript(spent.scriptPubKey);
  if (type !== 'witness_v0_keyhash' && type !== 'witness_v1_taproot') return fail(type, 'unsupported-script-type');
  if (tx.inputs[inputIndex]!.scriptSig.length !== 0) return fail(type, 'scriptsig-not-empty');
  const c = cache ?? new SighashCache(tx, prevouts);
  if (c.tx !== tx) throw new VerifyError('sighash-cache-mismatch', 0, 'the SighashCache was built for another tx');
  return type === 'witness_v0_keyhash'
    ? verifyP2wpkh(tx, inputIndex, spent, c)
    : verifyP2trKeyPath(tx, inputIndex, prevouts, c);
}
