import { HDKey } from '@scure/bip32';
import type { Versions } from '@scure/bip32';
import * as bip39 from '@scure/bip39';
import { wordlist as englishWordlist } from '@scure/bip39/wordlists/english.js';
import { CryptoError } from './cryptoError.js';

export { HDKey, HARDENED_OFFSET } from '@scure/bip32';
export type { Versions as HdVersions } from '@scure/bip32';

/** The BIP-39 English wordlist (2048 words), the default for every mnemonic function here. */
export const ENGLISH_WORDLIST: readonly string[] = englishWordlist;

/** Bitcoin mainnet BIP-32 version bytes (xprv 0x0488ade4 / xpub 0x0488b21e), the library default. */
export const BITCOIN_HD_VERSIONS: Readonly<Versions> = Object.freeze({ private: 0x0488ade4, public: 0x0488b21e });

function errorDetail(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * The BIP-32 master key of a seed (16..64 bytes, e.g. a BIP-39 seed): HMAC-SHA512("Bitcoin seed", seed).
 * `versions` are the extended-key version bytes used when serializing (default Bitcoin mainnet xprv/xpub).
 * @throws CryptoError bad-seed (length out of 16..64, or the derived key is invalid)
 * @see BIP-32 "Master key generation"
 */
export function hdRootFromSeed(seed: Uint8Array, versions: Versions = BITCOIN_HD_VERSIONS): HDKey {
  if (!(seed instanceof Uint8Array) || seed.length < 16 || seed.length > 64) {
    throw new CryptoError('bad-seed', 'seed must be 16..64 bytes');
  }
  try {
    return HDKey.fromMasterSeed(seed, versions);
  } catch (e) {
    throw new CryptoError('bad-seed', errorDetail(e));
  }
}

/**
 * Derives a descendant of `root` along a BIP-32 path such as `m/84'/0'/0'/0/5` (hardened as `'` or `h`), relative to
 * `root`. Hardened steps need the private key.
 * @throws CryptoError bad-path (syntax, index >= 2^31) | bad-derivation (hardened from a public key, or an invalid
 *   child key, probability < 2^-127)
 * @see BIP-32 "Key derivation", BIP-44 path notation
 */
export function deriveHdPath(root: HDKey, path: string): HDKey {
  if (typeof path !== 'string' || !/^m(\/\d+['h]?)*$/.test(path)) {
    throw new CryptoError('bad-path', `not a derivation path: ${String(path)}`);
  }
  for (const step of path.split('/').slice(1)) {
    if (Number.parseInt(step, 10) >= 0x80000000) throw new CryptoError('bad-path', `index ${step} is not below 2^31`);
  }
  try {
    // @scure/bip32 only understands ' for hardened steps.
    return root.derive(path.replaceAll('h', "'"));
  } catch (e) {
    throw new CryptoError('bad-derivation', errorDetail(e));
  }
}

/**
 * Parses a base58check extended key (xprv/xpub, or the given `versions`), refusing every invalid key of BIP-32's
 * test vector 5: wrong version, private/public version mismatch, bad key prefix, key not in 1..n-1 or not on the curve,
 * depth 0 with a parent fingerprint or index, bad checksum.
 * @throws CryptoError bad-extended-key
 * @see BIP-32 "Serialization format"
 */
export function decodeExtendedKey(extendedKey: string, versions: Versions = BITCOIN_HD_VERSIONS): HDKey {
  if (typeof extendedKey !== 'string') throw new CryptoError('bad-extended-key', 'expected a string');
  try {
    return HDKey.fromExtendedKey(extendedKey, versions);
  } catch (e) {
    throw new CryptoError('bad-extended-key', errorDetail(e));
  }
}

function checkEntropy(entropy: Uint8Array): void {
  if (!(entropy instanceof Uint8Array) || ![16, 20, 24, 28, 32].includes(entropy.length)) {
    throw new CryptoError('bad-entropy', 'entropy must be 16, 20, 24, 28 or 32 bytes');
  }
}

/**
 * The BIP-39 mnemonic (12..24 words) of 16..32 bytes of entropy, with its checksum bits.
 * @throws CryptoError bad-entropy (length not 16/20/24/28/32)
 * @see BIP-39 "Generating the mnemonic"
 */
export function entropyToMnemonic(entropy: Uint8Array, wordlist: readonly string[] = ENGLISH_WORDLIST): string {
  checkEntropy(entropy);
  try {
    return bip39.entropyToMnemonic(entropy, wordlist as string[]);
  } catch (e) {
    throw new CryptoError('bad-entropy', errorDetail(e));
  }
}

/**
 * Makes a new BIP-39 mnemonic from entropy the caller drew from a CSPRNG (crypto/ is pure and draws none):
 * 16 bytes give 12 words, 32 bytes 24 words. Same result as entropyToMnemonic.
 * @throws CryptoError bad-entropy
 * @see BIP-39 "Generating the mnemonic"
 */
export function generateMnemonic(entropy: Uint8Array, wordlist: readonly string[] = ENGLISH_WORDLIST): string {
  return entropyToMnemonic(entropy, wordlist);
}

/**
 * The entropy of a BIP-39 mnemonic, after checking its words and checksum (input NFKD-normalised).
 * @throws CryptoError bad-mnemonic (unknown word, wrong word count, bad checksum)
 * @see BIP-39 "Generating the mnemonic" (inverse)
 */
export function mnemonicToEntropy(mnemonic: string, wordlist: readonly string[] = ENGLISH_WORDLIST): Uint8Array {
  if (typeof mnemonic !== 'string') throw new CryptoError('bad-mnemonic', 'expected a string');
  try {
    return bip39.mnemonicToEntropy(mnemonic, wordlist as string[]);
  } catch (e) {
    throw new CryptoError('bad-mnemonic', errorDetail(e));
  }
}

/**
 * True when the mnemonic has a valid word count, only words of the wordlist and a correct checksum.
 * @see BIP-39
 */
export function validateMnemonic(mnemonic: string, wordlist: readonly string[] = ENGLISH_WORDLIST): boolean {
  if (typeof mnemonic !== 'string') return false;
  try {
    return bip39.validateMnemonic(mnemonic, wordlist as string[]);
  } catch {
    return false;
  }
}

/**
 * The 64-byte BIP-39 seed: PBKDF2-HMAC-SHA512(NFKD(mnemonic), "mnemonic" + NFKD(passphrase), 2048 rounds).
 * As BIP-39 specifies, the mnemonic is NOT validated here (call validateMnemonic first). Synchronous (~tens of ms).
 * @throws CryptoError bad-mnemonic (not a string)
 * @see BIP-39 "From mnemonic to seed"
 */
export function mnemonicToSeed(mnemonic: string, passphrase = ''): Uint8Array {
  if (typeof mnemonic !== 'string' || typeof passphrase !== 'string') {
    throw new CryptoError('bad-mnemonic', 'mnemonic and passphrase must be strings');
  }
  try {
    return bip39.mnemonicToSeedSync(mnemonic, passphrase);
  } catch (e) {
    throw new CryptoError('bad-mnemonic', errorDetail(e));
  }
}
