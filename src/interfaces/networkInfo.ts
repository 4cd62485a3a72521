/** What the network layer reports about peers, and the admin commands it takes (Core's net RPCs). */

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
