import * as ecc from 'tiny-secp256k1';
import { schnorr as nobleSchnorr } from '@noble/curves/secp256k1.js';
import { CryptoError } from './cryptoError.js';
import { isValidPrivateKey } from './ecdsa.js';

/** Big-endian bytes of the secp256k1 group order n. */
const CURVE_ORDER = Uint8Array.from([
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
  0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
]);

const ZERO_AUX = new Uint8Array(32);

/** True when the 32 big-endian bytes are >= n. */
function isAtLeastOrder(a: Uint8Array): boolean {
  for (let i = 0; i < 32; i++) {
    const x = a[i]!;
    const y = CURVE_ORDER[i]!;
    if (x !== y) return x > y;
  }
  return true;
}

/**
 * Signs a message with BIP-340 Schnorr: returns the 64-byte signature R.x || s. `auxRand32` is the BIP-340 auxiliary
 * randomness (32 bytes; default all zeros): crypto/ stays pure, so callers that want it pass fresh random bytes.
 * The message is normally a 32-byte BIP-341 sighash (signed by libsecp256k1); BIP-340 allows any length, and other
 * lengths are signed by @noble/curves' BIP-340 implementation (tiny-secp256k1 only takes 32 bytes).
 * @throws CryptoError bad-private-key | bad-aux-length | bad-message-length (not a Uint8Array)
 * @see BIP-340 "Default Signing", Bitcoin Core CKey::SignSchnorr
 */
export function schnorrSign(msg: Uint8Array, privateKey32: Uint8Array, auxRand32: Uint8Array = ZERO_AUX): Uint8Array {
  if (!(msg instanceof Uint8Array)) throw new CryptoError('bad-message-length', 'message must be bytes');
  if (!isValidPrivateKey(privateKey32)) throw new CryptoError('bad-private-key', 'expected 32 bytes in [1, n-1]');
  if (!(auxRand32 instanceof Uint8Array) || auxRand32.length !== 32) {
    throw new CryptoError('bad-aux-length', 'expected 32 bytes of auxiliary randomness');
  }
  if (msg.length === 32) return ecc.signSchnorr(msg, privateKey32, auxRand32);
  return nobleSchnorr.sign(msg, privateKey32, auxRand32);
}

/**
 * Verifies a 64-byte BIP-340 Schnorr signature of a message under a 32-byte x-only public key. Returns false, never
 * throws, on a bad key, bad lengths or a bad signature. 32-byte messages with r < n (every signature a signer can
 * realistically produce) go to libsecp256k1; other message lengths, and the r in [n, p) corner that tiny-secp256k1's
 * argument check refuses although BIP-340 allows it, go to @noble/curves so the result is exactly BIP-340's.
 * @see BIP-340 "Verification", Bitcoin Core XOnlyPubKey::VerifySchnorr
 */
export function schnorrVerify(msg: Uint8Array, xOnlyPublicKey32: Uint8Array, sig64: Uint8Array): boolean {
  if (!(msg instanceof Uint8Array)) return false;
  if (!(xOnlyPublicKey32 instanceof Uint8Array) || xOnlyPublicKey32.length !== 32) return false;
  if (!(sig64 instanceof Uint8Array) || sig64.length !== 64) return false;
  // s >= n is invalid under BIP-340 whatever the backend.
  if (isAtLeastOrder(sig64.subarray(32, 64))) return false;
  try {
    if (msg.length === 32 && !isAtLeastOrder(sig64.subarray(0, 32))) {
      return ecc.verifySchnorr(msg, xOnlyPublicKey32, sig64);
    }
    return nobleSchnorr.verify(sig64, msg, xOnlyPublicKey32);
  } catch {
    // tiny-secp256k1 throws on a public key that is not an x coordinate on the curve.
    return false;
  }
}

/**
 * The 32-byte x-only public key (BIP-340) of a private key: the x coordinate of d·G, whatever the parity of its y.
 * @throws CryptoError bad-private-key
 * @see BIP-340 "Public Key Generation"
 */
export function xOnlyPublicKey(privateKey32: Uint8Array): Uint8Array {
  if (!isValidPrivateKey(privateKey32)) throw new CryptoError('bad-private-key', 'expected 32 bytes in [1, n-1]');
  return ecc.xOnlyPointFromScalar(privateKey32);
}

/**
 * Drops the parity byte of a 33-byte compressed SEC1 public key, giving its 32-byte x-only form (BIP-340).
 * @throws CryptoError bad-public-key (not 33 bytes, prefix not 0x02/0x03, or not on the curve)
 * @see BIP-340 "Public Key Conversion", Bitcoin Core XOnlyPubKey(CPubKey)
 */
export function toXOnly(publicKey33: Uint8Array): Uint8Array {
  if (
    !(publicKey33 instanceof Uint8Array) ||
    publicKey33.length !== 33 ||
    (publicKey33[0] !== 0x02 && publicKey33[0] !== 0x03) ||
    !ecc.isPoint(publicKey33)
  ) {
    throw new CryptoError('bad-public-key', 'expected a 33-byte compressed public key on the curve');
  }
  return publicKey33.slice(1);
}
