import { join } from 'node:path';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { bootstrap } from '@libp2p/bootstrap';
import { gossipsub, type GossipSub } from '@libp2p/gossipsub';
import { identify } from '@libp2p/identify';
import type { Libp2p, PeerId } from '@libp2p/interface';
import { mdns } from '@libp2p/mdns';
import { tcp } from '@libp2p/tcp';
import { createLibp2p } from 'libp2p';
import type { NetworkInfoSource, PeerInfo } from '../interfaces/networkInfo.js';
import type { Chain } from '../chain/chain.js';
import type { Logger } from '../logging/logger.js';
import type { Mempool } from '../mempool/mempool.js';
import type { ChainParams } from '../params/chainParams.js';
import { decodeBlock } from '../primitives/block.js';
import type { ReceivedBlock, SyncIo } from './blockDownload.js';
import { BlockSync, type SyncProgress } from './blockSync.js';
import { GossipHandlers, type GossipStats } from './gossip/gossipHandlers.js';
import { cairnGossipsubOptions } from './gossip/gossipsubOptions.js';
import { PeerMisbehaviour } from './peerMisbehaviour.js';
import type { BanEntry } from './peers/peerBook.js';
import { PeerManager, type NetworkHealth } from './peers/peerManager.js';
import { loadOrCreatePeerKey } from './peerKey.js';
import { blocksHandler, headersHandler, statusHandler } from './reqresp/handlers.js';
import type { ProtocolLimits } from './reqresp/rateLimiter.js';
import { ReqResp, type ReqRespMethod } from './reqresp/reqResp.js';
import {
  decodeHeaders,
  encodeBlocksRequest,
  encodeHeadersRequest,
  maxBlockMessageBytes,
  MAX_BLOCKS_PER_REQUEST,
  MAX_HEADERS_RESPONSE_BYTES,
  protocolIds,
  type ProtocolIds,
} from './wire.js';

/** Options of the Networker (the CLI maps `cairn node` flags onto it). */
export interface NetworkerOptions {
  readonly params: ChainParams;
  /** Folder of the peer key (`p2p.key`) and the ban list (`banlist.json`). */
  readonly datadir: string;
  /** Listen host (default 127.0.0.1). */
  readonly host?: string;
  /** Listen TCP port; 0 = ephemeral (default: the network's p2p port). */
  readonly port?: number;
  /** Peers to keep connected (`/ip4/…/tcp/…[/p2p/…]` or `host:port`), redialed while not connected (Core's -addnode). */
  readonly connect?: readonly string[];
  /** Bootstrap peers with peer ids (`…/p2p/<id>`), dialed at start through @libp2p/bootstrap. */
  readonly bootstrap?: readonly string[];
  /** Discover peers on the local network with mDNS. */
  readonly mdns?: boolean;
  /** Software name sent in status. */
  readonly userAgent?: string;
  /** Ban duration for misbehaving peers, ms (default 24 h). */
  readonly banDurationMs?: number;
  /** Most connections (default 64). */
  readonly maxConnections?: number;
  /** Inbound request limits per protocol, replacing DEFAULT_REQUEST_LIMITS' entries (tests tighten them). */
  readonly requestLimits?: Partial<Record<ReqRespMethod, ProtocolLimits>>;
  /** Soft cap of one blocks response, bytes (default MAX_BLOCKS_RESPONSE_BYTES; tests lower it). */
  readonly maxBlocksResponseBytes?: number;
  /** Timeout of one request to a peer, ms (default 20,000). */
  readonly requestTimeoutMs?: number;
  /** Interval of the redial and status refresh loop, ms (default 2,000). */
  readonly maintenanceIntervalMs?: number;
}

/** What the Networker drives. */
export interface NetworkerDeps {
  readonly chain: Chain;
  readonly mempool: Mempool;
  readonly logger: Logger;
  readonly nowSec: () => number;
}

/** A ban as listbanned prints it. */
export type BannedPeer = BanEntry;

/**
 * Inbound request limits per protocol and peer, sized from the node's own behaviour so that an honest peer is never
 * refused for asking what it needs at its own pace: BlockSync keeps at most 3 block requests of at most
 * MAX_BLOCKS_PER_REQUEST blocks open per peer, and one headers request; the status exchange runs at connect and on
 * each maintenance tick (2 s). The quotas (over 10 s) are far above that pattern on this hardware (51,200 blocks:
 * 5,120 blocks/s sustained, and bursts of a whole devnet history); past them the server answers RATE_LIMITED with the
 * wait, and only a peer that keeps asking during the wait is scored.
 * @see Lodestar beacon-node network/reqresp/rateLimit.ts (quotas from MAX_REQUEST_BLOCKS)
 */
export const DEFAULT_REQUEST_LIMITS: Readonly<Record<ReqRespMethod, ProtocolLimits>> = {
  status: { maxConcurrent: 2, requests: { quota: 100, quotaTimeMs: 10_000 } },
  headers: { maxConcurrent: 2, requests: { quota: 200, quotaTimeMs: 10_000 } },
  blocks: {
    maxConcurrent: 8,
    items: { quota: 400 * MAX_BLOCKS_PER_REQUEST, quotaTimeMs: 10_000 },
    bytes: { quota: 512 * 1024 * 1024, quotaTimeMs: 10_000 },
  },
};

/**
 * The node's Networker (the origin system's micro-service of that name): a js-libp2p host (TCP + Noise + Yamux +
 * Identify + gossipsub) composed, as Lodestar's network, of
 * - ReqResp: the `status`, `headers` and `blocks` protocols (reqresp/handlers.ts) behind the inbound rate limiter;
 * - PeerManager: the status handshake, the peer table, scores and bans, `--connect` redials, network health;
 * - GossipHandlers: block and tx validation and relay;
 * - BlockSync: headers-first download when a peer has more work.
 * Offences anywhere are PeerMisbehaviour, scored by the PeerManager. The only module that creates libp2p (DESIGN.md).
 * @see Bitcoin Core net_processing.cpp PeerManagerImpl; Lodestar beacon-node network/ (reqresp, gossip, peers)
 */
export class Networker implements NetworkInfoSource {
  private libp2p: Libp2p<{ pubsub: GossipSub }> | undefined;
  private readonly ids: ProtocolIds;
  private readonly reqResp: ReqResp;
  private readonly peerManager: PeerManager;
  private readonly gossip: GossipHandlers;
  private readonly sync: BlockSync;
  private maintenanceTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly options: NetworkerOptions,
    private readonly deps: NetworkerDeps,
  ) {
    const { params } = options;
    this.ids = protocolIds(params);
    const requestTimeoutMs = options.requestTimeoutMs ?? 20_000;
    this.reqResp = new ReqResp(
      {
        protocolIds: { status: this.ids.status, headers: this.ids.headers, blocks: this.ids.blocks },
        limits: { ...DEFAULT_REQUEST_LIMITS, ...options.requestLimits },
        requestTimeoutMs,
      },
      {
        logger: deps.logger,
        onMisbehaviour: (peerId, offence) => this.peerManager.punish(peerId, offence),
        isRefused: (peerId) => this.peerManager.isRefused(peerId),
      },
    );
    this.peerManager = new PeerManager(
      {
        params,
        userAgent: options.userAgent ?? '/cairn:0.1.0/',
        ...(options.banDurationMs !== undefined ? { banDurationMs: options.banDurationMs } : {}),
        banlistFile: join(options.datadir, 'banlist.json'),
        dialTimeoutMs: requestTimeoutMs,
      },
      {
        chain: deps.chain,
        reqResp: this.reqResp,
        logger: deps.logger,
        nowSec: deps.nowSec,
        onBetterPeer: () => this.sync.trigger(),
        onPeerGone: (peerId) => this.reqResp.forgetPeer(peerId),
      },
    );
    this.gossip = new GossipHandlers({
      params,
      ids: this.ids,
      chain: deps.chain,
      mempool: deps.mempool,
      logger: deps.logger,
      punish: (peerId, offence) => this.peerManager.punish(peerId, offence),
      noteBest: (peerId, entry) => this.peerManager.noteBest(peerId, entry),
      triggerSync: (hintPeer) => this.sync.trigger(hintPeer),
    });
    this.sync = new BlockSync({}, deps.chain, this.syncIo(), deps.logger);
    this.reqResp.register(
      statusHandler({ ourStatus: () => this.peerManager.ourStatus(), onStatus: (peerId, status) => this.peerManager.onStatusRequest(peerId, status) }),
    );
    this.reqResp.register(headersHandler(deps.chain));
    this.reqResp.register(blocksHandler(deps.chain, options.maxBlocksResponseBytes));
    for (const addr of options.connect ?? []) this.peerManager.addNode(addr, 'add');
  }

  /** Progress of the block download (for the progress bar, status line and /metrics). */
  get syncProgress(): SyncProgress {
    return this.sync.progress;
  }

  /** Listens for sync progress. Returns an unsubscribe function. */
  onSyncProgress(listener: (progress: SyncProgress) => void): () => void {
    return this.sync.onProgress(listener);
  }

  /** Gossip validation outcomes by topic kind, for /metrics. */
  get gossipStats(): GossipStats {
    return this.gossip.stats;
  }

  /** Inbound requests served and answered RATE_LIMITED since start, by method. */
  get requestStats(): ReqResp['stats'] {
    return this.reqResp.stats;
  }

  /** Peers banned since start. */
  get bansIssued(): number {
    return this.peerManager.bansIssued;
  }

  /** Whether the node is connected to the network (the status line says so when it lost its peers). */
  health(): NetworkHealth {
    return this.peerManager.health();
  }

  /** The libp2p peer id, once started. */
  get peerId(): string {
    return this.requireLibp2p().peerId.toString();
  }

  /** Starts listening, subscribes to the gossip topics and begins dialing the `--connect` peers. */
  async start(): Promise<void> {
    const { params } = this.options;
    const privateKey = await loadOrCreatePeerKey(join(this.options.datadir, 'p2p.key'));
    const host = this.options.host ?? '127.0.0.1';
    const port = this.options.port ?? params.defaultPorts.p2p;
    const listenProto = host.includes(':') ? 'ip6' : 'ip4';
    const peerDiscovery = [];
    if ((this.options.bootstrap ?? []).length > 0) peerDiscovery.push(bootstrap({ list: [...(this.options.bootstrap ?? [])] }));
    if (this.options.mdns) peerDiscovery.push(mdns({ serviceTag: `cairn-${params.name}` }));
    const refused = (peerId: PeerId): boolean => this.peerManager.isRefused(peerId.toString());
    this.libp2p = await createLibp2p({
      // Started below, once the protocol handlers are registered: a peer connecting earlier would find none.
      start: false,
      privateKey,
      addresses: { listen: [`/${listenProto}/${host}/tcp/${port}`] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      peerDiscovery,
      connectionManager: { maxConnections: this.options.maxConnections ?? 64 },
      // Banned peers, and everyone while setnetworkactive is false, are refused before any protocol runs.
      connectionGater: {
        denyDialPeer: refused,
        denyInboundEncryptedConnection: refused,
        denyOutboundEncryptedConnection: refused,
      },
      services: {
        identify: identify(),
        pubsub: gossipsub(cairnGossipsubOptions(params)),
      },
    });
    const node = this.libp2p;
    await this.reqResp.start(node);
    this.peerManager.start(node);
    this.gossip.install(node.services.pubsub);
    await node.start();
    this.gossip.start();
    this.maintenanceTimer = setInterval(() => void this.peerManager.maintain(), this.options.maintenanceIntervalMs ?? 2000);
    this.maintenanceTimer.unref();
    void this.peerManager.maintain();
    this.deps.logger.info({ peerId: node.peerId.toString(), addrs: this.localAddresses() }, 'p2p listening');
  }

  /** Full multiaddrs others can dial (with /p2p/<id>). */
  localAddresses(): readonly string[] {
    if (this.libp2p === undefined) return [];
    return this.libp2p.getMultiaddrs().map((a) => a.toString());
  }

  /** Connected peers that finished the status handshake, as getpeerinfo shows them. */
  peers(): readonly PeerInfo[] {
    return this.peerManager.peerInfos();
  }

  /**
   * Core's addnode: `add` keeps the peer connected (redialing), `remove` stops that (and disconnects it), `onetry`
   * dials once. @throws Error on an unparsable address
   */
  addNode(addr: string, command: 'add' | 'remove' | 'onetry'): void {
    this.peerManager.addNode(addr, command);
  }

  /** Core's disconnectnode, by address (as getpeerinfo shows it), peer id, or getpeerinfo id. Returns whether found. */
  disconnectNode(target: string | number): Promise<boolean> {
    return this.peerManager.disconnectNode(target);
  }

  /** Core's setnetworkactive: false disconnects every peer and stops dialing and accepting until true. */
  setNetworkActive(active: boolean): Promise<void> {
    return this.peerManager.setNetworkActive(active);
  }

  /** Whether the network is active (setnetworkactive). */
  isNetworkActive(): boolean {
    return this.peerManager.isNetworkActive();
  }

  /** Bans in force (Core's listbanned). */
  listBanned(): BannedPeer[] {
    return this.peerManager.listBanned();
  }

  /** Core's setban by peer id: `add` bans (and disconnects), `remove` lifts. */
  setBan(peerId: string, command: 'add' | 'remove', durationSec?: number): Promise<void> {
    return this.peerManager.setBan(peerId, command, durationSec);
  }

  /** Core's clearbanned. */
  clearBanned(): void {
    this.peerManager.clearBanned();
  }

  /** Waits until the running sync round (if any) is over. For tests and benchmarks. */
  syncIdle(): Promise<void> {
    return this.sync.idle();
  }

  /** Stops the sync, unsubscribes and stops libp2p (closing every connection). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.maintenanceTimer) clearInterval(this.maintenanceTimer);
    this.peerManager.stop();
    this.gossip.stop();
    await this.sync.close();
    await this.libp2p?.stop();
  }

  private requireLibp2p(): Libp2p<{ pubsub: GossipSub }> {
    if (this.libp2p === undefined) throw new Error('the networker is not started');
    return this.libp2p;
  }

  /** The sync's network operations: ReqResp requests to a connected peer, decoded. */
  private syncIo(): SyncIo {
    const peerIdOf = (id: string): PeerId => {
      const peerId = this.peerManager.peerIdOf(id);
      if (peerId === undefined) throw new Error('peer gone');
      return peerId;
    };
    return {
      peers: () => this.peerManager.syncPeers(),
      requestHeaders: async (id, request) => {
        const [payload] = await this.reqResp.request(this.requireLibp2p(), peerIdOf(id), 'headers', encodeHeadersRequest(request), {
          maxChunks: 1,
          maxPayloadBytes: MAX_HEADERS_RESPONSE_BYTES,
        });
        // No headers: the stream closed without a chunk (the peer hangs up) or with RESOURCE_UNAVAILABLE. Neither is
        // a malformed response, so not scored (see PeerManager.exchangeStatus).
        if (payload === undefined) throw new Error('the peer sent no headers (it closed the stream or had none to give)');
        try {
          return decodeHeaders(payload);
        } catch (err) {
          const offence = PeerMisbehaviour.ban(`malformed headers: ${(err as Error).message}`);
          this.peerManager.punish(id, offence);
          throw offence;
        }
      },
      requestBlocks: async (id, hashes) => {
        const payloads = await this.reqResp.request(this.requireLibp2p(), peerIdOf(id), 'blocks', encodeBlocksRequest(hashes), {
          maxChunks: hashes.length,
          maxPayloadBytes: maxBlockMessageBytes(this.options.params),
        });
        return payloads.map((payload, i): ReceivedBlock | undefined => {
          if (payload === undefined) return undefined;
          let block;
          try {
            block = decodeBlock(payload);
          } catch (err) {
            const offence = PeerMisbehaviour.ban(`malformed block: ${(err as Error).message}`);
            this.peerManager.punish(id, offence);
            throw offence;
          }
          // Not relayed as ours when it becomes the tip: it came from the network.
          this.gossip.noteFromNetwork(hashes[i]!);
          return { block, sizeBytes: payload.length };
        });
      },
      punish: (id, offence) => this.peerManager.punish(id, offence),
      noteBest: (id, entry) => this.peerManager.noteBest(id, entry),
    };
  }
}
