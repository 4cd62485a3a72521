import { randomBytes } from 'node:crypto';
import type { Logger } from '../logging/logger.js';
import type { FoundBlock, MinerPool } from '../mining/minerPool.js';
import {
  checkElectBlock, checkTemplate, computeElectBlockHash, computeNextZeroBits, encodeElectHeader, NULL_HASH_HEX,
  sameTemplate, targetFromZeroBits, type ElectBlock, type ElectBlockTemplate,
} from './block.js';
import { verifyCertifiedBlock, verifyLeaderProof, VoteTally, type DoubleVoteEvidence } from './certificate.js';
import { Election, type ElectionDurable, type ElectionOutgoing, type ElectionRole, type LogPosition } from './election.js';
import { ElectError } from './electError.js';
import type { ElectGenesis } from './genesis.js';
import { MAX_ENVELOPE_BYTES, signMessage, verifyMessage, type CertifiedBlock, type MessageBodies, type MessageHeader, type MessageType, type SignedEnvelope, type VerifiedMessage } from './message.js';
import type { AcceptedBlock, ElectStore, StoredBlock } from './electStore.js';
import { LEADER_TOPIC, MqttTransport } from './mqttTransport.js';

/** Most blocks in one catch-up response. */
export const SYNC_BATCH_BLOCKS = 64;
/** Most pending transactions a peer keeps. */
export const MAX_MEMPOOL_TXS = 10_000;
const TX_HEX = /^([0-9a-f]{2}){1,1000}$/;
/** Heights above the tip whose votes are tallied (double votes there are recorded; later ones are ignored). */
const TALLY_WINDOW = 8;
/** Timer period of a peer, ms (election ticks, round retries). */
const TICK_MS = 20;

/** Options of ElectPeer (plain values; `cairn elect peer` maps its flags onto them). */
export interface ElectPeerOptions {
  readonly genesis: ElectGenesis;
  readonly self: number;
  readonly privateKey: Uint8Array;
  readonly brokerUrl: string;
  /** Drop this fraction of incoming messages (chaos tests); default 0. */
  readonly dropRate?: number;
  /** Transactions (hex) the leader puts in its templates, at most this many per block; default 100. */
  readonly maxTxsPerBlock?: number;
}

/** What an ElectPeer needs from outside: its store, its miner, a logger, a clock and randomness. */
export interface ElectPeerDeps {
  readonly store: ElectStore;
  readonly miner: MinerPool;
  readonly logger: Logger;
  /** ms since the epoch */
  readonly now?: () => number;
  /** uniform in [0, 1) */
  readonly random?: () => number;
}

/** A peer's state for status lines and tests. */
export interface ElectPeerStatus {
  readonly self: number;
  readonly role: ElectionRole;
  readonly term: number;
  readonly leader: number | null;
  readonly tipHeight: number;
  readonly tipHash: string;
  readonly connected: boolean;
  readonly hashesPerSecond: number;
  readonly messages: { sent: number; received: number; dropped: number };
}

interface Round {
  readonly template: ElectBlockTemplate;
  readonly startedMs: number;
  proposal: ElectBlock | undefined;
  lastSentMs: number;
}

/**
 * One member of an elect chain (issue 15): on an MQTT broker, it runs the Raft-style election (election.ts), and
 * as leader publishes challenges (block templates at tip+1), picks the first valid solution and proposes it; every
 * peer mines challenges with cairn's WASM miner pool, checks solutions and proposals and signs yes/no block votes; a
 * quorum of yes votes in one term commits the block with its certificate (the votes) in the SQLite store.
 * Safety (no two blocks at a height): a peer votes yes on at most one block per (height, term), remembers it as its
 * accepted block (durable), and its log position (accepted term, height) decides whom it votes for, so a new leader
 * always holds any block that may have been committed and re-proposes it (Raft's Leader Completeness). With
 * `--quorum 2/3` the accepted block is also a lock (Tendermint's): a peer never votes yes for another block at that
 * height in any later term (a lying leader cannot re-certify the height); it is released only by a commit. Every
 * message is verified (member, signature, chain); what fails is dropped, logged and recorded in the store.
 * A peer that falls behind asks for blocks (syncRequest) and checks each certificate before committing.
 */
export class ElectPeer {
  private readonly genesis: ElectGenesis;
  private readonly self: number;
  private readonly privateKey: Uint8Array;
  private readonly store: ElectStore;
  private readonly miner: MinerPool;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly election: Election;
  private readonly session = randomBytes(8).toString('hex');
  private readonly transport: MqttTransport;
  private readonly maxTxs: number;
  private tip: StoredBlock | undefined;
  private accepted: AcceptedBlock | undefined;
  /** Block votes of heights tip+1 .. tip+TALLY_WINDOW (bounded memory), and the blocks seen for tip+1 by hash. */
  private readonly tallies = new Map<number, VoteTally>();
  private readonly known = new Map<string, ElectBlock>();
  /** Granted election votes for this peer, by term (only the newest term kept): its proof of election as leader. */
  private votesForMe: { term: number; votes: Map<number, SignedEnvelope> } = { term: -1, votes: new Map() };
  private leaderProof: { term: number; proof: SignedEnvelope[] } | undefined;
  /** The (term, leader) whose proof of election we checked: only such a leader is followed. */
  private verifiedLeader: { term: number; leader: number } | undefined;
  /** Granted election votes seen, by term then member (newest 4 terms): two for different candidates are evidence. */
  private readonly electionVotesSeen = new Map<number, Map<number, SignedEnvelope>>();
  /** Which member sessions we heard (hello/heartbeat), to match last wills. */
  private readonly sessions = new Map<number, string>();
  /** The challenge being mined here. */
  private mining: { jobId: string; template: ElectBlockTemplate } | undefined;
  /** Leader only: the current round. */
  private round: Round | undefined;
  private lastSolveMs: number | undefined;
  /** Yes vote sent at tip+1 (to re-send on a repeated proposal). */
  private myVote: SignedEnvelope | undefined;
  private lastSyncRequestMs = 0;
  private lastStatusMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: (() => void)[] = [];
  /** Pending transaction payloads (hex), in arrival order. */
  private readonly mempool = new Set<string>();
  /** Transactions of recent commits (newest MAX_MEMPOOL_TXS), so a late copy is not put in a block again. */
  private readonly recentlyCommittedTxs = new Set<string>();
  private stopped = false;
  /** The election state last written to the store (written again only when it changes). */
  private persisted: ElectionDurable;
  /** Committed-block listeners (tests, the command's log). */
  private readonly commitListeners = new Set<(b: StoredBlock) => void>();
  /** Leader's proposal listeners: (height, ms) when it picked the first valid solution (benchmarks: commit latency). */
  private readonly proposalListeners = new Set<(height: number, atMs: number) => void>();

  constructor(options: ElectPeerOptions, deps: ElectPeerDeps) {
    this.genesis = options.genesis;
    this.self = options.self;
    this.privateKey = options.privateKey;
    this.store = deps.store;
    this.miner = deps.miner;
    this.logger = deps.logger;
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
    this.maxTxs = options.maxTxsPerBlock ?? 100;
    this.tip = this.store.getTip();
    this.accepted = this.store.getAccepted();
    if (this.accepted !== undefined && this.accepted.height !== this.tipHeight + 1) this.accepted = undefined;
    const g = this.genesis;
    this.persisted = this.store.getElectionDurable();
    this.election = new Election(
      { self: this.self, quorum: g.quorum, electionTimeoutMinMs: g.electionTimeoutMinMs, electionTimeoutMaxMs: g.electionTimeoutMaxMs, heartbeatMs: g.heartbeatMs, random: this.random },
      this.persisted,
      this.now(),
    );
    const will = this.sign('leave', 0, 0, { session: this.session });
    this.transport = MqttTransport.connect(
      { brokerUrl: options.brokerUrl, chainId: g.chainId, clientId: `cairn-elect-${g.chainId}-${this.self}-${this.session}`, will, dropRate: options.dropRate, random: this.random },
      this.logger,
      (topic, payload) => this.onRaw(topic, payload),
    );
    this.unsubscribe.push(this.miner.onFound((f) => this.guard('found', () => this.onFound(f))));
    this.unsubscribe.push(this.miner.onError((err) => this.logger.error({ err: err.message }, 'miner failed')));
  }

  /** Starts the timers and announces itself (hello). */
  start(): void {
    this.send('hello', 0, this.tipHeight, { session: this.session, tipHeight: this.tipHeight });
    this.timer = setInterval(() => this.guard('tick', () => this.onTick()), TICK_MS);
    this.logger.info({ self: this.self, tipHeight: this.tipHeight, term: this.election.term }, 'elect peer started');
  }

  /** Stops: tells the others it leaves (so a leader is replaced at once), stops mining, disconnects. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const u of this.unsubscribe) u();
    this.miner.stopJob();
    this.transport.publish('leave', this.sign('leave', 0, 0, { session: this.session }));
    await this.transport.close();
  }

  /** Stops as a crash would (benchmarks, in-process chaos): no leave message, the broker publishes the last will. */
  async crash(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const u of this.unsubscribe) u();
    this.miner.stopJob();
    await this.transport.forceClose();
  }

  /** Listens for this peer's commits; returns the unsubscribe function. */
  onCommit(listener: (b: StoredBlock) => void): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
  }

  /** Listens for this peer's proposals as leader (height, time in ms); returns the unsubscribe function. */
  onProposed(listener: (height: number, atMs: number) => void): () => void {
    this.proposalListeners.add(listener);
    return () => this.proposalListeners.delete(listener);
  }

  /**
   * Broadcasts a transaction payload (hex, 1..1,000 bytes), signed by this member: every peer keeps it in its mempool
   * (at most MAX_MEMPOOL_TXS) until a committed block carries it; the leader puts pending ones in its next challenge.
   * @throws ElectError bad-message when the payload is not bounded hex
   */
  submitTx(hex: string): void {
    if (!TX_HEX.test(hex)) throw new ElectError('bad-message', 'a tx is 1..1000 bytes of lowercase hex');
    this.addToMempool(hex);
    this.send('tx', this.election.term, this.tipHeight, { tx: hex });
  }

  private addToMempool(hex: string): void {
    if (this.mempool.size < MAX_MEMPOOL_TXS && !this.recentlyCommittedTxs.has(hex)) this.mempool.add(hex);
  }

  get status(): ElectPeerStatus {
    return {
      self: this.self,
      role: this.election.role,
      term: this.election.term,
      leader: this.election.leader,
      tipHeight: this.tipHeight,
      tipHash: this.tip?.hash ?? NULL_HASH_HEX,
      connected: this.transport.connected,
      hashesPerSecond: Math.round(this.miner.hashRate()),
      messages: { ...this.transport.counts },
    };
  }

  /** Candidacies started and won by this peer's election (bench: split votes). */
  get electionCounters(): { candidacies: number; wins: number } {
    return { candidacies: this.election.candidacies, wins: this.election.wins };
  }

  private get tipHeight(): number {
    return this.tip?.height ?? 0;
  }

  private get logPosition(): LogPosition {
    if (this.accepted !== undefined) return { lastTerm: this.accepted.term, lastHeight: this.accepted.height };
    return { lastTerm: this.tip?.certificate.term ?? 0, lastHeight: this.tipHeight };
  }

  private sign<T extends MessageType>(type: T, term: number, height: number, body: MessageBodies[T]): SignedEnvelope {
    return signMessage({ chainId: this.genesis.chainId, height, term, type, from: this.self, body } as MessageHeader<T>, this.privateKey);
  }

  private send<T extends MessageType>(type: T, term: number, height: number, body: MessageBodies[T]): SignedEnvelope {
    const env = this.sign(type, term, height, body);
    this.transport.publish(type, env);
    return env;
  }

  /** Runs the election's effects: persist first (one vote per term survives a crash), then publish. */
  private applyElection(out: ElectionOutgoing[], roleBefore: ElectionRole, termBefore: number): void {
    const d = this.election.durable;
    if (d.term !== this.persisted.term || d.votedFor !== this.persisted.votedFor) {
      this.store.setElectionDurable(d);
      this.persisted = d;
    }
    for (const o of out) {
      if (o.type === 'heartbeat') {
        this.send('heartbeat', o.term, this.tipHeight, { session: this.session, tipHeight: this.tipHeight, tipHash: this.tip?.hash ?? NULL_HASH_HEX, proof: this.proofFor(o.term) });
      } else {
        this.send(o.type, o.term, this.tipHeight, o.body as never);
      }
    }
    if (this.election.role === 'leader' && (roleBefore !== 'leader' || termBefore !== this.election.term)) this.onBecameLeader();
    if (roleBefore === 'leader' && this.election.role !== 'leader') {
      this.round = undefined;
      this.logger.info({ term: this.election.term }, 'stepped down');
    }
  }

  /** This leader's proof of election for `term`: its own signed vote and the granted votes it received. */
  private proofFor(term: number): SignedEnvelope[] {
    if (this.leaderProof?.term !== term) {
      const own = this.sign('vote', term, this.tipHeight, { candidate: this.self, granted: true });
      const others = this.votesForMe.term === term ? [...this.votesForMe.votes.values()] : [];
      this.leaderProof = { term, proof: [own, ...others.slice(0, this.genesis.quorum - 1)] };
    }
    return this.leaderProof.proof;
  }

  /** Records a granted election vote: for us (our proof), and against double votes (two candidates in one term). */
  private noteElectionVote(msg: VerifiedMessage): void {
    const h = msg.header;
    const body = h.body as MessageBodies['vote'];
    if (body.granted !== true) return;
    if (body.candidate === this.self && h.term >= this.votesForMe.term) {
      if (h.term > this.votesForMe.term) this.votesForMe = { term: h.term, votes: new Map() };
      this.votesForMe.votes.set(h.from, msg.envelope);
    }
    let byMember = this.electionVotesSeen.get(h.term);
    if (byMember === undefined) {
      this.electionVotesSeen.set(h.term, (byMember = new Map()));
      for (const t of [...this.electionVotesSeen.keys()].sort((a, b) => a - b).slice(0, -4)) this.electionVotesSeen.delete(t);
    }
    const prior = byMember.get(h.from);
    if (prior === undefined) {
      byMember.set(h.from, msg.envelope);
      return;
    }
    const priorCandidate = (JSON.parse(prior.payload) as MessageHeader<'vote'>).body.candidate;
    if (priorCandidate === body.candidate) return;
    const evidence: DoubleVoteEvidence = { member: h.from, height: h.height, term: h.term, kind: 'vote', first: prior, second: msg.envelope };
    this.store.recordEvidence(evidence, this.now());
    throw new ElectError('double-vote', `member ${h.from} voted for members ${priorCandidate} and ${body.candidate} in term ${h.term}`);
  }

  private onTick(): void {
    if (this.stopped) return;
    const now = this.now();
    const roleBefore = this.election.role;
    const termBefore = this.election.term;
    const out = this.election.tick(now, this.logPosition);
    if (out.length > 0 || roleBefore !== this.election.role) this.applyElection(out, roleBefore, termBefore);
    if (this.election.role === 'leader') this.leaderTick(now);
    if (now - this.lastStatusMs >= 1_000) {
      this.lastStatusMs = now;
      const s = this.status;
      this.send('status', s.term, s.tipHeight, { state: s.role, leader: s.leader, tipHeight: s.tipHeight, tipHash: s.tipHash, hashesPerSecond: s.hashesPerSecond });
    }
  }

  private onBecameLeader(): void {
    const term = this.election.term;
    this.logger.info({ term, tipHeight: this.tipHeight }, 'elected leader');
    this.transport.publishRetained(LEADER_TOPIC, JSON.stringify({ term, leader: this.self, session: this.session }));
    this.round = undefined;
    this.startRound();
  }

  /** Leader: starts the round at tip+1: re-proposes the accepted block if there is one (it may be committed somewhere), else a new challenge. */
  private startRound(): void {
    const now = this.now();
    const term = this.election.term;
    const height = this.tipHeight + 1;
    if (this.accepted !== undefined && this.accepted.height === height) {
      const block = this.accepted.block;
      this.round = { template: block, startedMs: now, proposal: block, lastSentMs: now };
      this.propose(block);
      return;
    }
    const wait = (this.tip?.committedAtMs ?? 0) + this.genesis.minBlockIntervalMs - now;
    if (wait > 0) return; // leaderTick starts it once the interval has passed
    const lastZero = this.tip?.block.zeroBits;
    const zeroBits = this.lastSolveMs === undefined && lastZero !== undefined ? lastZero : computeNextZeroBits(this.genesis, lastZero, this.lastSolveMs);
    const template: ElectBlockTemplate = {
      height,
      prevHash: this.tip?.hash ?? NULL_HASH_HEX,
      term,
      leader: this.self,
      zeroBits,
      txs: [...this.mempool].slice(0, this.maxTxs),
      timeSec: Math.floor(now / 1000),
    };
    this.round = { template, startedMs: now, proposal: undefined, lastSentMs: now };
    this.send('challenge', term, height, { template });
    this.mine(template);
  }

  private propose(block: ElectBlock): void {
    const env = this.send('proposal', this.election.term, block.height, { block });
    // the leader handles its own proposal as every peer does (its yes vote counts)
    this.handle(verifyMessage(this.genesis, env));
  }

  /** Leader: re-sends the round's challenge or proposal now and then (lost messages, late joiners). */
  private leaderTick(now: number): void {
    const r = this.round;
    if (r === undefined) {
      this.startRound();
      return;
    }
    if (r.template.height !== this.tipHeight + 1) {
      this.round = undefined;
      return;
    }
    if (now - r.lastSentMs < this.genesis.heartbeatMs * 2) return;
    r.lastSentMs = now;
    if (r.proposal !== undefined) this.send('proposal', this.election.term, r.proposal.height, { block: r.proposal });
    else this.send('challenge', this.election.term, r.template.height, { template: r.template });
  }

  private mine(template: ElectBlockTemplate): void {
    if (this.mining !== undefined && sameTemplate(this.mining.template, template)) return;
    const jobId = `${template.height}:${template.term}:${this.random().toString(36).slice(2, 10)}`;
    this.mining = { jobId, template };
    this.miner.startJob({ jobId, header80: encodeElectHeader(this.genesis.chainId, { ...template, miner: this.self }), target: targetFromZeroBits(template.zeroBits) });
  }

  private stopMining(): void {
    if (this.mining === undefined) return;
    this.mining = undefined;
    this.miner.stopJob();
  }

  private onFound(found: FoundBlock): void {
    const m = this.mining;
    if (this.stopped || m === undefined || found.jobId !== m.jobId) return;
    this.mining = undefined;
    const block: ElectBlock = { ...m.template, miner: this.self, nonce: found.nonce };
    const env = this.send('solution', m.template.term, block.height, { block });
    this.handle(verifyMessage(this.genesis, env));
  }

  private onRaw(topic: string, payload: Buffer): void {
    if (this.stopped || topic === LEADER_TOPIC) return;
    let msg: VerifiedMessage;
    try {
      msg = verifyMessage(this.genesis, payload);
    } catch (err) {
      this.refuse(err, undefined);
      return;
    }
    if (msg.header.from === this.self && msg.header.type !== 'leave') return; // our own, handled when sent
    try {
      this.handle(msg);
    } catch (err) {
      this.refuse(err, msg.header);
    }
  }

  /** Runs a timer or miner callback: a failure is logged and recorded, never thrown out of the event loop. */
  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.logger.error({ err: err instanceof Error ? err.message : String(err), in: what }, 'elect peer step failed');
      try {
        this.store.recordRefused({ code: err instanceof ElectError ? err.code : 'internal', from: this.self, type: what, reason: String(err), atMs: this.now() });
      } catch {
        // the store itself failed: the log line above says so
      }
    }
  }

  private refuse(err: unknown, header: MessageHeader | undefined): void {
    const code = err instanceof ElectError ? err.code : 'internal';
    const reason = err instanceof Error ? err.message : String(err);
    if (!(err instanceof ElectError)) this.logger.error({ err: reason, type: header?.type }, 'handler failed');
    else this.logger.warn({ code, from: header?.from, type: header?.type, reason }, 'refused a message');
    try {
      this.store.recordRefused({ code, from: header?.from ?? null, type: header?.type ?? null, reason, atMs: this.now() });
    } catch (storeErr) {
      this.logger.error({ err: (storeErr as Error).message }, 'could not record a refused message');
    }
  }

  private handle(msg: VerifiedMessage): void {
    const h = msg.header;
    const now = this.now();
    switch (h.type) {
      case 'hello': {
        const b = h.body as MessageBodies['hello'];
        this.sessions.set(h.from, b.session);
        return;
      }
      case 'leave': {
        const b = h.body as MessageBodies['leave'];
        if (this.sessions.get(h.from) === b.session) this.election.leaderGone(now, h.from);
        return;
      }
      case 'status': {
        // anyone ahead of us (the leader included: it may have missed the votes of a commit) means we catch up
        const tipHeight = (h.body as MessageBodies['status']).tipHeight;
        if (typeof tipHeight === 'number' && tipHeight > this.tipHeight) this.requestSync(now);
        return;
      }
      case 'heartbeat': {
        const b = h.body as MessageBodies['heartbeat'];
        if (h.term < this.election.term) return;
        if (this.verifiedLeader?.term !== h.term || this.verifiedLeader.leader !== h.from) {
          verifyLeaderProof(this.genesis, h.term, h.from, b.proof);
          this.verifiedLeader = { term: h.term, leader: h.from };
        }
        this.sessions.set(h.from, b.session);
        this.electionInput(() => (this.election.onLeaderContact(now, h.term, h.from), []));
        if (b.tipHeight > this.tipHeight) this.requestSync(now);
        return;
      }
      case 'preVoteRequest':
      case 'preVote':
      case 'voteRequest':
        this.electionInput(() => this.election.onMessage(now, h, this.logPosition));
        return;
      case 'vote':
        this.noteElectionVote(msg);
        this.electionInput(() => this.election.onMessage(now, h, this.logPosition));
        return;
      case 'challenge':
        return this.onChallenge(h as MessageHeader<'challenge'>, now);
      case 'solution':
        return this.onSolution(h as MessageHeader<'solution'>);
      case 'proposal':
        return this.onProposal(h as MessageHeader<'proposal'>, now);
      case 'blockVote':
        return this.onBlockVote(msg as VerifiedMessage<'blockVote'>);
      case 'commit':
        return this.onCommitMessage(h as MessageHeader<'commit'>);
      case 'tx': {
        const tx = (h.body as MessageBodies['tx']).tx;
        if (typeof tx !== 'string' || !TX_HEX.test(tx)) throw new ElectError('bad-message', 'a tx is 1..1000 bytes of lowercase hex');
        this.addToMempool(tx);
        return;
      }
      case 'syncRequest':
        return this.onSyncRequest(h as MessageHeader<'syncRequest'>);
      case 'syncResponse':
        return this.onSyncResponse(h as MessageHeader<'syncResponse'>);
    }
  }

  private electionInput(fn: () => ElectionOutgoing[]): void {
    const roleBefore = this.election.role;
    const termBefore = this.election.term;
    const d0 = this.election.durable;
    const out = fn();
    const d1 = this.election.durable;
    if (out.length > 0 || roleBefore !== this.election.role || d0.term !== d1.term || d0.votedFor !== d1.votedFor) this.applyElection(out, roleBefore, termBefore);
  }

  /** A message from the leader of h.term: true when it is the leader we follow (term adopted). */
  private fromLeader(h: MessageHeader, now: number): boolean {
    // only a leader whose proof of election we checked (its heartbeat carries it), or ourselves
    const proven = h.from === this.self ? this.election.role === 'leader' && this.election.term === h.term : this.verifiedLeader?.term === h.term && this.verifiedLeader.leader === h.from;
    if (!proven) return false;
    let ok = false;
    this.electionInput(() => {
      ok = this.election.onLeaderContact(now, h.term, h.from);
      return [];
    });
    return ok && this.election.leader === h.from;
  }

  private onChallenge(h: MessageHeader<'challenge'>, now: number): void {
    const t = h.body.template;
    checkTemplate(this.genesis, t);
    if (t.leader !== h.from || t.term !== h.term || t.height !== h.height) throw new ElectError('bad-message', 'challenge template does not match its envelope');
    if (!this.fromLeader(h, now)) return;
    if (t.height > this.tipHeight + 1) {
      this.requestSync(now);
      return;
    }
    if (t.height !== this.tipHeight + 1) return;
    if (t.prevHash !== (this.tip?.hash ?? NULL_HASH_HEX)) throw new ElectError('bad-prevblk', `challenge at ${t.height} does not build on our tip`);
    if (this.accepted !== undefined && this.accepted.height === t.height) return; // already voted on a block here
    this.mine(t);
  }

  private onSolution(h: MessageHeader<'solution'>): void {
    const block = h.body.block;
    if (block === null || typeof block !== 'object' || block.miner !== h.from) throw new ElectError('bad-message', 'a solution must be signed by its miner');
    if (block.height !== this.tipHeight + 1) return;
    let hash: string;
    try {
      hash = checkElectBlock(this.genesis, block);
      if (block.prevHash !== (this.tip?.hash ?? NULL_HASH_HEX)) throw new ElectError('bad-prevblk', 'solution does not build on our tip');
    } catch (err) {
      // an invalid solution gets a signed no vote, and is recorded
      const reason = err instanceof ElectError ? err.code : 'bad-block';
      this.send('blockVote', h.term, block.height, { blockHash: safeHash(this.genesis.chainId, block), yes: false, reason });
      throw err;
    }
    this.known.set(hash, block);
    const r = this.round;
    if (this.election.role === 'leader' && r !== undefined && r.proposal === undefined && sameTemplate(r.template, block)) {
      r.proposal = block;
      this.lastSolveMs = this.now() - r.startedMs;
      r.lastSentMs = this.now();
      this.stopMining();
      for (const l of this.proposalListeners) l(block.height, r.lastSentMs);
      this.propose(block);
    }
  }

  private onProposal(h: MessageHeader<'proposal'>, now: number): void {
    const block = h.body.block;
    if (h.height !== block?.height) throw new ElectError('bad-message', 'proposal height does not match its block');
    if (!this.fromLeader(h, now) && h.from !== this.self) return;
    if (block.height > this.tipHeight + 1) {
      this.requestSync(now);
      return;
    }
    if (block.height <= this.tipHeight) {
      // the leader re-proposes a block we committed: it missed the votes; hand it the certified block
      this.resendCommit(block.height, now);
      return;
    }
    const hash = checkElectBlock(this.genesis, block);
    if (block.prevHash !== (this.tip?.hash ?? NULL_HASH_HEX)) throw new ElectError('bad-prevblk', `proposal at ${block.height} does not build on our tip`);
    if (block.term > h.term) throw new ElectError('bad-message', 'proposal of a block from a later term');
    this.known.set(hash, block);
    const a = this.accepted;
    if (a !== undefined && a.height === block.height) {
      if (a.hash === hash && a.term === h.term) {
        if (this.myVote !== undefined) this.transport.publish('blockVote', this.myVote); // a repeat: our vote may have been lost
        return;
      }
      // a different block, or the same block in a later term: only a later term may replace what we accepted
      if (h.term <= a.term) {
        this.send('blockVote', h.term, block.height, { blockHash: hash, yes: false, reason: 'accepted-another' });
        return;
      }
      // the lock (with --quorum 2/3): a peer that voted yes for A at this height never votes yes for another block
      // here, whatever the term — A may be committed, and a lying leader of a later term must not get B certified
      if (a.hash !== hash && this.genesis.quorumRule === '2/3') {
        this.logger.warn({ height: block.height, term: h.term, leader: h.from, locked: a.hash, proposed: hash }, 'locked: refused another block at the height');
        this.send('blockVote', h.term, block.height, { blockHash: hash, yes: false, reason: 'locked' });
        return;
      }
    }
    this.stopMining();
    this.accepted = { height: block.height, term: h.term, hash, block };
    this.store.setAccepted(this.accepted, { lock: this.genesis.quorumRule === '2/3' });
    this.myVote = this.send('blockVote', h.term, block.height, { blockHash: hash, yes: true });
    this.onBlockVote(verifyMessage(this.genesis, this.myVote) as VerifiedMessage<'blockVote'>);
  }

  private onBlockVote(msg: VerifiedMessage<'blockVote'>): void {
    const h = msg.header;
    if (h.height <= this.tipHeight || h.height > this.tipHeight + TALLY_WINDOW) return;
    let tally = this.tallies.get(h.height);
    if (tally === undefined) this.tallies.set(h.height, (tally = new VoteTally(this.genesis, h.height)));
    const result = tally.add(msg);
    if (result.kind === 'double-vote') {
      this.logger.warn({ member: h.from, height: h.height, term: h.term }, 'double vote: evidence recorded');
      this.store.recordEvidence(result.evidence, this.now());
      throw new ElectError('double-vote', `member ${h.from} signed two different yes votes at height ${h.height}, term ${h.term}`);
    }
    if (result.kind !== 'counted' || result.certificate === undefined || h.height !== this.tipHeight + 1) return;
    const block = this.known.get(result.certificate.blockHash);
    if (block === undefined) return; // the commit message or a sync brings it
    const cb: CertifiedBlock = { block, certificate: result.certificate };
    const solveMs = this.election.role === 'leader' ? this.lastSolveMs : undefined;
    if (this.commitBlock(cb, solveMs) && this.election.role === 'leader') {
      this.send('commit', this.election.term, block.height, { ...cb, ...(solveMs === undefined ? {} : { solveMs }) });
      this.round = undefined;
      this.startRound();
    }
  }

  private onCommitMessage(h: MessageHeader<'commit'>): void {
    const cb = h.body;
    if (cb?.block === undefined) throw new ElectError('bad-message', 'commit without a block');
    if (cb.block.height > this.tipHeight + 1) {
      this.requestSync(this.now());
      return;
    }
    this.checkAndCommit(cb);
  }

  /** Verifies a certified block and commits it when it extends the tip; a different block at a committed height is a safety alarm. */
  private checkAndCommit(cb: CertifiedBlock): boolean {
    const hash = verifyCertifiedBlock(this.genesis, cb);
    if (cb.block.height <= this.tipHeight) {
      const mine = this.store.getBlock(cb.block.height);
      if (mine !== undefined && mine.hash !== hash) {
        this.logger.fatal({ height: cb.block.height, ours: mine.hash, theirs: hash }, 'SAFETY: a different certified block at a committed height');
        throw new ElectError('conflicting-commit', `certified ${hash} at ${cb.block.height}, we committed ${mine.hash}`);
      }
      return false;
    }
    if (cb.block.height !== this.tipHeight + 1) return false;
    return this.commitBlock(cb, undefined, hash);
  }

  private commitBlock(cb: CertifiedBlock, solveMs: number | undefined, knownHash?: string): boolean {
    const hash = knownHash ?? verifyCertifiedBlock(this.genesis, cb);
    if (!this.store.commit(cb, hash, BigInt(this.genesis.rewardSats), solveMs, this.now())) return false;
    this.tip = this.store.getTip();
    for (const tx of cb.block.txs) {
      this.mempool.delete(tx);
      this.recentlyCommittedTxs.add(tx);
    }
    for (const tx of this.recentlyCommittedTxs) {
      if (this.recentlyCommittedTxs.size <= MAX_MEMPOOL_TXS) break;
      this.recentlyCommittedTxs.delete(tx);
    }
    this.accepted = undefined;
    this.myVote = undefined;
    this.known.clear();
    for (const height of this.tallies.keys()) if (height <= this.tipHeight) this.tallies.delete(height);
    if (this.mining !== undefined && this.mining.template.height <= this.tipHeight) this.stopMining();
    this.logger.info({ height: cb.block.height, hash, miner: cb.block.miner, term: cb.certificate.term, votes: cb.certificate.votes.length }, 'committed');
    const stored = this.tip!;
    for (const l of this.commitListeners) l(stored);
    return true;
  }

  private lastCommitResendMs = 0;

  /** Publishes our certified block at `height` again (at most every 500 ms), for a peer that missed its commit. */
  private resendCommit(height: number, now: number): void {
    if (now - this.lastCommitResendMs < 500) return;
    const stored = this.store.getBlock(height);
    if (stored === undefined) return;
    this.lastCommitResendMs = now;
    this.send('commit', this.election.term, height, { block: stored.block, certificate: stored.certificate });
  }

  private requestSync(now: number): void {
    if (now - this.lastSyncRequestMs < 500) return;
    this.lastSyncRequestMs = now;
    this.send('syncRequest', this.election.term, this.tipHeight, { fromHeight: this.tipHeight + 1 });
  }

  private onSyncRequest(h: MessageHeader<'syncRequest'>): void {
    const from = h.body.fromHeight;
    if (!Number.isSafeInteger(from) || from < 1) throw new ElectError('bad-message', 'fromHeight must be >= 1');
    if (from > this.tipHeight) return;
    // the leader answers, and one other peer in turn (so a lost leader does not stall catch-up, without N answers)
    const helper = (h.from + 1 + Math.floor(this.now() / 2_000)) % this.genesis.members.length;
    if (this.election.role !== 'leader' && this.self !== helper) return;
    // at most SYNC_BATCH_BLOCKS blocks and about half the envelope limit (a block is at least one, whatever its size)
    const blocks: CertifiedBlock[] = [];
    let bytes = 0;
    for (const b of this.store.getBlocks(from, SYNC_BATCH_BLOCKS)) {
      const cb = { block: b.block, certificate: b.certificate };
      bytes += JSON.stringify(cb).length;
      if (blocks.length > 0 && bytes > MAX_ENVELOPE_BYTES / 2) break;
      blocks.push(cb);
    }
    this.send('syncResponse', this.election.term, this.tipHeight, { to: h.from, blocks });
  }

  private onSyncResponse(h: MessageHeader<'syncResponse'>): void {
    if (h.body.to !== this.self || !Array.isArray(h.body.blocks)) return;
    const before = this.tipHeight;
    for (const cb of h.body.blocks) {
      if (cb?.block?.height === this.tipHeight + 1) this.checkAndCommit(cb);
      else if ((cb?.block?.height ?? 0) <= this.tipHeight) this.checkAndCommit(cb); // alarms on a conflict
    }
    if (this.tipHeight > before) {
      // more may follow: ask again at once; a duplicate answer commits nothing and asks nothing, and nobody answers
      // a request from beyond its tip, so this ends when we are caught up
      this.lastSyncRequestMs = 0;
      this.requestSync(this.now());
    }
  }
}

function safeHash(chainId: string, block: ElectBlock): string {
  try {
    return computeElectBlockHash(chainId, block);
  } catch {
    return NULL_HASH_HEX;
  }
}
