import * as ecc from 'tiny-secp256k1';
import { CryptoError } from './cryptoError.js';

/** Big-endian bytes of the secp256k1 group order n. */
const CURVE_ORDER = hex32('fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141');
/** Big-endian bytes of floor(n / 2), the largest low-S value. */
const HALF_CURVE_ORDER = hex32('7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0');

function hex32(hex: string): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Compares two equal-length big-endian unsigned integers: -1, 0 or 1. */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

function isZero(a: Uint8Array): boolean {
  for (const x of a) if (x !== 0) return false;
  return true;
}

/** True when the 32 big-endian bytes encode a scalar in [1, n-1]. */
function isScalarInRange(a: Uint8Array): boolean {
  return a.length === 32 && !isZero(a) && compareBytes(a, CURVE_ORDER) < 0;
}

function checkMessageHash(msgHash32: Uint8Array): void {
  if (!(msgHash32 instanceof Uint8Array) || msgHash32.length !== 32) {
    throw new CryptoError('bad-message-length', 'expected a 32-byte message hash');
  }
}

function checkPrivateKey(privateKey32: Uint8Array): void {
  if (!isValidPrivateKey(privateKey32)) throw new CryptoError('bad-private-key', 'expected 32 bytes in [1, n-1]');
}

/**
 * True when the bytes are a usable secp256k1 private key: exactly 32 bytes, big-endian, in [1, n-1].
 * @see Bitcoin Core CKey::Check
 */
export function isValidPrivateKey(privateKey: Uint8Array): boolean {
  return privateKey instanceof Uint8Array && ecc.isPrivate(privateKey);
}

/**
 * True when the bytes are a SEC1 public key on the curve: 33-byte compressed (0x02/0x03) or 65-byte uncompressed
 * (0x04). Hybrid keys (0x06/0x07), which libsecp256k1 would parse, are refused: cairn never produces or accepts them.
 * @see Bitcoin Core CPubKey::IsFullyValid
 */
export function isValidPublicKey(publicKey: Uint8Array): boolean {
  if (!(publicKey instanceof Uint8Array)) return false;
  const prefix = publicKey[0];
  if (publicKey.length === 33) {
    if (prefix !== 0x02 && prefix !== 0x03) return false;
  } else if (publicKey.length === 65) {
    if (prefix !== 0x04) return false;
  } else {
    return false;
  }
  return ecc.isPoint(publicKey);
}

/**
 * Derives the public key of a private key: 33-byte compressed SEC1 by default, 65-byte uncompressed on request.
 * @throws CryptoError bad-private-key
 * @see Bitcoin Core CKey::GetPubKey
 */
export function publicKeyFromPrivate(privateKey32: Uint8Array, compressed = true): Uint8Array {
  checkPrivateKey(privateKey32);
  const publicKey = ecc.pointFromScalar(privateKey32, compressed);
  // Unreachable for a key in [1, n-1]; kept so a library change cannot hand back null silently.
  if (!publicKey) throw new CryptoError('bad-private-key', 'no public key for this scalar');
  return publicKey;
}

/**
 * Signs a 32-byte message hash (a sighash) with ECDSA over secp256k1: deterministic nonce (RFC 6979), low-S.
 * Returns the 64-byte compact signature r || s (each 32 bytes big-endian); use encodeDerSignature for the wire form.
 * @throws CryptoError bad-message-length | bad-private-key
 * @see Bitcoin Core CKey::Sign (secp256k1_ecdsa_sign with secp256k1_nonce_function_rfc6979)
 */
export function ecdsaSign(msgHash32: Uint8Array, privateKey32: Uint8Array): Uint8Array {
  checkMessageHash(msgHash32);
  checkPrivateKey(privateKey32);
  return ecc.sign(msgHash32, privateKey32);
}

/**
 * Verifies a 64-byte compact ECDSA signature (r || s) of a 32-byte message hash under a 33- or 65-byte public key.
 * High-S signatures are REJECTED (libsecp256k1's secp256k1_ecdsa_verify without normalising first), which is
 * cairn's consensus rule (BIP-146 LOW_S as consensus); r or s of 0 or >= n, a bad key or bad lengths return false.
 * Never throws.
 * @see Bitcoin Core CPubKey::Verify (which normalises first; cairn does not) and BIP-146
 */
export function ecdsaVerify(msgHash32: Uint8Array, publicKey: Uint8Array, sig64: Uint8Array): boolean {
  if (!(msgHash32 instanceof Uint8Array) || msgHash32.length !== 32) return false;
  if (!(sig64 instanceof Uint8Array) || sig64.length !== 64) return false;
  if (!isValidPublicKey(publicKey)) return false;
  if (!isScalarInRange(sig64.subarray(0, 32)) || !isScalarInRange(sig64.subarray(32, 64))) return false;
  try {
    // strict = true: tiny-secp256k1 otherwise normalises s first and would accept high-S.
    return ecc.verify(msgHash32, publicKey, sig64, true);
  } catch {
    return false;
  }
}

/**
 * True when the compact signature's s is at most n/2 (s = 0 counts as low, as in libsecp256k1).
 * @throws CryptoError bad-signature-length
 * @see Bitcoin Core CPubKey::CheckLowS / IsLowDERSignature, BIP-146 LOW_S
 */
export function isLowS(sig64: Uint8Array): boolean {
  if (!(sig64 instanceof Uint8Array) || sig64.length !== 64) {
    throw new CryptoError('bad-signature-length', 'expected a 64-byte compact signature');
  }
  return compareBytes(sig64.subarray(32, 64), HALF_CURVE_ORDER) <= 0;
}

/** Minimal DER INTEGER content for a 32-byte big-endian unsigned value: no excess leading zeros, 0x00 if high bit set. */
function derInteger(value32: Uint8Array): Uint8Array {
  let start = 0;
  while (start < 31 && value32[start] === 0) start++;
  const body = value32.subarray(start);
  if ((body[0]! & 0x80) === 0) return body;
  const padded = new Uint8Array(body.length + 1);
  padded.set(body, 1);
  return padded;
}

/**
 * Encodes a 64-byte compact signature (r || s) as strict DER, `30 len 02 lenR R 02 lenS S` (8..72 bytes, without the
 * sighash type byte that a witness appends).
 * @throws CryptoError bad-signature-length
 * @see Bitcoin Core secp256k1_ecdsa_signature_serialize_der, BIP-66
 */
export function encodeDerSignature(sig64: Uint8Array): Uint8Array {
  if (!(sig64 instanceof Uint8Array) || sig64.length !== 64) {
    throw new CryptoError('bad-signature-length', 'expected a 64-byte compact signature');
  }
  const r = derInteger(sig64.subarray(0, 32));
  const s = derInteger(sig64.subarray(32, 64));
  const out = new Uint8Array(6 + r.length + s.length);
  out[0] = 0x30;
  out[1] = 4 + r.length + s.length;
  out[2] = 0x02;
  out[3] = r.length;
  out.set(r, 4);
  out[4 + r.length] = 0x02;
  out[5 + r.length] = s.length;
  out.set(s, 6 + r.length);
  return out;
}

/**
 * True when `der` (WITHOUT the trailing sighash type byte) is a strictly DER-encoded ECDSA signature: Bitcoin Core's
 * IsValidSignatureEncoding rules, applied to the signature with its hashtype byte removed.
 * @see BIP-66, Bitcoin Core IsValidSignatureEncoding (script/interpreter.cpp)
 */
export function isStrictDerSignature(der: Uint8Array): boolean {
  if (!(der instanceof Uint8Array)) return false;
  // Core's bounds are on the signature with the hashtype byte (9..73); without it they are 8..72.
  const size = der.length;
  if (size < 8 || size > 72) return false;
  if (der[0] !== 0x30) return false;
  if (der[1] !== size - 2) return false;
  const lenR = der[3]!;
  // lenS must lie inside the DER part; Core's `5 + lenR >= size` with size counting the hashtype byte.
  if (5 + lenR >= size) return false;
  const lenS = der[5 + lenR]!;
  if (lenR + lenS + 6 !== size) return false;
  if (der[2] !== 0x02) return false;
  if (lenR === 0) return false;
  if ((der[4]! & 0x80) !== 0) return false;
  if (lenR > 1 && der[4] === 0x00 && (der[5]! & 0x80) === 0) return false;
  if (der[lenR + 4] !== 0x02) return false;
  if (lenS === 0) return false;
  if ((der[lenR + 6]! & 0x80) !== 0) return false;
  if (lenS > 1 && der[lenR + 6] === 0x00 && (der[lenR + 7]! & 0x80) === 0) return false;
  return true;
}

/** Left-pads a minimal big-endian integer to 32 bytes, or null when it does not fit. */
function to32(value: Uint8Array): Uint8Array | null {
  let start = 0;
  while (start < value.length && value[start] === 0) start++;
  const body = value.subarray(start);
  if (body.length > 32) return null;
  const out = new Uint8Array(32);
  out.set(body, 32 - body.length);
  return out;
}

/**
 * Parses a strict-DER ECDSA signature (WITHOUT the sighash type byte) into the 64-byte compact form r || s.
 * Returns null when the encoding is not strict DER (BIP-66) or when r or s is not in [1, n-1] (such a signature
 * could never verify). High-S is returned as is: check it with isLowS.
 * @see BIP-66, Bitcoin Core IsValidSignatureEncoding + ecdsa_signature_parse_der_lax
 */
export function decodeDerSignature(der: Uint8Array): Uint8Array | null {
  if (!isStrictDerSignature(der)) return null;
  const lenR = der[3]!;
  const lenS = der[5 + lenR]!;
  const r = to32(der.subarray(4, 4 + lenR));
  const s = to32(der.subarray(6 + lenR, 6 + lenR + lenS));
  if (!r || !s || !isScalarInRange(r) || !isScalarInRange(s)) return null;
  const sig = new Uint8Array(64);
  sig.set(r, 0);
  sig.set(s, 32);
  return sig;
}
