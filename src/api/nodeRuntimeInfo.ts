import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Name of the file a running node writes in its data dir. */
export const NODE_RUNTIME_FILE = 'node.json';

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

/** Path of node.json in a data dir. */
export function nodeRuntimeFile(datadir: string): string {
  return join(datadir, NODE_RUNTIME_FILE);
}

/** Writes node.json atomically (temp file + rename). */
export function writeNodeRuntimeInfo(datadir: string, info: NodeRuntimeInfo): void {
  const file = nodeRuntimeFile(datadir);
  writeFileSync(`${file}.tmp`, JSON.stringify(info, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
}

/** Removes node.json (at a clean stop). */
export function removeNodeRuntimeInfo(datadir: string): void {
  rmSync(nodeRuntimeFile(datadir), { force: true });
}

/** The node.json of a data dir, or undefined when there is none or it cannot be parsed (being written). */
export function readNodeRuntimeInfo(datadir: string): NodeRuntimeInfo | undefined {
  const file = nodeRuntimeFile(datadir);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as NodeRuntimeInfo;
  } catch {
    return undefined;
  }
}
