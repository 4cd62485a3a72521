/**
 * The wallet's keystore file: the BIP-39 entropy (and the optional BIP-39 passphrase) encrypted at rest with
 * AES-256-GCM under a key stretched from the password by scrypt, the scrypt parameters and salt stored in the file;
 * public metadata (network, master fingerprint, accounts with their extended public keys) in clear, the header bound
 * to the ciphertext as GCM associated data. Written atomically (temp file, fsync, link/rename) with mode 0600.
 *
 * File (JSON, version 1):
 * `{version, network, masterFingerprint, bip39Passphrase, kdf: {name: "scrypt", N, r, p, salt, dkLen: 64, check},
 *   cipher: {name: "aes-256-gcm", iv, tag}, ciphertext, accounts: [{kind, account, path, extendedPublicKey}]}`
 * (hex for bytes). scrypt gives 64 bytes: the first 32 are the AES key, sha256 of the last 32 is `check`, which tells a
 * wrong password (check differs) from a tampered file (check matches, GCM authentication fails).
 * @see RFC 7914 (scrypt), NIST SP 800-38D (GCM); Ethereum's keystore v3 for the password check idea
 */
import { createCipheriv, createDecipheriv, randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { chmodSync, constants, statSync } from 'node:fs';
import { chmod, link, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { sha256 } from '../crypto/hash.js';
import { entropyToMnemonic, mnemonicToEntropy } from '../crypto/hd.js';
import type { ChainParams, NetworkName } from '../params/chainParams.js';
import { NETWORKS } from '../params/networks.js';
import { bytesToHex, hexToBytes } from '../primitives/hex.js';
import { HdAccount, mnemonicToWalletSeed, type AccountKind } from './hdAccount.js';
import { WalletError } from './walletError.js';

/** Format version written by this code. */
export const KEYSTORE_VERSION = 1;

/** scrypt cost parameters: N (CPU/memory cost, a power of two), r (block size), p (parallelism). */
export interface ScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** Default scrypt cost: N = 2^15, r = 8, p = 1 (32 MiB, ~0.1 s). */
export const DEFAULT_SCRYPT_PARAMS: ScryptParams = Object.freeze({ N: 2 ** 15, r: 8, p: 1 });
/** Largest accepted N when reading a file (2^20 = 1 GiB at r = 8), so a hostile file cannot exhaust memory. */
export const MAX_SCRYPT_N = 2 ** 20;

/** An account recorded in the keystore (public data only). */
export interface KeystoreAccount {
  readonly kind: AccountKind;
  readonly account: number;
  readonly path: string;
  readonly extendedPublicKey: string;
}

/** The keystore file's JSON. */
export interface KeystoreFile {
  readonly version: number;
  readonly network: NetworkName;
  /** BIP-32 master key fingerprint, 8 hex digits. */
  readonly masterFingerprint: string;
  /** Whether a BIP-39 passphrase is part of the seed (the passphrase itself is in the ciphertext). */
  readonly bip39Passphrase: boolean;
  readonly kdf: {
    readonly name: 'scrypt';
    readonly N: number;
    readonly r: number;
    readonly p: number;
    /** Hex salt, 32 bytes when written here. */
    readonly salt: string;
    readonly dkLen: 64;
    /** Hex sha256 of the last 32 bytes of the scrypt output: the password check. */
    readonly check: string;
  };
  readonly cipher: { readonly name: 'aes-256-gcm'; readonly iv: string; readonly tag: string };
  readonly ciphertext: string;
  readonly accounts: readonly KeystoreAccount[];
}

/** What to create a keystore with. */
export interface CreateKeystoreOptions {
  readonly params: ChainParams;
  /** Password that encrypts the seed (not empty). */
  readonly password: string;
  /** A BIP-39 mnemonic to import; omitted, a new 24-word mnemonic is drawn from the CSPRNG. */
  readonly mnemonic?: string;
  /** Optional BIP-39 passphrase ("25th word"). */
  readonly bip39Passphrase?: string;
  /** Accounts to record (default P2WPKH account 0 and P2TR account 0). */
  readonly accounts?: readonly { readonly kind: AccountKind; readonly account: number }[];
  /** scrypt cost (default DEFAULT_SCRYPT_PARAMS). */
  readonly scrypt?: ScryptParams;
  /** Replace an existing file (default false: refuse with keystore-exists). */
  readonly overwrite?: boolean;
}

/** Default accounts of a new keystore. */
export const DEFAULT_KEYSTORE_ACCOUNTS: readonly { kind: AccountKind; account: number }[] = Object.freeze([
  { kind: 'p2wpkh', account: 0 },
  { kind: 'p2tr', account: 0 },
]);

/**
 * An opened keystore: its public metadata and the decrypted secret, which is only handed out by methods whose name
 * says so. Printing or JSON-serializing it shows the public metadata only.
 */
export class UnlockedKeystore {
  readonly #entropy: Uint8Array;
  readonly #passphrase: string;

  constructor(
    /** Where it was read from. */
    readonly path: string,
    /** The file's public content. */
    readonly file: KeystoreFile,
    entropy: Uint8Array,
    passphrase: string,
  ) {
    this.#entropy = entropy;
    this.#passphrase = passphrase;
  }

  /** The network the keystore belongs to. */
  get params(): ChainParams {
    return NETWORKS[this.file.network];
  }

  /** SECRET: the 64-byte BIP-39 seed (mnemonic + passphrase). */
  computeSeed(): Uint8Array {
    return mnemonicToWalletSeed(entropyToMnemonic(this.#entropy), this.#passphrase);
  }

  /** SECRET: the mnemonic, for an explicit backup display only. */
  revealMnemonic(): string {
    return entropyToMnemonic(this.#entropy);
  }

  /** SECRET: the BIP-39 passphrase ('' when none), for an explicit backup display only. */
  revealBip39Passphrase(): string {
    return this.#passphrase;
  }

  /** Public metadata only. */
  toJSON(): Omit<KeystoreFile, 'ciphertext' | 'cipher' | 'kdf'> {
    const { version, network, masterFingerprint, bip39Passphrase, accounts } = this.file;
    return { version, network, masterFingerprint, bip39Passphrase, accounts };
  }

  /** util.inspect / console.log show public metadata only. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `UnlockedKeystore(${this.path}, ${this.file.network}, ${this.file.accounts.length} accounts)`;
  }
}

function deriveKey(password: string, salt: Uint8Array, params: ScryptParams): Promise<Buffer> {
  // scrypt needs 128·N·r bytes (and 128·r·p for its second buffer); Node's default cap is 32 MiB.
  const maxmem = 128 * params.N * params.r + 128 * params.r * params.p + 1024 * 1024;
  return new Promise((resolve, reject) => {
    scryptCallback(password.normalize('NFKC'), salt, 64, { N: params.N, r: params.r, p: params.p, maxmem }, (err, key) =>
      err ? reject(new WalletError('corrupt-keystore', `scrypt failed: ${err.message}`)) : resolve(key),
    );
  });
}

function checkScryptParams(params: ScryptParams, why: 'corrupt-keystore' | 'bad-password'): void {
  const { N, r, p } = params;
  const ok =
    Number.isInteger(N) && N >= 2 && N <= MAX_SCRYPT_N && (N & (N - 1)) === 0 &&
    Number.isInteger(r) && r >= 1 && r <= 32 && Number.isInteger(p) && p >= 1 && p <= 16;
  if (!ok) throw new WalletError(why, `scrypt parameters N=${describeJson(N)} r=${describeJson(r)} p=${describeJson(p)} are out of range`);
}

/** The header bytes GCM authenticates with the ciphertext: everything a wrong value of would mislead a reader. */
function associatedData(file: Pick<KeystoreFile, 'version' | 'network' | 'masterFingerprint' | 'bip39Passphrase' | 'kdf'>): Buffer {
  const { version, network, masterFingerprint, bip39Passphrase, kdf } = file;
  return Buffer.from(
    JSON.stringify([version, network, masterFingerprint, bip39Passphrase, kdf.name, kdf.N, kdf.r, kdf.p, kdf.salt, kdf.dkLen, kdf.check]),
    'utf8',
  );
}

function fingerprintHex(fp: number): string {
  return fp.toString(16).padStart(8, '0');
}

/** Fsyncs a directory so a rename or link in it survives a crash (best effort: not every platform allows it). */
async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Some file systems refuse fsync on a directory; the data itself was already fsynced.
  }
}

/**
 * Writes `text` to `path` atomically with mode 0600: a temp file beside it (created 0600, exclusive), fsync, then a
 * link (no overwrite: fails when `path` exists) or a rename (overwrite), then an fsync of the directory.
 * @throws WalletError keystore-exists | keystore-io
 */
async function writeFileAtomic(path: string, text: string, overwrite: boolean): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      await fh.writeFile(text, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    // The mode given to open is masked by the umask, which can only remove bits; make it exactly 0600.
    await chmod(tmp, 0o600);
    if (overwrite) {
      await rename(tmp, path);
    } else {
      try {
        await link(tmp, path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new WalletError('keystore-exists', `${path} already exists`);
        throw e;
      }
      await unlink(tmp);
    }
    await syncDir(dirname(path));
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    if (e instanceof WalletError) throw e;
    throw new WalletError('keystore-io', `cannot write ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** What protectKeystoreFile found wrong with a keystore file's permissions, and what it did. */
export interface KeystoreFileProtection {
  /** The permission bits the file had, e.g. 0o644. */
  readonly modeBefore: number;
  /** True when the file is now 0600. */
  readonly tightened: boolean;
  /** Why chmod failed (e.g. EPERM: the file belongs to another user), when it did. */
  readonly error?: string;
}

/**
 * Makes a keystore file private to its owner, as ssh demands of private keys: when group or others hold any
 * permission bit, chmod it to 0600 and report what it was (the caller warns). Returns undefined when the file was
 * already private, and on Windows, whose files have no such bits.
 * @throws WalletError keystore-io when the file cannot be stat-ed
 * @see OpenSSH authfile.c sshkey_perm_ok ("UNPROTECTED PRIVATE KEY FILE!")
 */
export function protectKeystoreFile(path: string): KeystoreFileProtection | undefined {
  if (process.platform === 'win32') return undefined;
  let mode: number;
  try {
    mode = statSync(path).mode & 0o777;
  } catch (e) {
    throw new WalletError('keystore-io', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  if ((mode & 0o077) === 0) return undefined;
  try {
    chmodSync(path, 0o600);
    return { modeBefore: mode, tightened: true };
  } catch (e) {
    return { modeBefore: mode, tightened: false, error: (e as NodeJS.ErrnoException).code ?? (e as Error).message };
  }
}

/**
 * Creates a keystore file: imports `mnemonic` (validated) or draws a new 24-word one, encrypts its entropy and the
 * BIP-39 passphrase with scrypt + AES-256-GCM, records the accounts' extended public keys, and writes the file
 * atomically with mode 0600. Returns the opened keystore.
 * @throws WalletError bad-password | bad-mnemonic | keystore-exists | keystore-io | bad-account
 */
export async function createKeystore(path: string, options: CreateKeystoreOptions): Promise<UnlockedKeystore> {
  const keystore = await sealKeystore(options, path);
  await writeFileAtomic(path, `${JSON.stringify(keystore.file, null, 2)}\n`, options.overwrite ?? false);
  return keystore;
}

/**
 * createKeystore without the file: the encrypted keystore in memory (its JSON is `keystore.file`), for callers that
 * store it elsewhere, e.g. the wallet service's database. `path` only labels the result. `options.overwrite` is unused.
 * @throws WalletError bad-password | bad-mnemonic | bad-account
 */
export async function sealKeystore(options: CreateKeystoreOptions, path = ''): Promise<UnlockedKeystore> {
  const { params, password } = options;
  if (typeof password !== 'string' || password.length === 0) throw new WalletError('bad-password', 'the password must not be empty');
  const scrypt = options.scrypt ?? DEFAULT_SCRYPT_PARAMS;
  checkScryptParams(scrypt, 'bad-password');
  const passphrase = options.bip39Passphrase ?? '';
  let entropy: Uint8Array;
  if (options.mnemonic !== undefined) {
    // Validates words and checksum before anything is written.
    mnemonicToWalletSeed(options.mnemonic, passphrase);
    entropy = mnemonicToEntropy(options.mnemonic.normalize('NFKD'));
  } else {
    entropy = new Uint8Array(randomBytes(32));
  }
  const seed = mnemonicToWalletSeed(entropyToMnemonic(entropy), passphrase);
  const accounts = (options.accounts ?? DEFAULT_KEYSTORE_ACCOUNTS).map(({ kind, account }): KeystoreAccount => {
    const a = HdAccount.fromSeed(seed, params, kind, account);
    return { kind, account, path: a.path, extendedPublicKey: a.extendedPublicKey };
  });
  const masterFingerprint = fingerprintHex(HdAccount.fromSeed(seed, params, 'p2wpkh', 0).masterFingerprint);

  const salt = randomBytes(32);
  const key = await deriveKey(password, salt, scrypt);
  const kdf = {
    name: 'scrypt' as const,
    N: scrypt.N,
    r: scrypt.r,
    p: scrypt.p,
    salt: bytesToHex(salt),
    dkLen: 64 as const,
    check: bytesToHex(sha256(key.subarray(32))),
  };
  const header = { version: KEYSTORE_VERSION, network: params.name, masterFingerprint, bip39Passphrase: passphrase !== '', kdf };
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.subarray(0, 32), iv);
  cipher.setAAD(associatedData(header));
  const plaintext = Buffer.from(JSON.stringify({ entropy: bytesToHex(entropy), passphrase }), 'utf8');
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  plaintext.fill(0);
  key.fill(0);
  const file: KeystoreFile = {
    ...header,
    cipher: { name: 'aes-256-gcm', iv: bytesToHex(iv), tag: bytesToHex(cipher.getAuthTag()) },
    ciphertext: bytesToHex(ciphertext),
    accounts,
  };
  return new UnlockedKeystore(path, file, entropy, passphrase);
}

/**
 * A JSON value from an untrusted file, for an error message: `String(v)` and template literals throw a TypeError on
 * objects such as `{"toString": 1}`, JSON.stringify does not. Cut to 40 characters.
 */
function describeJson(v: unknown): string {
  return (JSON.stringify(v) ?? String(v)).slice(0, 40);
}

function corrupt(what: string): WalletError {
  return new WalletError('corrupt-keystore', `corrupt keystore: ${what}`);
}

function hexField(v: unknown, what: string, lengths?: readonly number[]): string {
  if (typeof v !== 'string' || !/^([0-9a-f]{2})*$/.test(v)) throw corrupt(`${what} is not lower-case hex`);
  if (lengths !== undefined && !lengths.includes(v.length / 2)) throw corrupt(`${what} has ${v.length / 2} bytes`);
  return v;
}

/** A BIP-44 account number as HdAccount takes it: an integer in 0..2^31-1 (hardened when derived). */
function isAccountIndex(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0x7fffffff;
}

/**
 * Parses and checks the JSON of a keystore file (no decryption).
 * @throws WalletError corrupt-keystore
 */
export function parseKeystoreFile(text: string): KeystoreFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw corrupt('not JSON');
  }
  if (typeof json !== 'object' || json === null) throw corrupt('not an object');
  const o = json as Record<string, unknown>;
  if (o['version'] !== KEYSTORE_VERSION) throw corrupt(`unsupported version ${describeJson(o['version'])}`);
  const network = o['network'];
  if (typeof network !== 'string' || !Object.hasOwn(NETWORKS, network)) throw corrupt(`unknown network ${describeJson(network)}`);
  const kdf = o['kdf'] as Record<string, unknown> | undefined;
  const cipher = o['cipher'] as Record<string, unknown> | undefined;
  if (typeof kdf !== 'object' || kdf === null || kdf['name'] !== 'scrypt' || kdf['dkLen'] !== 64) throw corrupt('kdf is not scrypt with dkLen 64');
  if (typeof cipher !== 'object' || cipher === null || cipher['name'] !== 'aes-256-gcm') throw corrupt('cipher is not aes-256-gcm');
  const scrypt = { N: kdf['N'] as number, r: kdf['r'] as number, p: kdf['p'] as number };
  checkScryptParams(scrypt, 'corrupt-keystore');
  if (typeof o['bip39Passphrase'] !== 'boolean') throw corrupt('bip39Passphrase is not a boolean');
  const accounts = o['accounts'];
  if (!Array.isArray(accounts)) throw corrupt('accounts is not an array');
  return {
    version: KEYSTORE_VERSION,
    network: network as NetworkName,
    masterFingerprint: hexField(o['masterFingerprint'], 'masterFingerprint', [4]),
    bip39Passphrase: o['bip39Passphrase'],
    kdf: {
      name: 'scrypt',
      ...scrypt,
      salt: hexField(kdf['salt'], 'kdf.salt', [16, 32, 64]),
      dkLen: 64,
      check: hexField(kdf['check'], 'kdf.check', [32]),
    },
    cipher: { name: 'aes-256-gcm', iv: hexField(cipher['iv'], 'cipher.iv', [12]), tag: hexField(cipher['tag'], 'cipher.tag', [16]) },
    ciphertext: hexField(o['ciphertext'], 'ciphertext'),
    accounts: accounts.map((a, i): KeystoreAccount => {
      const r = a as Record<string, unknown>;
      if (typeof r !== 'object' || r === null || (r['kind'] !== 'p2wpkh' && r['kind'] !== 'p2tr') || !isAccountIndex(r['account']) ||
        typeof r['path'] !== 'string' || typeof r['extendedPublicKey'] !== 'string') {
        throw corrupt(`accounts[${i}] is malformed`);
      }
      return { kind: r['kind'], account: r['account'] as number, path: r['path'], extendedPublicKey: r['extendedPublicKey'] };
    }),
  };
}

/**
 * Opens a keystore: reads the file, stretches the password with the file's scrypt parameters, checks it, decrypts
 * and authenticates the seed, and checks the recorded master fingerprint and account keys against the seed.
 * @throws WalletError wrong-password ("wrong password (the keystore could not be decrypted)") | corrupt-keystore
 *   (malformed file, or authentication failure under the right password) | keystore-io (cannot read)
 */
export async function openKeystore(path: string, password: string): Promise<UnlockedKeystore> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new WalletError('keystore-io', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  return unsealKeystore(parseKeystoreFile(text), password, path);
}

/**
 * openKeystore on keystore JSON already read and parsed (parseKeystoreFile), e.g. from a database; `path` only labels
 * the result.
 * @throws WalletError wrong-password | corrupt-keystore
 */
export async function unsealKeystore(file: KeystoreFile, password: string, path = ''): Promise<UnlockedKeystore> {
  const key = await deriveKey(typeof password === 'string' ? password : '', hexToBytes(file.kdf.salt), file.kdf);
  try {
    if (!timingSafeEqual(sha256(key.subarray(32)), hexToBytes(file.kdf.check))) {
      throw new WalletError('wrong-password', 'wrong password (the keystore could not be decrypted)');
    }
    let plaintext: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.subarray(0, 32), hexToBytes(file.cipher.iv));
      decipher.setAAD(associatedData(file));
      decipher.setAuthTag(hexToBytes(file.cipher.tag));
      plaintext = Buffer.concat([decipher.update(hexToBytes(file.ciphertext)), decipher.final()]);
    } catch {
      throw corrupt('the ciphertext or its header failed authentication (the file was modified)');
    }
    let secret: { entropy?: unknown; passphrase?: unknown };
    try {
      secret = JSON.parse(plaintext.toString('utf8')) as typeof secret;
    } catch {
      throw corrupt('the decrypted secret is not JSON');
    } finally {
      plaintext.fill(0);
    }
    if (typeof secret.passphrase !== 'string' || typeof secret.entropy !== 'string') throw corrupt('the decrypted secret is malformed');
    const entropy = hexToBytes(hexField(secret.entropy, 'entropy', [16, 20, 24, 28, 32]));
    const unlocked = new UnlockedKeystore(path, file, entropy, secret.passphrase);
    // The clear metadata must describe this seed (an edited xpub would send receive addresses elsewhere).
    const seed = unlocked.computeSeed();
    const params = NETWORKS[file.network];
    if (fingerprintHex(HdAccount.fromSeed(seed, params, 'p2wpkh', 0).masterFingerprint) !== file.masterFingerprint) {
      throw corrupt('the master fingerprint does not match the seed');
    }
    for (const a of file.accounts) {
      const account = HdAccount.fromSeed(seed, params, a.kind, a.account);
      if (account.path !== a.path || account.extendedPublicKey !== a.extendedPublicKey) {
        throw corrupt(`account ${a.kind} ${a.account} does not match the seed`);
      }
    }
    return unlocked;
  } finally {
    key.fill(0);
  }
}
