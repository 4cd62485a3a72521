import * as ecc from 'tiny-secp256k1';
import { CryptoError } from './cryptoError.js';
import { isValidPrivateKey } from './ecdsa.js';
import { taggedHash } from './hash.js';

function checkXOnlyKey(internalKey32: Uint8Array): void {
  if (!(internalKey32 instanceof Uint8Array) || internalKey32.length !== 32) {
    throw new CryptoError('bad-public-key', 'expected a 32-byte x-only internal key');
  }
}

function checkHash32(value: Uint8Array, reason: string, what: string): void {
  if (!(value instanceof Uint8Array) || value.length !== 32) throw new CryptoError(reason, `expected a 32-byte ${what}`);
}

/**
 * The BIP-341 tweak t = hash_TapTweak(P || merkleRoot) of a 32-byte x-only internal key; without a script tree
 * (merkleRoot undefined) t = hash_TapTweak(P). Returns 32 bytes. Does not check that P is on the curve.
 * @throws CryptoError bad-public-key | bad-merkle-root (lengths)
 * @see BIP-341 taproot_tweak_pubkey, Bitcoin Core XOnlyPubKey::ComputeTapTweakHash
 */
export function computeTapTweak(internalKey32: Uint8Array, merkleRoot?: Uint8Array): Uint8Array {
  checkXOnlyKey(internalKey32);
  if (merkleRoot === undefined) return taggedHash('TapTweak', internalKey32);
  checkHash32(merkleRoot, 'bad-merkle-root', 'merkle root');
  return taggedHash('TapTweak', internalKey32, merkleRoot);
}

/**
 * Tweaks a 32-byte x-only internal key into the taproot output key Q = P + t·G (P with even y), as committed in a
 * P2TR scriptPubKey `OP_1 <Q>`. `parity` is Q's y parity (1 = odd), the low bit of a script-path control block.
 * @throws CryptoError bad-public-key (P not on the curve) | bad-merkle-root | bad-tweak (t >= n or Q at infinity)
 * @see BIP-341 taproot_tweak_pubkey, Bitcoin Core XOnlyPubKey::CreateTapTweak
 */
export function tweakPublicKey(
  internalKey32: Uint8Array,
  merkleRoot?: Uint8Array,
): { outputKey: Uint8Array; parity: 0 | 1 } {
  const tweak = computeTapTweak(internalKey32, merkleRoot);
  if (!ecc.isXOnlyPoint(internalKey32)) throw new CryptoError('bad-public-key', 'internal key is not on the curve');
  let result: ReturnType<typeof ecc.xOnlyPointAddTweak>;
  try {
    result = ecc.xOnlyPointAddTweak(internalKey32, tweak);
  } catch {
    // Only a tweak >= n reaches here (negligible for a hash output); BIP-341 says fail.
    throw new CryptoError('bad-tweak', 'tweak is not below the curve order');
  }
  if (!result) throw new CryptoError('bad-tweak', 'tweaked key is the point at infinity');
  return { outputKey: result.xOnlyPubkey, parity: result.parity };
}

/**
 * Tweaks a private key for a taproot key-path spend: negates d when d·G has odd y, then adds
 * t = hash_TapTweak(x(d·G) || merkleRoot) mod n. Sign the BIP-341 sighash with the result (schnorrSign).
 * @throws CryptoError bad-private-key | bad-merkle-root | bad-tweak (t >= n or the result is zero)
 * @see BIP-341 taproot_tweak_seckey, Bitcoin Core CKey::SignSchnorr (with merkle_root)
 */
export function tweakPrivateKey(privateKey32: Uint8Array, merkleRoot?: Uint8Array): Uint8Array {
  if (!isValidPrivateKey(privateKey32)) throw new CryptoError('bad-private-key', 'expected 32 bytes in [1, n-1]');
  const publicKey = ecc.pointFromScalar(privateKey32, true);
  if (!publicKey) throw new CryptoError('bad-private-key', 'no public key for this scalar');
  const evenKey = publicKey[0] === 0x03 ? ecc.privateNegate(privateKey32) : privateKey32;
  const tweak = computeTapTweak(publicKey.subarray(1), merkleRoot);
  let tweaked: Uint8Array | null;
  try {
    tweaked = ecc.privateAdd(evenKey, tweak);
  } catch {
    throw new CryptoError('bad-tweak', 'tweak is not below the curve order');
  }
  if (!tweaked) throw new CryptoError('bad-tweak', 'tweaked private key is zero');
  return tweaked;
}

