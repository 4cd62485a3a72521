import { sha256d } from '../crypto/hash.js';
import { BufferReader } from './bufferReader.js';
import { BufferWriter, compactSizeLength } from './bufferWriter.js';
import { DecodeError } from './decodeError.js';
import { isNullOutpoint, OUTPOINT_SIZE, readOutpoint, writeOutpoint } from './outpoint.js';
import type { Tx, TxIn, TxOut, Txid, Wtxid } from './types.js';

/** Smallest possible serialized input: outpoint, empty scriptSig (1-byte length), sequence. Used to bound hostile counts. */
const MIN_TXIN_SIZE = OUTPOINT_SIZE + 1 + 4;
/** Smallest possible serialized output: value and an empty scriptPubKey (1-byte length). */
const MIN_TXOUT_SIZE = 8 + 1;
/** Smallest possible serialized witness item: its 1-byte length. */
const MIN_WITNESS_ITEM_SIZE = 1;
/**
 * Smallest possible serialized transaction: version, empty vin, one more byte (flags 0 or an empty vout), locktime.
 * Block decoding bounds its tx count with it.
 */
export const MIN_TX_SIZE = 4 + 1 + 1 + 4;

/** BIP-144 flag bit announcing witness data. */
const WITNESS_FLAG = 1;

/**
 * Serialized size of one input without its witness: outpoint, scriptSig with its compact-size length, sequence.
 */
export function getTxInSize(input: TxIn): number {
  return OUTPOINT_SIZE + compactSizeLength(input.scriptSig.length) + input.scriptSig.length + 4;
}

/** Serialized size of one output: 8-byte value, scriptPubKey with its compact-size length. */
export function getTxOutSize(output: TxOut): number {
  return 8 + compactSizeLength(output.scriptPubKey.length) + output.scriptPubKey.length;
}

/** Serialized size of one input's witness stack: item count, then each item with its compact-size length. */
export function getWitnessSize(witness: readonly Uint8Array[]): number {
  let size = compactSizeLength(witness.length);
  for (const item of witness) size += compactSizeLength(item.length) + item.length;
  return size;
}

/** Writes an input without its witness: prevout, scriptSig (var bytes), sequence (u32 LE). @see Bitcoin Core CTxIn::SERIALIZE_METHODS */
export function writeTxIn(w: BufferWriter, input: TxIn): void {
  writeOutpoint(w, input.prevout);
  w.writeVarBytes(input.scriptSig).writeU32LE(input.sequence);
}

/**
 * Reads an input without its witness (`witness` is set to an empty stack; readTx fills it in).
 * @throws DecodeError unexpected-end | non-canonical-compact-size | size-too-large
 */
export function readTxIn(r: BufferReader): TxIn {
  const prevout = readOutpoint(r);
  const scriptSig = r.readVarBytes().slice();
  const sequence = r.readU32LE();
  return { prevout, scriptSig, sequence, witness: [] };
}

/** Writes an output: value (i64 LE sats) and scriptPubKey (var bytes). @see Bitcoin Core CTxOut::SERIALIZE_METHODS */
export function writeTxOut(w: BufferWriter, output: TxOut): void {
  w.writeI64LE(output.value).writeVarBytes(output.scriptPubKey);
}

/**
 * Reads an output; the scriptPubKey is copied out of the input.
 * @throws DecodeError unexpected-end | non-canonical-compact-size | size-too-large
 */
export function readTxOut(r: BufferReader): TxOut {
  const value = r.readI64LE();
  const scriptPubKey = r.readVarBytes().slice();
  return { value, scriptPubKey };
}

/** Serializes one output (as hashed by BIP-143 hashOutputs and stored with coins). */
export function encodeTxOut(output: TxOut): Uint8Array {
  const w = new BufferWriter(getTxOutSize(output));
  writeTxOut(w, output);
  return w.finish();
}

/**
 * Parses exactly one serialized output.
 * @throws DecodeError unexpected-end | non-canonical-compact-size | size-too-large | trailing-bytes
 */
export function decodeTxOut(bytes: Uint8Array): TxOut {
  const r = new BufferReader(bytes);
  const out = readTxOut(r);
  r.assertEnd();
  return out;
}

/**
 * True when some input carries a non-empty witness stack (a stack holding one empty item counts), so the tx is
 * serialized with the BIP-144 marker and flag and its wtxid differs from its txid.
 * @see Bitcoin Core CTransaction::HasWitness
 */
export function hasWitness(tx: Tx): boolean {
  for (const input of tx.inputs) if (input.witness.length > 0) return true;
  return false;
}

/**
 * Writes a transaction. With `withWitness` and witness data present it uses the BIP-144 extended format:
 * version, marker 0x00, flag 0x01, vin, vout, one witness stack per input, locktime; otherwise the legacy format.
 * @see Bitcoin Core primitives/transaction.h SerializeTransaction
 */
export function writeTx(w: BufferWriter, tx: Tx, withWitness = true): void {
  const extended = withWitness && hasWitness(tx);
  w.writeU32LE(tx.version);
  if (extended) w.writeU8(0).writeU8(WITNESS_FLAG);
  w.writeCompactSize(tx.inputs.length);
  for (const input of tx.inputs) writeTxIn(w, input);
  w.writeCompactSize(tx.outputs.length);
  for (const output of tx.outputs) writeTxOut(w, output);
  if (extended) {
    for (const input of tx.inputs) {
      w.writeCompactSize(input.witness.length);
      for (const item of input.witness) w.writeVarBytes(item);
    }
  }
  w.writeU32LE(tx.locktime);
}

function readInputs(r: BufferReader): TxIn[] {
  const n = r.readCount(MIN_TXIN_SIZE);
  const inputs: TxIn[] = [];
  for (let i = 0; i < n; i++) inputs.push(readTxIn(r));
  return inputs;
}

function readOutputs(r: BufferReader): TxOut[] {
  const n = r.readCount(MIN_TXOUT_SIZE);
  const outputs: TxOut[] = [];
  for (let i = 0; i < n; i++) outputs.push(readTxOut(r));
  return outputs;
}

function readWitness(r: BufferReader): Uint8Array[] {
  const n = r.readCount(MIN_WITNESS_ITEM_SIZE);
  const stack: Uint8Array[] = [];
  for (let i = 0; i < n; i++) stack.push(r.readVarBytes().slice());
  return stack;
}

/**
 * Reads one transaction, accepting both the legacy and the BIP-144 extended format, step for step as Core:
 * an empty vin is read as the marker, then the flags byte; flags 0 means an empty vin with no vout follows.
 * Byte fields are copied out of the input. Element counts are checked against the bytes left before any array grows.
 * Note: a legacy tx with no inputs but some outputs is inherently ambiguous and does not round-trip (as in Core).
 * @throws DecodeError unexpected-end | non-canonical-compact-size | size-too-large | superfluous-witness | unknown-segwit-flag
 * @see Bitcoin Core primitives/transaction.h UnserializeTransaction
 */
export function readTx(r: BufferReader): Tx {
  const version = r.readU32LE();
  let flags = 0;
  let flagsOffset = 0;
  let inputs = readInputs(r);
  let outputs: TxOut[] = [];
  if (inputs.length === 0) {
    flagsOffset = r.offset;
    flags = r.readU8();
    if (flags !== 0) {
      inputs = readInputs(r);
      outputs = readOutputs(r);
    }
  } else {
    outputs = readOutputs(r);
  }
  if (flags & WITNESS_FLAG) {
    const witnessOffset = r.offset;
    flags ^= WITNESS_FLAG;
    const withWitness: TxIn[] = [];
    let any = false;
    for (const input of inputs) {
      const witness = readWitness(r);
      if (witness.length > 0) any = true;
      withWitness.push({ ...input, witness });
    }
    if (!any) throw new DecodeError('superfluous-witness', witnessOffset, 'witness flag set but every witness stack is empty');
    inputs = withWitness;
  }
  // Same order as Core: vin, vout and witnesses are read before unknown flag bits are rejected.
  if (flags !== 0) throw new DecodeError('unknown-segwit-flag', flagsOffset, `flags 0x${flags.toString(16)}`);
  const locktime = r.readU32LE();
  return { version, inputs, outputs, locktime };
}

/**
 * Serializes a transaction; `withWitness = false` gives the legacy serialization that the txid hashes.
 * @see Bitcoin Core SerializeTransaction (TX_WITH_WITNESS / TX_NO_WITNESS)
 */
export function encodeTx(tx: Tx, withWitness = true): Uint8Array {
  const w = new BufferWriter(getTxSize(tx, withWitness));
  writeTx(w, tx, withWitness);
  return w.finish();
}

/**
 * Parses exactly one serialized transaction (legacy or BIP-144), consuming every byte.
 * @throws DecodeError unexpected-end | non-canonical-compact-size | size-too-large | superfluous-witness | unknown-segwit-flag | trailing-bytes
 * @see Bitcoin Core UnserializeTransaction
 */
export function decodeTx(bytes: Uint8Array): Tx {
  const r = new BufferReader(bytes);
  const tx = readTx(r);
  r.assertEnd();
  return tx;
}

/**
 * Exact serialized size in bytes, computed without encoding. With `withWitness` it is the BIP-144 size when the tx
 * has witness data (Core's "total size"); otherwise the legacy size.
 * @see Bitcoin Core ::GetSerializeSize(TX_WITH_WITNESS(tx))
 */
export function getTxSize(tx: Tx, withWitness = true): number {
  let size = 4 + compactSizeLength(tx.inputs.length) + compactSizeLength(tx.outputs.length) + 4;
  for (const input of tx.inputs) size += getTxInSize(input);
  for (const output of tx.outputs) size += getTxOutSize(output);
  if (withWitness && hasWitness(tx)) {
    size += 2; // marker and flag
    for (const input of tx.inputs) size += getWitnessSize(input.witness);
  }
  return size;
}

/** Serialized size without witness data (BIP-141 "base size"), in bytes. @see Bitcoin Core TX_NO_WITNESS */
export function getTxBaseSize(tx: Tx): number {
  return getTxSize(tx, false);
}

/**
 * BIP-141 weight in weight units: base size * 3 + total size.
 * @see BIP-141 "Transaction size calculations"; Bitcoin Core GetTransactionWeight
 */
export function getTxWeight(tx: Tx): number {
  return getTxBaseSize(tx) * 3 + getTxSize(tx, true);
}

/**
 * Virtual size in vbytes: weight / 4 rounded up (without Core's sigop adjustment).
 * @see BIP-141 "virtual transaction size"
 */
export function getTxVsize(tx: Tx): number {
  return Math.ceil(getTxWeight(tx) / 4);
}

/**
 * The txid: sha256d of the legacy (witness-free) serialization, in internal byte order.
 * @see Bitcoin Core CTransaction::ComputeHash
 */
export function computeTxid(tx: Tx): Txid {
  return sha256d(encodeTx(tx, false)) as Txid;
}

/**
 * The wtxid: sha256d of the BIP-144 serialization; equal to the txid when the tx has no witness data.
 * @see BIP-141 "Transaction ID"; Bitcoin Core CTransaction::ComputeWitnessHash
 */
export function computeWtxid(tx: Tx): Wtxid {
  return sha256d(encodeTx(tx, true)) as Wtxid;
}

/**
 * True for a coinbase: exactly one input, whose prevout is null.
 * @see Bitcoin Core CTransaction::IsCoinBase
 */
export function isCoinbase(tx: Tx): boolean {
  return tx.inputs.length === 1 && tx.inputs[0] !== undefined && isNullOutpoint(tx.inputs[0].prevout);
}
