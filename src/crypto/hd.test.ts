import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wordlist as czech } from '@scure/bip39/wordlists/czech.js';
import { wordlist as english } from '@scure/bip39/wordlists/english.js';
import { wordlist as french } from '@scure/bip39/wordlists/french.js';
import { wordlist as italian } from '@scure/bip39/wordlists/italian.js';
import { wordlist as japanese } from '@scure/bip39/wordlists/japanese.js';
import { wordlist as korean } from '@scure/bip39/wordlists/korean.js';
import { wordlist as portuguese } from '@scure/bip39/wordlists/portuguese.js';
import { wordlist as simplifiedChinese } from '@scure/bip39/wordlists/simplified-chinese.js';
import { wordlist as spanish } from '@scure/bip39/wordlists/spanish.js';
import { wordlist as traditionalChinese } from '@scure/bip39/wordlists/traditional-chinese.js';
import { bytesToHex, hexToBytes } from '../primitives/hex.js';
import { readVectorJson, reportVectors } from '../testing/vectors.js';
import { CryptoError } from './cryptoError.js';
import {
  HARDENED_OFFSET,
  decodeExtendedKey,
  deriveHdPath,
  entropyToMnemonic,
  generateMnemonic,
  hdRootFromSeed,
  mnemonicToEntropy,
  mnemonicToSeed,
  validateMnemonic,
} from './hd.js';

const BIP32_FILE = 'bip32-test-vectors.json';
const BIP39_FILE = 'bip39-vectors-trezor.json';

interface Bip32Vectors {
  valid: { name: string; seedHex: string; chains: { path: string; extPub: string; extPrv: string }[] }[];
  invalidExtendedKeys: { key: string; reason: string }[];
}

const isCryptoError = (reason: string) => (e: unknown) => e instanceof CryptoError && e.code === reason;

test('BIP-32 test vectors 1-4: every derivation, xprv and xpub, and public derivation where possible', (t) => {
  const vectors = readVectorJson<Bip32Vectors>(BIP32_FILE);
  let passed = 0;
  const failures: string[] = [];
  let total = 0;
  for (const v of vectors.valid) {
    const root = hdRootFromSeed(hexToBytes(v.seedHex));
    v.chains.forEach((c, i) => {
      total++;
      const problems: string[] = [];
      const key = deriveHdPath(root, c.path);
      if (key.privateExtendedKey !== c.extPrv) problems.push('xprv differs');
      if (key.publicExtendedKey !== c.extPub) problems.push('xpub differs');
      if (decodeExtendedKey(c.extPrv).privateExtendedKey !== c.extPrv) problems.push('xprv does not round-trip');
      const fromXpub = decodeExtendedKey(c.extPub);
      if (fromXpub.privateKey !== null || fromXpub.publicExtendedKey !== c.extPub) problems.push('xpub round-trip');
      // A non-hardened step can also be taken from the parent's xpub alone (BIP-32 CKDpub).
      const parent = v.chains[i - 1];
      const lastStep = c.path.split('/').at(-1) ?? '';
      if (parent && /^\d+$/.test(lastStep)) {
        const child = decodeExtendedKey(parent.extPub).deriveChild(Number(lastStep));
        if (child.publicExtendedKey !== c.extPub) problems.push('public derivation differs');
      }
      if (problems.length === 0) passed++;
      else failures.push(`${v.name} ${c.path}: ${problems.join('; ')}`);
    });
  }
  reportVectors(t, `${BIP32_FILE} valid`, passed, total, 17, failures);
});

test('BIP-32 test vector 5: invalid extended keys are refused with CryptoError bad-extended-key', (t) => {
  const vectors = readVectorJson<Bip32Vectors>(BIP32_FILE);
  let passed = 0;
  const failures: string[] = [];
  for (const { key, reason } of vectors.invalidExtendedKeys) {
    try {
      decodeExtendedKey(key);
      failures.push(`${key} (${reason}): accepted`);
    } catch (e) {
      if (e instanceof CryptoError && e.code === 'bad-extended-key') passed++;
      else failures.push(`${key} (${reason}): wrong error ${String(e)}`);
    }
  }
  reportVectors(t, `${BIP32_FILE} invalidExtendedKeys`, passed, vectors.invalidExtendedKeys.length, 16, failures);
});

type Bip39Vector = [entropyHex: string, mnemonic: string, seedHex: string, xprv: string];
type Bip39Vectors = Record<string, Bip39Vector[]>;

/** Wordlists @scure/bip39 ships, by the language key of trezor's vectors.json. */
const WORDLISTS: Record<string, string[]> = {
  english,
  chinese_simplified: simplifiedChinese,
  chinese_traditional: traditionalChinese,
  czech,
  french,
  italian,
  japanese,
  korean,
  portuguese,
  spanish,
};

test('BIP-39 trezor vectors: entropy <-> mnemonic, seed with passphrase TREZOR, seed -> xprv', (t) => {
  const vectors = readVectorJson<Bip39Vectors>(BIP39_FILE);
  assert.equal(vectors['english']?.length, 24);
  for (const [language, list] of Object.entries(vectors)) {
    const wordlist = WORDLISTS[language];
    if (!wordlist) {
      // russian and turkish are trezor additions, not BIP-39 wordlists, and @scure/bip39 has no list for them:
      // only the wordlist-free half (mnemonic -> seed -> xprv) can be checked.
      t.diagnostic(`${BIP39_FILE} ${language}: no wordlist in @scure/bip39; entropy<->mnemonic NOT in scope, seed+xprv checked`);
    }
    let passed = 0;
    const failures: string[] = [];
    for (const [entropyHex, mnemonic, seedHex, xprv] of list) {
      const problems: string[] = [];
      if (wordlist) {
        const entropy = hexToBytes(entropyHex);
        if (entropyToMnemonic(entropy, wordlist) !== mnemonic) problems.push('mnemonic differs');
        if (bytesToHex(mnemonicToEntropy(mnemonic, wordlist)) !== entropyHex) problems.push('entropy differs');
        if (!validateMnemonic(mnemonic, wordlist)) problems.push('mnemonic not valid');
      }
      const seed = mnemonicToSeed(mnemonic, 'TREZOR');
      if (bytesToHex(seed) !== seedHex) problems.push('seed differs');
      if (hdRootFromSeed(hexToBytes(seedHex)).privateExtendedKey !== xprv) problems.push('xprv differs');
      if (problems.length === 0) passed++;
      else failures.push(`${language} ${entropyHex}: ${problems.join('; ')}`);
    }
    const label = wordlist ? language : `${language} (seed+xprv only)`;
    reportVectors(t, `${BIP39_FILE} ${label}`, passed, list.length, 24, failures);
  }
});

test('BIP-39 malformed input gives CryptoError; generateMnemonic takes caller entropy', () => {
  const vectors = readVectorJson<Bip39Vectors>(BIP39_FILE);
  const [entropyHex, mnemonic] = vectors['english']![0]!;
  assert.equal(generateMnemonic(hexToBytes(entropyHex)), mnemonic);
  assert.throws(() => entropyToMnemonic(new Uint8Array(15)), isCryptoError('bad-entropy'));
  assert.throws(() => generateMnemonic(new Uint8Array(33)), isCryptoError('bad-entropy'));
  const words = mnemonic.split(' ');
  const badChecksum = [...words.slice(0, -1), words.at(-1) === 'about' ? 'abandon' : 'about'].join(' ');
  assert.equal(validateMnemonic(badChecksum), false);
  assert.throws(() => mnemonicToEntropy(badChecksum), isCryptoError('bad-mnemonic'));
  assert.throws(() => mnemonicToEntropy('abandon notaword'), isCryptoError('bad-mnemonic'));
  assert.equal(validateMnemonic(words.slice(1).join(' ')), false);
});

test('BIP-32 malformed input gives CryptoError', () => {
  const vectors = readVectorJson<Bip32Vectors>(BIP32_FILE);
  const v1 = vectors.valid[0]!;
  const root = hdRootFromSeed(hexToBytes(v1.seedHex));
  // 'h' is accepted for hardened steps as well as '.
  assert.equal(deriveHdPath(root, 'm/0h/1').publicExtendedKey, v1.chains[2]!.extPub);
  assert.equal(root.deriveChild(HARDENED_OFFSET).publicExtendedKey, v1.chains[1]!.extPub);
  assert.throws(() => hdRootFromSeed(new Uint8Array(15)), isCryptoError('bad-seed'));
  assert.throws(() => hdRootFromSeed(new Uint8Array(65)), isCryptoError('bad-seed'));
  for (const path of ['', '0/1', 'm/', 'm//1', 'm/-1', 'm/1x', "m/2147483648"]) {
    assert.throws(() => deriveHdPath(root, path), isCryptoError('bad-path'), path);
  }
  const xpubOnly = decodeExtendedKey(v1.chains[0]!.extPub);
  assert.throws(() => deriveHdPath(xpubOnly, "m/0'"), isCryptoError('bad-derivation'));
  assert.throws(() => decodeExtendedKey('not a key'), isCryptoError('bad-extended-key'));
});
