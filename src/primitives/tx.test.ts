import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeBlock } from './block.js';
import { DecodeError } from './decodeError.js';
import { hexToBytes } from './hex.js';
import { decodeTxid } from './identity.js';
import { decodeOutpoint, encodeOutpoint, formatOutpoint, isNullOutpoint, NULL_OUTPOINT } from './outpoint.js';
import { decodeTx, encodeTx, isCoinbase } from './tx.js';
import type { Tx } from './types.js';

// Hand-assembled from the BIP-144 / Core serialization rules, field by field.
const VERSION1 = '01000000';
const PREVOUT = '11'.repeat(32) + '00000000';
const LOCKTIME0 = '00000000';
/** One input (empty scriptSig, sequence ffffffff), one output (0 sats, empty script). */
const LEGACY_TX = VERSION1 + '01' + PREVOUT + '00' + 'ffffffff' + '01' + '0000000000000000' + '00' + LOCKTIME0;
/** Segwit: marker 00, flag 01, one input, one P2WPKH-shaped output, witness [aa, bb]. */
const SEGWIT_TX =
  '02000000' + '0001' + '01' + PREVOUT + '00' + 'fdffffff' + '01' + 'e803000000000000' + '16' + '0014' + '33'.repeat(20) +
  '02' + '01aa' + '01bb' + LOCKTIME0;

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof DecodeError, `expected DecodeError, got ${String(e)}`);
    return e.code;
  }
  assert.fail('decoding succeeded');
}

describe('decodeTx on hand-assembled bytes', () => {
  it('decodes the legacy and segwit samples and re-encodes them byte for byte', () => {
    for (const hex of [LEGACY_TX, SEGWIT_TX]) {
      const bytes = hexToBytes(hex);
      assert.deepEqual(encodeTx(decodeTx(bytes)), bytes);
    }
    const segwit = decodeTx(hexToBytes(SEGWIT_TX));
    assert.equal(segwit.version, 2);
    assert.equal(segwit.inputs[0]!.sequence, 0xfffffffd);
    assert.equal(segwit.outputs[0]!.value, 1000n);
    assert.deepEqual(segwit.inputs[0]!.witness, [Uint8Array.of(0xaa), Uint8Array.of(0xbb)]);
  });

  it('refuses non-canonical compact sizes', () => {
    // vin count 1 written as 0xfd 0x0100
    assert.equal(reasonOf(() => decodeTx(hexToBytes(VERSION1 + 'fd0100' + LEGACY_TX.slice(10)))), 'non-canonical-compact-size');
    // scriptSig length 0 written as 0xfd 0x0000, then 0xfe and 0xff forms of small values
    const withScriptLen = (len: string) => VERSION1 + '01' + PREVOUT + len + 'ffffffff' + '00' + LOCKTIME0;
    for (const len of ['fd0000', 'fdfc00', 'fe00000000', 'feffff0000', 'ff0000000000000000', 'ffffffffff00000000']) {
      assert.equal(reasonOf(() => decodeTx(hexToBytes(withScriptLen(len)))), 'non-canonical-compact-size', len);
    }
  });

  it('refuses compact sizes above MAX_SIZE (32 MiB)', () => {
    const withScriptLen = (len: string) => VERSION1 + '01' + PREVOUT + len + 'ffffffff' + '00' + LOCKTIME0;
    for (const len of ['fe01000002', 'ff0000000001000000']) {
      assert.equal(reasonOf(() => decodeTx(hexToBytes(withScriptLen(len)))), 'size-too-large', len);
    }
  });

  it('refuses a witness flag with only empty witness stacks (superfluous-witness)', () => {
    const hex = VERSION1 + '0001' + '01' + PREVOUT + '00' + 'ffffffff' + '00' + '00' + LOCKTIME0;
    assert.equal(reasonOf(() => decodeTx(hexToBytes(hex))), 'superfluous-witness');
  });

  it('refuses unknown segwit flag bits, with or without the witness bit', () => {
    const body = '01' + PREVOUT + '00' + 'ffffffff' + '00';
    assert.equal(reasonOf(() => decodeTx(hexToBytes(VERSION1 + '0002' + body + LOCKTIME0))), 'unknown-segwit-flag');
    assert.equal(reasonOf(() => decodeTx(hexToBytes(VERSION1 + '0003' + body + '0101aa' + LOCKTIME0))), 'unknown-segwit-flag');
  });

  it('reports every strict prefix as unexpected-end and any extra byte as trailing-bytes', () => {
    for (const hex of [LEGACY_TX, SEGWIT_TX]) {
      const bytes = hexToBytes(hex);
      for (let n = 0; n < bytes.length; n++) {
        assert.equal(reasonOf(() => decodeTx(bytes.subarray(0, n))), 'unexpected-end', `prefix ${n}`);
      }
      assert.equal(reasonOf(() => decodeTx(Uint8Array.from([...bytes, 0]))), 'trailing-bytes');
    }
  });

  it('refuses a hostile input count without allocating for it', () => {
    // vin count 0x01000000 (canonical 0xfe form) followed by a few bytes only
    assert.equal(reasonOf(() => decodeTx(hexToBytes(VERSION1 + 'fe00000001' + '00'.repeat(50)))), 'unexpected-end');
  });

  it('round-trips a tx with no inputs and no outputs (flags byte 0), as Core does', () => {
    const bytes = hexToBytes(VERSION1 + '00' + '00' + LOCKTIME0);
    const tx = decodeTx(bytes);
    assert.equal(tx.inputs.length, 0);
    assert.equal(tx.outputs.length, 0);
    assert.deepEqual(encodeTx(tx), bytes);
  });

  it('cannot round-trip a legacy tx with no inputs but some outputs (the ambiguity of BIP-144 parsing)', () => {
    const tx: Tx = { version: 1, inputs: [], outputs: [{ value: 0n, scriptPubKey: new Uint8Array(0) }], locktime: 0 };
    // The output count 01 is read as the witness flag; the value's zero bytes then read as empty vin and vout,
    // and a witness flag with no witness data is refused.
    assert.equal(reasonOf(() => decodeTx(encodeTx(tx))), 'superfluous-witness');
  });

  it('copies byte fields out of the input buffer', () => {
    const bytes = hexToBytes(SEGWIT_TX);
    const tx = decodeTx(bytes);
    bytes.fill(0);
    assert.equal(tx.inputs[0]!.prevout.txid[0], 0x11);
    assert.equal(tx.inputs[0]!.witness[0]![0], 0xaa);
    assert.equal(tx.outputs[0]!.scriptPubKey[2], 0x33);
  });
});

describe('decodeBlock errors', () => {
  it('truncated header, non-canonical tx count, trailing bytes', () => {
    const header = '00'.repeat(80);
    assert.equal(reasonOf(() => decodeBlock(hexToBytes('00'.repeat(79)))), 'unexpected-end');
    assert.equal(reasonOf(() => decodeBlock(hexToBytes(header + 'fd0100' + LEGACY_TX))), 'non-canonical-compact-size');
    assert.equal(reasonOf(() => decodeBlock(hexToBytes(header + '01' + LEGACY_TX + '00'))), 'trailing-bytes');
    assert.equal(decodeBlock(hexToBytes(header + '01' + LEGACY_TX)).txs.length, 1);
  });
});

describe('outpoint', () => {
  it('null outpoint, display form, codec errors', () => {
    assert.ok(isNullOutpoint(NULL_OUTPOINT));
    assert.ok(!isNullOutpoint({ txid: decodeTxid(new Uint8Array(32)), index: 0 }));
    assert.ok(!isNullOutpoint({ txid: decodeTxid(Uint8Array.from({ length: 32 }, (_, i) => (i === 31 ? 1 : 0))), index: 0xffffffff }));
    assert.equal(encodeOutpoint(NULL_OUTPOINT).length, 36);
    // Display order is reversed: the last internal byte comes first.
    const txid = decodeTxid(Uint8Array.from({ length: 32 }, (_, i) => i));
    assert.equal(formatOutpoint({ txid, index: 7 }), `1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100:7`);
    assert.equal(reasonOf(() => decodeOutpoint(new Uint8Array(35))), 'unexpected-end');
    assert.equal(reasonOf(() => decodeOutpoint(new Uint8Array(37))), 'trailing-bytes');
  });
});

describe('isCoinbase (exactly one input, with the null prevout)', () => {
  const input = (prevout = NULL_OUTPOINT) => ({ prevout, scriptSig: new Uint8Array(0), sequence: 0, witness: [] });
  const tx = (inputs: Tx['inputs']): Tx => ({ version: 1, inputs, outputs: [], locktime: 0 });
  it('classifies', () => {
    assert.ok(isCoinbase(tx([input()])));
    assert.ok(!isCoinbase(tx([])));
    assert.ok(!isCoinbase(tx([input(), input()])));
    assert.ok(!isCoinbase(tx([input({ txid: decodeTxid(new Uint8Array(32)), index: 0 })])));
  });
});
