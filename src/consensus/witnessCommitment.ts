import { sha256d } from '../crypto/hash.js';
import { bytesEqual } from '../primitives/hex.js';
import { hasWitness } from '../primitives/tx.js';
import type { Block, Hash256, Tx, TxOut } from '../primitives/types.js';
import { computeMerkleRoot, computeWitnessMerkleRoot } from './merkle.js';

/**
 * The 6 bytes that start a witness commitment output script: OP_RETURN, push 36, then the tag 0xaa21a9ed.
 * @see BIP-141 "Commitment structure"
 */
export const WITNESS_COMMITMENT_HEADER: Uint8Array = Uint8Array.of(0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed);

/** Smallest scriptPubKey that can hold a commitment: header + 32-byte hash. @see Bitcoin Core MINIMUM_WITNESS_COMMITMENT */
const MINIMUM_WITNESS_COMMITMENT = 38;

/**
 * Index of the coinbase output that holds the witness commitment, or -1: the LAST output whose scriptPubKey is at
 * least 38 bytes and starts with WITNESS_COMMITMENT_HEADER (extra bytes after the 32-byte commitment are allowed).
 * @see Bitcoin Core consensus/validation.h GetWitnessCommitmentIndex
 */
export function findWitnessCommitmentIndex(coinbase: Tx): number {
  let found = -1;
  coinbase.outputs.forEach((output, i) => {
    const s = output.scriptPubKey;
    if (s.length >= MINIMUM_WITNESS_COMMITMENT && bytesEqual(s.subarray(0, 6), WITNESS_COMMITMENT_HEADER)) found = i;
  });
  return found;
}

/**
 * The BIP-141 commitment: sha256d(witnessMerkleRoot || witnessReservedValue), both 32 bytes, internal byte order.
 * @see BIP-141 "Commitment structure"; Bitcoin Core CheckWitnessMalleation
 */
export function computeWitnessCommitment(witnessMerkleRoot: Hash256, witnessReservedValue: Uint8Array): Hash256 {
  const buf = new Uint8Array(witnessMerkleRoot.length + witnessReservedValue.length);
  buf.set(witnessMerkleRoot, 0);
  buf.set(witnessReservedValue, witnessMerkleRoot.length);
  return sha256d(buf);
}

/** Core's reject reasons for a block whose witness data is not (correctly) committed to. */
export type WitnessCommitmentError = 'bad-witness-nonce-size' | 'bad-witness-merkle-match' | 'unexpected-witness';

/**
 * Checks the block's witness data against its coinbase commitment and says why it fails, with Core's reason:
 * with a commitment, the coinbase's first input must have a witness of exactly one 32-byte item (the reserved value,
 * else bad-witness-nonce-size) and the commitment must match (else bad-witness-merkle-match); without one, no tx
 * may have witness data (else unexpected-witness). Returns null when the block passes. `wtxids` (of block.txs, in
 * order) saves hashing them again when the caller has them.
 * Assumes segwit is active (cairn networks have it from genesis). Does not check the tx merkle root.
 * @see Bitcoin Core validation.cpp CheckWitnessMalleation
 */
export function getWitnessCommitmentError(block: Block, wtxids?: readonly Hash256[]): WitnessCommitmentError | null {
  const status = witnessCommitmentStatus(block, wtxids);
  return status === 'ok' || status === 'none' ? null : status;
}

/**
 * Verifies the BIP-141 witness commitment: null when there is nothing to check (no commitment output and no witness
 * data in any tx); true when the coinbase commits and the commitment matches, with the coinbase's witness exactly one
 * 32-byte item (the reserved value); false otherwise, including witness data without a commitment.
 * getWitnessCommitmentError gives the reason.
 * @see BIP-141; Bitcoin Core validation.cpp CheckWitnessMalleation
 */
export function checkWitnessCommitment(block: Block): boolean | null {
  const status = witnessCommitmentStatus(block);
  if (status === 'none') return null;
  return status === 'ok';
}

function witnessCommitmentStatus(block: Block, wtxids?: readonly Hash256[]): 'ok' | 'none' | WitnessCommitmentError {
  const coinbase = block.txs[0];
  const pos = coinbase ? findWitnessCommitmentIndex(coinbase) : -1;
  if (coinbase && pos >= 0) {
    const stack = coinbase.inputs[0]?.witness;
    const reserved = stack?.[0];
    if (stack?.length !== 1 || reserved?.length !== 32) return 'bad-witness-nonce-size';
    const commitment = computeWitnessCommitment(computeWitnessMerkleRoot(block, wtxids), reserved);
    const script = coinbase.outputs[pos]!.scriptPubKey;
    return bytesEqual(script.subarray(6, 38), commitment) ? 'ok' : 'bad-witness-merkle-match';
  }
  for (const tx of block.txs) if (hasWitness(tx)) return 'unexpected-witness';
  return 'none';
}

/**
 * Builds the witness commitment output for block assembly: value 0, scriptPubKey = 0x6a24aa21a9ed || commitment
 * (38 bytes), where commitment = sha256d(witness merkle root || witnessReservedValue).
 * `wtxids` are those of all the block's txs in block order, coinbase first; the coinbase slot's value is ignored
 * (BIP-141 commits to 32 zero bytes in its place, so any placeholder works and adding this output to the coinbase
 * does not change the commitment). An empty list is treated as a coinbase alone.
 * The assembler must append the output to the coinbase (after any other commitment-looking output, since the last
 * one counts) and set the coinbase input's witness to `[witnessReservedValue]` (32 bytes, usually zeros).
 * @see BIP-141 "Commitment structure"; Bitcoin Core GenerateCoinbaseCommitment
 */
export function buildWitnessCommitmentOutput(wtxids: readonly Hash256[], witnessReservedValue: Uint8Array): TxOut {
  const leaves = wtxids.length === 0 ? [new Uint8Array(32)] : [new Uint8Array(32), ...wtxids.slice(1)];
  const commitment = computeWitnessCommitment(computeMerkleRoot(leaves).root, witnessReservedValue);
  const scriptPubKey = new Uint8Array(WITNESS_COMMITMENT_HEADER.length + 32);
  scriptPubKey.set(WITNESS_COMMITMENT_HEADER, 0);
  scriptPubKey.set(commitment, WITNESS_COMMITMENT_HEADER.length);
  return { value: 0n, scriptPubKey };
}
