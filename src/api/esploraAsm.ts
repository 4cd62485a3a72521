import { bytesToHex } from '../primitives/hex.js';
import { readScriptOp } from '../primitives/script.js';

/** Opcode names as rust-bitcoin's `Opcode` Debug prints them (the names Esplora's electrs shows), 0x61..0xba. */
const NAMES: readonly string[] = [
  'OP_NOP', 'OP_VER', 'OP_IF', 'OP_NOTIF', 'OP_VERIF', 'OP_VERNOTIF', 'OP_ELSE', 'OP_ENDIF', 'OP_VERIFY', 'OP_RETURN',
  'OP_TOALTSTACK', 'OP_FROMALTSTACK', 'OP_2DROP', 'OP_2DUP', 'OP_3DUP', 'OP_2OVER', 'OP_2ROT', 'OP_2SWAP', 'OP_IFDUP',
  'OP_DEPTH', 'OP_DROP', 'OP_DUP', 'OP_NIP', 'OP_OVER', 'OP_PICK', 'OP_ROLL', 'OP_ROT', 'OP_SWAP', 'OP_TUCK', 'OP_CAT',
  'OP_SUBSTR', 'OP_LEFT', 'OP_RIGHT', 'OP_SIZE', 'OP_INVERT', 'OP_AND', 'OP_OR', 'OP_XOR', 'OP_EQUAL', 'OP_EQUALVERIFY',
  'OP_RESERVED1', 'OP_RESERVED2', 'OP_1ADD', 'OP_1SUB', 'OP_2MUL', 'OP_2DIV', 'OP_NEGATE', 'OP_ABS', 'OP_NOT',
  'OP_0NOTEQUAL', 'OP_ADD', 'OP_SUB', 'OP_MUL', 'OP_DIV', 'OP_MOD', 'OP_LSHIFT', 'OP_RSHIFT', 'OP_BOOLAND', 'OP_BOOLOR',
  'OP_NUMEQUAL', 'OP_NUMEQUALVERIFY', 'OP_NUMNOTEQUAL', 'OP_LESSTHAN', 'OP_GREATERTHAN', 'OP_LESSTHANOREQUAL',
  'OP_GREATERTHANOREQUAL', 'OP_MIN', 'OP_MAX', 'OP_WITHIN', 'OP_RIPEMD160', 'OP_SHA1', 'OP_SHA256', 'OP_HASH160',
  'OP_HASH256', 'OP_CODESEPARATOR', 'OP_CHECKSIG', 'OP_CHECKSIGVERIFY', 'OP_CHECKMULTISIG', 'OP_CHECKMULTISIGVERIFY',
  'OP_NOP1', 'OP_CLTV', 'OP_CSV', 'OP_NOP4', 'OP_NOP5', 'OP_NOP6', 'OP_NOP7', 'OP_NOP8', 'OP_NOP9', 'OP_NOP10',
  'OP_CHECKSIGADD',
];

/** rust-bitcoin's Debug name of a non-push opcode (0x4f..0xff). */
function opcodeName(op: number): string {
  if (op === 0x4f) return 'OP_PUSHNUM_NEG1';
  if (op === 0x50) return 'OP_RESERVED';
  if (op >= 0x51 && op <= 0x60) return `OP_PUSHNUM_${op - 0x50}`;
  if (op >= 0x61 && op <= 0xba) return NAMES[op - 0x61]!;
  if (op === 0xff) return 'OP_INVALIDOPCODE';
  return `OP_RETURN_${op}`;
}

/**
 * Disassembles a script the way Esplora (electrs, through rust-bitcoin's `Script::to_asm_string`) prints
 * `scriptpubkey_asm` / `scriptsig_asm`: every opcode by name, pushes as `OP_PUSHBYTES_<n> <hex>` or
 * `OP_PUSHDATA1|2|4 <hex>`, OP_0 as `OP_0`, OP_1..OP_16 as `OP_PUSHNUM_<n>`; `<unexpected end>` when a push length
 * is cut off and `<push past end>` when its data is. E.g. P2WPKH: `OP_0 OP_PUSHBYTES_20 <hash>`.
 * This differs from Core's asm (coreJson's disassembleScript); Esplora clients expect this form.
 * @see rust-bitcoin bitcoin/src/blockdata/script/mod.rs bytes_to_asm_fmt
 */
export function esploraAsm(script: Uint8Array): string {
  const parts: string[] = [];
  for (let i = 0; i < script.length; ) {
    const op = readScriptOp(script, i);
    const { opcode } = op;
    const name =
      opcode === 0x00 ? 'OP_0' : opcode <= 0x4b ? `OP_PUSHBYTES_${opcode}` : opcode <= 0x4e ? `OP_PUSHDATA${opcode === 0x4c ? 1 : opcode === 0x4d ? 2 : 4}` : opcodeName(opcode);
    if ('error' in op) {
      parts.push(op.error === 'length-past-end' ? '<unexpected end>' : `${name} <push past end>`);
      break;
    }
    i = op.next;
    parts.push(op.data !== undefined && op.data.length > 0 ? `${name} ${bytesToHex(op.data)}` : name);
  }
  return parts.join(' ');
}
