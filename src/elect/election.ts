import type { MessageBodies, MessageHeader } from './message.js';

/** A peer's role in a term (Raft's, plus the pre-vote phase). */
export type ElectionRole = 'follower' | 'preCandidate' | 'candidate' | 'leader';

/** A peer's last log position: the (term, height) of its newest committed or accepted block (Raft's lastLogTerm/Index). */
export interface LogPosition {
  readonly lastTerm: number;
  readonly lastHeight: number;
}

/** A message the election wants published (signed and sent by the peer). */
export type ElectionOutgoing =
  | { readonly type: 'preVoteRequest'; readonly term: number; readonly body: MessageBodies['preVoteRequest'] }
  | { readonly type: 'preVote'; readonly term: number; readonly body: MessageBodies['preVote'] }
  | { readonly type: 'voteRequest'; readonly term: number; readonly body: MessageBodies['voteRequest'] }
  | { readonly type: 'vote'; readonly term: number; readonly body: MessageBodies['vote'] }
  | { readonly type: 'heartbeat'; readonly term: number };

/** Options of Election: who we are, the quorum, Raft's timings, and the randomness (injected: tests pass a seeded one). */
export interface ElectionOptions {
  readonly self: number;
  readonly quorum: number;
  readonly electionTimeoutMinMs: number;
  readonly electionTimeoutMaxMs: number;
  readonly heartbeatMs: number;
  /** Uniform in [0, 1). */
  readonly random: () => number;
}

/** The part of the election that must survive a restart (one vote per term): Raft's currentTerm and votedFor. */
export interface ElectionDurable {
  readonly term: number;
  readonly votedFor: number | null;
}

/** Whether log position a is at least as up to date as b (Raft §5.4.1: term first, then height). */
export function logAtLeast(a: LogPosition, b: LogPosition): boolean {
  return a.lastTerm > b.lastTerm || (a.lastTerm === b.lastTerm && a.lastHeight >= b.lastHeight);
}

/**
 * Raft's leader election with pre-vote, as a pure state machine: time is an argument (`nowMs`), randomness is
 * injected, and every call returns the messages to publish. The owner persists `durable` whenever it changes
 * (before publishing what the call returned) so a restarted peer never votes twice in a term.
 * - A follower that hears no leader for a randomized timeout in [min, max) asks for pre-votes for term+1 (nobody's
 *   term changes); a peer grants one only if it has not heard a leader for the minimum timeout itself and the
 *   asker's log is at least as up to date. With a quorum of pre-votes it becomes candidate: term+1, votes for
 *   itself, asks for votes; a peer grants one vote per term, to a candidate whose log is at least as up to date.
 * - A quorum of votes makes a leader, which heartbeats every heartbeatMs. A higher term seen anywhere makes a peer
 *   follower of that term; a leader's last will (leaderGone) lets followers start at once (after a random delay
 *   within the window, which keeps split votes rare).
 * @see Raft (Ongaro & Ousterhout 2014) §5.2, §5.4.1; Ongaro's thesis §9.6 (pre-vote)
 */
export class Election {
  private termValue: number;
  private votedForValue: number | null;
  private roleValue: ElectionRole = 'follower';
  private leaderValue: number | null = null;
  private deadlineMs = 0;
  private lastLeaderContactMs = Number.NEGATIVE_INFINITY;
  private nextHeartbeatMs = 0;
  private readonly granted = new Set<number>();
  /** Term the pre-vote round asks for (term + 1 when it started). */
  private preVoteTerm = 0;
  /** Elections this peer started (candidate rounds), and terms it won: for the bench's split-vote rate. */
  candidacies = 0;
  wins = 0;

  constructor(
    private readonly options: ElectionOptions,
    durable: ElectionDurable,
    nowMs: number,
  ) {
    this.termValue = durable.term;
    this.votedForValue = durable.votedFor;
    this.resetDeadline(nowMs);
  }

  get term(): number {
    return this.termValue;
  }
  get role(): ElectionRole {
    return this.roleValue;
  }
  /** The leader of the current term, when known. */
  get leader(): number | null {
    return this.leaderValue;
  }
  get durable(): ElectionDurable {
    return { term: this.termValue, votedFor: this.votedForValue };
  }
  /** When the next timer fires (ms, the caller's clock): the election deadline, or a leader's next heartbeat. */
  get nextWakeMs(): number {
    return this.roleValue === 'leader' ? this.nextHeartbeatMs : this.deadlineMs;
  }

  /** Advances time: starts a pre-vote on an expired deadline, or sends a leader's heartbeat when due. */
  tick(nowMs: number, log: LogPosition): ElectionOutgoing[] {
    if (this.roleValue === 'leader') {
      if (nowMs < this.nextHeartbeatMs) return [];
      this.nextHeartbeatMs = nowMs + this.options.heartbeatMs;
      return [{ type: 'heartbeat', term: this.termValue }];
    }
    if (nowMs < this.deadlineMs) return [];
    return this.startPreVote(nowMs, log);
  }

  /** The leader of the current term went away (its last will): followers start an election soon. */
  leaderGone(nowMs: number, member: number): void {
    if (member !== this.leaderValue || this.roleValue === 'leader') return;
    this.leaderValue = null;
    this.lastLeaderContactMs = Number.NEGATIVE_INFINITY;
    const width = this.options.electionTimeoutMaxMs - this.options.electionTimeoutMinMs;
    this.deadlineMs = nowMs + Math.floor(this.options.random() * width);
  }

  /**
   * Something from the leader of `term` (heartbeat, challenge, proposal, commit): adopt its term and leadership.
   * Returns false (and changes nothing) when the term is older than ours.
   */
  onLeaderContact(nowMs: number, term: number, leader: number): boolean {
    if (term < this.termValue) return false;
    if (term > this.termValue) this.adoptTerm(term);
    if (this.roleValue === 'leader' && leader !== this.options.self) return false; // two leaders in a term: impossible with one vote each
    if (this.roleValue !== 'leader') this.roleValue = 'follower';
    this.leaderValue = leader;
    this.lastLeaderContactMs = nowMs;
    this.resetDeadline(nowMs);
    return true;
  }

  /** Handles an election message (checked by the caller: member, signature, chain). */
  onMessage(nowMs: number, msg: MessageHeader, log: LogPosition): ElectionOutgoing[] {
    const self = this.options.self;
    if (msg.from === self) return [];
    switch (msg.type) {
      case 'preVoteRequest': {
        const body = msg.body as MessageBodies['preVoteRequest'];
        const leaderFresh = nowMs - this.lastLeaderContactMs < this.options.electionTimeoutMinMs && this.roleValue !== 'leader';
        const granted = msg.term > this.termValue && !leaderFresh && this.roleValue !== 'leader' && logAtLeast(body, log);
        return [{ type: 'preVote', term: msg.term, body: { candidate: msg.from, granted } }];
      }
      case 'preVote': {
        const body = msg.body as MessageBodies['preVote'];
        if (this.roleValue !== 'preCandidate' || body.candidate !== self || msg.term !== this.preVoteTerm || !body.granted) return [];
        this.granted.add(msg.from);
        return this.granted.size >= this.options.quorum ? this.startCandidacy(nowMs, log) : [];
      }
      case 'voteRequest': {
        const body = msg.body as MessageBodies['voteRequest'];
        if (msg.term > this.termValue) this.adoptTerm(msg.term);
        const granted = msg.term === this.termValue && (this.votedForValue === null || this.votedForValue === msg.from) && logAtLeast(body, log);
        if (granted) {
          this.votedForValue = msg.from;
          this.resetDeadline(nowMs);
        }
        return [{ type: 'vote', term: this.termValue, body: { candidate: msg.from, granted } }];
      }
      case 'vote': {
        const body = msg.body as MessageBodies['vote'];
        if (msg.term > this.termValue) {
          this.adoptTerm(msg.term);
          return [];
        }
        if (this.roleValue !== 'candidate' || body.candidate !== self || msg.term !== this.termValue || !body.granted) return [];
        this.granted.add(msg.from);
        return this.granted.size >= this.options.quorum ? this.becomeLeader(nowMs) : [];
      }
      case 'heartbeat':
        this.onLeaderContact(nowMs, msg.term, msg.from);
        return [];
      default:
        return [];
    }
  }

  private startPreVote(nowMs: number, log: LogPosition): ElectionOutgoing[] {
    this.roleValue = 'preCandidate';
    this.leaderValue = null;
    this.preVoteTerm = this.termValue + 1;
    this.granted.clear();
    this.granted.add(this.options.self);
    this.resetDeadline(nowMs);
    if (this.granted.size >= this.options.quorum) return this.startCandidacy(nowMs, log);
    return [{ type: 'preVoteRequest', term: this.preVoteTerm, body: { lastTerm: log.lastTerm, lastHeight: log.lastHeight } }];
  }

  private startCandidacy(nowMs: number, log: LogPosition): ElectionOutgoing[] {
    this.termValue = this.preVoteTerm;
    this.votedForValue = this.options.self;
    this.roleValue = 'candidate';
    this.candidacies++;
    this.granted.clear();
    this.granted.add(this.options.self);
    this.resetDeadline(nowMs);
    if (this.granted.size >= this.options.quorum) return this.becomeLeader(nowMs);
    return [{ type: 'voteRequest', term: this.termValue, body: { lastTerm: log.lastTerm, lastHeight: log.lastHeight } }];
  }

  private becomeLeader(nowMs: number): ElectionOutgoing[] {
    this.roleValue = 'leader';
    this.leaderValue = this.options.self;
    this.wins++;
    this.nextHeartbeatMs = nowMs + this.options.heartbeatMs;
    return [{ type: 'heartbeat', term: this.termValue }];
  }

  private adoptTerm(term: number): void {
    this.termValue = term;
    this.votedForValue = null;
    this.roleValue = 'follower';
    this.leaderValue = null;
    this.granted.clear();
  }

  private resetDeadline(nowMs: number): void {
    const { electionTimeoutMinMs: min, electionTimeoutMaxMs: max } = this.options;
    this.deadlineMs = nowMs + min + Math.floor(this.options.random() * (max - min));
  }
}
