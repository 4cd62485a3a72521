import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Misbehaviour score at which a peer is disconnected and banned (Bitcoin Core's DISCOURAGEMENT_THRESHOLD). */
export const BAN_THRESHOLD = 100;
/** Default ban duration, ms (Bitcoin Core's DEFAULT_MISBEHAVING_BANTIME: 24 h). */
export const DEFAULT_BAN_DURATION_MS = 24 * 60 * 60 * 1000;

/** One ban: which peer id, until when (epoch ms) and why. */
export interface BanEntry {
  readonly peerId: string;
  readonly untilMs: number;
  readonly reason: string;
}

/** What misbehave() decided. */
export interface MisbehaveOutcome {
  /** The peer's score after this offence. */
  readonly score: number;
  /** True when this offence crossed BAN_THRESHOLD: the caller must disconnect the peer. */
  readonly banned: boolean;
}

/**
 * Misbehaviour scores of connected peers and timed bans, by libp2p peer id. A peer that sends invalid data collects
 * points (a consensus-invalid block: 100, a malformed or oversized message: 100, a flood of requests: 10 each);
 * at BAN_THRESHOLD it is banned for the ban duration and the connection gater refuses it until then. Bans survive a
 * restart in `<datadir>/banlist.json` (written atomically).
 * @see Bitcoin Core net_processing.cpp Misbehaving, banman.cpp BanMan
 */
export class PeerBook {
  private readonly scores = new Map<string, number>();
  private readonly bans = new Map<string, BanEntry>();

  /**
   * @param banDurationMs how long a ban lasts
   * @param banlistFile where bans are kept across restarts (undefined: memory only)
   * @param nowMs clock, epoch ms
   */
  constructor(
    private readonly banDurationMs: number = DEFAULT_BAN_DURATION_MS,
    private readonly banlistFile?: string,
    private readonly nowMs: () => number = Date.now,
  ) {
    if (banlistFile !== undefined) this.load(banlistFile);
  }

  /** Adds `points` to a peer's score for `reason`; bans it when the score reaches BAN_THRESHOLD. */
  misbehave(peerId: string, points: number, reason: string): MisbehaveOutcome {
    if (this.isBanned(peerId)) return { score: this.scores.get(peerId) ?? BAN_THRESHOLD, banned: false };
    const score = (this.scores.get(peerId) ?? 0) + points;
    this.scores.set(peerId, score);
    if (score < BAN_THRESHOLD) return { score, banned: false };
    this.ban(peerId, reason);
    return { score, banned: true };
  }

  /** Bans a peer for the ban duration. */
  ban(peerId: string, reason: string, durationMs: number = this.banDurationMs): void {
    this.bans.set(peerId, { peerId, untilMs: this.nowMs() + durationMs, reason });
    this.save();
  }

  /** Lifts a ban. Returns whether there was one. */
  unban(peerId: string): boolean {
    const had = this.bans.delete(peerId);
    this.scores.delete(peerId);
    if (had) this.save();
    return had;
  }

  /** Whether the peer is banned now (an expired ban is dropped). */
  isBanned(peerId: string): boolean {
    const ban = this.bans.get(peerId);
    if (ban === undefined) return false;
    if (ban.untilMs > this.nowMs()) return true;
    this.bans.delete(peerId);
    this.scores.delete(peerId);
    this.save();
    return false;
  }

  /** A peer's current score (0 when it never misbehaved). */
  score(peerId: string): number {
    return this.scores.get(peerId) ?? 0;
  }

  /** Forgets the score of a peer that disconnected without being banned (Core keeps scores per connection). */
  forgetScore(peerId: string): void {
    if (!this.bans.has(peerId)) this.scores.delete(peerId);
  }

  /** Every ban in force, as Core's listbanned. */
  listBanned(): BanEntry[] {
    const now = this.nowMs();
    return [...this.bans.values()].filter((b) => b.untilMs > now);
  }

  private load(file: string): void {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return;
    }
    try {
      const parsed = JSON.parse(text) as unknown;
      if (!Array.isArray(parsed)) return;
      for (const item of parsed as Partial<BanEntry>[]) {
        if (typeof item.peerId === 'string' && typeof item.untilMs === 'number') {
          this.bans.set(item.peerId, { peerId: item.peerId, untilMs: item.untilMs, reason: String(item.reason ?? '') });
        }
      }
    } catch {
      // A damaged ban list is dropped: bans are a policy, not state the node needs.
    }
  }

  private save(): void {
    if (this.banlistFile === undefined) return;
    mkdirSync(dirname(this.banlistFile), { recursive: true });
    const tmp = `${this.banlistFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.listBanned(), null, 1));
    renameSync(tmp, this.banlistFile);
  }
}
