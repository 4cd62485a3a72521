import { isStrictDerSignature } from '../crypto/ecdsa.js';
import { bytesToHex } from './hex.js';

/** Opcode names as Bitcoin Core's GetOpName prints them (script/script.cpp), for disassembly only. */
const OP_NAMES: Readonly<Record<number, string>> = {
  0x4f: '-1', 0x50: 'OP_RESERVED',
  0x61: 'OP_NOP', 0x62: 'OP_VER', 0x63: 'OP_IF', 0x64: 'OP_NOTIF', 0x65: 'OP_VERIF', 0x66: 'OP_VERNOTIF', 0x67: 'OP_ELSE',
  0x68: 'OP_ENDIF', 0x69: 'OP_VERIFY', 0x6a: 'OP_RETURN', 0x6b: 'OP_TOALTSTACK', 0x6c: 'OP_FROMALTSTACK', 0x6d: 'OP_2DROP',
  0x6e: 'OP_2DUP', 0x6f: 'OP_3DUP', 0x70: 'OP_2OVER', 0x71: 'OP_2ROT', 0x72: 'OP_2SWAP', 0x73: 'OP_IFDUP', 0x74: 'OP_DEPTH',
  0x75: 'OP_DROP', 0x76: 'OP_DUP', 0x77: 'OP_NIP', 0x78: 'OP_OVER', 0x79: 'OP_PICK', 0x7a: 'OP_ROLL', 0x7b: 'OP_ROT',
  0x7c: 'OP_SWAP', 0x7d: 'OP_TUCK', 0x7e: 'OP_CAT', 0x7f: 'OP_SUBSTR', 0x80: 'OP_LEFT', 0x81: 'OP_RIGHT', 0x82: 'OP_SIZE',
  0x83: 'OP_INVERT', 0x84: 'OP_AND', 0x85: 'OP_OR', 0x86: 'OP_XOR', 0x87: 'OP_EQUAL', 0x88: 'OP_EQUALVERIFY',
  0x89: 'OP_RESERVED1', 0x8a: 'OP_RESERVED2', 0x8b: 'OP_1ADD', 0x8c: 'OP_1SUB', 0x8d: 'OP_2MUL', 0x8e: 'OP_2DIV',
  0x8f: 'OP_NEGATE', 0x90: 'OP_ABS', 0x91: 'OP_NOT', 0x92: 'OP_0NOTEQUAL', 0x93: 'OP_ADD', 0x94: 'OP_SUB', 0x95: 'OP_MUL',
  0x96: 'OP_DIV', 0x97: 'OP_MOD', 0x98: 'OP_LSHIFT', 0x99: 'OP_RSHIFT', 0x9a: 'OP_BOOLAND', 0x9b: 'OP_BOOLOR',
  0x9c: 'OP_NUMEQUAL', 0x9d: 'OP_NUMEQUALVERIFY', 0x9e: 'OP_NUMNOTEQUAL', 0x9f: 'OP_LESSTHAN', 0xa0: 'OP_GREATERTHAN',
  0xa1: 'OP_LESSTHANOREQUAL', 0xa2: 'OP_GREATERTHANOREQUAL', 0xa3: 'OP_MIN', 0xa4: 'OP_MAX', 0xa5: 'OP_WITHIN',
  0xa6: 'OP_RIPEMD160', 0xa7: 'OP_SHA1', 0xa8: 'OP_SHA256', 0xa9: 'OP_HASH160', 0xaa: 'OP_HASH256',
  0xab: 'OP_CODESEPARATOR', 0xac: 'OP_CHECKSIG', 0xad: 'OP_CHECKSIGVERIFY', 0xae: 'OP_CHECKMULTISIG',
  0xaf: 'OP_CHECKMULTISIGVERIFY', 0xb0: 'OP_NOP1', 0xb1: 'OP_CHECKLOCKTIMEVERIFY', 0xb2: 'OP_CHECKSEQUENCEVERIFY',
  0xb3: 'OP_NOP4', 0xb4: 'OP_NOP5', 0xb5: 'OP_NOP6', 0xb6: 'OP_NOP7', 0xb7: 'OP_NOP8', 0xb8: 'OP_NOP9', 0xb9: 'OP_NOP10',
  0xba: 'OP_CHECKSIGADD', 0xff: 'OP_INVALIDOPCODE',
};

const OP_PUSHDATA1 = 0x4c;
const OP_PUSHDATA2 = 0x4d;
const OP_PUSHDATA4 = 0x4e;

/**
 * One opcode of a script: `opcode` is its byte; for a push (0x00..0x4e) `data` is a view of the pushed bytes (empty
 * for OP_0), else undefined; `next` is the position after it.
 */
export interface ScriptOp {
  readonly opcode: number;
  readonly data: Uint8Array | undefined;
  readonly next: number;
}

/**
 * Why an opcode could not be read: `length-past-end` when an OP_PUSHDATA1/2/4 length field is cut off,
 * `push-past-end` when the pushed data is.
 */
export interface ScriptOpError {
  readonly opcode: number;
  readonly error: 'length-past-end' | 'push-past-end';
}

/**
 * Reads the opcode at `pos` (0 <= pos < script.length): the one script-op reader behind script classification and
 * both disassemblers. Push lengths are little-endian (1, 2 or 4 bytes after OP_PUSHDATA1/2/4).
 * @see Bitcoin Core script/script.cpp GetScriptOp
 */
export function readScriptOp(script: Uint8Array, pos: number): ScriptOp | ScriptOpError {
  const opcode = script[pos]!;
  let p = pos + 1;
  if (opcode > OP_PUSHDATA4) return { opcode, data: undefined, next: p };
  let size: number;
  if (opcode < OP_PUSHDATA1) {
    size = opcode;
  } else {
    const width = opcode === OP_PUSHDATA1 ? 1 : opcode === OP_PUSHDATA2 ? 2 : 4;
    if (p + width > script.length) return { opcode, error: 'length-past-end' };
    size = 0;
    for (let k = 0; k < width; k++) size += script[p + k]! * 2 ** (8 * k);
    p += width;
  }
  if (size > script.length - p) return { opcode, error: 'push-past-end' };
  return { opcode, data: script.subarray(p, p + size), next: p + size };
}

/** Decodes a minimally-or-not encoded script number of up to 4 bytes (little-endian, sign bit in the last byte). */
function scriptNumToString(bytes: Uint8Array): string {
  if (bytes.length === 0) return '0';
  let value = 0n;
  for (let i = 0; i < bytes.length; i++) value |= BigInt(bytes[i]!) << BigInt(8 * i);
  const last = bytes[bytes.length - 1]!;
  if (last & 0x80) value = -(value & ~(0x80n << BigInt(8 * (bytes.length - 1))));
  return value.toString();
}

/**
 * Names of the defined ECDSA sighash types, as Bitcoin Core's mapSigHashTypes (core_write.cpp) prints them in brackets.
 * These are exactly the bytes that pass STRICTENC's IsDefinedHashtypeSignature.
 */
const SIGHASH_TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [0x01, 'ALL'],
  [0x81, 'ALL|ANYONECANPAY'],
  [0x02, 'NONE'],
  [0x82, 'NONE|ANYONECANPAY'],
  [0x03, 'SINGLE'],
  [0x83, 'SINGLE|ANYONECANPAY'],
]);

const OP_RETURN = 0x6a;
/** Core's MAX_SCRIPT_SIZE: longer scripts are unspendable. */
const MAX_SCRIPT_SIZE = 10_000;

/** Options of disassembleScript. */
export interface DisassembleOptions {
  /**
   * Print a push that is a STRICTENC signature (strict DER + defined hashtype byte) as its DER hex followed by
   * `[ALL]`, `[NONE|ANYONECANPAY]`, …, as Core does for scriptSigs (ScriptToAsmStr(script, true)). Never applied to
   * unspendable scripts (OP_RETURN first, or over 10,000 bytes), so data that merely looks like a signature stays hex.
   */
  readonly attemptSighashDecode?: boolean;
}

/** The push as Core's ScriptToAsmStr(…, true) shows it: `<DER hex>[TYPE]` for a STRICTENC signature, else hex. */
function pushToAsmWithSighash(data: Uint8Array): string {
  // Core's CheckSignatureEncoding(vch, SCRIPT_VERIFY_STRICTENC): strict DER on all but the last byte, which must be a
  // defined hashtype; the DER bounds (8..72 bytes without the hashtype) are isStrictDerSignature's.
  const typeName = SIGHASH_TYPE_NAMES.get(data[data.length - 1]!);
  if (typeName === undefined) return bytesToHex(data);
  const der = data.subarray(0, data.length - 1);
  if (!isStrictDerSignature(der)) return bytesToHex(data);
  return `${bytesToHex(der)}[${typeName}]`;
}

/**
 * Disassembles a script for display the way Bitcoin Core's ScriptToAsmStr does: pushes of up to 4 bytes as script
 * numbers, longer pushes as hex, opcodes by name (OP_1..OP_16 as 1..16), and "[error]" where a push runs past the end.
 * With `attemptSighashDecode` (Core's fAttemptSighashDecode, used for scriptSigs), signature pushes end in their
 * sighash type name instead of the hashtype byte, e.g. `3045…01` → `3045…[ALL]`.
 * Display only: cairn has no script interpreter.
 * @see Bitcoin Core core_write.cpp ScriptToAsmStr
 */
export function disassembleScript(script: Uint8Array, options: DisassembleOptions = {}): string {
  // Core's CScript::IsUnspendable: OP_RETURN data may look like a signature but is never one.
  const decodeSighash =
    options.attemptSighashDecode === true &&
    !((script.length > 0 && script[0] === OP_RETURN) || script.length > MAX_SCRIPT_SIZE);
  const parts: string[] = [];
  for (let i = 0; i < script.length; ) {
    const op = readScriptOp(script, i);
    if ('error' in op) {
      parts.push('[error]');
      break;
    }
    i = op.next;
    if (op.data !== undefined) {
      if (op.data.length <= 4) parts.push(scriptNumToString(op.data));
      else parts.push(decodeSighash ? pushToAsmWithSighash(op.data) : bytesToHex(op.data));
    } else if (op.opcode >= 0x51 && op.opcode <= 0x60) {
      parts.push(String(op.opcode - 0x50));
    } else {
      parts.push(OP_NAMES[op.opcode] ?? 'OP_UNKNOWN');
    }
  }
  return parts.join(' ');
}
