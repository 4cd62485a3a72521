import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { bootstrap } from '@libp2p/bootstrap';
import { gossipsub, StrictNoSign, TopicValidatorResult, type GossipSub, type GossipsubOpts, type Message } from '@libp2p/gossipsub';
import { identify } from '@libp2p/identify';
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface';
import { mdns } from '@libp2p/mdns';
import { tcp } from '@libp2p/tcp';
import { lpStream } from '@libp2p/utils';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import type { NetworkInfoSource, PeerInfo } from '../interfaces/networkInfo.js';
import type { Chain } from '../chain/chain.js';
import { hasData } from '../chain/blockIndex.js';
import { VerifyError } from '../consensus/verifyError.js';
import type { Logger } from '../logging/logger.js';
import type { Mempool } from '../mempool/mempool.js';
import type { ChainParams } from '../params/chainParams.js';
import { decodeBlock } from '../primitives/block.js';
import { computeBlockHash } from '../primitives/blockHeader.js';
import { bytesEqual, hashToHex, hexToHash } from '../primitives/hex.js';
import { computeTxid, decodeTx, encodeTx } from '../primitives/tx.js';
import type { Block, BlockHeader, Hash256, Tx } from '../primitives/types.js';
import type { BlockIndexEntry } from '../interfaces/chainTypes.js';
import { BlockSync, type SyncIo, type SyncPeer, type SyncProgress } from './blockSync.js';
import { BAN_THRESHOLD, PeerBook, type BanEntry } from './peerBook.js';
import { loadOrCreatePeerKey } from './peerKey.js';
import { TxOrphanage } from './txOrphanage.js';
import {
  decodeBlocksRequest,
  decodeHeaders,
  decodeHeadersRequest,
  decodeStatus,
  encodeBlocksRequest,
  encodeHeaders,
  encodeHeadersRequest,
  encodeStatus,
  maxBlockMessageBytes,
  MAX_HEADERS_PER_RESPONSE,
  MAX_HEADERS_RESPONSE_BYTES,
  MAX_REQUEST_BYTES,
  MAX_STATUS_BYTES,
  MAX_TX_MESSAGE_BYTES,
  protocolIds,
  type HeadersRequest,
  type ProtocolIds,
  type StatusMessage,
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
  /** Requests a peer may make per second on each request protocol, with a burst of twice that (default 50). */
  readonly requestsPerSec?: number;
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

/** One connected peer as the Networker tracks it. */
interface PeerState {
  readonly peerId: PeerId;
  readonly id: string;
  /** Small number shown by getpeerinfo (Core's peer id). */
  readonly seq: number;
  addr: string;
  readonly inbound: boolean;
  readonly connectedSinceSec: number;
  status: StatusMessage | undefined;
  /** Most work the peer is known to have. */
  bestWork: bigint;
  bestHeight: number;
  startingHeight: number;
  /** Token buckets of request rate limiting, by protocol. */
  readonly buckets: Map<string, { tokens: number; lastMs: number }>;
}

/** A ban as listbanned prints it. */
export type BannedPeer = BanEntry;

/** Outcome of a gossip validation, counted by /metrics. */
type GossipOutcome = 'accept' | 'ignore' | 'reject';

/** Blocks and txs received from the network recently, so they are not published back as local ones. */
class RecentSet {
  private readonly items = new Set<string>();
  constructor(private readonly max: number) {}
  add(key: string): void {
    this.items.add(key);
    if (this.items.size > this.max) {
      const first = this.items.values().next().value;
      if (first !== undefined) this.items.delete(first);
    }
  }
  has(key: string): boolean {
    return this.items.has(key);
  }
}

/** Raised for a peer that breaks the protocol; `points` is its misbehaviour score. */
class ProtocolViolation extends Error {
  constructor(
    message: string,
    readonly points: number,
  ) {
    super(message);
  }
}

function toBytes(data: Uint8Array | { subarray(): Uint8Array }): Uint8Array {
  return data instanceof Uint8Array ? data : data.subarray();
}

/**
 * cairn's gossipsub settings: unsigned messages (StrictNoSign; blocks and txs prove themselves), content-addressed
 * message ids (sha256 of topic and data, so the same block or tx from two sources is one message), flood publishing,
 * and inbound messages up to the largest block frame. Exported so test peers speak exactly what nodes speak.
 */
export function cairnGossipsubOptions(params: ChainParams): Partial<GossipsubOpts> {
  return {
    globalSignaturePolicy: StrictNoSign,
    msgIdFn: (msg: Message) => createHash('sha256').update(msg.topic).update(msg.data).digest(),
    allowPublishToZeroTopicPeers: true,
    emitSelf: false,
    floodPublish: true,
    maxInboundDataLength: maxBlockMessageBytes(params) + 4096,
  };
}

/** Multiaddr of `host:port` or a multiaddr string. @throws Error on an unparsable address */
export function parsePeerAddress(addr: string): Multiaddr {
  if (addr.startsWith('/')) return multiaddr(addr);
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(addr);
  if (m === null) throw new Error(`peer address ${addr}: expected host:port or a multiaddr like /ip4/127.0.0.1/tcp/28733`);
  const host = m[1]!;
  const proto = host.includes(':') ? 'ip6' : /^[\d.]+$/.test(host) ? 'ip4' : 'dns4';
  return multiaddr(`/${proto}/${host}/tcp/${m[2]}`);
}

/**
 * The node's Networker (the origin system's micro-service of that name): a js-libp2p host (TCP + Noise + Yamux +
 * Identify) that
 * - exchanges `status` with every new peer and refuses one on another network or genesis (it does not even speak
 *   our protocol ids, which carry the network and genesis prefix);
 * - serves `headers` (by locator) and `blocks` (by hash) requests, with size and rate limits;
 * - relays blocks and transactions over gossipsub, with validators that accept only what passes consensus (Reject =
 *   the sender is scored; Ignore = already known, orphan, or mere policy);
 * - runs the headers-first BlockSync when a peer has more work, so initial download and reorgs learned from peers
 *   happen by themselves;
 * - scores misbehaviour and bans at BAN_THRESHOLD (disconnect + connection gater);
 * - keeps `--connect` peers connected, redialing them.
 * The only module that imports libp2p (DESIGN.md, Layers).
 * @see Bitcoin Core net_processing.cpp PeerManagerImpl; Lodestar network/ (gossip validators, reqresp)
 */
export class Networker implements NetworkInfoSource {
  private libp2p: Libp2p<{ pubsub: GossipSub }> | undefined;
  private readonly ids: ProtocolIds;
  private readonly peersById = new Map<string, PeerState>();
  private readonly book: PeerBook;
  private readonly sync: BlockSync;
  private readonly addedNodes = new Map<string, { addr: Multiaddr; peerId?: string; dialing: boolean }>();
  private readonly fromNetwork = new RecentSet(20_000);
  /** Relayed txs whose parents are not known yet. */
  private readonly orphans = new TxOrphanage();
  private readonly unsubscribers: (() => void)[] = [];
  private maintenanceTimer: NodeJS.Timeout | undefined;
  private peerSeq = 0;
  private stopped = false;
  private networkActive = true;
  private refreshingStatus = false;
  /** Gossip validation outcomes by topic kind, for /metrics. */
  readonly gossipStats = { block: { accept: 0, ignore: 0, reject: 0 }, tx: { accept: 0, ignore: 0, reject: 0 } };
  /** Peers banned since start. */
  bansIssued = 0;

  constructor(
    private readonly options: NetworkerOptions,
    private readonly deps: NetworkerDeps,
  ) {
    this.ids = protocolIds(options.params);
    this.book = new PeerBook(options.banDurationMs, join(options.datadir, 'banlist.json'));
    this.sync = new BlockSync({}, deps.chain, this.syncIo(), deps.logger);
    for (const addr of options.connect ?? []) this.addNode(addr, 'add');
  }

  /** Progress of the block download (for the progress bar, status line and /metrics). */
  get syncProgress(): SyncProgress {
    return this.sync.progress;
  }

  /** Listens for sync progress. Returns an unsubscribe function. */
  onSyncProgress(listener: (progress: SyncProgress) => void): () => void {
    this.sync.on('progress', listener);
    return () => this.sync.off('progress', listener);
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
    const book = this.book;
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
        denyDialPeer: (peerId: PeerId) => !this.networkActive || book.isBanned(peerId.toString()),
        denyInboundEncryptedConnection: (peerId: PeerId) => !this.networkActive || book.isBanned(peerId.toString()),
        denyOutboundEncryptedConnection: (peerId: PeerId) => !this.networkActive || book.isBanned(peerId.toString()),
      },
      services: {
        identify: identify(),
        pubsub: gossipsub(cairnGossipsubOptions(params)),
      },
    });
    const node = this.libp2p;
    await node.handle(this.ids.status, (stream, connection) => this.serve(stream, connection, this.ids.status), { runOnLimitedConnection: false });
    await node.handle(this.ids.headers, (stream, connection) => this.serve(stream, connection, this.ids.headers), { runOnLimitedConnection: false });
    await node.handle(this.ids.blocks, (stream, connection) => this.serve(stream, connection, this.ids.blocks), { runOnLimitedConnection: false });
    node.addEventListener('peer:connect', (evt) => this.onPeerConnect(evt.detail));
    node.addEventListener('peer:disconnect', (evt) => this.onPeerDisconnect(evt.detail));
    const pubsub = node.services.pubsub;
    pubsub.topicValidators.set(this.ids.blockTopic, (peer, msg) => this.validateGossipBlock(peer, msg));
    pubsub.topicValidators.set(this.ids.txTopic, (peer, msg) => this.validateGossipTx(peer, msg));
    await node.start();
    pubsub.subscribe(this.ids.blockTopic);
    pubsub.subscribe(this.ids.txTopic);
    this.unsubscribers.push(
      this.deps.chain.on('tipChanged', ({ tip }) => this.relayTip(tip)),
      // A parent may be confirmed without passing through our mempool.
      this.deps.chain.on('blockConnected', ({ txids }) => {
        if (this.orphans.size > 0) for (const txid of txids) this.retryOrphansOf(hashToHex(txid));
      }),
      this.deps.mempool.on('added', (entry) => {
        this.relayTx(entry.tx);
        this.retryOrphansOf(hashToHex(entry.txid));
      }),
    );
    this.maintenanceTimer = setInterval(() => void this.maintain(), this.options.maintenanceIntervalMs ?? 2000);
    this.maintenanceTimer.unref();
    void this.maintain();
    this.deps.logger.info({ peerId: node.peerId.toString(), addrs: this.localAddresses() }, 'p2p listening');
  }

  /** Full multiaddrs others can dial (with /p2p/<id>). */
  localAddresses(): readonly string[] {
    if (this.libp2p === undefined) return [];
    return this.libp2p.getMultiaddrs().map((a) => a.toString());
  }

  /** Connected peers that finished the status handshake, as getpeerinfo shows them. */
  peers(): readonly PeerInfo[] {
    return [...this.peersById.values()]
      .filter((p) => p.status !== undefined)
      .map((p) => ({
        id: p.seq,
        addr: p.addr,
        inbound: p.inbound,
        connectedSinceSec: p.connectedSinceSec,
        startingHeight: p.startingHeight,
        syncedHeaders: p.bestHeight,
        syncedBlocks: Math.min(p.bestHeight, this.deps.chain.height),
        banScore: this.book.score(p.id),
        peerId: p.id,
      }));
  }

  /**
   * Core's addnode: `add` keeps the peer connected (redialing), `remove` stops that (and disconnects it), `onetry`
   * dials once. @throws Error on an unparsable address
   */
  addNode(addr: string, command: 'add' | 'remove' | 'onetry'): void {
    const ma = parsePeerAddress(addr);
    const key = ma.toString();
    if (command === 'add') {
      const peerId = peerIdOf(ma);
      this.addedNodes.set(key, { addr: ma, ...(peerId !== undefined ? { peerId } : {}), dialing: false });
      void this.maintain();
    } else if (command === 'remove') {
      const added = this.addedNodes.get(key);
      this.addedNodes.delete(key);
      if (added?.peerId !== undefined) void this.disconnectPeer(added.peerId);
    } else {
      void this.dial(ma).catch((err: unknown) => this.deps.logger.info({ addr, err: (err as Error).message }, 'onetry dial failed'));
    }
  }

  /** Core's disconnectnode, by address (as getpeerinfo shows it), peer id, or getpeerinfo id. Returns whether found. */
  async disconnectNode(target: string | number): Promise<boolean> {
    const peer = [...this.peersById.values()].find(
      (p) => p.seq === target || p.id === target || p.addr === target || (typeof target === 'string' && p.addr.startsWith(target)),
    );
    if (peer === undefined) return false;
    await this.disconnectPeer(peer.id);
    return true;
  }

  /** Core's setnetworkactive: false disconnects every peer and stops dialing and accepting until true. */
  async setNetworkActive(active: boolean): Promise<void> {
    this.networkActive = active;
    if (!active) await Promise.all([...this.peersById.keys()].map((id) => this.disconnectPeer(id)));
    else void this.maintain();
  }

  /** Whether the network is active (setnetworkactive). */
  isNetworkActive(): boolean {
    return this.networkActive;
  }

  /** Bans in force (Core's listbanned). */
  listBanned(): BannedPeer[] {
    return this.book.listBanned();
  }

  /** Core's setban by peer id: `add` bans (and disconnects), `remove` lifts. */
  async setBan(peerId: string, command: 'add' | 'remove', durationSec?: number): Promise<void> {
    if (command === 'remove') {
      this.book.unban(peerId);
      return;
    }
    this.book.ban(peerId, 'manually banned', durationSec !== undefined ? durationSec * 1000 : undefined);
    this.bansIssued++;
    await this.disconnectPeer(peerId);
  }

  /** Core's clearbanned. */
  clearBanned(): void {
    for (const b of this.book.listBanned()) this.book.unban(b.peerId);
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
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    await this.sync.close();
    await this.libp2p?.stop();
  }

  // --- connections -------------------------------------------------------------------------------------------------

  private requireLibp2p(): Libp2p<{ pubsub: GossipSub }> {
    if (this.libp2p === undefined) throw new Error('the networker is not started');
    return this.libp2p;
  }

  private async dial(ma: Multiaddr): Promise<Connection> {
    const node = this.requireLibp2p();
    return node.dial(ma, { signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 20_000) });
  }

  /** Redials `--connect` peers and refreshes every peer's status (so a missed block is noticed within seconds). */
  private async maintain(): Promise<void> {
    if (this.stopped || this.libp2p === undefined || !this.networkActive) return;
    const node = this.libp2p;
    for (const added of this.addedNodes.values()) {
      if (added.dialing) continue;
      if (added.peerId !== undefined && node.getConnections().some((c) => c.remotePeer.toString() === added.peerId)) continue;
      if (added.peerId !== undefined && this.book.isBanned(added.peerId)) continue;
      added.dialing = true;
      this.dial(added.addr)
        .then((connection) => {
          added.peerId = connection.remotePeer.toString();
        })
        .catch((err: unknown) => {
          this.deps.logger.debug({ addr: added.addr.toString(), err: (err as Error).message }, 'dial failed; will retry');
        })
        .finally(() => {
          added.dialing = false;
        });
    }
    // Status refresh, in parallel and never overlapping itself (a slow peer must not stack up refresh rounds).
    if (this.refreshingStatus) return;
    this.refreshingStatus = true;
    try {
      const peers = [...this.peersById.values()].filter((p) => p.status !== undefined);
      // A peer that stopped answering is dropped by libp2p's keep-alive; its failed refresh needs nothing here.
      await Promise.allSettled(peers.map((peer) => this.exchangeStatus(peer)));
      if (peers.some((peer) => peer.bestWork > this.deps.chain.tip.chainWork)) this.sync.trigger();
    } finally {
      this.refreshingStatus = false;
    }
  }

  private onPeerConnect(peerId: PeerId): void {
    if (!this.networkActive) {
      void this.requireLibp2p().hangUp(peerId);
      return;
    }
    const id = peerId.toString();
    const connection = this.requireLibp2p().getConnections(peerId)[0];
    const peer: PeerState = {
      peerId,
      id,
      seq: this.peerSeq++,
      addr: connection?.remoteAddr.toString() ?? '',
      inbound: connection?.direction === 'inbound',
      connectedSinceSec: this.deps.nowSec(),
      status: undefined,
      bestWork: 0n,
      bestHeight: -1,
      startingHeight: -1,
      buckets: new Map(),
    };
    this.peersById.set(id, peer);
    this.exchangeStatus(peer)
      .then(() => {
        peer.startingHeight = peer.bestHeight;
        this.deps.logger.info(
          { peer: id, addr: peer.addr, inbound: peer.inbound, height: peer.bestHeight, userAgent: peer.status?.userAgent },
          'peer connected',
        );
        // Compared with the tip, not the best header: headers may be known while their blocks are still missing.
        if (peer.bestWork > this.deps.chain.tip.chainWork) this.sync.trigger();
      })
      .catch((err: unknown) => {
        this.deps.logger.info({ peer: id, addr: peer.addr, reason: (err as Error).message }, 'status handshake failed: disconnecting');
        void this.disconnectPeer(id);
      });
  }

  private onPeerDisconnect(peerId: PeerId): void {
    const id = peerId.toString();
    const peer = this.peersById.get(id);
    this.peersById.delete(id);
    this.book.forgetScore(id);
    if (peer?.status !== undefined) this.deps.logger.info({ peer: id, addr: peer.addr }, 'peer disconnected');
  }

  private async disconnectPeer(id: string): Promise<void> {
    const peer = this.peersById.get(id);
    const node = this.libp2p;
    if (node === undefined) return;
    const target = peer?.peerId ?? node.getConnections().find((c) => c.remotePeer.toString() === id)?.remotePeer;
    if (target !== undefined) await node.hangUp(target).catch(() => undefined);
  }

  private misbehave(id: string, points: number, reason: string): void {
    const outcome = this.book.misbehave(id, points, reason);
    this.deps.logger.warn({ peer: id, points, score: outcome.score, reason }, 'peer misbehaved');
    if (outcome.banned) {
      this.bansIssued++;
      this.deps.logger.warn({ peer: id, reason }, 'peer banned');
      void this.disconnectPeer(id);
    }
  }

  // --- request/response ----------------------------------------------------------------------------------------------

  private ourStatus(): StatusMessage {
    const tip = this.deps.chain.tip;
    return {
      network: this.options.params.name,
      genesisHash: hexToHash(this.options.params.genesisHashHex),
      tipHash: tip.hash,
      tipHeight: tip.height,
      chainWork: tip.chainWork,
      userAgent: this.options.userAgent ?? '/cairn:0.1.0/',
    };
  }

  /** Checks a peer's status: same network and genesis, else a ProtocolViolation (the caller disconnects). */
  private checkStatus(status: StatusMessage): void {
    const { params } = this.options;
    if (status.network !== params.name) throw new ProtocolViolation(`peer is on network ${status.network}, not ${params.name}`, 0);
    if (hashToHex(status.genesisHash) !== params.genesisHashHex) {
      throw new ProtocolViolation(`peer has genesis ${hashToHex(status.genesisHash)}, not ${params.genesisHashHex}`, 0);
    }
  }

  private noteStatus(peer: PeerState, status: StatusMessage): void {
    peer.status = status;
    if (status.chainWork > peer.bestWork) {
      peer.bestWork = status.chainWork;
      peer.bestHeight = status.tipHeight;
    }
  }

  private async exchangeStatus(peer: PeerState): Promise<void> {
    const response = await this.request(peer.peerId, this.ids.status, encodeStatus(this.ourStatus()), MAX_STATUS_BYTES);
    const status = decodeStatus(response[0] ?? new Uint8Array());
    this.checkStatus(status);
    this.noteStatus(peer, status);
  }

  /**
   * Opens a stream to the peer on `protocol`, sends one request frame, reads response frames until the peer closes
   * (each at most `maxFrameBytes`) and returns them. @throws on timeout, stream errors or an oversized frame
   */
  private async request(peerId: PeerId, protocol: string, body: Uint8Array, maxFrameBytes: number, maxFrames = 1): Promise<Uint8Array[]> {
    const node = this.requireLibp2p();
    const signal = AbortSignal.timeout(this.options.requestTimeoutMs ?? 20_000);
    const stream = await node.dialProtocol(peerId, protocol, { signal });
    try {
      const lp = lpStream(stream, { maxDataLength: maxFrameBytes });
      await lp.write(body, { signal });
      const frames: Uint8Array[] = [];
      for (let i = 0; i < maxFrames; i++) frames.push(toBytes(await lp.read({ signal })));
      await stream.close({ signal }).catch(() => undefined);
      return frames;
    } catch (err) {
      stream.abort(err as Error);
      throw err;
    }
  }

  /** Token bucket per peer and protocol. */
  private allowRequest(peer: PeerState, protocol: string): boolean {
    const rate = this.options.requestsPerSec ?? 50;
    const now = performance.now();
    const bucket = peer.buckets.get(protocol) ?? { tokens: rate * 2, lastMs: now };
    bucket.tokens = Math.min(rate * 2, bucket.tokens + ((now - bucket.lastMs) / 1000) * rate);
    bucket.lastMs = now;
    peer.buckets.set(protocol, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Serves one inbound request stream. */
  private async serve(stream: Stream, connection: Connection, protocol: string): Promise<void> {
    const id = connection.remotePeer.toString();
    const peer = this.peersById.get(id);
    const signal = AbortSignal.timeout(this.options.requestTimeoutMs ?? 20_000);
    const maxOut = maxBlockMessageBytes(this.options.params) + 1024;
    const lp = lpStream(stream, { maxDataLength: Math.max(MAX_REQUEST_BYTES, MAX_STATUS_BYTES), maxLengthLength: 4 });
    try {
      let body: Uint8Array;
      try {
        body = toBytes(await lp.read({ signal }));
      } catch (err) {
        const name = (err as Error).name;
        if (name === 'InvalidDataLengthError' || name === 'InvalidDataLengthLengthError') {
          throw new ProtocolViolation(`oversized ${protocol.split('/').slice(-2).join('/')} request`, BAN_THRESHOLD);
        }
        throw err;
      }
      if (peer !== undefined && protocol !== this.ids.status && !this.allowRequest(peer, protocol)) {
        throw new ProtocolViolation('request rate limit exceeded', 10);
      }
      if (protocol === this.ids.status) {
        let status: StatusMessage;
        try {
          status = decodeStatus(body);
        } catch (err) {
          throw new ProtocolViolation(`malformed status: ${(err as Error).message}`, BAN_THRESHOLD);
        }
        await lp.write(encodeStatus(this.ourStatus()), { signal });
        await stream.close({ signal });
        this.checkStatus(status);
        if (peer !== undefined) {
          const before = peer.bestWork;
          this.noteStatus(peer, status);
          if (peer.bestWork > before && peer.bestWork > this.deps.chain.tip.chainWork) this.sync.trigger();
        }
      } else if (protocol === this.ids.headers) {
        let req: HeadersRequest;
        try {
          req = decodeHeadersRequest(body);
        } catch (err) {
          throw new ProtocolViolation(`malformed headers request: ${(err as Error).message}`, BAN_THRESHOLD);
        }
        await lp.write(encodeHeaders(this.headersFor(req)), { signal });
        await stream.close({ signal });
      } else {
        let hashes: Hash256[];
        try {
          hashes = decodeBlocksRequest(body);
        } catch (err) {
          throw new ProtocolViolation(`malformed blocks request: ${(err as Error).message}`, BAN_THRESHOLD);
        }
        for (const hash of hashes) {
          const bytes = this.deps.chain.getRawBlock(hash) ?? new Uint8Array();
          if (bytes.length > maxOut) throw new Error('stored block larger than the frame limit');
          await lp.write(bytes, { signal });
        }
        await stream.close({ signal });
      }
    } catch (err) {
      stream.abort(err as Error);
      if (err instanceof ProtocolViolation) {
        this.deps.logger.info({ peer: id, reason: err.message }, 'protocol violation');
        if (err.points > 0) this.misbehave(id, err.points, err.message);
        else void this.disconnectPeer(id);
      } else {
        this.deps.logger.debug({ peer: id, protocol, err: (err as Error).message }, 'request stream failed');
      }
    }
  }

  /** Main-chain headers after the first locator hash we know on the main chain (genesis if none), as Core's getheaders. */
  private headersFor(req: HeadersRequest): BlockHeader[] {
    const chain = this.deps.chain;
    let fork: BlockIndexEntry = chain.getEntryByHeight(0)!;
    for (const hash of req.locator) {
      const entry = chain.getEntry(hash);
      if (entry !== undefined && chain.isMainChain(entry)) {
        fork = entry;
        break;
      }
    }
    const out: BlockHeader[] = [];
    const max = Math.min(req.maxCount, MAX_HEADERS_PER_RESPONSE);
    for (let h = fork.height + 1; h <= chain.height && out.length < max; h++) {
      const entry = chain.getEntryByHeight(h)!;
      out.push(entry.header);
      if (bytesEqual(entry.hash, req.stopHash)) break;
    }
    return out;
  }

  private syncIo(): SyncIo {
    return {
      peers: (): SyncPeer[] =>
        [...this.peersById.values()]
          .filter((p) => p.status !== undefined)
          .map((p) => ({ peerId: p.id, chainWork: p.bestWork, tipHeight: p.bestHeight })),
      requestHeaders: async (peerId, request) => {
        const peer = this.peersById.get(peerId);
        if (peer === undefined) throw new Error('peer gone');
        const [frame] = await this.request(peer.peerId, this.ids.headers, encodeHeadersRequest(request), MAX_HEADERS_RESPONSE_BYTES);
        try {
          return decodeHeaders(frame!);
        } catch (err) {
          this.misbehave(peerId, BAN_THRESHOLD, `malformed headers: ${(err as Error).message}`);
          throw err;
        }
      },
      requestBlocks: async (peerId, hashes) => {
        const peer = this.peersById.get(peerId);
        if (peer === undefined) throw new Error('peer gone');
        const frames = await this.request(
          peer.peerId,
          this.ids.blocks,
          encodeBlocksRequest(hashes),
          maxBlockMessageBytes(this.options.params) + 1024,
          hashes.length,
        );
        return frames.map((frame) => {
          if (frame.length === 0) return undefined;
          try {
            const block = decodeBlock(frame);
            this.fromNetwork.add(hashToHex(hashOf(block)));
            return block;
          } catch (err) {
            throw Object.assign(new Error(`malformed block: ${(err as Error).message}`), { misbehaviour: BAN_THRESHOLD });
          }
        });
      },
      misbehave: (peerId, points, reason) => this.misbehave(peerId, points, reason),
      noteBest: (peerId, entry) => {
        const peer = this.peersById.get(peerId);
        if (peer !== undefined && entry.chainWork > peer.bestWork) {
          peer.bestWork = entry.chainWork;
          peer.bestHeight = entry.height;
        }
      },
    };
  }

  // --- gossip --------------------------------------------------------------------------------------------------------

  private count(kind: 'block' | 'tx', outcome: GossipOutcome): TopicValidatorResult {
    this.gossipStats[kind][outcome]++;
    return outcome === 'accept' ? TopicValidatorResult.Accept : outcome === 'ignore' ? TopicValidatorResult.Ignore : TopicValidatorResult.Reject;
  }

  private async validateGossipBlock(from: PeerId, msg: Message): Promise<TopicValidatorResult> {
    const id = from.toString();
    if (msg.data.length > maxBlockMessageBytes(this.options.params)) {
      this.misbehave(id, BAN_THRESHOLD, `oversized block message (${msg.data.length} bytes)`);
      return this.count('block', 'reject');
    }
    let block: Block;
    try {
      block = decodeBlock(msg.data);
    } catch (err) {
      this.misbehave(id, BAN_THRESHOLD, `undecodable block message: ${(err as Error).message}`);
      return this.count('block', 'reject');
    }
    const hashHex = hashToHex(hashOf(block));
    this.fromNetwork.add(hashHex);
    const known = this.deps.chain.getEntry(hashHex);
    if (known !== undefined && hasData(known)) {
      return this.count('block', 'ignore');
    }
    const result = await this.deps.chain.processBlock(block);
    const peer = this.peersById.get(id);
    switch (result.status) {
      case 'connected':
      case 'side-chain': {
        const entry = this.deps.chain.getEntry(hashHex);
        if (peer !== undefined && entry !== undefined && entry.chainWork > peer.bestWork) {
          peer.bestWork = entry.chainWork;
          peer.bestHeight = entry.height;
        }
        this.deps.logger.debug({ peer: id, hash: hashHex, status: result.status }, 'gossip block accepted');
        return this.count('block', 'accept');
      }
      case 'orphan':
        // We miss its ancestors: ask this peer for headers from our locator (a reorg or a gap).
        this.sync.trigger(id);
        return this.count('block', 'ignore');
      case 'duplicate':
        return this.count('block', 'ignore');
      case 'invalid':
        this.deps.logger.warn({ peer: id, hash: hashHex, reason: result.reason, detail: result.detail }, 'invalid block from gossip');
        if ((result.score ?? 100) > 0) this.misbehave(id, result.score ?? 100, `invalid block: ${result.reason ?? ''}`);
        return this.count('block', 'reject');
    }
  }

  private async validateGossipTx(from: PeerId, msg: Message): Promise<TopicValidatorResult> {
    const id = from.toString();
    if (msg.data.length > MAX_TX_MESSAGE_BYTES) {
      this.misbehave(id, BAN_THRESHOLD, `oversized tx message (${msg.data.length} bytes)`);
      return this.count('tx', 'reject');
    }
    let tx;
    try {
      tx = decodeTx(msg.data);
    } catch (err) {
      this.misbehave(id, BAN_THRESHOLD, `undecodable tx message: ${(err as Error).message}`);
      return this.count('tx', 'reject');
    }
    const txidHex = hashToHex(computeTxid(tx));
    this.fromNetwork.add(txidHex);
    if (this.deps.mempool.has(txidHex)) return this.count('tx', 'ignore');
    try {
      await this.deps.mempool.acceptTransaction(tx);
      return this.count('tx', 'accept');
    } catch (err) {
      if (!(err instanceof VerifyError)) throw err;
      if (err.code === 'missing-inputs') {
        // Its parent has not reached us yet (gossip does not keep a sender's order): keep it and retry when it does.
        this.orphans.add(tx, txidHex, id);
        return this.count('tx', 'ignore');
      }
      // Consensus failures carry a score (Core's TxValidationResult::TX_CONSENSUS); policy and "already known"
      // rejections do not, and are not the sender's fault.
      if (err.score >= BAN_THRESHOLD) {
        this.misbehave(id, err.score, `invalid tx ${txidHex}: ${err.code}`);
        return this.count('tx', 'reject');
      }
      return this.count('tx', 'ignore');
    }
  }

  /** Retries the orphans waiting for this tx (each accepted one retries its own children in turn, via `added`). */
  private retryOrphansOf(parentTxidHex: string): void {
    for (const orphan of this.orphans.takeChildrenOf(parentTxidHex)) {
      this.deps.mempool.acceptTransaction(orphan.tx).catch((err: unknown) => {
        if (err instanceof VerifyError && err.code === 'missing-inputs') this.orphans.add(orphan.tx, orphan.txidHex, orphan.fromPeer);
        else this.deps.logger.debug({ txid: orphan.txidHex, err: (err as Error).message }, 'orphan tx refused');
      });
    }
  }

  private relayTip(tip: BlockIndexEntry): void {
    if (this.stopped || this.libp2p === undefined || this.fromNetwork.has(tip.hashHex)) return;
    const raw = this.deps.chain.getRawBlock(tip.hash);
    if (raw === undefined) return;
    this.fromNetwork.add(tip.hashHex);
    this.publish(this.ids.blockTopic, raw, tip.hashHex);
  }

  private relayTx(tx: Tx): void {
    if (this.stopped || this.libp2p === undefined) return;
    const txidHex = hashToHex(computeTxid(tx));
    if (this.fromNetwork.has(txidHex)) return;
    this.fromNetwork.add(txidHex);
    this.publish(this.ids.txTopic, encodeTx(tx), txidHex);
  }

  private publish(topic: string, data: Uint8Array, what: string): void {
    this.requireLibp2p()
      .services.pubsub.publish(topic, data)
      .then((r) => this.deps.logger.debug({ topic, what, recipients: r.recipients.length }, 'published'))
      .catch((err: unknown) => this.deps.logger.debug({ topic, what, err: (err as Error).message }, 'publish failed'));
  }
}

/** The peer id a multiaddr ends with (`…/p2p/<id>`), if any. */
function peerIdOf(ma: Multiaddr): string | undefined {
  const m = /\/p2p\/([^/]+)$/.exec(ma.toString());
  return m?.[1];
}

function hashOf(block: Block): Hash256 {
  return computeBlockHash(block.header);
}
