/** The shape of `<datadir>/node.json` (the file itself is written and read by api/nodeRuntimeInfo.ts). */

/**
 * `<datadir>/node.json`: what a running node listens on, for scripts, `cairn devnet` and tests (written atomically
 * once the node is up, removed at a clean stop; a file left by a killed node is stale: check `pid`).
 */
export interface NodeRuntimeInfo {
  readonly pid: number;
  readonly network: string;
  readonly nodeName: string | null;
  /** libp2p peer id, or null without networking. */
  readonly peerId: string | null;
  /** Full p2p multiaddrs with /p2p/<id>. */
  readonly p2pAddrs: readonly string[];
  readonly rpcPort: number;
  readonly apiPort: number;
  readonly stratumPort: number | null;
  /** RPC cookie file, or null with --rpcuser. */
  readonly cookieFile: string | null;
  readonly startedAtSec: number;
}
