/**
 * Fuzz target `liabilities-proof`: the proof-of-liabilities verifier (`cairn exchange verify-liabilities`, any proof
 * document a user is handed). Property: for any text it answers undefined (valid) or a reason string, never throws;
 * an untouched proof of a random tree is valid, and a proof whose balance was changed is not.
 */
import fc from 'fast-check';
import { verifyProofText } from '../../src/cli/exchangeBridgeCli.js';
import { buildLiabilitiesTree, type LiabilitiesProof } from '../../src/exchange/bridge/liabilitiesProof.js';
import { mutatedJsonText } from '../mutate.js';
import { check } from '../oracle.js';
import { defineTarget } from '../target.js';

/** Proofs of random trees (1..40 accounts, balances up to 21M coins, some negative), for a random member. */
const arbProof: fc.Arbitrary<LiabilitiesProof> = fc
  .tuple(
    fc.array(fc.bigInt({ min: -(10n ** 8n), max: 21n * 10n ** 14n }), { minLength: 1, maxLength: 40 }),
    fc.uint8Array({ minLength: 32, maxLength: 32 }),
    fc.nat(),
  )
  .map(([balances, salt, pick]) => {
    const tree = buildLiabilitiesTree(new Map(balances.map((b, i) => [i * 7 + 1, b])), salt, { seq: 1, asset: 'CRN' });
    return tree.proofFor((pick % balances.length) * 7 + 1)!;
  });

/** One input: a proof document's text, and whether it is the untouched proof (or the proof with its balance + 1). */
export type LiabilitiesProofInput = { readonly kind: 'text'; readonly text: string } | { readonly kind: 'intact' | 'forged'; readonly proof: LiabilitiesProof };

export default defineTarget<LiabilitiesProofInput>({
  name: 'liabilities-proof',
  description: 'verifyProofText: undefined or a reason for any text, never a throw; an intact proof verifies, one with its balance changed does not',
  input: () =>
    fc.oneof(
      { weight: 8, arbitrary: mutatedJsonText(arbProof).map((text) => ({ kind: 'text' as const, text })) },
      { weight: 1, arbitrary: arbProof.map((proof) => ({ kind: 'intact' as const, proof })) },
      { weight: 1, arbitrary: arbProof.map((proof) => ({ kind: 'forged' as const, proof })) },
    ),
  run(input) {
    if (input.kind === 'text') {
      const r = verifyProofText(input.text);
      check(r === undefined || typeof r === 'string', `verifyProofText answered ${typeof r}`);
      return;
    }
    const doc = input.kind === 'intact' ? input.proof : { ...input.proof, balance: (BigInt(input.proof.balance) + 1n).toString() };
    const r = verifyProofText(JSON.stringify(doc));
    check(input.kind === 'intact' ? r === undefined : typeof r === 'string', `${input.kind} proof: ${String(r)}`);
  },
});
