/**
 * Fuzz target `elect-message`: what an elect peer does with a message from the broker before acting on it — the
 * envelope check (verifyMessage: size, JSON, chain, membership, signature) and the body checks of each type
 * (checkTemplate, checkElectBlock, verifyCertifiedBlock, verifyLeaderProof). Inputs are raw texts around valid
 * envelopes, and mutated headers signed by a member (so the signature passes and the body is garbage).
 * Property: a value or an ElectError, never another exception.
 */
import fc from 'fast-check';
import { taggedHash } from '../../src/crypto/hash.js';
import { schnorrSign } from '../../src/crypto/schnorr.js';
import { checkElectBlock, checkTemplate, NULL_HASH_HEX, type ElectBlock } from '../../src/elect/block.js';
import { verifyCertifiedBlock, verifyLeaderProof } from '../../src/elect/certificate.js';
import { ElectError } from '../../src/elect/electError.js';
import { createGenesis } from '../../src/elect/genesis.js';
import { signMessage, verifyMessage, type MessageHeader, type SignedEnvelope } from '../../src/elect/message.js';
import { mutatedJsonText } from '../mutate.js';
import { decodeOrRefusal, refusal } from '../oracle.js';
import { defineTarget } from '../target.js';

const { genesis, privateKeys } = createGenesis({ peers: 4, minZeroBits: 1, maxZeroBits: 8, initialZeroBits: 1 });
const key = privateKeys[1]!;

function solved(): ElectBlock {
  for (let nonce = 0; ; nonce++) {
    const block = { height: 1, prevHash: NULL_HASH_HEX, term: 2, leader: 0, zeroBits: 1, txs: ['00'], timeSec: 1, miner: 1, nonce };
    try {
      checkElectBlock(genesis, block);
      return block;
    } catch {
      // next nonce
    }
  }
}
const block = solved();
const vote = (from: number): SignedEnvelope => signMessage({ chainId: genesis.chainId, height: 1, term: 3, type: 'vote', from, body: { candidate: 1, granted: true } }, privateKeys[from]!);

/** Valid headers of every type that carries a checked body. */
const VALID_HEADERS: readonly MessageHeader[] = [
  { chainId: genesis.chainId, height: 1, term: 2, type: 'challenge', from: 0, body: { template: { height: 1, prevHash: NULL_HASH_HEX, term: 2, leader: 0, zeroBits: 1, txs: [], timeSec: 1 } } },
  { chainId: genesis.chainId, height: 1, term: 2, type: 'solution', from: 1, body: { block } },
  { chainId: genesis.chainId, height: 1, term: 2, type: 'proposal', from: 0, body: { block } },
  { chainId: genesis.chainId, height: 1, term: 2, type: 'commit', from: 0, body: { block, certificate: { term: 2, blockHash: 'ab'.repeat(32), votes: [vote(0), vote(2)] } } },
  { chainId: genesis.chainId, height: 1, term: 3, type: 'heartbeat', from: 1, body: { session: 'ab', tipHeight: 0, tipHash: NULL_HASH_HEX, proof: [vote(1), vote(2), vote(3)] } },
  { chainId: genesis.chainId, height: 1, term: 2, type: 'blockVote', from: 1, body: { blockHash: 'cd'.repeat(32), yes: true } },
];

/** One input: a raw broker payload, or a header text that a member signs as is. */
export type ElectMessageInput = { readonly kind: 'raw'; readonly text: string } | { readonly kind: 'signed'; readonly headerText: string };

const arbHeader = fc.constantFrom(...VALID_HEADERS);
const isRefusal = refusal(ElectError);

export default defineTarget<ElectMessageInput>({
  name: 'elect-message',
  description: 'verifyMessage and the per-type body checks of cairn elect: a value or an ElectError',
  chunkRuns: 2_000,
  input: () =>
    fc.oneof(
      { weight: 1, arbitrary: mutatedJsonText(arbHeader.map((h) => signMessage(h, key)), { maxLength: 16 * 1024 }).map((text) => ({ kind: 'raw' as const, text })) },
      { weight: 3, arbitrary: mutatedJsonText(arbHeader, { maxLength: 16 * 1024 }).map((headerText) => ({ kind: 'signed' as const, headerText })) },
    ),
  run: (input) => {
    const text =
      input.kind === 'raw'
        ? input.text
        : JSON.stringify({ payload: input.headerText, sig: Buffer.from(schnorrSign(taggedHash('cairn/elect', new TextEncoder().encode(input.headerText)), key)).toString('hex') });
    const msg = decodeOrRefusal(() => verifyMessage(genesis, text), isRefusal);
    if (msg === undefined) return;
    const h = msg.header;
    const body = h.body as Record<string, unknown>;
    decodeOrRefusal(() => {
      if (h.type === 'challenge') checkTemplate(genesis, body['template'] as never);
      if (h.type === 'solution' || h.type === 'proposal') checkElectBlock(genesis, body['block'] as never);
      if (h.type === 'commit') verifyCertifiedBlock(genesis, body as never);
      if (h.type === 'heartbeat') verifyLeaderProof(genesis, h.term, h.from, body['proof'] as never);
      return true;
    }, isRefusal);
  },
});
