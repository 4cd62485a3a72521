/**
 * Fuzz target `address`: bech32/bech32m and segwit address parsing (every address a user, an RPC call or a REST URL
 * hands the node or the wallet) and the reverse mapping from output scripts to addresses.
 */
import fc from 'fast-check';
import { addressToScriptPubKey, decodeSegwitAddress, encodeSegwitAddress, scriptPubKeyToAddress } from '../../src/crypto/address.js';
import { AddressError } from '../../src/crypto/addressError.js';
import { decodeBech32 } from '../../src/crypto/bech32.js';
import { NETWORKS } from '../../src/params/networks.js';
import { mutatedBytes, mutatedString } from '../mutate.js';
import { check, decodeOrRefusal, refusal } from '../oracle.js';
import { defineTarget } from '../target.js';

const BECH32_CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const KNOWN_HRPS = [...new Set(Object.values(NETWORKS).map((p) => p.bech32Hrp))];

const arbHrp: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...KNOWN_HRPS) },
  { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 12, unit: fc.integer({ min: 33, max: 126 }).map((c) => String.fromCharCode(c).toLowerCase()) }) },
);

/** A witness program valid for its version: v0 20 or 32 bytes, v1..16 2..40 bytes. */
const arbProgram = fc.integer({ min: 0, max: 16 }).chain((version) =>
  fc.tuple(
    fc.constant(version),
    version === 0
      ? fc.oneof(fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.uint8Array({ minLength: 32, maxLength: 32 }))
      : fc.uint8Array({ minLength: 2, maxLength: 40 }),
  ),
);

/** Valid segwit addresses, v0 (bech32) and v1..16 (bech32m), of cairn's and Bitcoin's HRPs and random ones. */
const arbAddress: fc.Arbitrary<string> = fc.tuple(arbHrp, arbProgram).map(([hrp, [version, program]]) => {
  try {
    return encodeSegwitAddress(hrp, version, program);
  } catch {
    return encodeSegwitAddress('crn', version, program); // an HRP too long for this program
  }
});

/** Output scripts around the witness-program shape: P2WPKH, P2WSH, P2TR, other versions, OP_RETURN. */
const arbScript: fc.Arbitrary<Uint8Array> = fc.oneof(
  arbProgram.map(([version, program]) => Uint8Array.of(version === 0 ? 0 : 0x50 + version, program.length, ...program)),
  fc.uint8Array({ maxLength: 83 }).map((data) => Uint8Array.of(0x6a, ...data)),
);

/** One input: an address to parse (with or without an expected HRP), or a script to turn into an address. */
export type AddressInput =
  | { readonly kind: 'address'; readonly text: string; readonly expectedHrp: string | null }
  | { readonly kind: 'script'; readonly script: Uint8Array; readonly hrp: string };

export default defineTarget<AddressInput>({
  name: 'address',
  description:
    'decodeBech32 / decodeSegwitAddress / addressToScriptPubKey: a value or AddressError; a decoded address re-encodes ' +
    'to its lower-case form and maps to a script that maps back; scriptPubKeyToAddress: null or an address of that script',
  input: () =>
    fc.oneof(
      {
        weight: 4,
        arbitrary: fc.record({
          kind: fc.constant('address' as const),
          text: mutatedString(arbAddress, { alphabet: BECH32_CHARSET + BECH32_CHARSET.toUpperCase() + '1', maxLength: 200 }),
          expectedHrp: fc.oneof(fc.constant(null), arbHrp, fc.constantFrom('CRN', '')),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({ kind: fc.constant('script' as const), script: mutatedBytes(arbScript, { maxLength: 100 }), hrp: arbHrp }),
      },
    ),
  run(input) {
    if (input.kind === 'script') {
      const address = decodeOrRefusal(() => scriptPubKeyToAddress(input.script, input.hrp), refusal(AddressError));
      if (address === undefined || address === null) return;
      const script = addressToScriptPubKey(address, input.hrp);
      check(Buffer.compare(script, input.script) === 0, `script -> ${address} -> a different script`);
      return;
    }
    const { text } = input;
    const expectedHrp = input.expectedHrp ?? undefined;
    decodeOrRefusal(() => decodeBech32(text), refusal(AddressError));
    const decoded = decodeOrRefusal(() => decodeSegwitAddress(text, expectedHrp), refusal(AddressError));
    const script = decodeOrRefusal(() => addressToScriptPubKey(text, expectedHrp), refusal(AddressError));
    check((decoded === undefined) === (script === undefined), 'decodeSegwitAddress and addressToScriptPubKey disagree');
    if (decoded === undefined || script === undefined) return;
    check(encodeSegwitAddress(decoded.hrp, decoded.witnessVersion, decoded.program) === text.toLowerCase(), `${text} does not re-encode`);
    check(scriptPubKeyToAddress(script, decoded.hrp) === text.toLowerCase(), `${text} -> script -> another address`);
  },
});
