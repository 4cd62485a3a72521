/**
 * The shape of `GET /web/status`, which `cairn web` answers and the web UI reads: which upstream services it proxies,
 * whether each answers, and the devnet's nodes (height, peers, own hash rate) when it was told of them. Pure types:
 * shared by the server (src/web) and the UI (web/), no I/O.
 */

/** The upstream services `cairn web` proxies, by the path prefix the UI uses. */
export type WebServiceName = 'node' | 'walletService' | 'exchange';

/** One proxied service as the last probe saw it. */
export interface WebServiceStatus {
  /** Path prefix on the web origin: `/api` (node REST), `/v1` (wallet service), `/exchange` (exchange gateway). */
  readonly prefix: string;
  /** The upstream base URL it forwards to; absent when the service is not configured. */
  readonly upstream?: string;
  /** False when not configured (`--exchange` not given): its pages say so instead of failing. */
  readonly configured: boolean;
  /** True when the last probe got an HTTP answer. */
  readonly up: boolean;
  /** Why it is down (connection refused, timeout, HTTP status), when it is. */
  readonly error?: string;
}

/** A node of the devnet as its /metrics said it at the last probe. */
export interface WebNodeStatus {
  readonly name: string;
  /** The node's Esplora REST base URL (as devnet.json or --peer-node gave it). */
  readonly apiUrl: string;
  readonly up: boolean;
  readonly height?: number;
  readonly peers?: number;
  readonly mempoolTxs?: number;
  /** The node's own miners' hash rate, hashes per second (0 when it does not mine). */
  readonly hashRateHps?: number;
  readonly error?: string;
}

/** The whole `GET /web/status` answer. */
export interface WebStatus {
  /** The network the services run (as the wallet service or the node says; `unknown` before the first answer). */
  readonly network: string;
  readonly services: Readonly<Record<WebServiceName, WebServiceStatus>>;
  /** The devnet's nodes (empty unless `cairn web` was given --devnet or --peer-node). */
  readonly nodes: readonly WebNodeStatus[];
  /** When this status was taken, ms since the epoch. */
  readonly checkedAtMs: number;
}
