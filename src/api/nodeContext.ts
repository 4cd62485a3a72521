import type { Chain, ProcessBlockResult } from '../chain/chain.js';
import type { Logger } from '../logging/logger.js';
import type { AcceptTransactionOptions, Mempool, MempoolAcceptResult } from '../mempool/mempool.js';
import type { BlockAssembler } from '../mining/blockAssembler.js';
import type { ChainParams } from '../params/chainParams.js';
import type { Block, Tx } from '../primitives/types.js';
import type { SqliteChainStore } from '../storage/sqliteChainStore.js';

/** One connected peer as getpeerinfo reports it (filled by the p2p layer; empty until it exists). */
export interface PeerInfo {
  readonly id: number | string;
  readonly addr: string;
  readonly inbound: boolean;
  readonly connectedSinceSec: number;
  readonly startingHeight?: number;
  readonly syncedHeaders?: number;
  readonly syncedBlocks?: number;
  readonly banScore?: number;
  /** libp2p peer id, when the peer came over libp2p. */
  readonly peerId?: string;
}

/** What the network layer exposes to the APIs (the node fills it; before p2p exists it reports no peers). */
export interface NetworkInfoSource {
  /** Connected peers. */
  peers(): readonly PeerInfo[];
  /** The node's listening multiaddrs or addresses. */
  localAddresses(): readonly string[];
  /** Core's addnode (absent without networking). @throws Error on an unparsable address */
  addNode?(addr: string, command: 'add' | 'remove' | 'onetry'): void;
  /** Core's disconnectnode by address, peer id or getpeerinfo id; resolves whether a peer was found. */
  disconnectNode?(target: string | number): Promise<boolean>;
  /** Bans in force (Core's listbanned), by libp2p peer id. */
  listBanned?(): readonly { readonly peerId: string; readonly untilMs: number; readonly reason: string }[];
  /** Core's setban by libp2p peer id. */
  setBan?(peerId: string, command: 'add' | 'remove', durationSec?: number): Promise<void>;
  /** Core's clearbanned. */
  clearBanned?(): void;
  /** Core's setnetworkactive. */
  setNetworkActive?(active: boolean): Promise<void>;
  /** Whether networking is active (getnetworkinfo networkactive). */
  isNetworkActive?(): boolean;
}

/** What the miners expose to the APIs: hash rate and whether mining is on. */
export interface MiningInfoSource {
  /** Local miners' hash rate, hashes per second (0 when not mining). */
  hashesPerSecond(): number;
  /** Whether the node's own miners are running. */
  isMining(): boolean;
}

/**
 * Everything the node's interfaces (JSON-RPC, Esplora REST, websocket, metrics, Stratum) need from the node, as one
 * structural interface that node/FullNode satisfies (api/ may not import node/). Blocks and transactions from the
 * interfaces go through submitBlock/submitTransaction: the same validation path as the network's.
 */
export interface NodeContext {
  readonly params: ChainParams;
  readonly chain: Chain;
  readonly mempool: Mempool;
  readonly store: SqliteChainStore;
  readonly blockAssembler: BlockAssembler;
  readonly logger: Logger;
  /** Unix time the node started, seconds (for `uptime`). */
  readonly startedAtSec: number;
  readonly network: NetworkInfoSource;
  readonly mining: MiningInfoSource;
  submitBlock(block: Block): Promise<ProcessBlockResult>;
  /** Offers a tx to the mempool (options: testOnly, the client's fee-rate ceiling). @throws VerifyError */
  submitTransaction(tx: Tx, options?: AcceptTransactionOptions): Promise<MempoolAcceptResult>;
  /**
   * Finds a nonce for the block (generatetoaddress): the node's miner pool when it has one, else the CPU solver.
   * Resolves with the solved block, or null when the nonce space ran out (the caller changes time or extra nonce).
   */
  solveBlock(block: Block): Promise<Block | null>;
  /** Current time, seconds since the epoch (the node's clock). */
  nowSec(): number;
  /** Asks the node process to shut down cleanly (the `stop` RPC); resolves once shutdown has begun. */
  requestShutdown(): void;
}
