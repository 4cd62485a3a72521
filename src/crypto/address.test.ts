import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { bytesToHex, hexToBytes } from '../primitives/hex.js';
import { readVectorJson, reportVectors } from '../testing/vectors.js';
import {
  AddressError,
  addressToScriptPubKey,
  decodeSegwitAddress,
  encodeSegwitAddress,
  scriptPubKeyToAddress,
} from './address.js';
import type { Bech32Encoding } from './bech32.js';
import { decodeBech32, encodeBech32 } from './bech32.js';

const FILE = 'bech32-bech32m-vectors.json';

interface InvalidString {
  string: string;
  reason: string;
}
interface AddressVector {
  address: string;
  scriptPubKeyHex: string;
}
interface InvalidAddress {
  address: string;
  reason: string;
}
interface Bech32Vectors {
  validBech32: string[];
  validBech32m: string[];
  invalidBech32: InvalidString[];
  invalidBech32m: InvalidString[];
  validAddress: AddressVector[];
  invalidAddress: InvalidAddress[];
  invalidAddressEncode: { hrp: string; witnessVersion: number; programLength: number }[];
  bip173OriginalAddressVectors: { validUnderBip173Only: AddressVector[]; invalid: InvalidAddress[] };
}

const vectors = readVectorJson<Bech32Vectors>(FILE);

/** Our reason code for each reason the vectors give (sipa/bech32 tests.py and BIP-173 comments). */
function expectedReason(vectorReason: string): string {
  const r = vectorReason.toLowerCase();
  const table: [RegExp, string][] = [
    [/hrp character out of range/, 'bad-char'],
    [/overall max length exceeded/, 'too-long'],
    [/no separator/, 'no-separator'],
    [/empty hrp/, 'empty-hrp'],
    [/invalid data character|invalid character in checksum/, 'bad-char'],
    [/too short checksum/, 'short-checksum'],
    [/checksum calculated with uppercase form of hrp|^invalid checksum$/, 'bad-checksum'],
    [/invalid checksum algorithm/, 'wrong-encoding'],
    [/invalid hrp|invalid human-readable part/, 'wrong-hrp'],
    [/invalid witness version/, 'bad-witness-version'],
    [/invalid program length/, 'bad-program-length'],
    [/mixed case/, 'mixed-case'],
    [/padding/, 'bad-padding'],
    [/empty data section/, 'empty-data'],
  ];
  for (const [re, code] of table) if (re.test(r)) return code;
  throw new Error(`no reason code mapped for vector reason '${vectorReason}'`);
}

/** The reason code thrown by fn, or null when it did not throw; any non-AddressError fails the test. */
function reasonOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (e) {
    assert.ok(e instanceof AddressError, `expected AddressError, got ${String(e)}`);
    return e.code;
  }
}

function other(encoding: Bech32Encoding): Bech32Encoding {
  return encoding === 'bech32' ? 'bech32m' : 'bech32';
}

function checkValidStrings(t: TestContext, name: string, strings: string[], encoding: Bech32Encoding): void {
  let passed = 0;
  const failures: string[] = [];
  for (const s of strings) {
    const problems: string[] = [];
    try {
      const { hrp, words } = decodeBech32(s, encoding);
      if (encodeBech32(hrp, words, encoding) !== s.toLowerCase()) problems.push('re-encoding differs');
    } catch (e) {
      problems.push(`refused: ${String(e)}`);
    }
    if (reasonOf(() => decodeBech32(s, other(encoding))) !== 'bad-checksum') problems.push(`accepted as ${other(encoding)}`);
    // As sipa's tests do: flip one bit of the first data character; the result must be refused.
    const pos = s.lastIndexOf('1');
    const flipped = s.slice(0, pos + 1) + String.fromCharCode(s.charCodeAt(pos + 1) ^ 1) + s.slice(pos + 2);
    if (reasonOf(() => decodeBech32(flipped, encoding)) === null) problems.push('bit flip accepted');
    if (problems.length === 0) passed++;
    else failures.push(`${JSON.stringify(s)}: ${problems.join('; ')}`);
  }
  reportVectors(t, `${FILE} ${name}`, passed, strings.length, 7, failures);
}

function checkInvalidStrings(t: TestContext, name: string, items: InvalidString[], encoding: Bech32Encoding, n: number) {
  let passed = 0;
  const failures: string[] = [];
  for (const { string, reason } of items) {
    const got = reasonOf(() => decodeBech32(string, encoding));
    if (got === expectedReason(reason)) passed++;
    else failures.push(`${JSON.stringify(string)} (${reason}): got ${got ?? 'accepted'}`);
  }
  reportVectors(t, `${FILE} ${name}`, passed, items.length, n, failures);
}

test('valid bech32 strings (BIP-173)', (t) => checkValidStrings(t, 'validBech32', vectors.validBech32, 'bech32'));
test('valid bech32m strings (BIP-350)', (t) => checkValidStrings(t, 'validBech32m', vectors.validBech32m, 'bech32m'));
test('invalid bech32 strings (BIP-173)', (t) =>
  checkInvalidStrings(t, 'invalidBech32', vectors.invalidBech32, 'bech32', 12));
test('invalid bech32m strings (BIP-350)', (t) =>
  checkInvalidStrings(t, 'invalidBech32m', vectors.invalidBech32m, 'bech32m', 14));

/** sipa's tests decode every address with HRP "bc", then "tb". */
function decodeMainOrTest(address: string): Uint8Array {
  try {
    return addressToScriptPubKey(address, 'bc');
  } catch {
    return addressToScriptPubKey(address, 'tb');
  }
}

function checkValidAddress(a: AddressVector): string[] {
  const problems: string[] = [];
  try {
    const script = decodeMainOrTest(a.address);
    if (bytesToHex(script) !== a.scriptPubKeyHex) problems.push(`scriptPubKey ${bytesToHex(script)}`);
    const { hrp, witnessVersion, program } = decodeSegwitAddress(a.address);
    if (encodeSegwitAddress(hrp, witnessVersion, program) !== a.address.toLowerCase()) problems.push('re-encoding');
    if (scriptPubKeyToAddress(hexToBytes(a.scriptPubKeyHex), hrp) !== a.address.toLowerCase()) {
      problems.push('scriptPubKeyToAddress');
    }
  } catch (e) {
    problems.push(`refused: ${String(e)}`);
  }
  return problems;
}

/**
 * An invalid address must fail under both HRPs, with the vector's reason under its own HRP (or "bc"), or with one of
 * `alsoAccepted` (codes that are equally right because an earlier check already fails).
 */
function checkInvalidAddress(a: InvalidAddress, alsoAccepted: string[] = []): string[] {
  const ownHrp = a.address.slice(0, a.address.lastIndexOf('1')).toLowerCase();
  const primary = ownHrp === 'tb' ? 'tb' : 'bc';
  const problems: string[] = [];
  const got = reasonOf(() => decodeSegwitAddress(a.address, primary));
  if (got !== expectedReason(a.reason) && !alsoAccepted.includes(got ?? '')) problems.push(`got ${got ?? 'accepted'} with HRP ${primary}`);
  const secondary = primary === 'bc' ? 'tb' : 'bc';
  if (reasonOf(() => decodeSegwitAddress(a.address, secondary)) === null) problems.push(`accepted with ${secondary}`);
  return problems;
}

test('valid segwit addresses (BIP-173/350): scriptPubKey, re-encoding', (t) => {
  let passed = 0;
  const failures: string[] = [];
  for (const a of vectors.validAddress) {
    const problems = checkValidAddress(a);
    if (problems.length === 0) passed++;
    else failures.push(`${a.address}: ${problems.join('; ')}`);
  }
  reportVectors(t, `${FILE} validAddress`, passed, vectors.validAddress.length, 8, failures);
});

test('invalid segwit addresses (BIP-173/350) are refused with the right reason', (t) => {
  let passed = 0;
  const failures: string[] = [];
  for (const a of vectors.invalidAddress) {
    const problems = checkInvalidAddress(a);
    if (problems.length === 0) passed++;
    else failures.push(`${a.address} (${a.reason}): ${problems.join('; ')}`);
  }
  reportVectors(t, `${FILE} invalidAddress`, passed, vectors.invalidAddress.length, 15, failures);
});

test('invalid segwit address encodings are refused', (t) => {
  let passed = 0;
  const failures: string[] = [];
  for (const v of vectors.invalidAddressEncode) {
    const got = reasonOf(() => encodeSegwitAddress(v.hrp, v.witnessVersion, new Uint8Array(v.programLength)));
    if (got !== null) passed++;
    else failures.push(`${JSON.stringify(v)}: accepted`);
  }
  reportVectors(t, `${FILE} invalidAddressEncode`, passed, vectors.invalidAddressEncode.length, 5, failures);
});

test('pre-BIP-350 BIP-173 addresses: v0 still valid, v1+ bech32 now refused (wrong-encoding)', (t) => {
  let passed = 0;
  const failures: string[] = [];
  const list = vectors.bip173OriginalAddressVectors.validUnderBip173Only;
  for (const a of list) {
    const isV0 = a.scriptPubKeyHex.startsWith('00');
    const problems = isV0
      ? checkValidAddress(a)
      : checkInvalidAddress({ address: a.address, reason: 'Invalid checksum algorithm (bech32 instead of bech32m)' });
    if (problems.length === 0) passed++;
    else failures.push(`${a.address} (v0: ${isV0}): ${problems.join('; ')}`);
  }
  reportVectors(t, `${FILE} bip173OriginalAddressVectors.validUnderBip173Only`, passed, list.length, 6, failures);
});

test('pre-BIP-350 BIP-173 invalid addresses stay invalid', (t) => {
  let passed = 0;
  const failures: string[] = [];
  const list = vectors.bip173OriginalAddressVectors.invalid;
  for (const a of list) {
    // These were written for bech32 everywhere: a v1+ one now fails the BIP-350 encoding check before its own flaw.
    const witnessVersionChar = a.address.toLowerCase()[a.address.lastIndexOf('1') + 1];
    const problems = checkInvalidAddress(a, witnessVersionChar === 'q' ? [] : ['wrong-encoding']);
    if (problems.length === 0) passed++;
    else failures.push(`${a.address} (${a.reason}): ${problems.join('; ')}`);
  }
  reportVectors(t, `${FILE} bip173OriginalAddressVectors.invalid`, passed, list.length, 10, failures);
});

test('scriptPubKeyToAddress: null for scripts without an address', () => {
  const program20 = new Uint8Array(20).fill(7);
  const p2wpkh = Uint8Array.from([0x00, 20, ...program20]);
  const address = scriptPubKeyToAddress(p2wpkh, 'crn');
  assert.ok(address?.startsWith('crn1q'));
  assert.equal(bytesToHex(addressToScriptPubKey(address!, 'crn')), bytesToHex(p2wpkh));
  assert.equal(scriptPubKeyToAddress(Uint8Array.from([0x6a, 4, 1, 2, 3, 4]), 'crn'), null); // OP_RETURN
  assert.equal(scriptPubKeyToAddress(Uint8Array.from([0x00, 21, ...program20, 0]), 'crn'), null); // v0, 21 bytes
  assert.equal(scriptPubKeyToAddress(Uint8Array.from([...p2wpkh, 0x87]), 'crn'), null); // trailing opcode
  assert.equal(scriptPubKeyToAddress(Uint8Array.from([0x50, 20, ...program20]), 'crn'), null); // OP_RESERVED
  assert.equal(scriptPubKeyToAddress(new Uint8Array(0), 'crn'), null);
  assert.equal(reasonOf(() => decodeSegwitAddress(address!, 'rcrn')), 'wrong-hrp');
  assert.equal(reasonOf(() => scriptPubKeyToAddress(p2wpkh, 'CRN')), 'bad-hrp');
});
