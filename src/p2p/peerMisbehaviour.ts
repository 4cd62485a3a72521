import { BAN_THRESHOLD } from './peers/peerBook.js';

/**
 * The one error for a peer that broke the protocol, thrown wherever p2p code finds it (a malformed or oversized
 * request or response, an invalid block or tx from gossip, a block other than the one asked for, headers that do not
 * link, a peer that keeps requesting after being told to wait) and handed to PeerManager.punish, which adds
 * `banScore` to the peer's misbehaviour score and bans it at BAN_THRESHOLD.
 * `banScore` 0 is not an offence: a peer we cannot talk with (another network or genesis) is disconnected without a
 * score.
 * @see Bitcoin Core net_processing.cpp Misbehaving; bcoin VerifyError(msg, code, reason, score)
 */
export class PeerMisbehaviour extends Error {
  override readonly name = 'PeerMisbehaviour';

  constructor(
    /** What the peer did, for the log and the ban list (`malformed headers request: …`). */
    readonly reason: string,
    /** Points added to the peer's score: 0..BAN_THRESHOLD. */
    readonly banScore: number,
  ) {
    super(reason);
  }

  /** An offence that bans at once (invalid or malformed data). */
  static ban(reason: string): PeerMisbehaviour {
    return new PeerMisbehaviour(reason, BAN_THRESHOLD);
  }

  /** A peer we cannot talk with, disconnected without a score. */
  static incompatible(reason: string): PeerMisbehaviour {
    return new PeerMisbehaviour(reason, 0);
  }
}
