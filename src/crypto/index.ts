/**
 * Public API of crypto/ (L0): hashes, ECDSA and BIP-340 Schnorr over secp256k1 (tiny-secp256k1), BIP-341 key-path
 * tweaks, bech32/bech32m segwit addresses, BIP-32 HD keys and BIP-39 mnemonics. Everything here is pure.
 */
export { sha256, sha256d, hash160, taggedHash } from './hash.js';
export { CryptoError } from './cryptoError.js';
export {
  ecdsaSign,
  ecdsaVerify,
  encodeDerSignature,
  decodeDerSignature,
  isStrictDerSignature,
  isLowS,
  publicKeyFromPrivate,
  isValidPrivateKey,
  isValidPublicKey,
} from './ecdsa.js';
export { schnorrSign, schnorrVerify, xOnlyPublicKey, toXOnly } from './schnorr.js';
export {
  computeTapTweak,
  tweakPublicKey,
  tweakPrivateKey,
  computeTapLeafHash,
  computeTapBranchHash,
} from './taproot.js';
export { AddressError } from './addressError.js';
export { decodeBech32, encodeBech32, checkHrp, bytesToWords, wordsToBytes } from './bech32.js';
export type { Bech32Encoding, Bech32Decoded } from './bech32.js';
export { encodeSegwitAddress, decodeSegwitAddress, addressToScriptPubKey, scriptPubKeyToAddress } from './address.js';
export type { SegwitAddress } from './address.js';
export {
  HDKey,
  HARDENED_OFFSET,
  BITCOIN_HD_VERSIONS,
  ENGLISH_WORDLIST,
  hdRootFromSeed,
  deriveHdPath,
  decodeExtendedKey,
  generateMnemonic,
  entropyToMnemonic,
  mnemonicToEntropy,
  validateMnemonic,
  mnemonicToSeed,
} from './hd.js';
export type { HdVersions } from './hd.js';
