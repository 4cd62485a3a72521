/**
 * Fuzz target `keystore`: parsing a keystore file's JSON (parseKeystoreFile, run on every `cairn wallet` command and
 * by the wallet service on the keystores it stores) and opening it (unsealKeystore: password check, AES-GCM, the
 * metadata against the seed).
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { regtest, main } from '../../src/params/networks.js';
import { parseKeystoreFile, sealKeystore, unsealKeystore, type KeystoreFile } from '../../src/wallet/keystore.js';
import { WalletError } from '../../src/wallet/walletError.js';
import { mutatedJsonText } from '../mutate.js';
import { check, decodeOrRefusal, decodeOrRefusalAsync, refusal } from '../oracle.js';
import { defineTarget } from '../target.js';

const PASSWORD = 'fuzz-password';
/** scrypt cost of the seed keystores: tiny, so that opening one costs microseconds, not 0.1 s. */
const CHEAP_SCRYPT = { N: 16, r: 1, p: 1 };
/** Largest scrypt N·r·p the target will open (a mutated file may ask for 2^20: parsing allows it, opening costs 1 GiB). */
const MAX_OPEN_COST = 2 ** 12;

/** The valid keystore files mutations start from. */
export interface KeystoreContext {
  readonly files: readonly KeystoreFile[];
}

/** One input: the file's text, which password to try, and whether to open it after parsing. */
export interface KeystoreInput {
  readonly text: string;
  readonly password: string;
  readonly open: boolean;
}

const corrupt = refusal(WalletError, (e) => e.code === 'corrupt-keystore');
const openRefusal = refusal(WalletError, (e) => e.code === 'corrupt-keystore' || e.code === 'wrong-password');

export default defineTarget<KeystoreInput, KeystoreContext>({
  name: 'keystore',
  description:
    'parseKeystoreFile: a KeystoreFile or WalletError corrupt-keystore, and parsing its JSON again gives the same file; ' +
    'unsealKeystore on it: an opened keystore or WalletError wrong-password | corrupt-keystore',
  async: true,
  chunkRuns: 5_000,
  async setup() {
    const mnemonic = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
    const files = await Promise.all([
      sealKeystore({ params: regtest, password: PASSWORD, mnemonic, scrypt: CHEAP_SCRYPT }),
      sealKeystore({ params: main, password: PASSWORD, bip39Passphrase: 'TREZOR', scrypt: CHEAP_SCRYPT, accounts: [{ kind: 'p2tr', account: 7 }] }),
    ]);
    // The seeds must open, or the target would only ever test refusals.
    for (const k of files) await unsealKeystore(k.file, PASSWORD);
    return { files: files.map((k) => k.file) };
  },
  input: (ctx) =>
    fc.record({
      text: mutatedJsonText(fc.constantFrom(...ctx.files), { maxMutations: 3 }),
      password: fc.oneof({ weight: 4, arbitrary: fc.constant(PASSWORD) }, { weight: 1, arbitrary: fc.string({ maxLength: 20 }) }),
      // A quarter are opened: a file that still authenticates costs a BIP-39 seed and BIP-32 derivations (~1 ms).
      open: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    }),
  async run(input) {
    const file = decodeOrRefusal(() => parseKeystoreFile(input.text), corrupt);
    if (file === undefined) return;
    const again = parseKeystoreFile(JSON.stringify(file));
    check(isDeepStrictEqual(again, file), 'parseKeystoreFile(JSON.stringify(parsed)) differs from parsed');
    if (!input.open || file.kdf.N * file.kdf.r * file.kdf.p > MAX_OPEN_COST) return;
    await decodeOrRefusalAsync(() => unsealKeystore(file, input.password), openRefusal);
  },
});
