/**
 * `<dir>/devnet.json`: what a `cairn devnet` cluster is made of — every node with its data dir, ports, p2p multiaddr,
 * RPC cookie file and log dir, the log collector, the wallet service, the demo wallet — so scripts and tools can find
 * and talk to it, and a second run on the same dir resumes the same nodes on the same ports. Written atomically (temp file + rename).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DevnetError } from './devnetError.js';
import type { DevnetExchangeRecord } from './devnetExchange.js';

/** Version of the devnet.json layout. */
export const DEVNET_MANIFEST_VERSION = 1;
/** File name of the manifest in the devnet dir. */
export const DEVNET_MANIFEST_FILE = 'devnet.json';

/** The four TCP ports of one node. */
export interface NodePorts {
  readonly p2p: number;
  readonly rpc: number;
  readonly api: number;
  readonly stratum: number;
}

/** One node of the cluster as devnet.json records it. */
export interface DevnetNodeRecord {
  /** `node1`, `node2`, … (also its `--node-name`). */
  readonly name: string;
  /** Data dir: chain.sqlite, the RPC cookie, node.json, logs/. */
  readonly datadir: string;
  readonly ports: NodePorts;
  /** `/ip4/127.0.0.1/tcp/<p2p>` plus `/p2p/<peer id>` once the node has reported its peer id. */
  readonly p2pMultiaddr: string;
  /** libp2p peer id from the node's node.json; null until the node has written it. */
  readonly peerId: string | null;
  /** Base URL of the Esplora REST API, `http://127.0.0.1:<api>/api/`. */
  readonly apiUrl: string;
  /** JSON-RPC URL, `http://127.0.0.1:<rpc>/` (HTTP Basic auth with the cookie file's `__cookie__:<secret>`). */
  readonly rpcUrl: string;
  /** The RPC cookie file (exists while the node runs). */
  readonly cookieFile: string;
  /** The node's rotating NDJSON log dir. */
  readonly logDir: string;
  /** The node's console output (status lines, start-up errors). */
  readonly consoleLog: string;
  /** Payout address of the node's miners: the faucet's address for node1 when the devnet runs the wallet service, else a demo wallet address. */
  readonly miningAddress: string;
  /** Process id of the current (or last) node process; null before the first start. */
  readonly pid: number | null;
}

/** The log collector child. */
export interface DevnetCollectorRecord {
  /** Consolidated logs: `<dir>/YYYY-MM-DD/<module>.ndjson`. */
  readonly dir: string;
  /** Producer log dirs it reads. */
  readonly sources: readonly string[];
  /** Process id of the collector; null when it is not started (command missing). */
  readonly pid: number | null;
}

/** The `cairn wallet-service` child, whose faucet node1's miner funds. */
export interface DevnetWalletServiceRecord {
  /** Base URL of its REST API, `http://127.0.0.1:<port>` (routes under /v1/). */
  readonly url: string;
  readonly port: number;
  /** Its data dir: master key, token secret, SQLite file, logs/ (rotating NDJSON). */
  readonly datadir: string;
  /** The faucet's BIP-39 mnemonic (devnet only, mode 0600), given to it with --faucet-mnemonic-file. */
  readonly faucetMnemonicFile: string;
  /** The faucet's receive address (node1's mining address). */
  readonly faucetAddress: string;
  /** Process id of the service; null before it is started. */
  readonly pid: number | null;
}

/** The `cairn web` child: the UI and its proxy to node1, the wallet service (and later the exchange). */
export interface DevnetWebRecord {
  /** The UI's URL, `http://127.0.0.1:<port>/` — the one a newcomer opens. */
  readonly url: string;
  readonly port: number;
  /** Its log dir (rotating NDJSON), read by the log collector. */
  readonly logDir: string;
  /** Process id of `cairn web`; null before it is started. */
  readonly pid: number | null;
}

/** The whole of devnet.json. */
export interface DevnetManifest {
  readonly version: number;
  readonly network: 'devnet';
  /** Absolute devnet dir. */
  readonly dir: string;
  readonly createdAtSec: number;
  /** The `cairn devnet` process that supervises the cluster. */
  readonly supervisor: { readonly pid: number; readonly running: boolean; readonly startedAtSec: number; readonly logDir: string };
  /** Miner threads per node. */
  readonly minersPerNode: number;
  /** Demo transactions per second. */
  readonly txRate: number;
  readonly nodes: readonly DevnetNodeRecord[];
  readonly collector: DevnetCollectorRecord | null;
  /** The wallet service with the funded faucet; null when this build has no `cairn wallet-service` (absent before it was added). */
  readonly walletService?: DevnetWalletServiceRecord | null;
  /** The web UI; null when this build has no `cairn web` (absent before it was added). */
  readonly web?: DevnetWebRecord | null;
  /** The `cairn exchange serve` child and its URLs; null/absent when this build has no `cairn exchange`. */
  readonly exchange?: DevnetExchangeRecord | null;
  readonly demoWallet: { readonly file: string };
}

/** Path of devnet.json in a devnet dir. */
export function manifestPathOf(dir: string): string {
  return join(dir, DEVNET_MANIFEST_FILE);
}

/** The p2p multiaddr of a node on loopback, with `/p2p/<peerId>` when known. */
export function loopbackMultiaddr(p2pPort: number, peerId: string | null = null): string {
  return `/ip4/127.0.0.1/tcp/${p2pPort}${peerId === null ? '' : `/p2p/${peerId}`}`;
}

function isPort(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= 65535;
}

/**
 * Reads devnet.json of a dir; undefined when there is none.
 * @throws DevnetError bad-manifest (unreadable, not JSON, or missing fields)
 */
export function readManifest(dir: string): DevnetManifest | undefined {
  const path = manifestPathOf(dir);
  if (!existsSync(path)) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new DevnetError('bad-manifest', `cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const m = v as Partial<DevnetManifest>;
  const nodesOk =
    Array.isArray(m.nodes) &&
    m.nodes.every(
      (n: Partial<DevnetNodeRecord>) =>
        typeof n.name === 'string' &&
        typeof n.datadir === 'string' &&
        typeof n.miningAddress === 'string' &&
        n.ports !== undefined &&
        isPort(n.ports.p2p) &&
        isPort(n.ports.rpc) &&
        isPort(n.ports.api) &&
        isPort(n.ports.stratum),
    );
  if (m.version !== DEVNET_MANIFEST_VERSION || m.network !== 'devnet' || !nodesOk || typeof m.supervisor !== 'object') {
    throw new DevnetError('bad-manifest', `${path} is not a devnet.json of version ${DEVNET_MANIFEST_VERSION}`);
  }
  return m as DevnetManifest;
}

/** Writes devnet.json through a temporary file and a rename, so a reader never sees half a file. */
export function writeManifest(manifest: DevnetManifest): void {
  const path = manifestPathOf(manifest.dir);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(manifest, null, 2) + '\n');
  renameSync(tmp, path);
}
