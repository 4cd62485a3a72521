/**
 * Fuzz target `block`: the block decoder (blocks by gossip, `blocks/1` responses, `submitblock`) and the context-free
 * block checks that run right after it.
 */
import fc from 'fast-check';
import { checkBlock } from '../../src/consensus/checkBlock.js';
import { VerifyError } from '../../src/consensus/verifyError.js';
import { regtest, NETWORKS } from '../../src/params/networks.js';
import { computeBlockHash, decodeBlock, encodeBlock, getBlockSize, getBlockWeight } from '../../src/primitives/block.js';
import { DecodeError } from '../../src/primitives/decodeError.js';
import { arbBlock, arbTx } from '../../src/testing/arbitraries.js';
import { buildBlock, withMerkleRoot } from '../../src/testing/blockBuilder.js';
import { mutatedBytes } from '../mutate.js';
import { assertSameBytes, check, decodeOrRefusal, refusal } from '../oracle.js';
import { defineTarget } from '../target.js';

/** Blocks that pass checkBlock on regtest up to their txs: BIP-34 coinbase, witness commitment, merkle root, PoW. */
const arbConsensusBlock = fc
  .tuple(fc.integer({ min: 1, max: 1_000_000 }), fc.array(arbTx({ maxOutputs: 3 }), { maxLength: 3 }))
  .map(([height, txs]) => buildBlock(regtest, { height, txs }));

/** Valid block serializations: consensus-shaped blocks, arbitrary tx lists, the genesis blocks. */
export const arbBlockBytes: fc.Arbitrary<Uint8Array> = fc
  .oneof(
    { weight: 3, arbitrary: arbConsensusBlock },
    { weight: 2, arbitrary: arbBlock({ maxTxs: 4 }) },
    { weight: 1, arbitrary: fc.constantFrom(...Object.values(NETWORKS).map((p) => p.genesis)) },
  )
  .map((block) => encodeBlock(block));

export default defineTarget<Uint8Array>({
  name: 'block',
  description:
    'decodeBlock: a Block or DecodeError; a decoded block re-encodes to the input, its size agrees; checkBlock (as ' +
    'decoded, and with the merkle root recomputed) throws only VerifyError',
  input: () => mutatedBytes(arbBlockBytes, { maxLength: 256 * 1024 }),
  run(bytes) {
    const block = decodeOrRefusal(() => decodeBlock(bytes), refusal(DecodeError));
    if (block === undefined) return;
    assertSameBytes(encodeBlock(block), bytes, 'encodeBlock(decodeBlock(bytes))');
    check(getBlockSize(block) === bytes.length, `getBlockSize ${getBlockSize(block)} != ${bytes.length} bytes`);
    check(getBlockWeight(block) >= bytes.length, 'weight below total size');
    computeBlockHash(block.header);
    decodeOrRefusal(() => checkBlock(block, regtest), refusal(VerifyError));
    // With its merkle root fixed, a mutated block reaches the coinbase, tx and witness rules.
    decodeOrRefusal(() => checkBlock(withMerkleRoot(block), regtest), refusal(VerifyError));
  },
});
