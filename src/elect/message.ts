import { taggedHash } from '../crypto/hash.js';
import { schnorrSign, schnorrVerify } from '../crypto/schnorr.js';
import { ElectError } from './electError.js';
import { memberPublicKey, type ElectGenesis } from './genesis.js';
import type { ElectBlock, ElectBlockTemplate } from './block.js';

/** Largest envelope accepted from the broker, bytes (a catch-up response of 64 blocks fits). */
export const MAX_ENVELOPE_BYTES = 1 << 20;

/** A signed certificate: the quorum of yes votes (envelopes) that committed a block. */
export interface QuorumCertificate {
  /** Term in which the votes were cast. */
  readonly term: number;
  readonly blockHash: string;
  readonly votes: readonly SignedEnvelope[];
}

/** A block with the certificate that committed it. */
export interface CertifiedBlock {
  readonly block: ElectBlock;
  readonly certificate: QuorumCertificate;
}

/**
 * Bodies of every message type (the origin system's topics init, election, challenge, solution, voting, plus
 * commit and catch-up). Hashes are hex; `blockHash` is the display hash (reversed hex of sha256d(header)).
 */
export interface MessageBodies {
  /** init: a peer came up (session = random id of this connection, echoed by its last will). */
  hello: { session: string; tipHeight: number };
  /** will: the broker's last will of a peer (signed at connect time). */
  leave: { session: string };
  /** election: Raft pre-vote request for term+1 (does not bump anyone's term). */
  preVoteRequest: { lastTerm: number; lastHeight: number };
  preVote: { candidate: number; granted: boolean };
  voteRequest: { lastTerm: number; lastHeight: number };
  vote: { candidate: number; granted: boolean };
  /** election: the leader's heartbeat, with its proof of election (a quorum of signed granted votes for it in this term). */
  heartbeat: { session: string; tipHeight: number; tipHash: string; proof: SignedEnvelope[] };
  /** challenge: the leader's block template. */
  challenge: { template: ElectBlockTemplate };
  /** challenge: the leader's pick among the solutions: the block peers vote on. */
  proposal: { block: ElectBlock };
  /** solution: a member's solved header for the challenge it names. */
  solution: { block: ElectBlock };
  /** voting: a signed yes/no on a block at (height, term). */
  blockVote: { blockHash: string; yes: boolean; reason?: string };
  /** commit: the certified block, and the leader's measured time from challenge to solution (ms). */
  commit: CertifiedBlock & { solveMs?: number };
  /** tx: a transaction payload (hex) for the leader's next template; every peer keeps it in its mempool until committed. */
  tx: { tx: string };
  syncRequest: { fromHeight: number };
  syncResponse: { to: number; blocks: CertifiedBlock[] };
  /** status: a peer's state for `cairn elect demo`'s table (not part of consensus). */
  status: { state: string; leader: number | null; tipHeight: number; tipHash: string; hashesPerSecond: number };
}

/** A message type. */
export type MessageType = keyof MessageBodies;

/** The signed part of a message: what the signature binds. */
export interface MessageHeader<T extends MessageType = MessageType> {
  readonly chainId: string;
  readonly height: number;
  readonly term: number;
  readonly type: T;
  /** Member index of the signer. */
  readonly from: number;
  readonly body: MessageBodies[T];
}

/** What travels on the broker: `payload` = JSON of a MessageHeader; `sig` = BIP-340 Schnorr over taggedHash('cairn/elect', payload). */
export interface SignedEnvelope {
  readonly payload: string;
  readonly sig: string;
}

/** A checked message: the header and the envelope it came in. */
export interface VerifiedMessage<T extends MessageType = MessageType> {
  readonly header: MessageHeader<T>;
  readonly envelope: SignedEnvelope;
}

const MESSAGE_TYPES: ReadonlySet<string> = new Set<MessageType>([
  'hello', 'leave', 'preVoteRequest', 'preVote', 'voteRequest', 'vote', 'heartbeat', 'challenge', 'proposal',
  'solution', 'blockVote', 'commit', 'tx', 'syncRequest', 'syncResponse', 'status',
]);

function digest(payload: string): Uint8Array {
  return taggedHash('cairn/elect', new TextEncoder().encode(payload));
}

/**
 * Signs a message with the member's private key: the envelope binds chain id, height, term, type, signer and body.
 * @throws CryptoError bad-private-key
 */
export function signMessage<T extends MessageType>(header: MessageHeader<T>, privateKey32: Uint8Array): SignedEnvelope {
  const payload = JSON.stringify({ chainId: header.chainId, height: header.height, term: header.term, type: header.type, from: header.from, body: header.body });
  return { payload, sig: Buffer.from(schnorrSign(digest(payload), privateKey32)).toString('hex') };
}

/**
 * Checks an envelope received from the broker: size, JSON shape, chain id, membership and signature. Does not check
 * the body's meaning (the election and round logic do).
 * @throws ElectError bad-envelope | wrong-chain | non-member | bad-signature
 */
export function verifyMessage(genesis: ElectGenesis, raw: Uint8Array | string | SignedEnvelope): VerifiedMessage {
  let envelope: SignedEnvelope;
  if (typeof raw === 'object' && !(raw instanceof Uint8Array)) envelope = raw;
  else {
    const text = typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8');
    if (text.length > MAX_ENVELOPE_BYTES) throw new ElectError('bad-envelope', `envelope of ${text.length} bytes > ${MAX_ENVELOPE_BYTES}`);
    try {
      envelope = JSON.parse(text) as SignedEnvelope;
    } catch {
      throw new ElectError('bad-envelope', 'not JSON');
    }
  }
  if (envelope === null || typeof envelope !== 'object' || typeof envelope.payload !== 'string' || typeof envelope.sig !== 'string' || !/^[0-9a-f]{128}$/.test(envelope.sig)) {
    throw new ElectError('bad-envelope', 'expected {payload: string, sig: 128 hex chars}');
  }
  let header: MessageHeader;
  try {
    header = JSON.parse(envelope.payload) as MessageHeader;
  } catch {
    throw new ElectError('bad-envelope', 'payload is not JSON');
  }
  if (header === null || typeof header !== 'object' || typeof header.chainId !== 'string' || !Number.isSafeInteger(header.height) || header.height < 0 ||
    !Number.isSafeInteger(header.term) || header.term < 0 || typeof header.type !== 'string' || !MESSAGE_TYPES.has(header.type) ||
    !Number.isSafeInteger(header.from) || header.body === null || typeof header.body !== 'object') {
    throw new ElectError('bad-envelope', 'payload lacks chainId/height/term/type/from/body');
  }
  if (header.chainId !== genesis.chainId) throw new ElectError('wrong-chain', `chain ${header.chainId}, expected ${genesis.chainId}`);
  const key = memberPublicKey(genesis, header.from);
  if (key === undefined) throw new ElectError('non-member', `signer ${header.from} is not a member`);
  if (!schnorrVerify(digest(envelope.payload), key, new Uint8Array(Buffer.from(envelope.sig, 'hex')))) {
    throw new ElectError('bad-signature', `${header.type} from member ${header.from} has a bad signature`);
  }
  return { header, envelope };
}
