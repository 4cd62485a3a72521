/**
 * Fuzz target `tx`: the transaction decoder (every tx arriving by gossip, `POST /api/tx`, `sendrawtransaction`, and
 * inside every block) and the context-free checks that run right after it.
 */
import fc from 'fast-check';
import { checkTransaction } from '../../src/consensus/checkTransaction.js';
import { VerifyError } from '../../src/consensus/verifyError.js';
import { DecodeError } from '../../src/primitives/decodeError.js';
import { computeTxid, computeWtxid, decodeTx, encodeTx, getTxBaseSize, getTxSize, getTxWeight, hasWitness } from '../../src/primitives/tx.js';
import { arbTx } from '../../src/testing/arbitraries.js';
import { mutatedBytes } from '../mutate.js';
import { assertSameBytes, check, decodeOrRefusal, refusal } from '../oracle.js';
import { defineTarget } from '../target.js';

/** Valid serializations: legacy and BIP-144, with empty and non-empty witness stacks, sometimes no inputs. */
export const arbTxBytes: fc.Arbitrary<Uint8Array> = fc
  .oneof({ weight: 5, arbitrary: arbTx() }, { weight: 1, arbitrary: arbTx({ minInputs: 0, witness: 'none' }) })
  .map((tx) => encodeTx(tx));

export default defineTarget<Uint8Array>({
  name: 'tx',
  description:
    'decodeTx: a Tx or DecodeError; a decoded tx re-encodes to the input, sizes and weight agree, checkTransaction ' +
    'throws only VerifyError',
  input: () => mutatedBytes(arbTxBytes, { maxLength: 64 * 1024 }),
  run(bytes) {
    const tx = decodeOrRefusal(() => decodeTx(bytes), refusal(DecodeError));
    if (tx === undefined) return;
    assertSameBytes(encodeTx(tx), bytes, 'encodeTx(decodeTx(bytes))');
    check(getTxSize(tx) === bytes.length, `getTxSize ${getTxSize(tx)} != ${bytes.length} bytes`);
    check(getTxWeight(tx) === getTxBaseSize(tx) * 3 + bytes.length, 'weight is not base size * 3 + total size');
    const txid = computeTxid(tx);
    check(hasWitness(tx) || Buffer.compare(txid, computeWtxid(tx)) === 0, 'a tx without witness has wtxid != txid');
    decodeOrRefusal(() => checkTransaction(tx), refusal(VerifyError));
  },
});
