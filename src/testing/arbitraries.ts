/**
 * fast-check arbitraries for the primitives (Outpoint, TxIn, TxOut, Tx, BlockHeader, Block), shared by every codec
 * and consensus property test. Values cover the full ranges of the wire fields (u32, i32, signed i64 sats) and byte
 * lengths on both sides of the 253-byte compact-size boundary. They are structurally valid encodings, not
 * consensus-valid transactions or blocks.
 */
import fc from 'fast-check';
import { decodeBlockHash, decodeTxid } from '../primitives/identity.js';
import { NULL_OUTPOINT } from '../primitives/outpoint.js';
import type { Block, BlockHash, BlockHeader, Hash256, Outpoint, Sats, Tx, TxIn, TxOut, Txid } from '../primitives/types.js';

/**
 * fc.record producing ordinary objects: fast-check v4 may give records a null prototype, which
 * assert.deepStrictEqual would tell apart from the plain objects the decoders return.
 */
function plainRecord<T extends object>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true }) as fc.Arbitrary<T>;
}

/** Any u32 (version of a tx, sequence, locktime, index, time, bits, nonce). */
export const arbU32: fc.Arbitrary<number> = fc.integer({ min: 0, max: 0xffffffff });

/** Any i32 (block header version). */
export const arbI32: fc.Arbitrary<number> = fc.integer({ min: -0x80000000, max: 0x7fffffff });

/** Any signed 64-bit amount, as an output value may hold on the wire (valid txs keep 0..21e14). */
export const arbSats: fc.Arbitrary<Sats> = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });

/** A 32-byte hash (internal byte order). */
export const arbHash256: fc.Arbitrary<Hash256> = fc.uint8Array({ minLength: 32, maxLength: 32 });

/** A random txid (internal byte order). */
export const arbTxid: fc.Arbitrary<Txid> = arbHash256.map(decodeTxid);

/** A random block hash (internal byte order). */
export const arbBlockHash: fc.Arbitrary<BlockHash> = arbHash256.map(decodeBlockHash);

/**
 * Variable-length bytes, mostly short, sometimes 250..300 bytes so that both 1-byte and 3-byte (0xfd) compact-size
 * lengths are exercised.
 */
export function arbVarBytes(maxShort = 40): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 5, arbitrary: fc.uint8Array({ minLength: 0, maxLength: maxShort }) },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 250, maxLength: 300 }) },
  );
}

/** An outpoint: random txid and index, sometimes the coinbase's null outpoint. */
export const arbOutpoint: fc.Arbitrary<Outpoint> = fc.oneof(
  { weight: 9, arbitrary: plainRecord({ txid: arbTxid, index: arbU32 }) },
  { weight: 1, arbitrary: fc.constant(NULL_OUTPOINT).map((o) => ({ txid: decodeTxid(o.txid), index: o.index })) },
);

/** A witness stack of 1..maxItems items (never empty; empty stacks come from arbTxIn's witness choice). */
export function arbWitnessStack(maxItems = 4): fc.Arbitrary<Uint8Array[]> {
  return fc.array(arbVarBytes(80), { minLength: 1, maxLength: maxItems });
}

/** An input without witness (witness = []). */
export const arbTxInNoWitness: fc.Arbitrary<TxIn> = plainRecord({
  prevout: arbOutpoint,
  scriptSig: arbVarBytes(),
  sequence: arbU32,
  witness: fc.constant<Uint8Array[]>([]).map(() => []),
});

/** An input whose witness stack may be empty or not. */
export const arbTxIn: fc.Arbitrary<TxIn> = plainRecord({
  prevout: arbOutpoint,
  scriptSig: arbVarBytes(),
  sequence: arbU32,
  witness: fc.oneof(fc.constant<Uint8Array[]>([]).map(() => []), arbWitnessStack()),
});

/** An output with any signed 64-bit value and a script of any length. */
export const arbTxOut: fc.Arbitrary<TxOut> = plainRecord({ value: arbSats, scriptPubKey: arbVarBytes() });

/** Options of arbTx. */
export interface ArbTxOptions {
  /**
   * Witness data: 'none' = every witness stack empty (legacy format); 'some' = at least one input has a
   * non-empty witness (BIP-144 format); 'any' = either (default).
   */
  readonly witness?: 'none' | 'some' | 'any';
  /**
   * Fewest inputs (default 1). Keep it >= 1 for round-trip properties: a legacy tx with no inputs writes an empty vin
   * that the segwit-aware decoder reads as the marker, so its output count is taken as the flags byte (Core's
   * UnserializeTransaction cannot round-trip it either). A 0-input tx cannot carry witness data, so 'some' forces >= 1.
   */
  readonly minInputs?: number;
  readonly maxInputs?: number;
  readonly minOutputs?: number;
  readonly maxOutputs?: number;
}

/** A transaction (see ArbTxOptions for the witness choice and why inputs default to >= 1). */
export function arbTx(options: ArbTxOptions = {}): fc.Arbitrary<Tx> {
  const witness = options.witness ?? 'any';
  const minInputs = witness === 'some' ? Math.max(1, options.minInputs ?? 1) : (options.minInputs ?? 1);
  const maxInputs = Math.max(minInputs, options.maxInputs ?? 4);
  const inputArb = witness === 'none' ? arbTxInNoWitness : arbTxIn;
  let inputs: fc.Arbitrary<TxIn[]> = fc.array(inputArb, { minLength: minInputs, maxLength: maxInputs });
  if (witness === 'some') {
    inputs = fc
      .tuple(inputs, fc.nat(), arbWitnessStack())
      .map(([ins, k, stack]) => ins.map((input, i) => (i === k % ins.length ? { ...input, witness: stack } : input)));
  }
  return plainRecord({
    version: arbU32,
    inputs,
    outputs: fc.array(arbTxOut, { minLength: options.minOutputs ?? 0, maxLength: options.maxOutputs ?? 4 }),
    locktime: arbU32,
  });
}

/** A block header with every field over its full range. */
export const arbBlockHeader: fc.Arbitrary<BlockHeader> = plainRecord({
  version: arbI32,
  prevBlock: arbBlockHash,
  merkleRoot: arbHash256,
  time: arbU32,
  bits: arbU32,
  nonce: arbU32,
});

/** Options of arbBlock. */
export interface ArbBlockOptions {
  readonly minTxs?: number;
  readonly maxTxs?: number;
  /** Options for each tx (default: witness 'any', >= 1 input so the block round-trips). */
  readonly tx?: ArbTxOptions;
}

/** A block: a random header and 0..maxTxs (default 5) transactions; the header's merkleRoot is NOT the txs' root. */
export function arbBlock(options: ArbBlockOptions = {}): fc.Arbitrary<Block> {
  return plainRecord({
    header: arbBlockHeader,
    txs: fc.array(arbTx(options.tx), { minLength: options.minTxs ?? 0, maxLength: options.maxTxs ?? 5 }),
  });
}
