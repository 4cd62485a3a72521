import { readScriptOp, type ScriptOp } from '../primitives/script.js';

/**
 * The standard output-script templates, with the names Bitcoin Core prints in decoderawtransaction / decodescript
 * (`scriptPubKey.type`).
 * @see Bitcoin Core script/solver.h TxoutType, GetTxnOutputType
 */
export type ScriptType =
  | 'nonstandard'
  | 'pubkey'
  | 'pubkeyhash'
  | 'scripthash'
  | 'multisig'
  | 'nulldata'
  | 'witness_v0_keyhash'
  | 'witness_v0_scripthash'
  | 'witness_v1_taproot'
  | 'witness_unknown'
  | 'anchor';

const OP_0 = 0x00;
const OP_1 = 0x51;
const OP_16 = 0x60;
const OP_RETURN = 0x6a;
const OP_DUP = 0x76;
const OP_EQUAL = 0x87;
const OP_EQUALVERIFY = 0x88;
const OP_HASH160 = 0xa9;
const OP_CHECKSIG = 0xac;
const OP_CHECKMULTISIG = 0xae;

/** Core's MAX_PUBKEYS_PER_MULTISIG. */
const MAX_PUBKEYS_PER_MULTISIG = 20;
/** Core's MAX_SCRIPT_SIZE: larger scripts are unspendable. */
const MAX_SCRIPT_SIZE = 10_000;

/**
 * Largest OP_RETURN output script cairn accepts, in bytes including the 0x6a opcode (Bitcoin's old
 * -datacarriersize default: 80 bytes of data plus opcode and push prefix).
 */
export const MAX_OP_RETURN_SCRIPT_SIZE = 83;

/** One opcode at `pos`, or null at the end or when a push runs past the end (Core's GetScriptOp returning false). */
function getOp(script: Uint8Array, pos: number): ScriptOp | null {
  if (pos >= script.length) return null;
  const op = readScriptOp(script, pos);
  return 'error' in op ? null : op;
}

/** Core's CScript::IsPushOnly from `start`: every opcode is a push or OP_1NEGATE..OP_16 (incl. OP_RESERVED). */
function isPushOnly(script: Uint8Array, start: number): boolean {
  let pos = start;
  while (pos < script.length) {
    const op = getOp(script, pos);
    if (op === null || op.opcode > OP_16) return false;
    pos = op.next;
  }
  return true;
}

/** Core's CPubKey::ValidSize: 33 bytes with header 02/03, or 65 bytes with header 04/06/07. */
function isValidPubKeySize(data: Uint8Array): boolean {
  const h = data[0];
  if (data.length === 33) return h === 0x02 || h === 0x03;
  if (data.length === 65) return h === 0x04 || h === 0x06 || h === 0x07;
  return false;
}

/** Core's GetScriptNumber in [min, max]: OP_1..OP_16, or a minimally pushed minimally encoded positive number. */
function scriptNumber(op: ScriptOp, min: number, max: number): number | null {
  let n: number;
  if (op.opcode >= OP_1 && op.opcode <= OP_16) {
    n = op.opcode - OP_1 + 1;
  } else if (op.data !== undefined) {
    const d = op.data;
    // Minimal push: a one-byte value 1..16 must use OP_N, and the short push form must be used.
    if (op.opcode !== d.length || d.length === 0 || d.length > 4) return null;
    if (d.length === 1 && d[0]! >= 1 && d[0]! <= 16) return null;
    const last = d[d.length - 1]!;
    // Minimal number encoding and positive sign (Core's CScriptNum with fRequireMinimal).
    if ((last & 0x7f) === 0 && (d.length === 1 || (d[d.length - 2]! & 0x80) === 0)) return null;
    if (last & 0x80) return null;
    n = 0;
    for (let i = d.length - 1; i >= 0; i--) n = n * 256 + d[i]!;
  } else {
    return null;
  }
  return n >= min && n <= max ? n : null;
}

/** Core's MatchMultisig: OP_m <pubkey>... OP_n OP_CHECKMULTISIG with n keys. */
function isMultisig(script: Uint8Array): boolean {
  if (script.length < 1 || script[script.length - 1] !== OP_CHECKMULTISIG) return false;
  let op = getOp(script, 0);
  if (op === null) return false;
  const required = scriptNumber(op, 1, MAX_PUBKEYS_PER_MULTISIG);
  if (required === null) return false;
  let keys = 0;
  for (;;) {
    op = getOp(script, op.next);
    if (op === null) return false;
    if (op.data === undefined || !isValidPubKeySize(op.data)) break;
    keys++;
  }
  const total = scriptNumber(op, required, MAX_PUBKEYS_PER_MULTISIG);
  if (total === null || total !== keys) return false;
  return op.next + 1 === script.length;
}

/**
 * The witness version and program of a segwit output script (`OP_n <2..40 bytes>`, 4..42 bytes in all), or null.
 * @see BIP-141 "Witness program"; Bitcoin Core CScript::IsWitnessProgram
 */
export function getWitnessProgram(script: Uint8Array): { version: number; program: Uint8Array } | null {
  if (script.length < 4 || script.length > 42) return null;
  const first = script[0]!;
  if (first !== OP_0 && (first < OP_1 || first > OP_16)) return null;
  if (script[1]! + 2 !== script.length) return null;
  return { version: first === OP_0 ? 0 : first - OP_1 + 1, program: script.subarray(2) };
}

/**
 * Classifies an output script by template, as Bitcoin Core's Solver does, for display and for choosing how an input
 * is verified. P2SH is matched first, then witness programs, then OP_RETURN followed by pushes only (`nulldata`),
 * P2PK (33/65-byte key), P2PKH and bare multisig; anything else is `nonstandard`.
 * @see Bitcoin Core script/solver.cpp Solver
 */
export function classifyScript(scriptPubKey: Uint8Array): ScriptType {
  const s = scriptPubKey;
  const n = s.length;
  if (n === 23 && s[0] === OP_HASH160 && s[1] === 0x14 && s[22] === OP_EQUAL) return 'scripthash';

  const wp = getWitnessProgram(s);
  if (wp !== null) {
    if (wp.version === 0 && wp.program.length === 20) return 'witness_v0_keyhash';
    if (wp.version === 0 && wp.program.length === 32) return 'witness_v0_scripthash';
    if (wp.version === 1 && wp.program.length === 32) return 'witness_v1_taproot';
    // Pay-to-anchor (P2A): OP_1 <0x4e73>.
    if (wp.version === 1 && wp.program.length === 2 && wp.program[0] === 0x4e && wp.program[1] === 0x73) {
      return 'anchor';
    }
    if (wp.version !== 0) return 'witness_unknown';
    return 'nonstandard';
  }

  if (n >= 1 && s[0] === OP_RETURN && isPushOnly(s, 1)) return 'nulldata';

  if ((n === 35 && s[0] === 33) || (n === 67 && s[0] === 65)) {
    if (s[n - 1] === OP_CHECKSIG && isValidPubKeySize(s.subarray(1, n - 1))) return 'pubkey';
  }

  if (
    n === 25 &&
    s[0] === OP_DUP &&
    s[1] === OP_HASH160 &&
    s[2] === 0x14 &&
    s[23] === OP_EQUALVERIFY &&
    s[24] === OP_CHECKSIG
  ) {
    return 'pubkeyhash';
  }

  if (isMultisig(s)) return 'multisig';
  return 'nonstandard';
}

/** True for P2WPKH: `0x00 0x14 <20-byte key hash>` (22 bytes). @see BIP-141 */
export function isP2wpkhScript(script: Uint8Array): boolean {
  return script.length === 22 && script[0] === OP_0 && script[1] === 0x14;
}

/** True for P2TR: `0x51 0x20 <32-byte x-only output key>` (34 bytes). @see BIP-341 */
export function isP2trScript(script: Uint8Array): boolean {
  return script.length === 34 && script[0] === OP_1 && script[1] === 0x20;
}

/**
 * True when the output script may appear in a cairn transaction (DESIGN.md "Scripts"): exactly P2WPKH, P2TR, or
 * OP_RETURN data (first byte 0x6a, at most 83 bytes in all; the bytes after 0x6a are not parsed). Every other script
 * makes the transaction invalid on cairn networks.
 */
export function isCairnOutputScript(script: Uint8Array): boolean {
  if (isP2wpkhScript(script) || isP2trScript(script)) return true;
  return script.length >= 1 && script[0] === OP_RETURN && script.length <= MAX_OP_RETURN_SCRIPT_SIZE;
}

/**
 * True when the output can never be spent, so it is never added to the UTXO set: the script starts with OP_RETURN
 * (0x6a) or is larger than 10,000 bytes.
 * @see Bitcoin Core CScript::IsUnspendable
 */
export function isUnspendable(script: Uint8Array): boolean {
  return (script.length > 0 && script[0] === OP_RETURN) || script.length > MAX_SCRIPT_SIZE;
}
