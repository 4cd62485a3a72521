/** What the node's miners report (getmininginfo, the devnet table). */

/** What the miners expose to the APIs: hash rate and whether mining is on. */
export interface MiningInfoSource {
  /** Local miners' hash rate, hashes per second (0 when not mining). */
  hashesPerSecond(): number;
  /** Whether the node's own miners are running. */
  isMining(): boolean;
}
