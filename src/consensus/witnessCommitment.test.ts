import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeBlock } from '../primitives/block.js';
import { hexToBytes } from '../primitives/hex.js';
import { computeWtxid, hasWitness } from '../primitives/tx.js';
import type { Block, Tx, TxIn, TxOut } from '../primitives/types.js';
import { readVectorText, VectorTally } from '../testing/vectors.js';
import {
  buildWitnessCommitmentOutput,
  checkWitnessCommitment,
  findWitnessCommitmentIndex,
  getWitnessCommitmentError,
  WITNESS_COMMITMENT_HEADER,
} from './witnessCommitment.js';

const SEGWIT_FILE = 'mainnet/block-482683.hex';
const LEGACY_FILE = 'mainnet/block-000170.hex';
const readBlock = (file: string): Block => decodeBlock(hexToBytes(readVectorText(file).trim()));

const withCoinbase = (block: Block, change: (cb: Tx) => Tx): Block => ({
  ...block,
  txs: [change(block.txs[0]!), ...block.txs.slice(1)],
});
const withCoinbaseWitness = (block: Block, witness: Uint8Array[]): Block =>
  withCoinbase(block, (cb) => ({ ...cb, inputs: [{ ...cb.inputs[0]!, witness }, ...cb.inputs.slice(1)] }));
const withCoinbaseOutputs = (block: Block, outputs: TxOut[]): Block => withCoinbase(block, (cb) => ({ ...cb, outputs }));
const stripWitness = (tx: Tx): Tx => ({ ...tx, inputs: tx.inputs.map((i): TxIn => ({ ...i, witness: [] })) });

describe(`BIP-141 witness commitment on ${SEGWIT_FILE}`, () => {
  const block = readBlock(SEGWIT_FILE);
  const coinbase = block.txs[0]!;
  const index = findWitnessCommitmentIndex(coinbase);

  it('the real commitment verifies, and buildWitnessCommitmentOutput reproduces it', (t) => {
    const reserved = coinbase.inputs[0]!.witness[0]!;
    const built = buildWitnessCommitmentOutput(block.txs.map(computeWtxid), reserved);
    const real = coinbase.outputs[index]!;
    // The coinbase's wtxid slot is ignored, so a placeholder must give the same output.
    const placeholder = buildWitnessCommitmentOutput([new Uint8Array(32).fill(7), ...block.txs.slice(1).map(computeWtxid)], reserved);
    const tally = new VectorTally(SEGWIT_FILE);
    tally.check('coinbase commitment', {
      'commitment found': [index >= 0, true],
      checkWitnessCommitment: [checkWitnessCommitment(block), true],
      getWitnessCommitmentError: [getWitnessCommitmentError(block), null],
      'built value': [built.value, real.value],
      'built scriptPubKey': [built.scriptPubKey, real.scriptPubKey],
      'scriptPubKey with a placeholder coinbase wtxid': [placeholder.scriptPubKey, real.scriptPubKey],
    });
    tally.report(t);
  });

  it('a changed witness breaks the match (bad-witness-merkle-match)', () => {
    const i = block.txs.findIndex((tx, k) => k > 0 && hasWitness(tx));
    assert.ok(i > 0);
    const tx = block.txs[i]!;
    const input = tx.inputs.find((x) => x.witness.length > 0)!;
    const tampered: Tx = {
      ...tx,
      inputs: tx.inputs.map((x) => (x === input ? { ...x, witness: [...x.witness, Uint8Array.of(1)] } : x)),
    };
    const bad: Block = { ...block, txs: block.txs.map((x, k) => (k === i ? tampered : x)) };
    assert.equal(checkWitnessCommitment(bad), false);
    assert.equal(getWitnessCommitmentError(bad), 'bad-witness-merkle-match');
  });

  it('the coinbase witness must be exactly one 32-byte item (bad-witness-nonce-size)', () => {
    const reserved = coinbase.inputs[0]!.witness[0]!;
    for (const witness of [[], [reserved.subarray(0, 31)], [Uint8Array.from([...reserved, 0])], [reserved, reserved]]) {
      const bad = withCoinbaseWitness(block, witness);
      assert.equal(checkWitnessCommitment(bad), false);
      assert.equal(getWitnessCommitmentError(bad), 'bad-witness-nonce-size');
    }
  });

  it('witness data without a commitment is refused (unexpected-witness); without either there is nothing to check', () => {
    const outputs = coinbase.outputs.filter((_, k) => k !== index);
    const noCommitment = withCoinbaseOutputs(block, outputs);
    assert.equal(findWitnessCommitmentIndex(noCommitment.txs[0]!), -1);
    assert.equal(checkWitnessCommitment(noCommitment), false);
    assert.equal(getWitnessCommitmentError(noCommitment), 'unexpected-witness');
    const bare: Block = { ...noCommitment, txs: noCommitment.txs.map(stripWitness) };
    assert.equal(checkWitnessCommitment(bare), null);
    assert.equal(getWitnessCommitmentError(bare), null);
  });

  it('the LAST commitment-shaped output counts, and it may be longer than 38 bytes', () => {
    const real = coinbase.outputs[index]!;
    const decoy: TxOut = { value: 0n, scriptPubKey: Uint8Array.from([...WITNESS_COMMITMENT_HEADER, ...new Uint8Array(32)]) };
    const tooShort: TxOut = { value: 0n, scriptPubKey: real.scriptPubKey.subarray(0, 37) };
    const longer: TxOut = { value: 0n, scriptPubKey: Uint8Array.from([...real.scriptPubKey, 0x51]) };

    const decoyLast = withCoinbaseOutputs(block, [...coinbase.outputs, decoy]);
    assert.equal(findWitnessCommitmentIndex(decoyLast.txs[0]!), coinbase.outputs.length);
    assert.equal(checkWitnessCommitment(decoyLast), false);

    const realLast = withCoinbaseOutputs(block, [decoy, ...coinbase.outputs, tooShort]);
    assert.equal(findWitnessCommitmentIndex(realLast.txs[0]!), index + 1);
    assert.equal(checkWitnessCommitment(realLast), true);

    const longerLast = withCoinbaseOutputs(block, [...coinbase.outputs.filter((_, k) => k !== index), longer]);
    assert.equal(checkWitnessCommitment(longerLast), true);
  });
});

describe(`pre-segwit block ${LEGACY_FILE}`, () => {
  it('has no commitment and no witness data: nothing to check (null)', (t) => {
    const block = readBlock(LEGACY_FILE);
    const tally = new VectorTally(LEGACY_FILE);
    tally.check('block 100000', {
      findWitnessCommitmentIndex: [findWitnessCommitmentIndex(block.txs[0]!), -1],
      checkWitnessCommitment: [checkWitnessCommitment(block), null],
    });
    tally.report(t);
  });

  it('a block without transactions has nothing to check', () => {
    const block = readBlock(LEGACY_FILE);
    assert.equal(checkWitnessCommitment({ header: block.header, txs: [] }), null);
  });
});
