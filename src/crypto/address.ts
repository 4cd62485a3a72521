import { AddressError } from './addressError.js';
import { bytesToWords, checkHrp, decodeBech32, encodeBech32, wordsToBytes } from './bech32.js';

export { AddressError } from './addressError.js';

/** A decoded segwit address: lower-case HRP, witness version 0..16 and the 2..40-byte witness program. */
export interface SegwitAddress {
  hrp: string;
  witnessVersion: number;
  program: Uint8Array;
}

/** OP_0 and OP_1; OP_n for n in 1..16 is OP_1 + n - 1. */
const OP_0 = 0x00;
const OP_1 = 0x51;

function checkWitnessProgram(witnessVersion: number, programLength: number): void {
  if (!Number.isInteger(witnessVersion) || witnessVersion < 0 || witnessVersion > 16) {
    throw new AddressError('bad-witness-version', `witness version ${witnessVersion} is not 0..16`);
  }
  if (programLength < 2 || programLength > 40) {
    throw new AddressError('bad-program-length', `witness program of ${programLength} bytes is not 2..40`);
  }
  if (witnessVersion === 0 && programLength !== 20 && programLength !== 32) {
    throw new AddressError('bad-program-length', `v0 witness program of ${programLength} bytes is not 20 or 32`);
  }
}

/**
 * Encodes a witness program as a segwit address: bech32 for witness version 0, bech32m for 1..16. The HRP must be
 * lower-case (e.g. `crn`, `bc`); the result is lower-case.
 * @throws AddressError bad-hrp | bad-witness-version | bad-program-length | too-long
 * @see BIP-173 "Segwit address format", BIP-350; Bitcoin Core EncodeDestination
 */
export function encodeSegwitAddress(hrp: string, witnessVersion: number, program: Uint8Array): string {
  checkHrp(hrp);
  checkWitnessProgram(witnessVersion, program.length);
  return encodeBech32(hrp, [witnessVersion, ...bytesToWords(program)], witnessVersion === 0 ? 'bech32' : 'bech32m');
}

/**
 * Decodes a segwit address (either case, not mixed) into HRP, witness version and program, enforcing BIP-350:
 * witness v0 must use the bech32 checksum and v1..16 bech32m. With `expectedHrp` the HRP must match it.
 * @throws AddressError too-long | bad-char | mixed-case | no-separator | empty-hrp | short-checksum | bad-checksum |
 *   wrong-hrp | empty-data | bad-witness-version | wrong-encoding | bad-padding | bad-program-length
 * @see BIP-173, BIP-350; sipa/bech32 ref/python segwit_addr.decode; Bitcoin Core DecodeDestination
 */
export function decodeSegwitAddress(address: string, expectedHrp?: string): SegwitAddress {
  const { hrp, words, encoding } = decodeBech32(address);
  if (expectedHrp !== undefined && hrp !== expectedHrp.toLowerCase()) {
    throw new AddressError('wrong-hrp', `HRP '${hrp}', expected '${expectedHrp.toLowerCase()}'`);
  }
  const witnessVersion = words[0];
  if (witnessVersion === undefined) throw new AddressError('empty-data', 'no witness version');
  if (witnessVersion > 16) throw new AddressError('bad-witness-version', `witness version ${witnessVersion}`);
  const required = witnessVersion === 0 ? 'bech32' : 'bech32m';
  if (encoding !== required) {
    throw new AddressError('wrong-encoding', `witness v${witnessVersion} needs ${required}, got ${encoding}`);
  }
  const program = wordsToBytes(words.slice(1));
  checkWitnessProgram(witnessVersion, program.length);
  return { hrp, witnessVersion, program };
}

/**
 * The scriptPubKey a segwit address pays to: `OP_n <program>` (OP_0 = 0x00, OP_1..OP_16 = 0x51..0x60), e.g.
 * `0014<20>` for P2WPKH, `5120<32>` for P2TR.
 * @throws AddressError as decodeSegwitAddress
 * @see BIP-141 "Witness program", Bitcoin Core GetScriptForDestination
 */
export function addressToScriptPubKey(address: string, expectedHrp?: string): Uint8Array {
  const { witnessVersion, program } = decodeSegwitAddress(address, expectedHrp);
  const script = new Uint8Array(2 + program.length);
  script[0] = witnessVersion === 0 ? OP_0 : OP_1 + witnessVersion - 1;
  script[1] = program.length;
  script.set(program, 2);
  return script;
}

/**
 * The segwit address of a scriptPubKey, or null when the script has none: not a BIP-141 witness program
 * (`OP_n` + one 2..40-byte push, nothing else), or a v0 program that is not 20 or 32 bytes. OP_RETURN gives null.
 * @throws AddressError bad-hrp | too-long (an HRP too long for this program)
 * @see BIP-141 "Witness program", Bitcoin Core ExtractDestination
 */
export function scriptPubKeyToAddress(script: Uint8Array, hrp: string): string | null {
  checkHrp(hrp);
  if (script.length < 4 || script.length > 42) return null;
  const op = script[0]!;
  let witnessVersion: number;
  if (op === OP_0) witnessVersion = 0;
  else if (op >= OP_1 && op <= OP_1 + 15) witnessVersion = op - OP_1 + 1;
  else return null;
  if (script[1] !== script.length - 2) return null;
  const program = script.subarray(2);
  if (witnessVersion === 0 && program.length !== 20 && program.length !== 32) return null;
  return encodeSegwitAddress(hrp, witnessVersion, program);
}
