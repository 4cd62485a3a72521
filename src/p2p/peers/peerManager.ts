import type { Connection, Libp2p, PeerId } from '@libp2p/interface';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import type { PeerInfo } from '../../interfaces/networkInfo.js';
import type { Chain } from '../../chain/chain.js';
import type { Logger } from '../../logging/logger.js';
import type { ChainParams } from '../../params/chainParams.js';
import { blockHashFromHex, hashToHex } from '../../primitives/hex.js';
import type { BlockIndexEntry } from '../../interfaces/chainTypes.js';
import { PeerMisbehaviour } from '../peerMisbehaviour.js';
import type { ReqResp } from '../reqresp/reqResp.js';
import { decodeStatus, encodeStatus, MAX_STATUS_BYTES, type StatusMessage } from '../wire.js';
import { PeerBook, type BanEntry } from './peerBook.js';

/** One connected peer as the PeerManager tracks it. */
interface PeerState {
  readonly peerId: PeerId;
  readonly id: string;
  /** Small number shown by getpeerinfo (Core's peer id). */
  readonly seq: number;
  readonly addr: string;
  readonly inbound: boolean;
  readonly connectedSinceSec: number;
  /** The peer's last status; undefined until the handshake is done. */
  status: StatusMessage | undefined;
  /** Most work the peer is known to have (status, headers it served, blocks it relayed). */
  bestWork: bigint;
  bestHeight: number;
  startingHeight: number;
}

/** A peer the sync may use: handshake done. */
export interface SyncPeer {
  /** libp2p peer id, as text. */
  readonly peerId: string;
  /** Most chain work the peer is known to have. */
  readonly chainWork: bigint;
  readonly tipHeight: number;
}

/** A `--connect` / addnode peer kept connected. */
interface AddedNode {
  readonly addr: Multiaddr;
  peerId?: string;
  dialing: boolean;
}

/**
 * Whether the node is connected to the network, for the status line and the logs: a node that lost its only peer
 * must say so, not just print `peers 0`.
 */
export interface NetworkHealth {
  /** Peers that finished the status handshake. */
  readonly peers: number;
  /** False after setnetworkactive false: no peers by choice. */
  readonly networkActive: boolean;
  /** When the last peer left (epoch s), while the node has none; undefined while it has peers or never had one. */
  readonly noPeersSinceSec: number | undefined;
  /** The last peer that left (peer id), while the node has none. */
  readonly lastPeer: string | undefined;
  /** `--connect` / addnode peers being redialed. */
  readonly redialing: number;
  /** Why the last dial or handshake failed, if it did. */
  readonly lastFailure: string | undefined;
}

/** Options of the PeerManager. */
export interface PeerManagerOptions {
  readonly params: ChainParams;
  /** Software name sent in status. */
  readonly userAgent: string;
  /** Ban duration, ms. */
  readonly banDurationMs?: number;
  /** Where bans survive restarts. */
  readonly banlistFile: string;
  /** Timeout of dials, ms. */
  readonly dialTimeoutMs: number;
  /** How often a node without peers repeats its warning, ms (default 60,000). */
  readonly noPeersWarnIntervalMs?: number;
}

/** What the PeerManager drives and reports to. */
export interface PeerManagerDeps {
  readonly chain: Chain;
  readonly reqResp: ReqResp;
  readonly logger: Logger;
  readonly nowSec: () => number;
  /** A peer has more work than our tip: run the sync. */
  readonly onBetterPeer: () => void;
  /** A peer left: forget what other parts keep about it. */
  readonly onPeerGone: (peerId: string) => void;
}

/**
 * The peer table and everything about peers as peers: the status handshake on every connection (a peer on another
 * network or genesis is dropped), each peer's best known chain, misbehaviour scores and bans (PeerBook; the connection
 * gater asks isRefused), `--connect`/addnode peers redialed while down, a periodic status refresh (so a missed block is
 * noticed within seconds), and the network's health (a node that lost its last peer says so).
 * @see Bitcoin Core net.cpp CConnman (addnode, ThreadOpenAddedConnections), net_processing.cpp Misbehaving;
 *   Lodestar network/peers/peerManager.ts
 */
export class PeerManager {
  private libp2p: Libp2p | undefined;
  private readonly peersById = new Map<string, PeerState>();
  private readonly addedNodes = new Map<string, AddedNode>();
  private readonly book: PeerBook;
  private peerSeq = 0;
  private networkActive = true;
  private refreshingStatus = false;
  private stopped = false;
  private noPeersSinceSec: number | undefined;
  private lastPeer: string | undefined;
  private lastFailure: string | undefined;
  private lastNoPeersWarnMs = performance.now();
  /** Peers whose failed handshake was logged at info since their last success (the rest of their redials: debug). */
  private readonly failedHandshakes = new Set<string>();
  /** Peers banned since start. */
  bansIssued = 0;

  constructor(
    private readonly options: PeerManagerOptions,
    private readonly deps: PeerManagerDeps,
  ) {
    this.book = new PeerBook(options.banDurationMs, options.banlistFile);
  }

  /** Starts tracking the libp2p node's connections. */
  start(libp2p: Libp2p): void {
    this.libp2p = libp2p;
    libp2p.addEventListener('peer:connect', (evt) => this.onPeerConnect(evt.detail));
    libp2p.addEventListener('peer:disconnect', (evt) => this.onPeerDisconnect(evt.detail));
    // Every connection, not only a peer's first (peer:connect fires once per peer): one the gater let through just
    // before a ban or setnetworkactive false, beside a connection being hung up, would otherwise stay open for good.
    libp2p.addEventListener('connection:open', (evt) => {
      const connection = evt.detail;
      if (this.isRefused(connection.remotePeer.toString())) void connection.close().catch(() => undefined);
    });
  }

  /** Stops redialing and refreshing. */
  stop(): void {
    this.stopped = true;
  }

  /** Whether the connection gater must refuse this peer: banned, or the network is off. */
  isRefused(peerId: string): boolean {
    return !this.networkActive || this.book.isBanned(peerId);
  }

  // --- the peer table ------------------------------------------------------------------------------------------------

  /** Connected peers that finished the status handshake, as getpeerinfo shows them. */
  peerInfos(): PeerInfo[] {
    return this.handshaken().map((p) => ({
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

  /** Peers the sync may use. */
  syncPeers(): SyncPeer[] {
    return this.handshaken().map((p) => ({ peerId: p.id, chainWork: p.bestWork, tipHeight: p.bestHeight }));
  }

  /** The libp2p PeerId of a connected peer. */
  peerIdOf(id: string): PeerId | undefined {
    return this.peersById.get(id)?.peerId;
  }

  /** Remembers that a peer has at least this chain (it served or relayed it). */
  noteBest(id: string, entry: BlockIndexEntry): void {
    const peer = this.peersById.get(id);
    if (peer !== undefined && entry.chainWork > peer.bestWork) {
      peer.bestWork = entry.chainWork;
      peer.bestHeight = entry.height;
    }
  }

  /** The network's health, for the status line. */
  health(): NetworkHealth {
    const handshaken = this.handshaken();
    const peers = handshaken.length;
    const linked = new Set(handshaken.map((p) => p.id));
    return {
      peers,
      networkActive: this.networkActive,
      noPeersSinceSec: peers === 0 ? this.noPeersSinceSec : undefined,
      lastPeer: peers === 0 ? this.lastPeer : undefined,
      // A redial whose connection is open but whose handshake has not finished is still a redial.
      redialing: [...this.addedNodes.values()].filter((a) => a.peerId === undefined || !linked.has(a.peerId)).length,
      lastFailure: this.lastFailure,
    };
  }

  // --- status --------------------------------------------------------------------------------------------------------

  /** Our status: network, genesis, tip. */
  ourStatus(): StatusMessage {
    const tip = this.deps.chain.tip;
    const { params } = this.options;
    return {
      network: params.name,
      genesisHash: blockHashFromHex(params.genesisHashHex),
      tipHash: tip.hash,
      tipHeight: tip.height,
      chainWork: tip.chainWork,
      userAgent: this.options.userAgent,
    };
  }

  /**
   * A status a peer sent us (its request to the status handler): checks network and genesis, notes its chain, and
   * runs the sync when it has more work. @throws PeerMisbehaviour (score 0: disconnect) for another network or genesis
   */
  onStatusRequest(id: string, status: StatusMessage): void {
    this.checkStatus(status);
    const peer = this.peersById.get(id);
    if (peer === undefined) return;
    const before = peer.bestWork;
    this.noteStatus(peer, status);
    if (peer.bestWork > before && peer.bestWork > this.deps.chain.tip.chainWork) this.deps.onBetterPeer();
  }

  private checkStatus(status: StatusMessage): void {
    const { params } = this.options;
    if (status.network !== params.name) throw PeerMisbehaviour.incompatible(`peer is on network ${status.network}, not ${params.name}`);
    if (hashToHex(status.genesisHash) !== params.genesisHashHex) {
      throw PeerMisbehaviour.incompatible(`peer has genesis ${hashToHex(status.genesisHash)}, not ${params.genesisHashHex}`);
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
    const [payload] = await this.deps.reqResp.request(this.requireLibp2p(), peer.peerId, 'status', encodeStatus(this.ourStatus()), {
      maxChunks: 1,
      maxPayloadBytes: MAX_STATUS_BYTES,
    });
    // No chunk at all: the peer closed the stream without answering, as a node does while it hangs up on this
    // connection (two nodes redialing each other after a network outage race so). That is a disconnect, not a
    // malformed status: banning for it banned honest nodes that reconnected at the wrong moment.
    if (payload === undefined) throw new Error('the peer closed the status stream without answering');
    let status: StatusMessage;
    try {
      status = decodeStatus(payload);
    } catch (err) {
      const offence = PeerMisbehaviour.ban(`malformed status: ${(err as Error).message}`);
      this.punish(peer.id, offence);
      throw offence;
    }
    this.checkStatus(status);
    this.noteStatus(peer, status);
  }

  // --- connections ---------------------------------------------------------------------------------------------------

  private requireLibp2p(): Libp2p {
    if (this.libp2p === undefined) throw new Error('the networker is not started');
    return this.libp2p;
  }

  private handshaken(): PeerState[] {
    return [...this.peersById.values()].filter((p) => p.status !== undefined);
  }

  /** Dials an address (addnode onetry, redials). */
  dial(ma: Multiaddr): Promise<Connection> {
    return this.requireLibp2p().dial(ma, { signal: AbortSignal.timeout(this.options.dialTimeoutMs) });
  }

  /**
   * Core's addnode: `add` keeps the peer connected (redialing), `remove` stops that (and disconnects it), `onetry`
   * dials once. @throws Error on an unparsable address
   */
  addNode(addr: string, command: 'add' | 'remove' | 'onetry'): void {
    const ma = parsePeerAddress(addr);
    const key = ma.toString();
    if (command === 'add') {
      const peerId = /\/p2p\/([^/]+)$/.exec(key)?.[1];
      this.addedNodes.set(key, { addr: ma, ...(peerId !== undefined ? { peerId } : {}), dialing: false });
      void this.maintain();
    } else if (command === 'remove') {
      const added = this.addedNodes.get(key);
      this.addedNodes.delete(key);
      if (added?.peerId !== undefined) void this.disconnect(added.peerId);
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
    await this.disconnect(peer.id);
    return true;
  }

  /** Core's setnetworkactive: false disconnects every peer and stops dialing and accepting until true. */
  async setNetworkActive(active: boolean): Promise<void> {
    this.networkActive = active;
    if (!active) await Promise.all([...this.peersById.keys()].map((id) => this.disconnect(id)));
    else void this.maintain();
  }

  /** Whether the network is active (setnetworkactive). */
  isNetworkActive(): boolean {
    return this.networkActive;
  }

  /** Hangs up on a peer. */
  async disconnect(id: string): Promise<void> {
    const node = this.libp2p;
    if (node === undefined) return;
    const target = this.peersById.get(id)?.peerId ?? node.getConnections().find((c) => c.remotePeer.toString() === id)?.remotePeer;
    if (target !== undefined) await node.hangUp(target).catch(() => undefined);
  }

  /** Redials `--connect` peers and refreshes every peer's status; warns while the node has no peers. */
  async maintain(): Promise<void> {
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
          this.lastFailure = `dial ${added.addr.toString()} failed: ${describeError(err)}`;
          this.deps.logger.debug({ addr: added.addr.toString(), err: describeError(err) }, 'dial failed; will retry');
        })
        .finally(() => {
          added.dialing = false;
        });
    }
    this.warnIfNoPeers();
    // Status refresh, in parallel and never overlapping itself (a slow peer must not stack up refresh rounds).
    if (this.refreshingStatus) return;
    this.refreshingStatus = true;
    try {
      const peers = this.handshaken();
      // A peer that stopped answering is dropped by libp2p's keep-alive; a failed refresh needs nothing here.
      await Promise.allSettled(peers.map((peer) => this.exchangeStatus(peer)));
      if (peers.some((peer) => peer.bestWork > this.deps.chain.tip.chainWork)) this.deps.onBetterPeer();
    } finally {
      this.refreshingStatus = false;
    }
  }

  private warnIfNoPeers(): void {
    if (this.handshaken().length > 0 || (this.noPeersSinceSec === undefined && this.addedNodes.size === 0)) return;
    // (maintain() does not run while the network is off by setnetworkactive: no warning for a choice.)
    const now = performance.now();
    if (now - this.lastNoPeersWarnMs < (this.options.noPeersWarnIntervalMs ?? 60_000)) return;
    this.lastNoPeersWarnMs = now;
    this.deps.logger.warn(
      {
        noPeersForSec: this.noPeersSinceSec !== undefined ? this.deps.nowSec() - this.noPeersSinceSec : undefined,
        lastPeer: this.lastPeer,
        redialing: this.health().redialing,
        lastFailure: this.lastFailure,
      },
      'no peers: the node is not connected to the network',
    );
  }

  private onPeerConnect(peerId: PeerId): void {
    const node = this.requireLibp2p();
    if (!this.networkActive) {
      void node.hangUp(peerId);
      return;
    }
    const id = peerId.toString();
    // A new connection whose peer still has an entry: the old connection closed but its peer:disconnect has not been
    // handled yet (a quick redial can win that race). The old entry is replaced here, so its loss is counted here.
    const previous = this.peersById.get(id);
    if (previous !== undefined) {
      this.peersById.delete(id);
      this.notePeerGone(previous);
    }
    const connection = node.getConnections(peerId)[0];
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
    };
    this.peersById.set(id, peer);
    this.exchangeStatus(peer)
      .then(() => {
        peer.startingHeight = peer.bestHeight;
        if (this.noPeersSinceSec !== undefined) {
          this.deps.logger.info({ peer: id, noPeersForSec: this.deps.nowSec() - this.noPeersSinceSec }, 'connected to the network again');
        }
        this.noPeersSinceSec = undefined;
        this.lastPeer = undefined;
        this.lastFailure = undefined;
        this.failedHandshakes.delete(id);
        this.deps.logger.info(
          { peer: id, addr: peer.addr, inbound: peer.inbound, height: peer.bestHeight, userAgent: peer.status?.userAgent },
          'peer connected',
        );
        // Compared with the tip, not the best header: headers may be known while their blocks are still missing.
        if (peer.bestWork > this.deps.chain.tip.chainWork) this.deps.onBetterPeer();
      })
      .catch((err: unknown) => {
        const reason = describeError(err);
        // A peer that closes the connection during the handshake has likely banned us (its gater lets the
        // connection open, then drops it): say so, since that is what a user needs to know.
        const hungUp = node.getConnections(peerId).length === 0 || /EOF|closed|reset/i.test(reason);
        this.lastFailure = hungUp
          ? `${shortPeerId(id)} hung up during the handshake (it may have banned this node)`
          : `${shortPeerId(id)} failed the handshake: ${reason}`;
        // Repeated at every redial of a peer that refuses us: the first at info, the rest at debug (the no-peers
        // warning sums them up every minute).
        const level = this.failedHandshakes.has(id) ? 'debug' : 'info';
        if (this.failedHandshakes.size >= 1024) this.failedHandshakes.clear(); // bounded: inbound strangers fail too
        this.failedHandshakes.add(id);
        this.deps.logger[level]({ peer: id, addr: peer.addr, reason }, 'status handshake failed: disconnecting');
        void this.disconnect(id);
      });
  }

  private onPeerDisconnect(peerId: PeerId): void {
    const id = peerId.toString();
    // Late: a newer connection to this peer is already open (onPeerConnect replaced the entry and counted the old
    // one's loss). Deleting the entry now would leave that open connection without one: never handshaken, never
    // counted, and never redialed, since it is open.
    if ((this.libp2p?.getConnections(peerId).length ?? 0) > 0) return;
    const peer = this.peersById.get(id);
    this.peersById.delete(id);
    if (peer !== undefined) this.notePeerGone(peer);
  }

  /**
   * Bookkeeping of a peer whose connection is gone: its score and the sync's use of it are dropped; a handshaken peer
   * is logged, and when it was the last one the node records that it has no peers (the status line says so).
   */
  private notePeerGone(peer: PeerState): void {
    const id = peer.id;
    this.book.forgetScore(id);
    this.deps.onPeerGone(id);
    if (peer.status === undefined) return;
    this.deps.logger.info({ peer: id, addr: peer.addr }, 'peer disconnected');
    if (this.handshaken().length === 0 && !this.stopped && this.networkActive) {
      this.noPeersSinceSec = this.deps.nowSec();
      this.lastPeer = id;
      this.lastNoPeersWarnMs = performance.now();
      this.deps.logger.warn(
        { lastPeer: id, addr: peer.addr, banned: this.book.isBanned(id), networkActive: this.networkActive, redialing: this.addedNodes.size },
        'lost the last peer: the node is not connected to the network',
      );
    }
  }

  // --- misbehaviour and bans -----------------------------------------------------------------------------------------

  /** Scores a peer's offence; bans and disconnects it at the threshold; disconnects a peer we cannot talk with. */
  punish(id: string, offence: PeerMisbehaviour): void {
    if (offence.banScore === 0) {
      this.deps.logger.info({ peer: id, reason: offence.reason }, 'incompatible peer: disconnecting');
      void this.disconnect(id);
      return;
    }
    const outcome = this.book.misbehave(id, offence.banScore, offence.reason);
    this.deps.logger.warn({ peer: id, points: offence.banScore, score: outcome.score, reason: offence.reason }, 'peer misbehaved');
    if (outcome.banned) {
      this.bansIssued++;
      this.deps.logger.warn({ peer: id, reason: offence.reason }, 'peer banned');
      void this.disconnect(id);
    }
  }

  /** Bans in force (Core's listbanned). */
  listBanned(): BanEntry[] {
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
    await this.disconnect(peerId);
  }

  /** Core's clearbanned. */
  clearBanned(): void {
    for (const b of this.book.listBanned()) this.book.unban(b.peerId);
  }
}

/** A peer id as the status line shows it: `12D3KooW…Yz1a`. */
function shortPeerId(id: string): string {
  return id.length > 16 ? `${id.slice(0, 8)}…${id.slice(-4)}` : id;
}

/** An error's message, or its name, or its text (libp2p rejects some promises with events or bare values). */
function describeError(err: unknown): string {
  if (err instanceof Error) return err.message !== '' && err.message !== undefined ? err.message : err.name;
  return String(err);
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
 * The peers part of the status line: `peers 2`, or for a node without peers what happened and what it does about
 * it: `peers 0 (no peers for 65s: lost 12D3KooW…Yz1a; redialing 1: 12D3KooW…Yz1a hung up during the handshake (it may
 * have banned this node))`.
 */
export function formatPeersStatus(health: NetworkHealth, nowSec: number): string {
  if (health.peers > 0) return `peers ${health.peers}`;
  if (!health.networkActive) return 'peers 0 (network off: setnetworkactive false)';
  const parts: string[] = [];
  if (health.noPeersSinceSec !== undefined) {
    const lost = health.lastPeer !== undefined ? `: lost ${shortPeerId(health.lastPeer)}` : '';
    parts.push(`no peers for ${Math.max(0, nowSec - health.noPeersSinceSec)}s${lost}`);
  }
  if (health.redialing > 0) parts.push(`redialing ${health.redialing}${health.lastFailure !== undefined ? `: ${health.lastFailure.slice(0, 120)}` : ''}`);
  return parts.length > 0 ? `peers 0 (${parts.join('; ')})` : 'peers 0';
}
