import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scryptSync } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { sha256 } from '../crypto/hash.js';
import { validateMnemonic } from '../crypto/hd.js';
import { regtest } from '../params/networks.js';
import { bytesToHex, hexToBytes } from '../primitives/hex.js';
import { readVectorJson, VectorTally } from '../testing/vectors.js';
import { HdAccount } from './hdAccount.js';
import { createKeystore, openKeystore, parseKeystoreFile, protectKeystoreFile, type ScryptParams } from './keystore.js';
import { isWalletError } from './walletError.js';

/** Small scrypt cost so the tests run fast; the file must record it and openKeystore must use it. */
const FAST: ScryptParams = { N: 2 ** 10, r: 8, p: 1 };
const PASSWORD = 'correct horse battery staple';

function tempDir(t: import('node:test').TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-keystore-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('keystore round trip with a BIP-39 passphrase reproduces the Trezor vectors\' seeds', async (t) => {
  const file = 'bip39-vectors-trezor.json';
  const vectors = readVectorJson<{ english: [string, string, string, string][] }>(file).english;
  const dir = tempDir(t);
  const tally = new VectorTally(`${file} english through the keystore`);
  for (const [i, [entropyHex, mnemonic, seedHex]] of vectors.entries()) {
    const path = join(dir, `w${i}.json`);
    await createKeystore(path, { params: regtest, password: PASSWORD, mnemonic, bip39Passphrase: 'TREZOR', scrypt: FAST });
    const opened = await openKeystore(path, PASSWORD);
    // Secrets are compared, never printed: a mismatch names the field only.
    tally.check(`#${i} entropy ${entropyHex}`, {
      'mnemonic matches': [opened.revealMnemonic() === mnemonic, true],
      'passphrase matches': [opened.revealBip39Passphrase() === 'TREZOR', true],
      seed: [bytesToHex(opened.computeSeed()), seedHex],
      'file.bip39Passphrase': [opened.file.bip39Passphrase, true],
    });
  }
  tally.report(t, 24);
});

test('keystore file: mode 0600, scrypt parameters and salt stored, no secret in clear, no temp file left', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'wallet.json');
  const created = await createKeystore(path, { params: regtest, password: PASSWORD, bip39Passphrase: 'extra words', scrypt: FAST });
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(dir), ['wallet.json']);
  const text = readFileSync(path, 'utf8');
  const json = JSON.parse(text);
  assert.equal(json.version, 1);
  assert.equal(json.network, 'regtest');
  assert.deepEqual({ name: json.kdf.name, N: json.kdf.N, r: json.kdf.r, p: json.kdf.p }, { name: 'scrypt', N: 1024, r: 8, p: 1 });
  assert.equal(json.cipher.name, 'aes-256-gcm');
  assert.equal(hexToBytes(json.cipher.iv).length, 12);
  // A new wallet: a fresh valid 24-word mnemonic, none of which (nor the passphrase) is in the file.
  const mnemonic = created.revealMnemonic();
  assert.equal(mnemonic.split(' ').length, 24);
  assert.ok(validateMnemonic(mnemonic));
  assert.ok(!text.includes('extra words'));
  // Single words may occur by chance (JSON keys such as "account" and "version" are BIP-39 words); runs of two may not.
  const words = mnemonic.split(' ');
  for (let i = 0; i + 1 < words.length; i++) assert.ok(!text.includes(`${words[i]} ${words[i + 1]}`), 'no mnemonic in the file');
  assert.ok(!text.includes(bytesToHex(created.computeSeed())), 'no seed in the file');
  // The password check is sha256 of the second half of scrypt(password, salt, N, r, p) as stored (independent recomputation).
  const dk = scryptSync(PASSWORD, hexToBytes(json.kdf.salt), 64, { N: json.kdf.N, r: json.kdf.r, p: json.kdf.p });
  assert.equal(bytesToHex(sha256(dk.subarray(32))), json.kdf.check);
  // Accounts: the extended public keys of the seed's accounts.
  const seed = created.computeSeed();
  assert.deepEqual(json.accounts.map((a: { extendedPublicKey: string }) => a.extendedPublicKey), [
    HdAccount.fromSeed(seed, regtest, 'p2wpkh', 0).extendedPublicKey,
    HdAccount.fromSeed(seed, regtest, 'p2tr', 0).extendedPublicKey,
  ]);
  // Printing the unlocked keystore shows no secret.
  for (const shown of [inspect(created), JSON.stringify(created)]) {
    assert.ok(!shown.includes(mnemonic.split(' ').slice(0, 2).join(' ')), 'no mnemonic');
    assert.ok(!shown.includes('extra words') && !shown.includes(bytesToHex(seed)));
  }
});

test('openKeystore honours the scrypt parameters in the file', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'w.json');
  await createKeystore(path, { params: regtest, password: PASSWORD, scrypt: FAST });
  assert.equal((await openKeystore(path, PASSWORD)).file.kdf.N, 1024);
  // The same file claiming N = 2^11: the right password now stretches to another key and is refused.
  const json = JSON.parse(readFileSync(path, 'utf8'));
  writeFileSync(path, JSON.stringify({ ...json, kdf: { ...json.kdf, N: 2048 } }));
  await assert.rejects(openKeystore(path, PASSWORD), (e) => isWalletError(e, 'wrong-password'));
  writeFileSync(path, JSON.stringify({ ...json, kdf: { ...json.kdf, r: 4 } }));
  await assert.rejects(openKeystore(path, PASSWORD), (e) => isWalletError(e, 'wrong-password'));
});

test('a wrong password is refused with a clear error; a tampered file is refused as corrupt', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'w.json');
  await createKeystore(path, { params: regtest, password: PASSWORD, scrypt: FAST });
  await assert.rejects(openKeystore(path, 'wrong'), (e) => {
    assert.ok(isWalletError(e, 'wrong-password'));
    assert.equal(e.message, 'wrong password (the keystore could not be decrypted)');
    return true;
  });
  await assert.rejects(openKeystore(path, ''), (e) => isWalletError(e, 'wrong-password'));
  const original = JSON.parse(readFileSync(path, 'utf8'));
  const flip = (hex: string, at = 0) => hex.slice(0, at) + (hex[at] === '0' ? '1' : '0') + hex.slice(at + 1);
  const tampered: [string, object][] = [
    ['ciphertext', { ...original, ciphertext: flip(original.ciphertext, 5) }],
    ['tag', { ...original, cipher: { ...original.cipher, tag: flip(original.cipher.tag) } }],
    ['iv', { ...original, cipher: { ...original.cipher, iv: flip(original.cipher.iv) } }],
    ['network (authenticated header)', { ...original, network: 'devnet' }],
    ['passphrase flag (authenticated header)', { ...original, bip39Passphrase: true }],
    ['account xpub', { ...original, accounts: [{ ...original.accounts[0], extendedPublicKey: original.accounts[1].extendedPublicKey }] }],
  ];
  for (const [what, content] of tampered) {
    writeFileSync(path, JSON.stringify(content));
    await assert.rejects(openKeystore(path, PASSWORD), (e) => isWalletError(e, 'corrupt-keystore'), what);
  }
  const malformed: [string, string][] = [
    ['not JSON', '{'],
    ['version 2', JSON.stringify({ ...original, version: 2 })],
    ['unknown network', JSON.stringify({ ...original, network: 'moon' })],
    ['huge N', JSON.stringify({ ...original, kdf: { ...original.kdf, N: 2 ** 30 } })],
    ['N not a power of two', JSON.stringify({ ...original, kdf: { ...original.kdf, N: 1000 } })],
    ['short salt', JSON.stringify({ ...original, kdf: { ...original.kdf, salt: 'abcd' } })],
    ['no ciphertext', JSON.stringify({ ...original, ciphertext: undefined })],
    ['other cipher', JSON.stringify({ ...original, cipher: { ...original.cipher, name: 'aes-128-cbc' } })],
  ];
  for (const [what, text] of malformed) {
    assert.throws(() => parseKeystoreFile(text), (e) => isWalletError(e, 'corrupt-keystore'), what);
    writeFileSync(path, text);
    await assert.rejects(openKeystore(path, PASSWORD), (e) => isWalletError(e, 'corrupt-keystore'), what);
  }
  await assert.rejects(openKeystore(join(dir, 'missing.json'), PASSWORD), (e) => isWalletError(e, 'keystore-io'));
});

test('createKeystore refuses to overwrite unless asked, an empty password, and a bad mnemonic', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'w.json');
  const first = await createKeystore(path, { params: regtest, password: PASSWORD, scrypt: FAST });
  await assert.rejects(createKeystore(path, { params: regtest, password: PASSWORD, scrypt: FAST }), (e) => isWalletError(e, 'keystore-exists'));
  assert.equal((await openKeystore(path, PASSWORD)).revealMnemonic(), first.revealMnemonic());
  const second = await createKeystore(path, { params: regtest, password: 'other', scrypt: FAST, overwrite: true });
  assert.equal((await openKeystore(path, 'other')).revealMnemonic(), second.revealMnemonic());
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(dir), ['w.json']);
  await assert.rejects(createKeystore(join(dir, 'x.json'), { params: regtest, password: '', scrypt: FAST }), (e) => isWalletError(e, 'bad-password'));
  await assert.rejects(
    createKeystore(join(dir, 'y.json'), { params: regtest, password: PASSWORD, mnemonic: 'abandon abandon abandon', scrypt: FAST }),
    (e) => isWalletError(e, 'bad-mnemonic'),
  );
  assert.deepEqual(readdirSync(dir), ['w.json']);
});

test('protectKeystoreFile: a keystore others can read is tightened to 0600 and reported; a private one is left alone', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'wallet.json');
  writeFileSync(path, '{}', { mode: 0o600 });
  assert.equal(protectKeystoreFile(path), undefined, 'already private');
  for (const mode of [0o644, 0o640, 0o604, 0o660, 0o666]) {
    chmodSync(path, mode);
    assert.deepEqual(protectKeystoreFile(path), { modeBefore: mode, tightened: true }, `mode ${mode.toString(8)}`);
    assert.equal(statSync(path).mode & 0o777, 0o600);
  }
  chmodSync(path, 0o400);
  assert.equal(protectKeystoreFile(path), undefined, 'owner-only read is private enough');
  assert.throws(() => protectKeystoreFile(join(dir, 'missing.json')), (e) => isWalletError(e, 'keystore-io'));
});
