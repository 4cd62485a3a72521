/**
 * Fuzz target `header`: the 80-byte block header decoder and what runs on every received header (hash, proof of work
 * against each network's limit, work of its bits).
 */
import fc from 'fast-check';
import { checkBlockHeader } from '../../src/consensus/checkBlock.js';
import { computeWork } from '../../src/consensus/pow.js';
import { VerifyError } from '../../src/consensus/verifyError.js';
import { NETWORKS } from '../../src/params/networks.js';
import { computeBlockHash, decodeBlockHeader, encodeBlockHeader } from '../../src/primitives/blockHeader.js';
import { DecodeError } from '../../src/primitives/decodeError.js';
import { arbBlockHeader } from '../../src/testing/arbitraries.js';
import { mutatedBytes } from '../mutate.js';
import { assertSameBytes, check, decodeOrRefusal, refusal } from '../oracle.js';
import { defineTarget } from '../target.js';

/** Valid 80-byte headers: random fields and every network's genesis header. */
export const arbHeaderBytes: fc.Arbitrary<Uint8Array> = fc
  .oneof(arbBlockHeader, fc.constantFrom(...Object.values(NETWORKS).map((p) => p.genesis.header)))
  .map((h) => encodeBlockHeader(h));

export default defineTarget<Uint8Array>({
  name: 'header',
  description:
    'decodeBlockHeader: a header or DecodeError; a decoded header re-encodes to the input; checkBlockHeader on every ' +
    'network throws only VerifyError; computeWork never throws',
  input: () => mutatedBytes(arbHeaderBytes, { maxLength: 200 }),
  run(bytes) {
    const header = decodeOrRefusal(() => decodeBlockHeader(bytes), refusal(DecodeError));
    if (header === undefined) return;
    assertSameBytes(encodeBlockHeader(header), bytes, 'encodeBlockHeader(decodeBlockHeader(bytes))');
    const hash = computeBlockHash(header);
    for (const params of Object.values(NETWORKS)) {
      decodeOrRefusal(() => checkBlockHeader(header, params, hash), refusal(VerifyError));
    }
    check(computeWork(header.bits) >= 0n, 'negative work');
  },
});
