import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { createBase58check } from '@scure/base';
import { sha256 } from '@noble/hashes/sha2.js';
import { addressToScriptPubKey, decodeSegwitAddress } from '../crypto/address.js';
import { hdRootFromSeed } from '../crypto/hd.js';
import { bytesToHex } from '../primitives/hex.js';
import { bitcoin, devnet, main, regtest, test as testnet } from '../params/networks.js';
import { readVectorJson, VectorTally } from '../testing/vectors.js';
import {
  getAccountPath,
  getAccountVersions,
  HdAccount,
  mnemonicToWalletSeed,
  type AccountKind,
} from './hdAccount.js';
import { isWalletError } from './walletError.js';

/*
 * External vectors TRANSCRIBED by hand from the BIP texts (values unchanged; they are not in ../shared/vectors):
 * - BIP-84: bitcoin/bips @ afd7c775fb88f78e745462278bd9c3bfdebcd69c : bip-0084.mediawiki, section "Test vectors".
 *   Private keys there are WIF (compressed, mainnet prefix 0x80); the test decodes them.
 * - BIP-86: bitcoin/bips @ 1957127894b675e9de80afb85ca64a04b332abe7 : bip-0086.mediawiki, section "Test vectors".
 * Both use coin type 0 and HRP `bc`, i.e. cairn's `bitcoin` params.
 */
const ABANDON_MNEMONIC =
  'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';

const BIP84 = {
  rootpriv: 'zprvAWgYBBk7JR8Gjrh4UJQ2uJdG1r3WNRRfURiABBE3RvMXYSrRJL62XuezvGdPvG6GFBZduosCc1YP5wixPox7zhZLfiUm8aunE96BBa4Kei5',
  rootpub: 'zpub6jftahH18ngZxLmXaKw3GSZzZsszmt9WqedkyZdezFtWRFBZqsQH5hyUmb4pCEeZGmVfQuP5bedXTB8is6fTv19U1GQRyQUKQGUTzyHACMF',
  // Account 0, root = m/84'/0'/0'
  xpriv: 'zprvAdG4iTXWBoARxkkzNpNh8r6Qag3irQB8PzEMkAFeTRXxHpbF9z4QgEvBRmfvqWvGp42t42nvgGpNgYSJA9iefm1yYNZKEm7z6qUWCroSQnE',
  xpub: 'zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs',
  addresses: [
    {
      label: 'first receiving address m/84\'/0\'/0\'/0/0',
      chain: 0,
      index: 0,
      privkey: 'KyZpNDKnfs94vbrwhJneDi77V6jF64PWPF8x5cdJb8ifgg2DUc9d',
      pubkey: '0330d54fd0dd420a6e5f8d3624f5f3482cae350f79d5f0753bf5beef9c2d91af3c',
      address: 'bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu',
    },
    {
      label: 'second receiving address m/84\'/0\'/0\'/0/1',
      chain: 0,
      index: 1,
      privkey: 'Kxpf5b8p3qX56DKEe5NqWbNUP9MnqoRFzZwHRtsFqhzuvUJsYZCy',
      pubkey: '03e775fd51f0dfb8cd865d9ff1cca2a158cf651fe997fdc9fee9c1d3b5e995ea77',
      address: 'bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g',
    },
    {
      label: 'first change address m/84\'/0\'/0\'/1/0',
      chain: 1,
      index: 0,
      privkey: 'KxuoxufJL5csa1Wieb2kp29VNdn92Us8CoaUG3aGtPtcF3AzeXvF',
      pubkey: '03025324888e429ab8e3dbaf1f7802648b9cd01e9b418485c5fa4c1b9b5700e1a6',
      address: 'bc1q8c6fshw2dlwun7ekn9qwf37cu2rn755upcp6el',
    },
  ],
} as const;

const BIP86 = {
  rootpriv: 'xprv9s21ZrQH143K3GJpoapnV8SFfukcVBSfeCficPSGfubmSFDxo1kuHnLisriDvSnRRuL2Qrg5ggqHKNVpxR86QEC8w35uxmGoggxtQTPvfUu',
  rootpub: 'xpub661MyMwAqRbcFkPHucMnrGNzDwb6teAX1RbKQmqtEF8kK3Z7LZ59qafCjB9eCRLiTVG3uxBxgKvRgbubRhqSKXnGGb1aoaqLrpMBDrVxga8',
  // Account 0, root = m/86'/0'/0'
  xprv: 'xprv9xgqHN7yz9MwCkxsBPN5qetuNdQSUttZNKw1dcYTV4mkaAFiBVGQziHs3NRSWMkCzvgjEe3n9xV8oYywvM8at9yRqyaZVz6TYYhX98VjsUk',
  xpub: 'xpub6BgBgsespWvERF3LHQu6CnqdvfEvtMcQjYrcRzx53QJjSxarj2afYWcLteoGVky7D3UKDP9QyrLprQ3VCECoY49yfdDEHGCtMMj92pReUsQ',
  addresses: [
    {
      label: 'first receiving address m/86\'/0\'/0\'/0/0',
      chain: 0,
      index: 0,
      xprv: 'xprvA449goEeU9okwCzzZaxiy475EQGQzBkc65su82nXEvcwzfSskb2hAt2WymrjyRL6kpbVTGL3cKtp9herYXSjjQ1j4stsXXiRF7kXkCacK3T',
      xpub: 'xpub6H3W6JmYJXN49h5TfcVjLC3onS6uPeUTTJoVvRC8oG9vsTn2J8LwigLzq5tHbrwAzH9DGo6ThGUdWsqce8dGfwHVBxSbixjDADGGdzF7t2B',
      internalKey: 'cc8a4bc64d897bddc5fbc2f670f7a8ba0b386779106cf1223c6fc5d7cd6fc115',
      outputKey: 'a60869f0dbcf1dc659c9cecbaf8050135ea9e8cdc487053f1dc6880949dc684c',
      scriptPubKey: '5120a60869f0dbcf1dc659c9cecbaf8050135ea9e8cdc487053f1dc6880949dc684c',
      address: 'bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr',
    },
    {
      label: 'second receiving address m/86\'/0\'/0\'/0/1',
      chain: 0,
      index: 1,
      xprv: 'xprvA449goEeU9okyiF1LmKiDaTgeXvmh87DVyRd35VPbsSop8n8uALpbtrUhUXByPFKK7C2yuqrB1FrhiDkEMC4RGmA5KTwsE1aB5jRu9zHsuQ',
      xpub: 'xpub6H3W6JmYJXN4CCKUSnriaiQRCZmG6aq4sCMDqTu1ACyngw7HShf59hAxYjXgKDuuHThVEUzdHrc3aXCr9kfvQvZPit5dnD3K9xVRBzjK3rX',
      internalKey: '83dfe85a3151d2517290da461fe2815591ef69f2b18a2ce63f01697a8b313145',
      outputKey: 'a82f29944d65b86ae6b5e5cc75e294ead6c59391a1edc5e016e3498c67fc7bbb',
      scriptPubKey: '5120a82f29944d65b86ae6b5e5cc75e294ead6c59391a1edc5e016e3498c67fc7bbb',
      address: 'bc1p4qhjn9zdvkux4e44uhx8tc55attvtyu358kutcqkudyccelu0was9fqzwh',
    },
    {
      label: 'first change address m/86\'/0\'/0\'/1/0',
      chain: 1,
      index: 0,
      xprv: 'xprvA3Ln3Gt3aphvUgzgEDT8vE2cYqb4PjFfpmbiFKphxLg1FjXQpkAk5M1ZKDY15bmCAHA35jTiawbFuwGtbDZogKF1WfjwxML4gK7WfYW5JRP',
      xpub: 'xpub6GL8SnQwRCGDhB59LEz9HMyM6sRYoByXBzXK3iEKWgCz8XrZNHUzd9L3AUBELW5NzA7dEFvMas1F84TuPH3xqdUA5tumaGWFgihJzWytXe3',
      internalKey: '399f1b2f4393f29a18c937859c5dd8a77350103157eb880f02e8c08214277cef',
      outputKey: '882d74e5d0572d5a816cef0041a96b6c1de832f6f9676d9605c44d5e9a97d3dc',
      scriptPubKey: '5120882d74e5d0572d5a816cef0041a96b6c1de832f6f9676d9605c44d5e9a97d3dc',
      address: 'bc1p3qkhfews2uk44qtvauqyr2ttdsw7svhkl9nkm9s9c3x4ax5h60wqwruhk7',
    },
  ],
} as const;

/** Decodes a compressed mainnet WIF private key (0x80 || key || 0x01, base58check). */
function decodeWif(wif: string): Uint8Array {
  const bytes = createBase58check(sha256).decode(wif);
  assert.equal(bytes.length, 34);
  assert.equal(bytes[0], 0x80);
  assert.equal(bytes[33], 0x01);
  return bytes.subarray(1, 33);
}

/** Counts one vector field per call; records a failure naming the vector and field for each mismatch. */
function checker(file: string) {
  const tally = new VectorTally(file);
  const check = (label: string, actual: string, expected: string): void => void tally.check(label, { value: [actual, expected] });
  return { tally, check };
}

test('BIP-84 test vectors (bip-0084.mediawiki "Test vectors"): root, account 0 zprv/zpub, keys and addresses', (t) => {
  const { tally, check } = checker('bip-0084.mediawiki Test vectors (transcribed)');
  const seed = mnemonicToWalletSeed(ABANDON_MNEMONIC);
  const root = hdRootFromSeed(seed, getAccountVersions(bitcoin, 'p2wpkh'));
  check('rootpriv', root.privateExtendedKey, BIP84.rootpriv);
  check('rootpub', root.publicExtendedKey, BIP84.rootpub);

  const account = HdAccount.fromSeed(seed, bitcoin, 'p2wpkh', 0);
  assert.equal(account.path, "m/84'/0'/0'");
  check('account xpriv', account.exportExtendedPrivateKey(), BIP84.xpriv);
  check('account xpub', account.extendedPublicKey, BIP84.xpub);
  const watchOnly = HdAccount.fromExtendedKey(BIP84.xpub, bitcoin, 'p2wpkh', 0);
  for (const v of BIP84.addresses) {
    const derived = account.deriveAddress(v.chain, v.index);
    check(`${v.label} privkey`, bytesToHex(account.derivePrivateKey(v.chain, v.index)), bytesToHex(decodeWif(v.privkey)));
    check(`${v.label} pubkey`, bytesToHex(derived.publicKey), v.pubkey);
    check(`${v.label} address`, derived.address, v.address);
    // The account's zpub alone (BIP-32 public derivation) gives the same address.
    check(`${v.label} address from zpub`, watchOnly.deriveAddress(v.chain, v.index).address, v.address);
    assert.equal(derived.path, `m/84'/0'/0'/${v.chain}/${v.index}`);
  }
  tally.report(t, 4 + 3 * 4);
});

test('BIP-86 test vectors (bip-0086.mediawiki "Test vectors"): account 0 xprv/xpub, internal and output keys, addresses', (t) => {
  const { tally, check } = checker('bip-0086.mediawiki Test vectors (transcribed)');
  const seed = mnemonicToWalletSeed(ABANDON_MNEMONIC);
  const root = hdRootFromSeed(seed, getAccountVersions(bitcoin, 'p2tr'));
  check('rootpriv', root.privateExtendedKey, BIP86.rootpriv);
  check('rootpub', root.publicExtendedKey, BIP86.rootpub);

  const account = HdAccount.fromSeed(seed, bitcoin, 'p2tr', 0);
  assert.equal(account.path, "m/86'/0'/0'");
  check('account xprv', account.exportExtendedPrivateKey(), BIP86.xprv);
  check('account xpub', account.extendedPublicKey, BIP86.xpub);
  const watchOnly = HdAccount.fromExtendedKey(BIP86.xpub, bitcoin, 'p2tr', 0);
  for (const v of BIP86.addresses) {
    const key = account.deriveKey(v.chain, v.index);
    const derived = account.deriveAddress(v.chain, v.index);
    check(`${v.label} xprv`, key.privateExtendedKey, v.xprv);
    check(`${v.label} xpub`, key.publicExtendedKey, v.xpub);
    check(`${v.label} internal_key`, bytesToHex(derived.internalKey!), v.internalKey);
    check(`${v.label} output_key`, bytesToHex(derived.outputKey!), v.outputKey);
    check(`${v.label} scriptPubKey`, bytesToHex(derived.scriptPubKey), v.scriptPubKey);
    check(`${v.label} address`, derived.address, v.address);
    check(`${v.label} address from xpub`, watchOnly.deriveAddress(v.chain, v.index).address, v.address);
  }
  tally.report(t, 4 + 3 * 7);
});

test('BIP-39 Trezor vectors through mnemonicToWalletSeed (passphrase "TREZOR"): seed and root xprv', (t) => {
  const file = 'bip39-vectors-trezor.json';
  const vectors = readVectorJson<{ english: [string, string, string, string][] }>(file);
  const tally = new VectorTally(`${file} english`);
  vectors.english.forEach(([entropyHex, mnemonic, seedHex, xprv], i) => {
    const seed = mnemonicToWalletSeed(mnemonic, 'TREZOR');
    tally.check(`#${i} entropy ${entropyHex}`, { seed: [bytesToHex(seed), seedHex], 'root xprv': [hdRootFromSeed(seed).privateExtendedKey, xprv] });
  });
  tally.report(t, 24);
});

test('mnemonicToWalletSeed refuses a mnemonic with a bad checksum or an unknown word', () => {
  const badChecksum = ABANDON_MNEMONIC.replace(/about$/, 'abandon');
  assert.throws(() => mnemonicToWalletSeed(badChecksum), (e) => isWalletError(e, 'bad-mnemonic'));
  assert.throws(() => mnemonicToWalletSeed(ABANDON_MNEMONIC.replace('abandon', 'abandonn')), (e) => isWalletError(e, 'bad-mnemonic'));
});

test('cairn networks: coin type in the path, version prefixes, HRP, and addresses that decode to their scripts', () => {
  const seed = mnemonicToWalletSeed(ABANDON_MNEMONIC);
  const cases: { params: typeof main; kind: AccountKind; prefix: string; purpose: number }[] = [
    { params: main, kind: 'p2wpkh', prefix: 'zpub', purpose: 84 },
    { params: main, kind: 'p2tr', prefix: 'xpub', purpose: 86 },
    { params: testnet, kind: 'p2wpkh', prefix: 'vpub', purpose: 84 },
    { params: devnet, kind: 'p2tr', prefix: 'tpub', purpose: 86 },
    { params: regtest, kind: 'p2wpkh', prefix: 'vpub', purpose: 84 },
    { params: regtest, kind: 'p2tr', prefix: 'tpub', purpose: 86 },
  ];
  for (const c of cases) {
    const account = HdAccount.fromSeed(seed, c.params, c.kind, 2);
    assert.equal(account.path, `m/${c.purpose}'/${c.params.bip44CoinType}'/2'`);
    assert.equal(getAccountPath(c.params, c.kind, 2), account.path);
    assert.ok(account.extendedPublicKey.startsWith(c.prefix), `${c.params.name} ${c.kind}: ${account.extendedPublicKey}`);
    const a = account.deriveAddress(1, 7);
    const decoded = decodeSegwitAddress(a.address, c.params.bech32Hrp);
    assert.equal(decoded.witnessVersion, c.kind === 'p2wpkh' ? 0 : 1);
    assert.deepEqual(addressToScriptPubKey(a.address, c.params.bech32Hrp), a.scriptPubKey);
    // Same account through its extended public key, and different coin types give different keys.
    const watchOnly = HdAccount.fromExtendedKey(account.extendedPublicKey, c.params, c.kind, 2);
    assert.ok(watchOnly.isWatchOnly);
    assert.equal(watchOnly.deriveAddress(1, 7).address, a.address);
    assert.throws(() => watchOnly.derivePrivateKey(0, 0), (e) => isWalletError(e, 'watch-only'));
  }
  assert.notEqual(
    HdAccount.fromSeed(seed, main, 'p2wpkh').deriveAddress(0, 0).scriptPubKey.join(),
    HdAccount.fromSeed(seed, regtest, 'p2wpkh').deriveAddress(0, 0).scriptPubKey.join(),
  );
});

test('HdAccount refuses bad indexes and foreign extended keys, and never shows private keys when printed', () => {
  const seed = mnemonicToWalletSeed(ABANDON_MNEMONIC);
  const account = HdAccount.fromSeed(seed, regtest, 'p2wpkh');
  assert.throws(() => account.deriveAddress(0, -1), (e) => isWalletError(e, 'bad-index'));
  assert.throws(() => account.deriveAddress(0, 2 ** 31), (e) => isWalletError(e, 'bad-index'));
  assert.throws(() => account.deriveAddress(2 as 0, 0), (e) => isWalletError(e, 'bad-index'));
  assert.throws(() => HdAccount.fromSeed(seed, regtest, 'p2wpkh', -1), (e) => isWalletError(e, 'bad-account'));
  assert.throws(() => HdAccount.fromSeed(new Uint8Array(8), regtest, 'p2wpkh'), (e) => isWalletError(e, 'bad-seed'));
  // A mainnet zpub is not a regtest vpub; an account key at the wrong depth is refused.
  assert.throws(() => HdAccount.fromExtendedKey(BIP84.xpub, regtest, 'p2wpkh'), (e) => isWalletError(e, 'bad-account'));
  assert.throws(() => HdAccount.fromExtendedKey(BIP84.rootpub, bitcoin, 'p2wpkh'), (e) => isWalletError(e, 'bad-account'));
  const xprv = account.exportExtendedPrivateKey();
  const privHex = bytesToHex(account.derivePrivateKey(0, 0));
  for (const shown of [inspect(account), JSON.stringify(account), String(inspect({ nested: account }))]) {
    assert.ok(!shown.includes(xprv) && !shown.includes(privHex), 'private material must not be printed');
    assert.ok(shown.includes(account.extendedPublicKey));
  }
});
