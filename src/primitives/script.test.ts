import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readVectorText, VectorTally } from '../testing/vectors.js';
import { decodeBlock } from './block.js';
import { bytesToHex, hexToBytes } from './hex.js';
import { disassembleScript } from './script.js';
import { isCoinbase } from './tx.js';
import type { Block } from './types.js';

function loadBlock(file: string): Block {
  return decodeBlock(hexToBytes(readVectorText(file).trim()));
}

const decode = { attemptSighashDecode: true } as const;

/**
 * Splits a scriptSig made of direct pushes (opcodes 0x01..0x4b) into the pushed byte strings, by the script format
 * alone (one length byte, then that many bytes); null when the script holds anything else.
 */
function directPushes(script: Uint8Array): Uint8Array[] | null {
  const out: Uint8Array[] = [];
  let i = 0;
  while (i < script.length) {
    const len = script[i]!;
    if (len < 0x01 || len > 0x4b || i + 1 + len > script.length) return null;
    out.push(script.subarray(i + 1, i + 1 + len));
    i += 1 + len;
  }
  return out;
}

describe('disassembleScript on mainnet scripts', () => {
  const block100000 = loadBlock('mainnet/block-100000.hex');
  const block170 = loadBlock('mainnet/block-000170.hex');
  const block482683 = loadBlock('mainnet/block-482683.hex');

  it("block 100000 tx 1 scriptSig: the signature's 01 byte is shown as [ALL] (Core's ScriptToAsmStr(script, true))", () => {
    const scriptSig = block100000.txs[1]!.inputs[0]!.scriptSig;
    const hex = bytesToHex(scriptSig);
    // Push 0x49 (73 bytes: DER + hashtype), then push 0x41 (65-byte uncompressed key).
    assert.equal(hex.slice(0, 2), '49');
    const sigHex = hex.slice(2, 2 + 73 * 2);
    assert.equal(hex.slice(2 + 73 * 2, 4 + 73 * 2), '41');
    const pubkeyHex = hex.slice(4 + 73 * 2);
    assert.ok(sigHex.startsWith('3046') && sigHex.endsWith('01') && pubkeyHex.startsWith('04f4'));
    assert.equal(disassembleScript(scriptSig, decode), `${sigHex.slice(0, -2)}[ALL] ${pubkeyHex}`);
    // Without the option the hashtype byte stays in the hex, as in Core's scriptPubKey asm.
    assert.equal(disassembleScript(scriptSig), `${sigHex} ${pubkeyHex}`);
  });

  it('block 170 (first non-coinbase tx): a lone signature push', () => {
    const scriptSig = block170.txs[1]!.inputs[0]!.scriptSig;
    // As Core's getrawtransaction f4184fc5… prints it.
    assert.equal(
      disassembleScript(scriptSig, decode),
      '304402204e45e16932b8af514961a1d3a1a25fdf3f4f7732e9d624c6c61548ab5fb8cd410220181522ec8eca07de4860a4acdd12909d831cc56cbbac4622082221a8768d1d09[ALL]',
    );
  });

  it('P2PK scriptPubKey: <65-byte key hex> OP_CHECKSIG, a key is never taken for a signature', () => {
    const script = block100000.txs[0]!.outputs[0]!.scriptPubKey;
    const hex = bytesToHex(script);
    assert.equal(script.length, 67);
    const expected = `${hex.slice(2, 2 + 130)} OP_CHECKSIG`;
    assert.equal(disassembleScript(script), expected);
    assert.equal(disassembleScript(script, decode), expected);
  });

  it('P2PKH scriptPubKey: OP_DUP OP_HASH160 <20-byte hash> OP_EQUALVERIFY OP_CHECKSIG', () => {
    const script = block100000.txs[1]!.outputs[0]!.scriptPubKey;
    const hash = bytesToHex(script).slice(6, 46);
    assert.equal(disassembleScript(script), `OP_DUP OP_HASH160 ${hash} OP_EQUALVERIFY OP_CHECKSIG`);
  });

  it('OP_RETURN witness commitment of block 482683: OP_RETURN <36-byte hex>', () => {
    const script = block482683.txs[0]!.outputs[1]!.scriptPubKey;
    const hex = bytesToHex(script);
    assert.ok(hex.startsWith('6a24aa21a9ed'));
    assert.equal(disassembleScript(script), `OP_RETURN ${hex.slice(4)}`);
    assert.equal(disassembleScript(script, decode), `OP_RETURN ${hex.slice(4)}`);
  });

  it('OP_RETURN data that is a valid signature encoding is not decoded (the script is unspendable)', () => {
    const sig = directPushes(block170.txs[1]!.inputs[0]!.scriptSig)![0]!;
    const script = Uint8Array.of(0x6a, sig.length, ...sig);
    assert.equal(disassembleScript(script, decode), `OP_RETURN ${bytesToHex(sig)}`);
    // The same push in a spendable script is decoded.
    const spendable = Uint8Array.of(0x75, sig.length, ...sig);
    assert.equal(disassembleScript(spendable, decode), `OP_DROP ${bytesToHex(sig.subarray(0, -1))}[ALL]`);
  });

  it('a script over 10,000 bytes is unspendable: its signature pushes are not decoded either', () => {
    const sig = directPushes(block170.txs[1]!.inputs[0]!.scriptSig)![0]!;
    const padded = (total: number): Uint8Array => {
      const script = new Uint8Array(total).fill(0x61); // OP_NOP padding after the push
      script.set([sig.length, ...sig], 0);
      return script;
    };
    const nops = (n: number): string => Array.from({ length: n }, () => 'OP_NOP').join(' ');
    const rest = 10_000 - 1 - sig.length;
    assert.equal(disassembleScript(padded(10_000), decode), `${bytesToHex(sig.subarray(0, -1))}[ALL] ${nops(rest)}`);
    assert.equal(disassembleScript(padded(10_001), decode), `${bytesToHex(sig)} ${nops(rest + 1)}`);
  });

  it('P2SH multisig scriptSig of block 482683 tx 10: 0 <sig>[ALL] <sig>[ALL] <redeemScript hex>', () => {
    const scriptSig = block482683.txs[10]!.inputs[1]!.scriptSig;
    assert.equal(scriptSig[0], 0x00);
    const rest = scriptSig.subarray(1);
    // The redeem script may use OP_PUSHDATA1; read the two signature pushes, then whatever push follows.
    const sig1 = rest.subarray(1, 1 + rest[0]!);
    const afterSig1 = rest.subarray(1 + sig1.length);
    const sig2 = afterSig1.subarray(1, 1 + afterSig1[0]!);
    const tail = afterSig1.subarray(1 + sig2.length);
    const redeem = tail[0] === 0x4c ? tail.subarray(2, 2 + tail[1]!) : tail.subarray(1, 1 + tail[0]!);
    assert.equal(sig1.at(-1), 0x01);
    assert.equal(sig2.at(-1), 0x01);
    assert.equal(
      disassembleScript(scriptSig, decode),
      `0 ${bytesToHex(sig1.subarray(0, -1))}[ALL] ${bytesToHex(sig2.subarray(0, -1))}[ALL] ${bytesToHex(redeem)}`,
    );
  });

  it('every <sig> <pubkey> scriptSig of blocks 100000 and 482683 prints <DER>[ALL] <pubkey>', (t) => {
    for (const [file, block] of [
      ['mainnet/block-100000.hex', block100000],
      ['mainnet/block-482683.hex', block482683],
    ] as const) {
      const tally = new VectorTally(`${file} (P2PKH scriptSigs)`);
      block.txs.forEach((tx, txIndex) => {
        if (isCoinbase(tx)) return;
        tx.inputs.forEach((input, inputIndex) => {
          const pushes = directPushes(input.scriptSig);
          if (pushes?.length !== 2 || (pushes[1]!.length !== 33 && pushes[1]!.length !== 65)) return;
          const [sig, pubkey] = pushes as [Uint8Array, Uint8Array];
          tally.check(`tx ${txIndex} input ${inputIndex}`, {
            'sighash type': [sig.at(-1), 0x01],
            asm: [disassembleScript(input.scriptSig, decode), `${bytesToHex(sig.subarray(0, -1))}[ALL] ${bytesToHex(pubkey)}`],
          });
        });
      });
      tally.report(t);
    }
  });
});

describe('disassembleScript: sighash type names and encodings (Core mapSigHashTypes, STRICTENC)', () => {
  const sig = directPushes(loadBlock('mainnet/block-000170.hex').txs[1]!.inputs[0]!.scriptSig)![0]!;
  const der = sig.subarray(0, -1);
  const withType = (type: number): Uint8Array => Uint8Array.of(sig.length, ...der, type);

  it('each defined hashtype byte gets its name', () => {
    const names: [number, string][] = [
      [0x01, 'ALL'],
      [0x02, 'NONE'],
      [0x03, 'SINGLE'],
      [0x81, 'ALL|ANYONECANPAY'],
      [0x82, 'NONE|ANYONECANPAY'],
      [0x83, 'SINGLE|ANYONECANPAY'],
    ];
    for (const [type, name] of names) {
      assert.equal(disassembleScript(withType(type), decode), `${bytesToHex(der)}[${name}]`, `type 0x${type.toString(16)}`);
    }
  });

  it('undefined hashtype bytes leave the push as plain hex', () => {
    for (const type of [0x00, 0x04, 0x41, 0x80, 0x84, 0xff]) {
      const script = withType(type);
      assert.equal(disassembleScript(script, decode), bytesToHex(script.subarray(1)), `type 0x${type.toString(16)}`);
    }
  });

  it('a push that is not strict DER stays hex even with a defined hashtype byte', () => {
    const broken = Uint8Array.from(sig);
    broken[1] = broken[1]! + 1; // DER total length no longer matches
    const script = Uint8Array.of(broken.length, ...broken);
    assert.equal(disassembleScript(script, decode), bytesToHex(broken));
    // 5..8 bytes ending in 01 are too short to be a signature.
    assert.equal(disassembleScript(Uint8Array.of(5, 0x30, 0x03, 0x02, 0x01, 0x01), decode), '3003020101');
  });
});

describe('disassembleScript: numbers, opcodes and errors', () => {
  it('pushes of up to 4 bytes are script numbers (block 100000 coinbase: bits and extra nonce)', () => {
    const coinbase = loadBlock('mainnet/block-100000.hex').txs[0]!.inputs[0]!.scriptSig;
    assert.equal(bytesToHex(coinbase), '044c86041b020602');
    // 0x1b04864c little-endian = 453281356; 0x0206 = 518.
    assert.equal(disassembleScript(coinbase), '453281356 518');
  });

  it('small-number opcodes and minimal pushes', () => {
    assert.equal(disassembleScript(hexToBytes('00')), '0');
    assert.equal(disassembleScript(hexToBytes('4f')), '-1');
    assert.equal(disassembleScript(hexToBytes('515a60')), '1 10 16');
    assert.equal(disassembleScript(hexToBytes('0181')), '-1');
    assert.equal(disassembleScript(hexToBytes('0180')), '0');
    assert.equal(disassembleScript(hexToBytes('02ff00')), '255');
    assert.equal(disassembleScript(hexToBytes('04ffffffff')), '-2147483647');
    assert.equal(disassembleScript(hexToBytes('4c0102')), '2');
    assert.equal(disassembleScript(hexToBytes('50ba')), 'OP_RESERVED OP_CHECKSIGADD');
    assert.equal(disassembleScript(hexToBytes('bbfe')), 'OP_UNKNOWN OP_UNKNOWN');
  });

  it('a truncated push prints [error] and stops', () => {
    assert.equal(disassembleScript(hexToBytes('4c')), '[error]');
    assert.equal(disassembleScript(hexToBytes('4d01')), '[error]');
    assert.equal(disassembleScript(hexToBytes('050102')), '[error]');
    assert.equal(disassembleScript(hexToBytes('76a9140102')), 'OP_DUP OP_HASH160 [error]');
    assert.equal(disassembleScript(hexToBytes('76a9140102'), decode), 'OP_DUP OP_HASH160 [error]');
  });

  it('the empty script is the empty string', () => {
    assert.equal(disassembleScript(new Uint8Array(0)), '');
    assert.equal(disassembleScript(new Uint8Array(0), decode), '');
  });
});
