import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  arbBlock,
  arbBlockHeader,
  arbOutpoint,
  arbTx,
  arbTxOut,
} from '../testing/arbitraries.js';
import { decodeBlock, encodeBlock, getBlockSize, getBlockWeight } from './block.js';
import { BLOCK_HEADER_SIZE, decodeBlockHeader, encodeBlockHeader } from './blockHeader.js';
import { DecodeError } from './decodeError.js';
import { bytesEqual } from './hex.js';
import { decodeOutpoint, encodeOutpoint, OUTPOINT_SIZE } from './outpoint.js';
import {
  computeTxid,
  computeWtxid,
  decodeTx,
  decodeTxOut,
  encodeTx,
  encodeTxOut,
  getTxBaseSize,
  getTxOutSize,
  getTxSize,
  getTxVsize,
  getTxWeight,
  hasWitness,
} from './tx.js';
import type { Tx } from './types.js';

const stripWitness = (tx: Tx): Tx => ({ ...tx, inputs: tx.inputs.map((i) => ({ ...i, witness: [] })) });

describe('codec round-trips: decode(encode(x)) deep-equals x and getSize(x) === encode(x).length', () => {
  it('Outpoint', () => {
    fc.assert(
      fc.property(arbOutpoint, (o) => {
        const bytes = encodeOutpoint(o);
        assert.equal(bytes.length, OUTPOINT_SIZE);
        assert.deepEqual(decodeOutpoint(bytes), o);
      }),
    );
  });

  it('TxOut', () => {
    fc.assert(
      fc.property(arbTxOut, (out) => {
        const bytes = encodeTxOut(out);
        assert.equal(getTxOutSize(out), bytes.length);
        assert.deepEqual(decodeTxOut(bytes), out);
      }),
    );
  });

  it('Tx (TxIn and TxOut inside), with and without witness data', () => {
    fc.assert(
      fc.property(arbTx(), (tx) => {
        const bytes = encodeTx(tx);
        assert.equal(getTxSize(tx), bytes.length);
        assert.deepEqual(decodeTx(bytes), tx);
      }),
      { numRuns: 300 },
    );
  });

  it('Tx with witness data uses the BIP-144 marker and flag, wtxid differs from txid', () => {
    fc.assert(
      fc.property(arbTx({ witness: 'some' }), (tx) => {
        assert.ok(hasWitness(tx));
        const bytes = encodeTx(tx);
        assert.equal(bytes[4], 0x00);
        assert.equal(bytes[5], 0x01);
        assert.deepEqual(decodeTx(bytes), tx);
        assert.ok(!bytesEqual(computeTxid(tx), computeWtxid(tx)));
      }),
    );
  });

  it('Tx without witness data: one serialization, wtxid === txid', () => {
    fc.assert(
      fc.property(arbTx({ witness: 'none' }), (tx) => {
        assert.ok(!hasWitness(tx));
        assert.deepEqual(encodeTx(tx, true), encodeTx(tx, false));
        assert.deepEqual(computeWtxid(tx), computeTxid(tx));
        assert.equal(getTxWeight(tx), 4 * getTxSize(tx));
      }),
    );
  });

  it('Tx legacy serialization strips the witness; base size, weight and vsize follow BIP-141', () => {
    fc.assert(
      fc.property(arbTx(), (tx) => {
        const legacy = encodeTx(tx, false);
        assert.equal(getTxSize(tx, false), legacy.length);
        assert.equal(getTxBaseSize(tx), legacy.length);
        assert.deepEqual(decodeTx(legacy), stripWitness(tx));
        const total = encodeTx(tx, true).length;
        assert.equal(getTxWeight(tx), legacy.length * 3 + total);
        assert.equal(getTxVsize(tx), Math.ceil((legacy.length * 3 + total) / 4));
      }),
    );
  });

  it('BlockHeader', () => {
    fc.assert(
      fc.property(arbBlockHeader, (h) => {
        const bytes = encodeBlockHeader(h);
        assert.equal(bytes.length, BLOCK_HEADER_SIZE);
        assert.deepEqual(decodeBlockHeader(bytes), h);
      }),
    );
  });

  it('Block', () => {
    fc.assert(
      fc.property(arbBlock(), (block) => {
        const bytes = encodeBlock(block);
        assert.equal(getBlockSize(block), bytes.length);
        assert.deepEqual(decodeBlock(bytes), block);
        const base = encodeBlock(block, false);
        assert.equal(getBlockSize(block, false), base.length);
        assert.equal(getBlockWeight(block), base.length * 3 + bytes.length);
      }),
      { numRuns: 100 },
    );
  });
});

type Decoder = (bytes: Uint8Array) => unknown;
type Encoder = (value: unknown) => Uint8Array;

const decoders: Record<string, { decode: Decoder; encode: Encoder }> = {
  decodeOutpoint: { decode: decodeOutpoint, encode: encodeOutpoint as Encoder },
  decodeTxOut: { decode: decodeTxOut, encode: encodeTxOut as Encoder },
  decodeTx: { decode: decodeTx, encode: encodeTx as Encoder },
  decodeBlockHeader: { decode: decodeBlockHeader, encode: encodeBlockHeader as Encoder },
  decodeBlock: { decode: decodeBlock, encode: encodeBlock as Encoder },
};

/**
 * Feeds bytes to a decoder: it must either throw a DecodeError or return a value whose encoding is exactly the
 * input (Bitcoin's serialization is canonical once non-minimal compact sizes are refused).
 */
function decodeOrDecodeError(name: string, bytes: Uint8Array): void {
  const { decode, encode } = decoders[name]!;
  let value: unknown;
  try {
    value = decode(bytes);
  } catch (e) {
    if (!(e instanceof DecodeError)) assert.fail(`${name} threw ${String(e)} (not a DecodeError)`);
    return;
  }
  assert.deepEqual(encode(value), bytes, `${name} accepted bytes that do not re-encode identically`);
}

/** Truncates, flips bytes in, or appends to a valid encoding. */
function arbMutation(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    valid.chain((b) => fc.nat({ max: Math.max(0, b.length - 1) }).map((n) => b.slice(0, n))),
    valid.chain((b) =>
      fc
        .array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 })
        .map((flips) => {
          const out = b.slice();
          if (out.length > 0) for (const [pos, x] of flips) out[pos % out.length]! ^= x;
          return out;
        }),
    ),
    valid.chain((b) => fc.uint8Array({ minLength: 1, maxLength: 8 }).map((extra) => Uint8Array.from([...b, ...extra]))),
  );
}

describe('decoders on hostile bytes throw only DecodeError', () => {
  const randomBytes = fc.uint8Array({ minLength: 0, maxLength: 4096 });
  for (const name of Object.keys(decoders)) {
    it(`${name}: random bytes`, () => {
      fc.assert(fc.property(randomBytes, (b) => decodeOrDecodeError(name, b)), { numRuns: 300 });
    });
  }

  // Random bytes rarely get past the first count; a valid prefix steers them deeper into the decoders.
  it('decodeTx and decodeBlock: valid prefix followed by random bytes', () => {
    const prefixed = (valid: fc.Arbitrary<Uint8Array>) =>
      fc
        .tuple(valid, fc.nat(), fc.uint8Array({ maxLength: 64 }))
        .map(([b, n, tail]) => Uint8Array.from([...b.subarray(0, n % (b.length + 1)), ...tail]));
    fc.assert(fc.property(prefixed(arbTx().map((t) => encodeTx(t))), (b) => decodeOrDecodeError('decodeTx', b)), {
      numRuns: 500,
    });
    fc.assert(
      fc.property(prefixed(arbBlock({ maxTxs: 3 }).map((x) => encodeBlock(x))), (b) => decodeOrDecodeError('decodeBlock', b)),
      { numRuns: 300 },
    );
  });

  it('mutated encodings (truncated, flipped, extended) of Outpoint, TxOut, Tx, BlockHeader, Block', () => {
    const cases: [string, fc.Arbitrary<Uint8Array>][] = [
      ['decodeOutpoint', arbOutpoint.map(encodeOutpoint)],
      ['decodeTxOut', arbTxOut.map(encodeTxOut)],
      ['decodeTx', arbTx().map((t) => encodeTx(t))],
      ['decodeTx', arbTx({ witness: 'some' }).map((t) => encodeTx(t))],
      ['decodeBlockHeader', arbBlockHeader.map(encodeBlockHeader)],
      ['decodeBlock', arbBlock({ maxTxs: 3 }).map((x) => encodeBlock(x))],
    ];
    for (const [name, valid] of cases) {
      fc.assert(fc.property(arbMutation(valid), (b) => decodeOrDecodeError(name, b)), { numRuns: 300 });
    }
  });

  it('hostile counts are refused before allocation', () => {
    // version, then vin count 0x02000000 (MAX_SIZE, canonical 0xfe form) with nothing behind it
    const hostile = Uint8Array.from([1, 0, 0, 0, 0xfe, 0, 0, 0, 2]);
    assert.throws(() => decodeTx(hostile), (e: unknown) => e instanceof DecodeError && e.code === 'unexpected-end');
  });
});
