import { checkElectBlock } from './block.js';
import { ElectError } from './electError.js';
import type { ElectGenesis } from './genesis.js';
import { verifyMessage, type CertifiedBlock, type MessageHeader, type QuorumCertificate, type SignedEnvelope, type VerifiedMessage } from './message.js';

/** Two different signed votes of one member for one (height, term, kind): proof it equivocated. */
export interface DoubleVoteEvidence {
  readonly member: number;
  readonly height: number;
  readonly term: number;
  readonly kind: 'blockVote' | 'vote';
  readonly first: SignedEnvelope;
  readonly second: SignedEnvelope;
}

/** What VoteTally.add made of a vote. */
export type TallyResult =
  | { readonly kind: 'counted'; readonly certificate?: QuorumCertificate }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'double-vote'; readonly evidence: DoubleVoteEvidence };

/**
 * Counts the signed block votes (type blockVote) of one height: one yes vote per member per term; a second, different
 * yes vote of a member in a term is refused and returned as evidence. When a block's yes votes in one term reach the
 * quorum, add() returns its certificate (once). Memory: at most one vote per member per term kept.
 * @see Tendermint's vote set (types/vote_set.go): conflicting votes are evidence
 */
export class VoteTally {
  private readonly byTermMember = new Map<string, VerifiedMessage<'blockVote'>>();
  private readonly certified = new Set<string>();

  constructor(
    private readonly genesis: ElectGenesis,
    readonly height: number,
  ) {}

  /** Adds a verified blockVote of this tally's height. */
  add(vote: VerifiedMessage<'blockVote'>): TallyResult {
    const h = vote.header;
    // No votes (on invalid solutions) name the refused hash; only a member's yes votes must be unique per term.
    if (!h.body.yes) return { kind: 'counted' };
    const key = `${h.term}:${h.from}`;
    const prior = this.byTermMember.get(key);
    if (prior !== undefined) {
      const p = prior.header.body;
      if (p.blockHash === h.body.blockHash && p.yes === h.body.yes) return { kind: 'duplicate' };
      return {
        kind: 'double-vote',
        evidence: { member: h.from, height: h.height, term: h.term, kind: 'blockVote', first: prior.envelope, second: vote.envelope },
      };
    }
    this.byTermMember.set(key, vote);
    const yes = [...this.byTermMember.values()].filter((v) => v.header.term === h.term && v.header.body.yes && v.header.body.blockHash === h.body.blockHash);
    const certKey = `${h.term}:${h.body.blockHash}`;
    if (yes.length >= this.genesis.quorum && !this.certified.has(certKey)) {
      this.certified.add(certKey);
      return { kind: 'counted', certificate: { term: h.term, blockHash: h.body.blockHash, votes: yes.map((v) => v.envelope) } };
    }
    return { kind: 'counted' };
  }

  /** Yes votes for `blockHash` in `term` so far. */
  yesCount(term: number, blockHash: string): number {
    let n = 0;
    for (const v of this.byTermMember.values()) if (v.header.term === term && v.header.body.yes && v.header.body.blockHash === blockHash) n++;
    return n;
  }
}

/**
 * Checks a certified block: the block's own checks (proof of work, bounds), and a certificate of at least `quorum`
 * distinct members' valid yes votes for this block's hash at its height, all in the certificate's term.
 * Returns the block hash.
 * @throws ElectError bad-certificate (with what is wrong) | the block's own errors
 */
export function verifyCertifiedBlock(genesis: ElectGenesis, cb: CertifiedBlock): string {
  if (cb === null || typeof cb !== 'object' || cb.certificate === null || typeof cb.certificate !== 'object' || !Array.isArray(cb.certificate.votes)) {
    throw new ElectError('bad-certificate', 'expected {block, certificate: {term, blockHash, votes[]}}');
  }
  const hash = checkElectBlock(genesis, cb.block);
  const cert = cb.certificate;
  if (cert.blockHash !== hash) throw new ElectError('bad-certificate', `certificate is for ${cert.blockHash}, block is ${hash}`);
  if (cert.votes.length > genesis.members.length) throw new ElectError('bad-certificate', 'more votes than members');
  const signers = new Set<number>();
  for (const env of cert.votes) {
    let h: MessageHeader;
    try {
      h = verifyMessage(genesis, env).header;
    } catch (err) {
      throw new ElectError('bad-certificate', `a vote does not verify (${(err as Error).message})`);
    }
    if (h.type !== 'blockVote') throw new ElectError('bad-certificate', `a ${h.type} is not a block vote`);
    const body = h.body as { blockHash: string; yes: boolean };
    if (body.yes !== true || body.blockHash !== hash || h.height !== cb.block.height || h.term !== cert.term) {
      throw new ElectError('bad-certificate', `vote of member ${h.from} is not a yes for this block at height ${cb.block.height}, term ${cert.term}`);
    }
    signers.add(h.from);
  }
  if (signers.size < genesis.quorum) throw new ElectError('bad-certificate', `${signers.size} distinct signers < quorum ${genesis.quorum}`);
  return hash;
}

/**
 * Checks a leader's proof of election: at least `quorum` distinct members' valid, granted `vote` messages for
 * `leader` in `term` (the leader's own included). A member that could not show one is not followed.
 * @throws ElectError bad-certificate (with what is wrong)
 * @see Raft §5.2 (a candidate wins with votes from a majority); Tendermint (commits carry signed votes)
 */
export function verifyLeaderProof(genesis: ElectGenesis, term: number, leader: number, proof: readonly SignedEnvelope[]): void {
  if (!Array.isArray(proof) || proof.length > genesis.members.length) throw new ElectError('bad-certificate', 'leader proof must be a list of at most N votes');
  const voters = new Set<number>();
  for (const env of proof) {
    let h: MessageHeader;
    try {
      h = verifyMessage(genesis, env).header;
    } catch (err) {
      throw new ElectError('bad-certificate', `a leader vote does not verify (${(err as Error).message})`);
    }
    const body = h.body as { candidate?: unknown; granted?: unknown };
    if (h.type !== 'vote' || h.term !== term || body.candidate !== leader || body.granted !== true) {
      throw new ElectError('bad-certificate', `leader proof holds a message that is not a granted vote for member ${leader} in term ${term}`);
    }
    voters.add(h.from);
  }
  if (voters.size < genesis.quorum) throw new ElectError('bad-certificate', `leader proof of member ${leader}, term ${term}: ${voters.size} votes < quorum ${genesis.quorum}`);
}
