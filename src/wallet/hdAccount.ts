/**
 * BIP-44-style HD accounts of a cairn wallet: P2WPKH accounts at m/84'/coin'/account' (BIP-84) and P2TR accounts at
 * m/86'/coin'/account' (BIP-86: key-path only, the internal key tweaked with no script tree), coin = the network's
 * bip44CoinType. Each account has an external (receive, 0) and an internal (change, 1) chain.
 *
 * Extended-key version bytes (cairn keeps Bitcoin's, so existing tools read cairn's keys):
 * - `main` (and the `bitcoin` params): P2WPKH zprv/zpub (SLIP-132, as BIP-84's test vectors), P2TR xprv/xpub (BIP-86).
 * - `test`, `devnet`, `regtest`: P2WPKH vprv/vpub, P2TR tprv/tpub (Bitcoin testnet's).
 * Pure: derivation only, no I/O.
 */
import { encodeSegwitAddress } from '../crypto/address.js';
import { CryptoError } from '../crypto/cryptoError.js';
import { hash160 } from '../crypto/hash.js';
import { decodeExtendedKey, hdRootFromSeed, HARDENED_OFFSET, mnemonicToSeed, validateMnemonic } from '../crypto/hd.js';
import type { HDKey, HdVersions } from '../crypto/hd.js';
import { tweakPublicKey } from '../crypto/taproot.js';
import type { ChainParams } from '../params/chainParams.js';
import { WalletError } from './walletError.js';

/** The output type of an account: P2WPKH (BIP-84) or P2TR key path (BIP-86). */
export type AccountKind = 'p2wpkh' | 'p2tr';

/** BIP-43 purpose of each account kind. @see BIP-84, BIP-86 */
export const ACCOUNT_PURPOSE: Readonly<Record<AccountKind, number>> = Object.freeze({ p2wpkh: 84, p2tr: 86 });

/** Chain index of receive addresses (BIP-44 `change` = 0). */
export const EXTERNAL_CHAIN = 0;
/** Chain index of change addresses (BIP-44 `change` = 1). */
export const INTERNAL_CHAIN = 1;
/** A BIP-44 chain: 0 external (receive), 1 internal (change). */
export type ChainIndex = 0 | 1;

/**
 * BIP-32 / SLIP-132 extended-key version bytes (private, public): xprv/xpub 0x0488ade4/0x0488b21e, zprv/zpub
 * 0x04b2430c/0x04b24746, tprv/tpub 0x04358394/0x043587cf, vprv/vpub 0x045f18bc/0x045f1cf6.
 * @see BIP-32 "Serialization format", SLIP-132
 */
export const EXTENDED_KEY_VERSIONS = Object.freeze({
  xpub: Object.freeze({ private: 0x0488ade4, public: 0x0488b21e }),
  zpub: Object.freeze({ private: 0x04b2430c, public: 0x04b24746 }),
  tpub: Object.freeze({ private: 0x04358394, public: 0x043587cf }),
  vpub: Object.freeze({ private: 0x045f18bc, public: 0x045f1cf6 }),
} as const);

/**
 * The version bytes an account's extended keys are serialized with: on `main`/`bitcoin` zpub (P2WPKH) or xpub (P2TR),
 * on the test networks vpub (P2WPKH) or tpub (P2TR).
 * @see SLIP-132; BIP-84 and BIP-86 test vectors
 */
export function getAccountVersions(params: ChainParams, kind: AccountKind): HdVersions {
  const mainLike = params.name === 'main' || params.name === 'bitcoin';
  if (kind === 'p2wpkh') return mainLike ? EXTENDED_KEY_VERSIONS.zpub : EXTENDED_KEY_VERSIONS.vpub;
  return mainLike ? EXTENDED_KEY_VERSIONS.xpub : EXTENDED_KEY_VERSIONS.tpub;
}

function checkIndex(index: number, what: string): void {
  if (!Number.isInteger(index) || index < 0 || index >= HARDENED_OFFSET) {
    throw new WalletError(what === 'account' ? 'bad-account' : 'bad-index', `${what} ${String(index)} is not in 0..2^31-1`);
  }
}

/**
 * The account's derivation path `m/purpose'/coin'/account'`, e.g. `m/84'/1729'/0'` on main.
 * @throws WalletError bad-account
 * @see BIP-44 "Path levels", BIP-84, BIP-86
 */
export function getAccountPath(params: ChainParams, kind: AccountKind, account: number): string {
  checkIndex(account, 'account');
  return `m/${ACCOUNT_PURPOSE[kind]}'/${params.bip44CoinType}'/${account}'`;
}

/**
 * The 64-byte BIP-39 seed of a mnemonic and optional passphrase, after checking the mnemonic's words and checksum
 * (a typo must not silently give an empty wallet).
 * @throws WalletError bad-mnemonic
 * @see BIP-39 "From mnemonic to seed"
 */
export function mnemonicToWalletSeed(mnemonic: string, passphrase = ''): Uint8Array {
  if (typeof mnemonic !== 'string' || !validateMnemonic(mnemonic.normalize('NFKD'))) {
    throw new WalletError('bad-mnemonic', 'not a valid BIP-39 mnemonic (unknown word, word count or checksum)');
  }
  if (typeof passphrase !== 'string') throw new WalletError('bad-mnemonic', 'the passphrase must be a string');
  return mnemonicToSeed(mnemonic, passphrase);
}

/** One address of an account, with everything needed to recognise its outputs and sign for them. */
export interface DerivedAddress {
  readonly kind: AccountKind;
  readonly account: number;
  readonly chain: ChainIndex;
  readonly index: number;
  /** Full derivation path from the master key, e.g. `m/84'/1'/0'/0/5`. */
  readonly path: string;
  /** 33-byte compressed public key of the derived key (for P2TR: the internal key with its parity byte). */
  readonly publicKey: Uint8Array;
  /** P2TR only: the 32-byte x-only internal key P (BIP-86 lift_x(derived_key)). */
  readonly internalKey?: Uint8Array;
  /** P2TR only: the 32-byte x-only output key Q = P + hash_TapTweak(P)·G. */
  readonly outputKey?: Uint8Array;
  /** P2WPKH `0014<hash160(pubkey)>` or P2TR `5120<Q>`. */
  readonly scriptPubKey: Uint8Array;
  /** Segwit address under the network's HRP. */
  readonly address: string;
}

/**
 * One BIP-84 or BIP-86 account: its account-level extended key and the derivation of receive/change addresses and
 * their private keys. Built from a seed (can sign) or from an extended public key (watch-only). Private material is
 * only returned by methods whose name says so; inspecting or JSON-serializing an HdAccount shows public data only.
 * @see BIP-32, BIP-44, BIP-84, BIP-86
 */
export class HdAccount {
  private readonly chainKeys: [HDKey | undefined, HDKey | undefined] = [undefined, undefined];

  private constructor(
    readonly params: ChainParams,
    readonly kind: AccountKind,
    readonly account: number,
    private readonly accountKey: HDKey,
    /** BIP-32 fingerprint of the master key (first 4 bytes of hash160(master pubkey)), for PSBT derivation paths. */
    readonly masterFingerprint: number,
  ) {}

  /**
   * Derives the account m/purpose'/coin'/account' from a BIP-32 seed (e.g. mnemonicToWalletSeed's 64 bytes).
   * @throws WalletError bad-seed | bad-account
   */
  static fromSeed(seed: Uint8Array, params: ChainParams, kind: AccountKind, account = 0): HdAccount {
    const path = getAccountPath(params, kind, account);
    let root: HDKey;
    try {
      root = hdRootFromSeed(seed, getAccountVersions(params, kind));
    } catch (e) {
      throw new WalletError('bad-seed', e instanceof CryptoError ? e.message : 'invalid seed');
    }
    const key = root.derive(path);
    const masterFingerprint = root.fingerprint;
    root.wipePrivateData();
    return new HdAccount(params, kind, account, key, masterFingerprint);
  }

  /**
   * An account from its serialized account-level extended key (depth 3) in this network's and kind's versions:
   * a public key gives a watch-only account, a private key a signing one. `masterFingerprint` is unknown from the
   * key alone (default 0).
   * @throws WalletError bad-account (not an extended key of these versions, or not at depth 3)
   */
  static fromExtendedKey(extendedKey: string, params: ChainParams, kind: AccountKind, account = 0, masterFingerprint = 0): HdAccount {
    checkIndex(account, 'account');
    let key: HDKey;
    try {
      key = decodeExtendedKey(extendedKey, getAccountVersions(params, kind));
    } catch (e) {
      throw new WalletError('bad-account', `not a ${kind} account key of ${params.name}: ${e instanceof Error ? e.message : ''}`);
    }
    if (key.depth !== 3 || key.index !== HARDENED_OFFSET + account) {
      throw new WalletError('bad-account', `expected the key of account ${account} (depth 3), got depth ${key.depth}`);
    }
    return new HdAccount(params, kind, account, key, masterFingerprint);
  }

  /** `m/purpose'/coin'/account'`. */
  get path(): string {
    return getAccountPath(this.params, this.kind, this.account);
  }

  /** True when the account has no private key (built from an extended public key). */
  get isWatchOnly(): boolean {
    return this.accountKey.privateKey === null;
  }

  /** The account's extended public key (zpub/xpub on main, vpub/tpub elsewhere; see the module note). */
  get extendedPublicKey(): string {
    return this.accountKey.publicExtendedKey;
  }

  /**
   * SECRET: the account's extended private key (zprv/xprv, vprv/tprv). Only for an explicit export.
   * @throws WalletError watch-only
   */
  exportExtendedPrivateKey(): string {
    if (this.isWatchOnly) throw new WalletError('watch-only', 'a watch-only account has no private key');
    return this.accountKey.privateExtendedKey;
  }

  private chainKey(chain: ChainIndex): HDKey {
    if (chain !== 0 && chain !== 1) throw new WalletError('bad-index', `chain ${String(chain)} is not 0 or 1`);
    let key = this.chainKeys[chain];
    if (key === undefined) {
      key = this.accountKey.deriveChild(chain);
      this.chainKeys[chain] = key;
    }
    return key;
  }

  /**
   * The BIP-32 key at m/purpose'/coin'/account'/chain/index (private when the account has one). Its serialization
   * uses the account's versions. SECRET when not watch-only: use deriveAddress for public data.
   * @throws WalletError bad-index
   */
  deriveKey(chain: ChainIndex, index: number): HDKey {
    checkIndex(index, 'address index');
    return this.chainKey(chain).deriveChild(index);
  }

  /**
   * The address at chain/index: its public key, script and address (P2TR: internal and BIP-86-tweaked output key).
   * @throws WalletError bad-index
   * @see BIP-84 "Address derivation", BIP-86 "Address derivation"
   */
  deriveAddress(chain: ChainIndex, index: number): DerivedAddress {
    const publicKey = this.deriveKey(chain, index).publicKey!;
    const path = `${this.path}/${chain}/${index}`;
    const hrp = this.params.bech32Hrp;
    const base = { kind: this.kind, account: this.account, chain, index, path, publicKey };
    if (this.kind === 'p2wpkh') {
      const program = hash160(publicKey);
      return { ...base, scriptPubKey: Uint8Array.of(0x00, 0x14, ...program), address: encodeSegwitAddress(hrp, 0, program) };
    }
    const internalKey = publicKey.slice(1);
    const { outputKey } = tweakPublicKey(internalKey);
    return {
      ...base,
      internalKey,
      outputKey,
      scriptPubKey: Uint8Array.of(0x51, 0x20, ...outputKey),
      address: encodeSegwitAddress(hrp, 1, outputKey),
    };
  }

  /**
   * SECRET: the 32-byte private key at chain/index (for P2TR the untweaked internal private key; the signer applies
   * the BIP-341 tweak).
   * @throws WalletError watch-only | bad-index
   */
  derivePrivateKey(chain: ChainIndex, index: number): Uint8Array {
    if (this.isWatchOnly) throw new WalletError('watch-only', 'a watch-only account has no private key');
    return this.deriveKey(chain, index).privateKey!;
  }

  /** Public description only, so JSON.stringify never writes a private key. */
  toJSON(): { kind: AccountKind; account: number; path: string; extendedPublicKey: string } {
    return { kind: this.kind, account: this.account, path: this.path, extendedPublicKey: this.extendedPublicKey };
  }

  /** util.inspect / console.log show public data only. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `HdAccount(${this.kind} ${this.path} ${this.extendedPublicKey})`;
  }
}
